"""evidence_ingest: files, folders, uploads and ZIPs become items with whole custody; hostile input too."""

import hashlib
import io
import os
import socket
import zipfile
from pathlib import Path
from typing import cast

import pytest

from access.models import Case
from evidence.choices import AcquisitionStatus, CustodyAction, ItemKind, ItemStatus
from evidence.custody import GENESIS_HASH, event_leaf_data, event_leaf_hash
from evidence.ingest import (
    PathSource,
    UploadSource,
    acquisition_recover_interrupted,
    evidence_ingest,
    manifest_text,
)
from evidence.models import Acquisition, Blob, CustodyEvent, EvidenceItem
from evidence.records import fact_commitment
from evidence.sources import RATIO_FLOOR_BYTES, display_name, locator_sha256
from evidence.vault import WorkDir, object_path, read_verified
from haetae.errors import RejectedInput
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db


def digests_of(data: bytes) -> tuple[str, str, str]:
    return (
        hashlib.md5(data, usedforsecurity=False).hexdigest(),
        hashlib.sha1(data, usedforsecurity=False).hexdigest(),
        hashlib.sha256(data).hexdigest(),
    )


def zip_bytes(members: list[tuple[str, bytes]], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def ingest(tmp_path: Path, *paths: Path, **kwargs):
    case = kwargs.pop("case", None) or CaseFactory()
    actor = kwargs.pop("actor", None) or UserFactory()
    return evidence_ingest(case=case, sources=[PathSource(p) for p in paths], actor=actor, **kwargs)


def assert_chains_intact(case_id: int) -> None:
    """Every event's leaf hash recomputes and each item (and the case) chains from genesis."""
    heads: dict[object, str] = {}
    for event in CustodyEvent.objects.filter(case_id=case_id).order_by("seq"):
        assert event_leaf_hash(event) == event.leaf_hash
        key = event.item_id or ("case", event.case_id)
        assert event.prev_hash == heads.get(key, GENESIS_HASH)
        heads[key] = event.leaf_hash


@pytest.fixture
def evidence_folder(tmp_path: Path) -> Path:
    root = tmp_path / "seized"
    (root / "phone" / "DCIM").mkdir(parents=True)
    (root / "phone" / "DCIM" / "img_0001.jpg").write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(300_000))
    (root / "phone" / "notes.txt").write_text("메모: 채널 주소\n", encoding="utf-8")
    (root / "big.bin").write_bytes(os.urandom(3 * 1024 * 1024 + 17))  # several vault chunks
    return root


