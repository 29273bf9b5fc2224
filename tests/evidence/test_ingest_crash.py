"""kill -9 during `manage.py ingest`: nothing half-written survives; re-running completes everything whole.

Each test runs the real command in a subprocess against the test database (PostgreSQL), or against a
migrated SQLite file (the SQLite test database lives in memory, where no subprocess can see it).
"""

import functools
import hashlib
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from contextlib import closing
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from evidence.vault import read_verified
from tests.databases import sqlite_template
from tests.processes import forked

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
CASE_NUMBER = "2024-CRASH-0001"
ACTOR = "crash.tester"

_SETUP = f"""
from django.contrib.auth.models import Group, User
from access.services import case_create
actor = User.objects.create(username={ACTOR!r})
actor.groups.add(Group.objects.get(name="investigator"))
case_create(number={CASE_NUMBER!r}, title="crash safety", actor=actor)
"""

_STATE = """
import json
from evidence.custody import GENESIS_HASH, event_leaf_hash
from evidence.models import Acquisition, Blob, CustodyEvent, EvidenceItem
problems = []
heads = {}
for event in CustodyEvent.objects.order_by("seq"):
    if event_leaf_hash(event) != event.leaf_hash:
        problems.append(f"event {event.seq}: leaf hash does not recompute")
    key = event.item_id or f"case-{event.case_id}"
    if event.prev_hash != heads.get(key, GENESIS_HASH):
        problems.append(f"event {event.seq}: chain of {key} forked or broken")
    heads[key] = event.leaf_hash
items = [
    {"id": i.pk, "path": bytes(i.original_path_raw).hex(), "sha256": i.blob_id, "status": i.status,
     "parent": i.parent_id, "locator": i.locator_sha256,
     "actions": list(i.custody_events.order_by("seq").values_list("action", flat=True))}
    for i in EvidenceItem.objects.order_by("pk")
]
print(json.dumps({
    "blobs": sorted(Blob.objects.values_list("sha256", flat=True)),
    "items": items,
    "acquisitions": list(Acquisition.objects.order_by("pk").values_list("status", flat=True)),
    "chain_problems": problems,
    "seqs": list(CustodyEvent.objects.order_by("seq").values_list("seq", flat=True)),
}))
"""


