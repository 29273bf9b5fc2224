"""manage.py ingest: arguments, the JSON contract, exit codes, and a file larger than the memory allowed."""

import hashlib
import io
import json
import os
import resource
import subprocess
import sys
import zipfile
from functools import partial
from pathlib import Path

import pytest

from evidence.choices import CustodyAction
from evidence.models import Acquisition, CustodyEvent, EvidenceItem
from tests.commands import command_run
from tests.evidence.test_ingest_crash import CASE_NUMBER, REPO, make_subprocess_env
from tests.factories import CaseFactory, CaseMemberFactory, UserFactory

ITEM_KEYS = {"id", "path", "parent", "status", "reason", "size", "md5", "sha1", "sha256", "mime"}


run_ingest = partial(command_run, "ingest")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "seized"
    root.mkdir()
    (root / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"j" * 2000)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("chat/log.txt", "안녕하세요\n")
    (root / "telegram.zip").write_bytes(buffer.getvalue())
    return root


@pytest.mark.django_db
def test_json_output_is_one_object_with_the_contracted_shape(folder: Path) -> None:
    case = CaseFactory(number="2024-SEOUL-0042")
    CaseMemberFactory(case=case, user=UserFactory(username="park"))
    code, out, _ = run_ingest(
        "2024-SEOUL-0042",
        str(folder),
        "--actor",
        "park",
        "--source",
        "suspect laptop",
        "--seizure-ref",
        "warrant 2024-77",
        "--location",
        "Gangnam station",
        "--seal",
        "S-1",
        "--seal",
        "S-2",
        "--participant",
        "witness Choi",
        "--json",
    )
    assert code == 0
    report = json.loads(out)  # exactly one JSON document on stdout
    # Today's shape plus the source kind it was read as (issue 13: "files" for plain files).
    assert (
        set(report) == {"acquisition", "source_kind", "counts", "items"} and report["source_kind"] == "files"
    )
    assert report["counts"] == {"ingested": 3, "duplicate": 0, "rejected": 0}
    assert all(set(item) == ITEM_KEYS for item in report["items"])
    photo, container, member = report["items"]
    assert photo["path"] == str(folder / "photo.jpg") and photo["parent"] is None
    data = (folder / "photo.jpg").read_bytes()
    assert photo["sha256"] == hashlib.sha256(data).hexdigest()
    assert photo["md5"] == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert photo["size"] == len(data) and photo["mime"] == "image/jpeg"
    assert member["path"] == f"{folder / 'telegram.zip'}!/chat/log.txt"
    assert member["parent"] == container["id"]
    acquisition = Acquisition.objects.get(pk=report["acquisition"])
    assert acquisition.case == case and acquisition.actor.username == "park"
    assert acquisition.source_description == "suspect laptop"
    assert acquisition.seizure_reference == "warrant 2024-77" and acquisition.location == "Gangnam station"
    assert acquisition.seal_numbers == ["S-1", "S-2"] and acquisition.participants == ["witness Choi"]
    assert EvidenceItem.objects.get(pk=photo["id"]).source == "suspect laptop"

    code, out, _ = run_ingest(
        "2024-SEOUL-0042", str(folder), "--actor", "park", "--source", "suspect laptop", "--json"
    )
    again = json.loads(out)
    assert code == 0 and again["counts"] == {"ingested": 0, "duplicate": 3, "rejected": 0}


@pytest.mark.django_db
def test_rejections_exit_1_but_accepted_items_are_committed(folder: Path) -> None:
    CaseMemberFactory(case=CaseFactory(number="2024-SEOUL-0043"), user=UserFactory(username="park"))
    (folder / "shortcut").symlink_to(folder / "photo.jpg")
    code, out, err = run_ingest("2024-SEOUL-0043", str(folder), "--actor", "park")
    assert code == 1
    assert "3 ingested, 0 duplicate, 1 rejected" in out
    assert f"rejected: {folder / 'shortcut'}: symbolic link" in err
    assert EvidenceItem.objects.filter(status="ingested").count() == 3
    assert CustodyEvent.objects.filter(action=CustodyAction.ACQUISITION_COMPLETED).count() == 1


@pytest.mark.django_db
def test_unknown_case_user_or_path_is_refused_with_a_message(folder: Path) -> None:
    CaseMemberFactory(case=CaseFactory(number="2024-SEOUL-0044"), user=UserFactory(username="park"))
    code, _, err = run_ingest("2024-NOPE-0001", str(folder), "--actor", "park")
    assert code == 1 and "no case numbered '2024-NOPE-0001'" in err
    code, _, err = run_ingest("2024-SEOUL-0044", str(folder), "--actor", "ghost")
    assert code == 2 and "no user named 'ghost'" in err
    code, _, err = run_ingest("2024-SEOUL-0044", str(folder / "missing.jpg"), "--actor", "park")
    assert code == 1 and "nothing at" in err
    assert not Acquisition.objects.exists()


@pytest.mark.django_db
def test_the_actor_must_be_on_the_team_with_a_role_that_may_ingest(folder: Path) -> None:
    case = CaseFactory(number="2024-SEOUL-0045")
    UserFactory(username="outsider")
    CaseMemberFactory(case=case, user=UserFactory(username="kim.support"), role="victim_support")
    code, _, err = run_ingest("2024-SEOUL-0045", str(folder), "--actor", "outsider")
    assert code == 1
    assert "outsider is not on the team of case 2024-SEOUL-0045" in err
    assert "manage.py add_member 2024-SEOUL-0045 outsider ROLE" in err
    code, _, err = run_ingest("2024-SEOUL-0045", str(folder), "--actor", "kim.support")
    assert code == 1
    assert "your role on case 2024-SEOUL-0045 is victim_support" in err and "add evidence" in err
    assert not Acquisition.objects.exists() and not CustodyEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_file_larger_than_allowed_memory_streams_through(data_dir: Path, tmp_path: Path) -> None:
    # Detection after ingest is off in this environment (make_subprocess_env): it would load Celery's Redis
    # client (and its malloc arenas) under the address-space cap, which says nothing about holding the file.
    env = make_subprocess_env(data_dir, tmp_path)
    big = tmp_path / "disk.img"
    with open(big, "wb") as handle:  # 1 GiB, sparse, with some real bytes scattered through it
        handle.truncate(1024**3 + 12345)
        for offset in range(0, 1024**3, 97 * 1024**2):
            handle.seek(offset)
            handle.write(os.urandom(4096))
    md5, sha1, sha256 = (
        hashlib.md5(usedforsecurity=False),
        hashlib.sha1(usedforsecurity=False),
        hashlib.sha256(),
    )
    with open(big, "rb") as source:
        while chunk := source.read(8 * 1024**2):
            for digest in (md5, sha1, sha256):
                digest.update(chunk)

    def limit_memory() -> None:
        cap = 700 * 1024**2  # well under the file's size: holding it whole would fail
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    done = subprocess.run(
        [sys.executable, "manage.py", "ingest", CASE_NUMBER, str(big), "--actor", "crash.tester", "--json"],
        env=env,
        cwd=REPO,
        capture_output=True,
        timeout=300,
        preexec_fn=limit_memory,  # the limit applies to the child alone
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    (item,) = json.loads(done.stdout)["items"]
    assert item["size"] == big.stat().st_size
    assert (item["md5"], item["sha1"], item["sha256"]) == (
        md5.hexdigest(),
        sha1.hexdigest(),
        sha256.hexdigest(),
    )