def test_folder_ingest_records_every_file_with_digests_custody_and_manifest(
    evidence_folder: Path, tmp_path: Path
) -> None:
    actor = UserFactory(username="kim.investigator")
    case = cast(Case, CaseFactory())
    progress: list[int] = []
    result = ingest(
        tmp_path,
        evidence_folder,
        case=case,
        actor=actor,
        source_label="suspect phone (Galaxy S21)",
        seizure_reference="warrant 2024-123",
        seal_numbers=["SEAL-7"],
        location="Seoul Mapo police station",
        participants=["witness Lee"],
        on_progress=progress.append,
    )
    files = sorted(p for p in evidence_folder.rglob("*") if p.is_file())
    assert result.counts == {"ingested": 3, "duplicate": 0, "rejected": 0}
    assert sum(progress) == sum(p.stat().st_size for p in files)
    by_path = {outcome.path: outcome for outcome in result.items}
    assert sorted(by_path) == [str(p) for p in files]  # sorted walk, absolute paths
    for path in files:
        data = path.read_bytes()
        outcome = by_path[str(path)]
        assert (outcome.md5, outcome.sha1, outcome.sha256) == digests_of(data)
        item = EvidenceItem.objects.get(pk=outcome.id)
        assert item.blob_id == outcome.sha256 and item.size == len(data)
        assert bytes(item.original_path_raw) == os.fsencode(path)
        assert item.original_name == path.name
        assert item.kind == ItemKind.FILE and item.status == ItemStatus.INGESTED
        assert item.source == "suspect phone (Galaxy S21)"
        st = path.stat()
        assert item.file_modified_at is not None
        assert abs(item.file_modified_at.timestamp() - st.st_mtime) < 1e-5
        assert b"".join(read_verified(item.blob_id)) == data
        assert object_path(item.blob_id).stat().st_mode & 0o777 == 0o400
        actions = list(item.custody_events.order_by("seq").values_list("action", flat=True))
        assert actions == [CustodyAction.ACQUIRED, CustodyAction.STORED]
        acquired = item.custody_events.get(action=CustodyAction.ACQUIRED)
        assert acquired.details["sha256"] == outcome.sha256
        assert acquired.details["acquisition"] == result.acquisition.pk
        assert acquired.seal_numbers == ["SEAL-7"] and acquired.location == "Seoul Mapo police station"
        assert acquired.actor_name == "kim.investigator"
    assert by_path[str(evidence_folder / "phone" / "notes.txt")].mime == "text/plain"
    assert by_path[str(evidence_folder / "phone" / "DCIM" / "img_0001.jpg")].mime == "image/jpeg"

    acquisition = Acquisition.objects.get(pk=result.acquisition.pk)
    assert acquisition.status == AcquisitionStatus.COMPLETED and acquisition.finished_at
    assert acquisition.counts == result.counts
    assert acquisition.tool_name == "haetae" and acquisition.tool_version
    assert acquisition.seizure_reference == "warrant 2024-123" and acquisition.seal_numbers == ["SEAL-7"]
    assert acquisition.participants == ["witness Lee"]
    # The manifest can be re-derived from the items and is itself stored in the vault.
    expected = "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p}\n" for p in files).encode()
    assert acquisition.manifest_sha256 == hashlib.sha256(expected).hexdigest()
    assert b"".join(read_verified(acquisition.manifest_sha256)) == expected
    case_events = CustodyEvent.objects.filter(case=case, item__isnull=True).order_by("seq")
    assert [e.action for e in case_events] == [
        CustodyAction.ACQUISITION_STARTED,
        CustodyAction.ACQUISITION_COMPLETED,
    ]
    assert case_events[1].details["manifest_sha256"] == acquisition.manifest_sha256
    assert case_events[1].details["counts"] == result.counts
    assert_chains_intact(case.pk)
    assert not list((tmp_path / "haetae-data" / "vault" / "tmp").glob("w-*"))  # the work dir is gone


def test_rerun_reports_duplicates_and_adds_nothing(evidence_folder: Path, tmp_path: Path) -> None:
    case, actor = CaseFactory(), UserFactory()
    first = ingest(tmp_path, evidence_folder, case=case, actor=actor, source_label="phone")
    items, blobs = EvidenceItem.objects.count(), Blob.objects.count()
    item_events = CustodyEvent.objects.filter(item__isnull=False).count()
    second = ingest(tmp_path, evidence_folder, case=case, actor=actor, source_label="phone")
    assert second.counts == {"ingested": 0, "duplicate": 3, "rejected": 0}
    assert [o.id for o in second.items] == [o.id for o in first.items]
    assert all("already in this case" in o.reason for o in second.items)
    assert EvidenceItem.objects.count() == items
    assert Blob.objects.count() == blobs  # the manifest is the same text, so even its blob is shared
    assert CustodyEvent.objects.filter(item__isnull=False).count() == item_events
    assert second.acquisition.manifest_sha256 == first.acquisition.manifest_sha256
    # Another case, or another source label, is another finding: new items, the same blobs.
    third = ingest(tmp_path, evidence_folder, case=case, actor=actor, source_label="SD card")
    assert third.counts["ingested"] == 3
    assert Blob.objects.count() == blobs


def test_same_bytes_in_two_places_share_one_blob_with_separate_custody(tmp_path: Path) -> None:
    folder = tmp_path / "copies"
    folder.mkdir()
    data = os.urandom(5000)
    (folder / "a.jpg").write_bytes(data)
    (folder / "b.jpg").write_bytes(data)
    result = ingest(tmp_path, folder)
    assert result.counts["ingested"] == 2
    first, second = (EvidenceItem.objects.get(pk=o.id) for o in result.items)
    assert first.blob_id == second.blob_id == hashlib.sha256(data).hexdigest()
    assert Blob.objects.filter(sha256=first.blob_id).count() == 1
    assert [e.action for e in first.custody_events.all()] == ["acquired", "stored"]
    assert [e.action for e in second.custody_events.all()] == ["acquired"]


