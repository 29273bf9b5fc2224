"""Two `manage.py ingest` processes at once, over folders that share content: one blob per content,
every item whole, the ledger gap-free and unforked, and verify clean.

On PostgreSQL the two really interleave (advisory locks on the ledger and on each content); on SQLite
their write transactions queue (IMMEDIATE), which must still lose nothing.
"""

import hashlib
import json
from pathlib import Path

import pytest

from tests.evidence.test_ingest_crash import (
    _STATE,
    ACTOR,
    CASE_NUMBER,
    REPO,
    make_subprocess_env,
    manage,
    run_django,
)
from tests.processes import Forked

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _folders(root: Path) -> tuple[Path, Path, set[bytes]]:
    """Two seized devices: 120 shared contents at different paths, 60 unique to each."""
    first, second = root / "phone-a", root / "laptop-b"
    contents: set[bytes] = set()
    for folder, tag in ((first, b"a"), (second, b"b")):
        (folder / "shared").mkdir(parents=True)
        (folder / "own").mkdir()
        for n in range(120):
            data = hashlib.sha256(b"shared-%d" % n).digest() * (200 + n)
            (folder / "shared" / f"{tag.decode()}-{n}.bin").write_bytes(data)
            contents.add(data)
        for n in range(60):
            data = hashlib.sha256(tag + b"-own-%d" % n).digest() * 300
            (folder / "own" / f"{n}.bin").write_bytes(data)
            contents.add(data)
    return first, second, contents


def _ingest_both(env: dict[str, str], first: Path, second: Path) -> list[dict]:
    options = ["--actor", ACTOR, "--json", "--skip-checks"]  # without the system checks, as ``manage`` runs
    children = [
        Forked(["manage.py", "ingest", CASE_NUMBER, str(folder), *options], env=env, cwd=REPO)
        for folder in (first, second)
    ]
    answers = []
    for child in children:
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0, err.decode()
        answers.append(json.loads(out))
    return answers


def test_two_ingests_at_once_share_blobs_and_keep_the_ledger_linear(data_dir: Path, tmp_path: Path) -> None:
    env = make_subprocess_env(data_dir, tmp_path)
    first, second, contents = _folders(tmp_path / "seized")

    answers = _ingest_both(env, first, second)
    assert [a["counts"] for a in answers] == [{"ingested": 180, "duplicate": 0, "rejected": 0}] * 2
    state = json.loads(run_django(env, _STATE))
    assert state["chain_problems"] == []
    assert state["seqs"] == list(range(len(state["seqs"])))
    content_shas = {hashlib.sha256(c).hexdigest() for c in contents}  # 240 distinct contents
    manifests = set(state["blobs"]) - content_shas
    assert content_shas <= set(state["blobs"]) and len(manifests) == 2  # plus each acquisition's manifest
    assert len(state["items"]) == 360  # every finding is its own item, shared bytes or not
    stored = [i for i in state["items"] if "stored" in i["actions"]]
    assert len(stored) == len(contents)  # each content stored exactly once, by whichever ingest won
    objects = {p.name for p in (data_dir / "vault" / "objects").rglob("*") if p.is_file()}
    assert set(state["blobs"]) <= objects

    again = _ingest_both(env, first, second)
    assert [a["counts"] for a in again] == [{"ingested": 0, "duplicate": 180, "rejected": 0}] * 2
    assert len(json.loads(run_django(env, _STATE))["items"]) == 360

    verified = manage(env, "verify", "--json", text=True)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)["ok"] is True
    assert not list((data_dir / "vault" / "tmp").glob("w-*"))
