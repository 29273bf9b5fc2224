"""Archive bombs: overlapping entries are refused before a member is read, and the whole nested tree of
an archive shares one decompression budget relative to the archive's own size."""

import zipfile
from pathlib import Path

import pytest

from evidence.ingest import PathSource, evidence_ingest
from evidence.models import EvidenceItem
from evidence.sources import zip_overlap
from tests.bombs import nested_zip_bomb, overlapping_zip
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db


def ingest(path: Path):
    return evidence_ingest(case=CaseFactory(), sources=[PathSource(path)], actor=UserFactory())


def test_overlapping_entries_are_named_from_the_central_directory() -> None:
    import io

    bomb = zipfile.ZipFile(io.BytesIO(overlapping_zip(entries=5)))
    assert "overlapping entries: member 1 begins at byte 0, inside member 0" in zip_overlap(bomb)


def test_overlapping_entry_zip_is_kept_whole_and_not_extracted(tmp_path: Path) -> None:
    archive = tmp_path / "overlap.zip"
    archive.write_bytes(overlapping_zip(entries=200))
    assert archive.stat().st_size < 20_000  # 200 MiB if every entry were read

    (container,) = ingest(archive).items

    assert container.status == "ingested"  # the archive itself is evidence, stored byte for byte
    reason = EvidenceItem.objects.get(pk=container.id).status_reason
    assert "ZIP archive not opened: overlapping entries" in reason
    assert "none of its 200 entries was extracted" in reason
    assert EvidenceItem.objects.filter(parent_id=container.id).count() == 0


def test_well_formed_archives_have_no_overlap(tmp_path: Path) -> None:
    import io

    plain = nested_zip_bomb(copies=2, members=2, member_bytes=10)
    assert zip_overlap(zipfile.ZipFile(io.BytesIO(plain))) == ""


def test_nested_bomb_stops_at_the_whole_tree_budget(tmp_path: Path, settings) -> None:
    settings.HAETAE_INGEST = {
        **settings.HAETAE_INGEST,
        "MAX_ARCHIVE_TREE_RATIO": 50,
        "ARCHIVE_TREE_FLOOR_BYTES": 1024 * 1024,
    }
    archive = tmp_path / "nested.zip"
    archive.write_bytes(nested_zip_bomb(copies=8, members=8, member_bytes=1024 * 1024))
    budget = 50 * archive.stat().st_size
    assert budget < 64 * 1024 * 1024  # the tree would expand to 64 MiB of members

    container, *members = ingest(archive).items

    stored = sum(o.size or 0 for o in members if o.status == "ingested")
    assert stored <= budget
    rejected = [o for o in members if o.status == "rejected"]
    assert rejected and all("HAETAE_MAX_ARCHIVE_TREE_RATIO 50" in o.reason for o in rejected)
    reason = EvidenceItem.objects.get(pk=container.id).status_reason
    assert "extraction stopped" in reason and "HAETAE_MAX_ARCHIVE_TREE_RATIO" in reason


def test_the_absolute_cap_still_applies_when_smaller_than_the_ratio(tmp_path: Path, settings) -> None:
    settings.HAETAE_INGEST = {**settings.HAETAE_INGEST, "MAX_ARCHIVE_EXPANDED_BYTES": 3 * 1024 * 1024}
    archive = tmp_path / "nested.zip"
    archive.write_bytes(nested_zip_bomb(copies=4, members=4, member_bytes=1024 * 1024))

    container, *_ = ingest(archive).items

    assert "HAETAE_MAX_ARCHIVE_EXPANDED_BYTES" in EvidenceItem.objects.get(pk=container.id).status_reason


def _image(fmt: str) -> bytes:
    import io

    import numpy as np
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(np.full((32, 32, 3), 120, dtype=np.uint8)).save(out, format=fmt)
    return out.getvalue()


@pytest.mark.parametrize(("fmt", "end"), [("JPEG", "JPEG's end of image (EOI)"), ("PNG", "PNG's IEND chunk")])
def test_zip_appended_to_an_image_is_flagged_and_its_members_ingested(
    tmp_path: Path, fmt: str, end: str
) -> None:
    import io

    image = _image(fmt)
    hidden = io.BytesIO()
    with zipfile.ZipFile(hidden, "w") as archive:
        archive.writestr("hidden/list.txt", b"names and prices")
    polyglot = tmp_path / f"cat.{fmt.lower()}"
    polyglot.write_bytes(image + hidden.getvalue())

    container, member = ingest(polyglot).items

    assert container.mime == f"image/{fmt.lower()}" and container.status == "ingested"
    reason = EvidenceItem.objects.get(pk=container.id).status_reason
    assert f"polyglot: a ZIP archive of 1 entry is appended after the {end}, from byte {len(image)}" in reason
    assert member.status == "ingested" and member.path.endswith("!/hidden/list.txt")
    assert member.parent == container.id


def test_a_plain_image_is_not_flagged(tmp_path: Path) -> None:
    photo = tmp_path / "plain.jpg"
    photo.write_bytes(_image("JPEG"))
    (item,) = ingest(photo).items
    assert "polyglot" not in EvidenceItem.objects.get(pk=item.id).status_reason