def test_symlink_is_recorded_not_followed(tmp_path: Path) -> None:
    folder = tmp_path / "dir"
    folder.mkdir()
    secret = tmp_path / "outside.txt"
    secret.write_bytes(b"not evidence: outside the seized folder")
    (folder / "link").symlink_to(secret)
    case = CaseFactory()
    result = ingest(tmp_path, folder, case=case)
    (outcome,) = result.items
    assert outcome.status == "rejected" and outcome.sha256 is None
    assert f"symbolic link to {secret}" in outcome.reason and "not followed" in outcome.reason
    item = EvidenceItem.objects.get(pk=outcome.id)
    assert item.kind == ItemKind.SYMLINK and item.link_target == str(secret) and item.blob_id is None
    assert not Blob.objects.filter(sha256=hashlib.sha256(secret.read_bytes()).hexdigest()).exists()
    event = item.custody_events.get()
    # The target is a path: the ledger commits to it by a salted hash and quotes it nowhere.
    assert event.action == CustodyAction.REJECTED
    assert event.details["link_target_sha256"] == fact_commitment(item.record_salt, str(secret))
    assert str(secret) not in event_leaf_data(event).decode() and "(its target)" in event.details["reason"]
    # Seen again: reported rejected again, no second row.
    again = ingest(tmp_path, folder, case=case)
    assert again.items[0].status == "rejected" and again.items[0].id == outcome.id
    assert EvidenceItem.objects.count() == 1
    # A symlink named directly is not followed either.
    direct = ingest(tmp_path, folder / "link")
    assert direct.items[0].status == "rejected"


def test_fifo_is_rejected_without_being_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = ingest(tmp_path, fifo)  # opening a FIFO would block forever
    assert result.items[0].status == "rejected"
    assert "named pipe" in result.items[0].reason
    assert EvidenceItem.objects.get(pk=result.items[0].id).kind == ItemKind.SPECIAL


def test_unreadable_file_is_rejected_with_the_error(tmp_path: Path) -> None:
    # /proc/self/mem is a regular file that refuses reads at offset 0 even for root.
    result = ingest(tmp_path, Path("/proc/self/mem"))
    (outcome,) = result.items
    assert outcome.status == "rejected"
    assert outcome.reason.startswith("could not be read: Input/output error (errno 5)")


def test_empty_file_is_ingested(tmp_path: Path) -> None:
    empty = tmp_path / "empty.dat"
    empty.write_bytes(b"")
    (outcome,) = ingest(tmp_path, empty).items
    assert outcome.status == "ingested" and outcome.size == 0
    assert outcome.sha256 == hashlib.sha256(b"").hexdigest()
    assert outcome.reason == "empty file (0 bytes)"
    assert b"".join(read_verified(outcome.sha256)) == b""


def test_non_utf8_file_names_are_preserved_as_bytes(tmp_path: Path) -> None:
    folder = tmp_path / "names"
    folder.mkdir()
    raw_name = "피해자".encode("euc-kr") + b"\xff.jpg"
    raw_path = os.fsencode(folder) + b"/" + raw_name
    with open(raw_path, "wb") as handle:
        handle.write(b"content")
    (outcome,) = ingest(tmp_path, folder).items
    item = EvidenceItem.objects.get(pk=outcome.id)
    assert bytes(item.original_path_raw) == raw_path
    assert item.original_name == "\\xc7\\xc7\\xc7\\xd8\\xc0\\xda\\xff.jpg"
    assert outcome.path == str(folder) + "/" + item.original_name
    assert display_name(b"a\nb\x00c") == "a\\x0ab\\x00c"  # control characters never reach a row raw


def test_upload_source_goes_through_the_same_pipeline(tmp_path: Path) -> None:
    data = zip_bytes([("a.txt", b"inside")])
    case = CaseFactory()
    result = evidence_ingest(
        case=case,
        sources=[UploadSource(name="report-attachments.zip", stream=io.BytesIO(data))],
        actor=UserFactory(),
        source_label="victim report web form",
    )
    container, member = result.items
    assert container.path == "report-attachments.zip" and container.sha256 == hashlib.sha256(data).hexdigest()
    assert container.id is not None and member.id is not None
    assert EvidenceItem.objects.get(pk=container.id).kind == ItemKind.UPLOAD
    assert member.path == "report-attachments.zip!/a.txt" and member.parent == container.id
    assert EvidenceItem.objects.get(pk=member.id).locator_sha256 == locator_sha256(
        b"member", str(container.id).encode(), b"0", b"a.txt"
    )