def run_django(env: dict[str, str], code: str) -> str:
    """Run Python code in a new process (forked: tests/processes.py) with Django set up on the subprocess
    database."""
    prologue = "import django, os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'haetae.settings')\n"
    done = forked(["-c", prologue + "django.setup()\n" + code], env=env, cwd=REPO, timeout=120, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def manage(env: dict[str, str], *args: str, text: bool = False) -> subprocess.CompletedProcess:
    """Run a management command in a new process (forked: tests/processes.py). Without the system checks: they
    import every URL's views (a second of CPU a command) and check the configuration, which is not what these
    tests are about."""
    return forked(["manage.py", *args, "--skip-checks"], env=env, cwd=REPO, timeout=300, text=text)


@functools.cache
def migrated_sqlite_template(folder: Path) -> Path:
    """A migrated SQLite database: the run's template (tests/databases.py: the first worker's test database,
    as migrated), or else one migrated once per session under ``folder``. A migrate costs about ten seconds
    of CPU, and its result is the same for every test (it writes no custody event and no key that a test's
    data directory needs)."""
    shared = sqlite_template()
    if shared is not None:
        return shared
    template = folder / "migrated-template.sqlite3"
    env = {
        **os.environ,
        "HAETAE_DATA_DIR": str(folder / "template-data"),
        "DATABASE_URL": f"sqlite:///{template}",
    }
    done = manage(env, "migrate", "--noinput", "-v0")
    assert done.returncode == 0, done.stderr
    return template


def copy_sqlite(source: Path, target: Path) -> None:
    """Copy a SQLite database with its write-ahead log applied (the backup API, not a file copy)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(source)) as reading, closing(sqlite3.connect(target)) as writing:
        reading.backup(writing)


def make_subprocess_env(data_dir: Path, tmp_path: Path) -> dict[str, str]:
    """Environment for child processes: this test's vault and keys, a database they share, a case, a user.

    Detection after ingest is off: these tests kill and re-run the ingest, recording and capture steps, and
    detection on the ingested items (a separate phase after the ingest has committed, with its own kill tests
    in tests/detection/test_pool.py and test_tasks.py) only cost each child process seconds of CPU."""
    from django.db import connection

    env = {
        **os.environ,
        "HAETAE_DATA_DIR": str(data_dir),
        "HAETAE_MASTER_KEY_FILE": str(django_settings.MASTER_KEY_FILE),
        "HAETAE_LEDGER_KEY_FILE": str(django_settings.LEDGER_KEY_FILE),
        "HAETAE_DETECT_ON_INGEST": "false",
        "MALLOC_ARENA_MAX": "2",
    }
    env.pop("HAETAE_TEST_KILL_AT", None)
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    else:
        database = tmp_path / "subprocess.sqlite3"
        copy_sqlite(migrated_sqlite_template(tmp_path.parent), database)  # as migrated, for this test alone
        env["DATABASE_URL"] = f"sqlite:///{database}"
    run_django(env, _SETUP)
    return env


@pytest.fixture
def subprocess_env(data_dir: Path, tmp_path: Path) -> dict[str, str]:
    return make_subprocess_env(data_dir, tmp_path)


def expected_findings(folder: Path) -> set[tuple[str, str]]:
    """(raw path hex, sha256) of every file under ``folder`` and every member of its ZIPs, by hashlib."""
    found = set()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
        data = path.read_bytes()
        raw = os.fsencode(path)
        found.add((raw.hex(), hashlib.sha256(data).hexdigest()))
        if data[:4] == b"PK\x03\x04":
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for info in archive.infolist():
                    member = archive.read(info)
                    name = raw + b"!/" + info.orig_filename.encode()
                    found.add((name.hex(), hashlib.sha256(member).hexdigest()))
    return found


@pytest.fixture
def seized_folder(tmp_path: Path) -> Path:
    """Files before and after a ZIP (so a run commits several batches), one large file, one symlink."""
    root = tmp_path / "seized"
    root.mkdir()
    for n in range(25):
        (root / f"a{n:02d}.jpg").write_bytes(os.urandom(30_000 + n))
    members = io.BytesIO()
    with zipfile.ZipFile(members, "w") as archive:
        for n in range(15):
            archive.writestr(f"chat/export{n:02d}.txt", os.urandom(20_000 + n))
    (root / "m_telegram.zip").write_bytes(members.getvalue())
    (root / "n_large.bin").write_bytes(os.urandom(6 * 1024 * 1024))
    for n in range(25):
        (root / f"z{n:02d}.png").write_bytes(os.urandom(10_000 + n))
    (root / "zz_link").symlink_to(root / "a00.jpg")
    return root


def vault_object_files(data_dir: Path) -> set[str]:
    return {p.name for p in (data_dir / "vault" / "objects").glob("*/*/*")}


def assert_whole(env: dict[str, str], data_dir: Path, folder: Path) -> dict:
    """Rows and objects match one to one, every finding is present once and whole, chains are intact."""
    state = json.loads(run_django(env, _STATE))
    assert state["chain_problems"] == []
    assert state["seqs"] == list(range(len(state["seqs"])))  # gap-free global log
    assert vault_object_files(data_dir) == set(state["blobs"])  # no row without file, no file without row
    assert not list((data_dir / "vault" / "tmp").glob("w-*"))
    ingested = [(i["path"], i["sha256"]) for i in state["items"] if i["status"] == "ingested"]
    assert len(ingested) == len(set(ingested))  # nothing duplicated
    assert set(ingested) == expected_findings(folder)
    for sha256 in {sha for _, sha in ingested}:
        assert hashlib.sha256(b"".join(read_verified(sha256))).hexdigest() == sha256
    locators = [(i["locator"], i["sha256"]) for i in state["items"]]
    assert len(locators) == len(set(locators))
    rejected = [i for i in state["items"] if i["status"] == "rejected"]
    assert len(rejected) == 1 and rejected[0]["actions"] == ["rejected"]
    for item in state["items"]:
        if item["status"] == "ingested":
            assert item["actions"][0] == "acquired"
    assert state["acquisitions"][-1] == "completed"
    assert "running" not in state["acquisitions"]
    return state


def ingest_argv(folder: Path) -> list[str]:
    return ["ingest", CASE_NUMBER, str(folder), "--actor", ACTOR, "--json"]


def finish_and_check(env: dict[str, str], data_dir: Path, folder: Path) -> dict:
    rerun = manage(env, *ingest_argv(folder))
    # The symlink is rejected (exit 1); everything else is accepted.
    assert rerun.returncode == 1 and rerun.stdout, rerun.stderr
    report = json.loads(rerun.stdout)
    assert report["counts"]["rejected"] == 1
    state = assert_whole(env, data_dir, folder)
    verify = manage(env, "verify", "--json")
    assert verify.returncode == 0 and verify.stdout, verify.stdout + verify.stderr
    assert json.loads(verify.stdout)["ok"] is True
    return state


@pytest.mark.parametrize(
    "kill_at",
    ["after_start", "after_stage:3", "after_place:1", "after_commit:1", "before_complete"],
)
def test_kill_at_each_stage_then_rerun_completes_whole(
    kill_at: str, subprocess_env: dict[str, str], data_dir: Path, seized_folder: Path
) -> None:
    killed = manage({**subprocess_env, "HAETAE_TEST_KILL_AT": kill_at}, *ingest_argv(seized_folder))
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    before = json.loads(run_django(subprocess_env, _STATE))
    assert before["chain_problems"] == []
    # A row is never without its object, even before recovery runs.
    assert set(before["blobs"]) <= vault_object_files(data_dir)
    committed = {(i["path"], i["sha256"]) for i in before["items"] if i["status"] == "ingested"}
    state = finish_and_check(subprocess_env, data_dir, seized_folder)
    assert state["acquisitions"][0] == "interrupted"
    # What the killed run committed was kept, not redone.
    assert committed <= {(i["path"], i["sha256"]) for i in state["items"] if i["status"] == "ingested"}
    if kill_at == "after_commit:1":
        assert committed and len(committed) < len(expected_findings(seized_folder))


def test_repeated_kills_at_arbitrary_moments(
    subprocess_env: dict[str, str], data_dir: Path, seized_folder: Path
) -> None:
    big = seized_folder / "o_video.bin"
    big.write_bytes(os.urandom(48 * 1024 * 1024))
    for delay in (0.9, 1.5, 2.1):
        child = subprocess.Popen(
            [sys.executable, "manage.py", *ingest_argv(seized_folder)],
            env=subprocess_env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finish_and_check(subprocess_env, data_dir, seized_folder)