def test_zip_members_become_child_items_and_nested_archives_are_opened(tmp_path: Path) -> None:
    inner = zip_bytes([("deep/photo.png", b"\x89PNG\r\n\x1a\n" + b"p" * 100)])
    outer_data = zip_bytes([("docs/readme.txt", b"hello"), ("inner.zip", inner)])
    outer = tmp_path / "export.zip"
    outer.write_bytes(outer_data)
    result = ingest(tmp_path, outer)
    container, readme, nested, photo = result.items
    assert container.status == "ingested" and container.mime == "application/zip"
    assert container.sha256 == hashlib.sha256(outer_data).hexdigest()
    assert "ZIP archive with 2 entries" in container.reason
    assert readme.path == f"{outer}!/docs/readme.txt" and readme.parent == container.id
    assert nested.path == f"{outer}!/inner.zip" and nested.sha256 == hashlib.sha256(inner).hexdigest()
    assert photo.path == f"{outer}!/inner.zip!/deep/photo.png" and photo.parent == nested.id
    item = EvidenceItem.objects.get(pk=readme.id)
    assert (
        item.kind == ItemKind.ARCHIVE_MEMBER and item.member_index == 0 and item.original_name == "readme.txt"
    )
    assert b"".join(read_verified(item.blob_id)) == b"hello"
    assert EvidenceItem.objects.get(pk=photo.id).parent_id == nested.id


def test_nested_archives_beyond_the_depth_limit_are_kept_unopened(tmp_path: Path, settings) -> None:
    settings.HAETAE_INGEST = {**settings.HAETAE_INGEST, "MAX_ARCHIVE_DEPTH": 1}
    inner = zip_bytes([("x.txt", b"x")])
    outer = tmp_path / "outer.zip"
    outer.write_bytes(zip_bytes([("inner.zip", inner)]))
    _container, nested = ingest(tmp_path, outer).items
    assert nested.status == "ingested" and nested.sha256 == hashlib.sha256(inner).hexdigest()
    assert "not opened" in nested.reason and "HAETAE_MAX_ARCHIVE_DEPTH is 1" in nested.reason


def test_zip_slip_names_are_stored_with_a_warning(tmp_path: Path) -> None:
    archive = tmp_path / "slip.zip"
    names = ["../../etc/cron.d/evil", "/etc/passwd", "C:\\Windows\\evil.dll", "ok/../../x"]
    archive.write_bytes(zip_bytes([(name, name.encode()) for name in names]))
    _container, *members = ingest(tmp_path, archive).items
    assert len(members) == 4
    for name, outcome in zip(names, members, strict=True):
        assert outcome.status == "ingested"
        assert "zip slip" in outcome.reason and "recorded verbatim" in outcome.reason
        assert outcome.path == f"{archive}!/{name}"
        assert outcome.sha256 == hashlib.sha256(name.encode()).hexdigest()
    assert "absolute path" in members[1].reason and "absolute path" in members[2].reason
    assert not Path("/etc/cron.d/evil").exists()


def test_zip_bomb_member_is_rejected_by_real_decompressed_bytes(tmp_path: Path, settings) -> None:
    settings.HAETAE_INGEST = {**settings.HAETAE_INGEST, "MAX_COMPRESSION_RATIO": 100}
    bomb = b"\0" * (RATIO_FLOOR_BYTES + 1024 * 1024)  # ~1000:1, well past 100:1 and the floor
    archive = tmp_path / "bomb.zip"
    archive.write_bytes(zip_bytes([("bomb.bin", bomb), ("note.txt", b"readable")]))
    container, bomb_member, note = ingest(tmp_path, archive).items
    assert container.status == "ingested"
    assert bomb_member.status == "rejected" and "likely zip bomb" in bomb_member.reason
    assert bomb_member.sha256 is None
    assert note.status == "ingested"
    assert not Blob.objects.filter(sha256=hashlib.sha256(bomb).hexdigest()).exists()


def test_zip_bomb_declared_size_lie_does_not_fool_the_limit(tmp_path: Path, settings) -> None:
    settings.HAETAE_INGEST = {**settings.HAETAE_INGEST, "MAX_COMPRESSION_RATIO": 100}
    bomb = b"\0" * (RATIO_FLOOR_BYTES + 1024 * 1024)
    data = bytearray(zip_bytes([("liar.bin", bomb)]))
    # Claim a tiny uncompressed size in both headers: the reader must not trust it.
    local_size_at, central = 22, data.find(b"PK\x01\x02")
    data[local_size_at : local_size_at + 4] = (10).to_bytes(4, "little")
    data[central + 24 : central + 28] = (10).to_bytes(4, "little")
    archive = tmp_path / "liar.zip"
    archive.write_bytes(bytes(data))
    _container, member = ingest(tmp_path, archive).items
    assert member.status == "rejected"
    assert "could not be read from the archive" in member.reason


def test_archive_expanded_bytes_limit_stops_the_archive(tmp_path: Path, settings) -> None:
    settings.HAETAE_INGEST = {**settings.HAETAE_INGEST, "MAX_ARCHIVE_EXPANDED_BYTES": 250_000}
    members = [(f"part{n:02d}.bin", os.urandom(100_000)) for n in range(30)]
    archive = tmp_path / "huge.zip"
    archive.write_bytes(zip_bytes(members))
    container, *outcomes = ingest(tmp_path, archive).items
    # Two members fit the budget; whichever member's bytes pass it (the two staging threads may finish
    # them in either order) is rejected, and so is any member already being read; the rest are never read.
    assert [o.status for o in outcomes].count("ingested") == 2
    rejected = [o for o in outcomes if o.status == "rejected"]
    assert rejected and all("HAETAE_MAX_ARCHIVE_EXPANDED_BYTES" in o.reason for o in rejected)
    assert len(outcomes) < 30
    reason = EvidenceItem.objects.get(pk=container.id).status_reason
    assert "extraction stopped" in reason and "HAETAE_MAX_ARCHIVE_EXPANDED_BYTES" in reason


def test_archive_member_count_limit(tmp_path: Path, settings) -> None:
    settings.HAETAE_INGEST = {**settings.HAETAE_INGEST, "MAX_ARCHIVE_MEMBERS": 3}
    archive = tmp_path / "many.zip"
    archive.write_bytes(zip_bytes([(f"f{n}.txt", str(n).encode()) for n in range(10)]))
    container, *outcomes = ingest(tmp_path, archive).items
    assert [o.status for o in outcomes] == ["ingested"] * 3 + ["rejected"]
    assert "the 6 after it were not extracted" in outcomes[3].reason
    assert "HAETAE_MAX_ARCHIVE_MEMBERS" in EvidenceItem.objects.get(pk=container.id).status_reason


def test_encrypted_member_is_rejected_and_the_archive_kept(tmp_path: Path) -> None:
    data = bytearray(zip_bytes([("secret.jpg", b"ciphertext")], compression=zipfile.ZIP_STORED))
    data[6] |= 0x1  # the local header's "encrypted" flag
    data[data.find(b"PK\x01\x02") + 8] |= 0x1  # and the central directory's
    archive = tmp_path / "locked.zip"
    archive.write_bytes(bytes(data))
    container, member = ingest(tmp_path, archive).items
    assert container.status == "ingested" and container.sha256 == hashlib.sha256(bytes(data)).hexdigest()
    assert member.status == "rejected" and "password" in member.reason
    assert EvidenceItem.objects.get(pk=member.id).blob_id is None


def test_truncated_archive_is_kept_and_says_members_could_not_be_listed(tmp_path: Path) -> None:
    data = zip_bytes([("a.txt", os.urandom(2000)), ("b.txt", os.urandom(2000))])
    archive = tmp_path / "cut.zip"
    archive.write_bytes(data[: len(data) // 2])
    (container,) = ingest(tmp_path, archive).items
    assert container.status == "ingested"
    assert container.sha256 == hashlib.sha256(data[: len(data) // 2]).hexdigest()
    assert "members could not be listed" in container.reason


def test_corrupt_member_is_rejected_and_the_others_kept(tmp_path: Path) -> None:
    good, bad = b"G" * 1000, b"B" * 1000
    data = bytearray(zip_bytes([("good.txt", good), ("bad.txt", bad)], compression=zipfile.ZIP_STORED))
    data[data.find(bad) + 500] ^= 0xFF  # the stored bytes no longer match the CRC
    archive = tmp_path / "damaged.zip"
    archive.write_bytes(bytes(data))
    container, good_out, bad_out = ingest(tmp_path, archive).items
    assert good_out.status == "ingested" and good_out.sha256 == hashlib.sha256(good).hexdigest()
    assert bad_out.status == "rejected" and "Bad CRC-32" in bad_out.reason
    assert container.status == "ingested"
    assert not list((tmp_path / "haetae-data" / "vault" / "tmp").glob("w-*/*.part"))


def test_duplicate_names_in_one_zip_are_two_items(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf, pytest.warns(UserWarning, match="Duplicate name"):
        zf.writestr("same.txt", b"first")
        zf.writestr("same.txt", b"second")
    archive = tmp_path / "dups.zip"
    archive.write_bytes(buffer.getvalue())
    _container, first, second = ingest(tmp_path, archive).items
    assert first.path == second.path and first.id != second.id
    assert first.status == second.status == "ingested"
    indexes = {EvidenceItem.objects.get(pk=o.id).member_index for o in (first, second)}
    assert indexes == {0, 1}
    assert "same name" in second.reason


def test_non_utf8_member_names_are_preserved(tmp_path: Path) -> None:
    korean = "사진.jpg".encode("euc-kr")  # what Korean Windows zip tools write, without the UTF-8 flag
    placeholder = b"X" * len(korean)
    data = zip_bytes([(placeholder.decode(), b"img")]).replace(placeholder, korean)
    archive = tmp_path / "windows.zip"
    archive.write_bytes(data)
    _container, member = ingest(tmp_path, archive).items
    item = EvidenceItem.objects.get(pk=member.id)
    assert bytes(item.original_path_raw) == os.fsencode(archive) + b"!/" + korean
    assert item.original_name == display_name(korean) and "\\x" in item.original_name


def test_manifest_text_uses_sha256sum_escaping() -> None:
    text = manifest_text([("b\\c", "2" * 64), ("a", "1" * 64)])
    assert text == f"{'1' * 64}  a\n\\{'2' * 64}  b\\\\c\n".encode()


def test_missing_path_is_refused_before_anything_is_recorded(tmp_path: Path) -> None:
    with pytest.raises(RejectedInput, match="nothing at"):
        ingest(tmp_path, tmp_path / "does-not-exist")
    assert not Acquisition.objects.exists()


def test_dead_running_acquisitions_are_marked_interrupted(tmp_path: Path) -> None:
    case = cast(Case, CaseFactory())
    actor = UserFactory()
    common = {
        "case": case,
        "actor": actor,
        "tool_name": "haetae",
        "tool_version": "0",
        "host": socket.gethostname(),
    }
    dead = Acquisition.objects.create(work_token="12345-deadbeef0000", pid=12345, **common)
    with WorkDir() as live_dir:
        alive = Acquisition.objects.create(work_token=live_dir.token, pid=os.getpid(), **common)
        other_host = Acquisition.objects.create(
            work_token="1-x", **{**common, "host": "another-ingest-server"}
        )
        marked = acquisition_recover_interrupted()
        assert acquisition_recover_interrupted() == []  # once only, and never a live one
    assert [a.pk for a in marked] == [dead.pk]
    dead.refresh_from_db()
    assert dead.status == AcquisitionStatus.INTERRUPTED and dead.finished_at
    for untouched in (alive, other_host):
        untouched.refresh_from_db()
        assert untouched.status == AcquisitionStatus.RUNNING
    event = CustodyEvent.objects.get(action=CustodyAction.ACQUISITION_INTERRUPTED)
    assert event.case_id == case.pk and event.details["acquisition"] == dead.pk
    assert "run the same ingest again" in event.details["reason"]
