"""vault_verify and manage.py verify: clean runs are recorded; every kind of damage and tampering is named."""

import json
import os
import struct
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection

from access.models import Case
from evidence import crypto, merkle
from evidence.choices import CustodyAction, ItemStatus
from evidence.crypto import CHUNK_SIZE
from evidence.custody import GENESIS_HASH, custody_append, event_leaf_hash
from evidence.ledger import checkpoint_create, checkpoint_message
from evidence.ledger_sql import create_statements, drop_statements
from evidence.models import Blob, Checkpoint, CustodyEvent, EvidenceItem
from evidence.vault import object_path
from evidence.verify import MerkleWalk, consistency_proof_ranges, vault_verify
from haetae.toolkit import utc_iso
from tests.db_roles import database_owner
from tests.evidence.test_ingest_crash import copy_sqlite, migrated_sqlite_template
from tests.factories import CaseFactory, CaseMemberFactory, stored_item

REPO = Path(__file__).resolve().parents[2]


def make_actor(username: str = "verify-officer") -> User:
    # no password: PBKDF2 would cost more than the test
    return get_user_model().objects.get_or_create(username=username)[0]


@dataclass
class Ledger:
    """Three items in one case, with two checkpoints: A after two items (size 4) and B over all (size 9)."""

    actor: User
    case: Case
    items: list[EvidenceItem]
    cp_a: Checkpoint
    cp_b: Checkpoint


def build_ledger() -> Ledger:
    actor = make_actor()
    case = CaseFactory.create()
    one = stored_item(case=case, data=b"first photo " * 100, actor=actor, name="one.jpg")  # seq 0, 1
    # two chunks, so damage can sit in a later chunk than the first
    two = stored_item(case=case, data=os.urandom(CHUNK_SIZE + 100), actor=actor, name="two.mp4")  # 2, 3
    cp_a = checkpoint_create()
    three = stored_item(case=case, data=b"third photo " * 100, actor=actor, name="three.jpg")  # 4, 5
    for item in (one, two, three):  # seq 6, 7, 8
        custody_append(
            case_id=case.pk, item_id=item.pk, action=CustodyAction.VIEWED, actor=actor, purpose="triage"
        )
    cp_b = checkpoint_create()
    assert (cp_a.tree_size, cp_b.tree_size) == (4, 9)
    return Ledger(actor=actor, case=case, items=[one, two, three], cp_a=cp_a, cp_b=cp_b)


@pytest.fixture
def ledger(db: None) -> Ledger:
    return build_ledger()


def summary(failures: list[dict[str, Any]]) -> set[tuple[str, int | None, int | None, int | None]]:
    return {(f["check"], f["item"], f["event"], f["checkpoint"]) for f in failures}


def writable_object(sha256: str) -> Path:
    path = object_path(sha256)
    assert path.stat().st_mode & 0o777 == 0o400  # objects are read-only in the vault
    path.chmod(0o600)
    return path


def flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def header_length(path: Path) -> int:
    return 12 + struct.unpack(">I", path.read_bytes()[8:12])[0]


@pytest.fixture
def triggers_dropped(db: None) -> Iterator[None]:
    """Lift the append-only triggers as a database superuser would; put them back afterwards."""
    with database_owner():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Django's deferred FK checks count as pending trigger events, which block DROP TRIGGER.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for sql in drop_statements(connection.vendor):
                cursor.execute(sql)
        yield
        with connection.cursor() as cursor:
            for sql in create_statements(connection.vendor):
                cursor.execute(sql)


# --- the streaming Merkle walk ---------------------------------------------------------------------------


def test_streaming_roots_and_consistency_proofs_match_the_reference() -> None:
    leaves = [merkle.leaf_hash(str(i).encode()) for i in range(40)]
    pairs = [(m, n) for n in range(1, 41) for m in range(1, n + 1)]
    walk = MerkleWalk(
        root_sizes=range(41), ranges=[r for m, n in pairs if m < n for r in consistency_proof_ranges(m, n)]
    )
    for leaf in leaves:
        walk.add(leaf)
    for size in range(41):
        assert walk.roots[size] == merkle.root_from_leaf_hashes(leaves[:size])[1]
    for m, n in pairs:
        if m < n:
            proof = walk.proof(m, n)
            assert proof == merkle.consistency_proof(m, leaves[:n])
            assert merkle.verify_consistency(m, n, walk.roots[m], walk.roots[n], proof)


# --- clean runs ------------------------------------------------------------------------------------------


def test_clean_vault_verifies_and_records_a_verified_event_per_item(ledger: Ledger) -> None:
    phases: list[tuple[str, int, int]] = []
    report = vault_verify(actor=ledger.actor, on_progress=lambda *p: phases.append(p))
    assert report.ok, report.failures
    assert report.checked == 3
    assert report.failures == []
    assert ("content", 3, 3) in phases and ("ledger", 9, 9) in phases and ("recording", 3, 3) in phases
    for item in ledger.items:
        events = list(item.custody_events.order_by("seq"))
        verified = events[-1]
        assert verified.action == CustodyAction.VERIFIED
        assert verified.prev_hash == events[-2].leaf_hash
        assert verified.leaf_hash == event_leaf_hash(verified)
        assert verified.details == {"ok": True, "problems": [], "run": report.run}
        assert verified.sha256_before == verified.sha256_after == item.blob_id
        assert verified.actor_name == ledger.actor.username
    assert not CustodyEvent.objects.filter(action=CustodyAction.INCIDENT).exists()
    # the events it appended are themselves sound: a second run is clean too
    again = vault_verify()
    assert again.ok, again.failures
    assert CustodyEvent.objects.filter(action=CustodyAction.VERIFIED).count() == 6


@pytest.mark.django_db
def test_items_sharing_a_blob_read_it_once_and_all_get_the_failure() -> None:
    actor = make_actor()
    case = CaseFactory.create()
    first = stored_item(case=case, data=b"same bytes twice", actor=actor, name="a.jpg")
    second = stored_item(case=CaseFactory.create(), data=b"same bytes twice", actor=actor, name="b.jpg")
    assert first.blob_id == second.blob_id
    phases: list[tuple[str, int, int]] = []
    path = writable_object(first.blob_id)
    flip_byte(path, path.stat().st_size - 1)
    report = vault_verify(on_progress=lambda *p: phases.append(p))
    assert report.checked == 2
    assert [p for p in phases if p[0] == "content"][-1] == ("content", 1, 1)  # one blob read
    assert summary(report.failures) == {
        ("blob_damaged", first.pk, None, None),
        ("blob_damaged", second.pk, None, None),
    }
    assert CustodyEvent.objects.filter(action=CustodyAction.INCIDENT).count() == 2


# --- damaged blobs ---------------------------------------------------------------------------------------


def _damage_body(path: Path) -> None:
    flip_byte(path, header_length(path) + CHUNK_SIZE + 16 + 7)  # inside the second chunk


def _damage_header(path: Path) -> None:
    flip_byte(path, 20)  # a field name of the canonical-JSON header (authenticated as associated data)


def _damage_header_value(path: Path, field: bytes) -> None:
    marker = b'"' + field + b'":"'
    flip_byte(path, path.read_bytes().index(marker) + len(marker) + 2)


def _damage_wrapped_key(path: Path) -> None:
    _damage_header_value(path, b"wrapped_key")


def _damage_nonce_prefix(path: Path) -> None:
    _damage_header_value(path, b"nonce_prefix")


def _damage_key_id(path: Path) -> None:
    _damage_header_value(path, b"key_id")


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-10])


def _delete(path: Path) -> None:
    path.unlink()


@pytest.mark.parametrize(
    ("damage", "check"),
    [
        (_damage_body, "blob_damaged"),
        (_damage_header, "blob_damaged"),
        (_damage_wrapped_key, "blob_damaged"),
        (_damage_nonce_prefix, "blob_damaged"),
        (_damage_key_id, "blob_damaged"),
        (_truncate, "blob_damaged"),
        (_delete, "blob_missing"),
    ],
)
def test_damaged_blob_is_named_and_recorded_as_an_incident(
    ledger: Ledger, damage: Callable[[Path], None], check: str, capsys: pytest.CaptureFixture[str]
) -> None:
    victim = ledger.items[1]
    damage(writable_object(victim.blob_id))
    with pytest.raises(SystemExit) as exited:
        call_command("verify")
    assert exited.value.code == 1
    out = capsys.readouterr().out
    assert f"FAIL {check} (item {victim.pk})" in out
    assert "expected:" in out and "found:" in out
    incident = CustodyEvent.objects.get(item=victim, action=CustodyAction.INCIDENT)
    verified = CustodyEvent.objects.get(item=victim, action=CustodyAction.VERIFIED)
    assert incident.prev_hash == verified.leaf_hash  # appended to the item's chain, after the verified event
    assert verified.details["ok"] is False
    assert [p["check"] for p in verified.details["problems"]] == [check]
    assert verified.sha256_before == victim.blob_id and verified.sha256_after == ""
    assert incident.details["problems"][0]["check"] == check
    for healthy in (ledger.items[0], ledger.items[2]):
        assert CustodyEvent.objects.get(item=healthy, action=CustodyAction.VERIFIED).details["ok"] is True
    assert not CustodyEvent.objects.filter(action=CustodyAction.INCIDENT).exclude(item=victim).exists()


def test_object_with_other_content_under_the_name_fails_the_hash(ledger: Ledger) -> None:
    one, _two, three = ledger.items  # same size: only the hash differs
    target = writable_object(one.blob_id)
    target.write_bytes(object_path(three.blob_id).read_bytes())
    report = vault_verify()
    assert summary(report.failures) == {("blob_hash", one.pk, None, None)}
    failure = report.failures[0]
    assert (failure["expected"], failure["found"]) == (one.blob_id, three.blob_id)
    verified = CustodyEvent.objects.get(item=one, action=CustodyAction.VERIFIED)
    assert (verified.sha256_before, verified.sha256_after) == (one.blob_id, three.blob_id)
    assert CustodyEvent.objects.filter(item=one, action=CustodyAction.INCIDENT).count() == 1


def test_blob_row_size_changed_is_detected(ledger: Ledger) -> None:
    one = ledger.items[0]
    Blob.objects.filter(sha256=one.blob_id).update(size=5)
    report = vault_verify()
    assert summary(report.failures) == {("blob_size", one.pk, None, None), ("item_size", one.pk, None, None)}
    by_check = {f["check"]: f for f in report.failures}
    assert (by_check["blob_size"]["expected"], by_check["blob_size"]["found"]) == (5, 1200)


def test_wrong_master_key_is_reported_without_an_incident(
    ledger: Ledger, settings: Any, tmp_path: Path
) -> None:
    settings.MASTER_KEY_FILE = tmp_path / "other-master.key"
    report = vault_verify()
    assert {f["check"] for f in report.failures} == {"blob_unreadable"}
    assert len(report.failures) == 3
    assert "HAETAE_MASTER_KEY_FILE" in report.failures[0]["message"]
    assert not CustodyEvent.objects.filter(action=CustodyAction.INCIDENT).exists()


# --- ledger tampering ------------------------------------------------------------------------------------


def test_updated_event_details_break_its_leaf_and_the_checkpoints(
    ledger: Ledger, triggers_dropped: None
) -> None:
    two = ledger.items[1]
    CustodyEvent.objects.filter(seq=2).update(details={"note": "rewritten"})
    report = vault_verify()
    assert summary(report.failures) == {
        ("leaf_hash", two.pk, 2, None),
        ("checkpoint_root", None, None, ledger.cp_a.pk),
        ("checkpoint_root", None, None, ledger.cp_b.pk),
    }
    # the two signed heads still agree with each other (the change lies inside A's tree): no fork between them
    leaf = next(f for f in report.failures if f["check"] == "leaf_hash")
    assert leaf["expected"] == CustodyEvent.objects.get(seq=2).leaf_hash
    assert leaf["found"] == event_leaf_hash(CustodyEvent.objects.get(seq=2))
    roots = {f["checkpoint"]: f for f in report.failures if f["check"] == "checkpoint_root"}
    assert roots[ledger.cp_a.pk]["expected"] == ledger.cp_a.root_hash
    verified = CustodyEvent.objects.get(item=two, action=CustodyAction.VERIFIED)
    assert verified.details["ok"] is False


def test_updated_event_with_recomputed_leaf_breaks_the_chain_and_root(
    ledger: Ledger, triggers_dropped: None
) -> None:
    two = ledger.items[1]
    event = CustodyEvent.objects.get(seq=2)
    original_leaf = event.leaf_hash
    event.location = "somewhere else"
    new_leaf = event_leaf_hash(event)
    CustodyEvent.objects.filter(seq=2).update(location="somewhere else", leaf_hash=new_leaf)
    report = vault_verify()
    assert summary(report.failures) == {
        ("chain", two.pk, 3, None),
        ("checkpoint_root", None, None, ledger.cp_a.pk),
        ("checkpoint_root", None, None, ledger.cp_b.pk),
    }
    # the two signed heads still agree with each other (the change lies inside A's tree): no fork between them
    chain = next(f for f in report.failures if f["check"] == "chain")
    assert (chain["expected"], chain["found"]) == (new_leaf, original_leaf)


def test_deleted_event_leaves_a_gap_a_chain_break_and_a_short_ledger(
    ledger: Ledger, triggers_dropped: None
) -> None:
    two = ledger.items[1]
    deleted = CustodyEvent.objects.get(seq=3)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM evidence_custodyevent WHERE seq = %s", [3])
    report = vault_verify()
    assert summary(report.failures) == {
        ("sequence", None, 4, None),
        ("chain", two.pk, 7, None),
        ("checkpoint_root", None, None, ledger.cp_a.pk),
        ("checkpoint_size", None, None, ledger.cp_b.pk),
    }
    by_check = {f["check"]: f for f in report.failures}
    assert (by_check["sequence"]["expected"], by_check["sequence"]["found"]) == (3, 4)
    assert by_check["chain"]["found"] == deleted.leaf_hash
    assert by_check["chain"]["expected"] == CustodyEvent.objects.get(seq=2).leaf_hash
    assert (by_check["checkpoint_size"]["expected"], by_check["checkpoint_size"]["found"]) == (9, 8)


def test_checkpoint_signed_with_another_key_is_a_forgery(ledger: Ledger) -> None:
    forger = Ed25519PrivateKey.generate()
    created_at = ledger.cp_b.created_at + timedelta(seconds=1)
    forged = Checkpoint.objects.create(
        tree_size=9,
        root_hash=ledger.cp_b.root_hash,
        created_at=created_at,
        key_id=crypto.public_key_id(crypto.public_key_hex(forger.public_key())),
        public_key=crypto.public_key_hex(forger.public_key()),
        signature=forger.sign(checkpoint_message(9, ledger.cp_b.root_hash, utc_iso(created_at))).hex(),
    )
    report = vault_verify()
    assert summary(report.failures) == {
        ("checkpoint_key", None, None, forged.pk),
        ("checkpoint_signature", None, None, forged.pk),
    }
    key_failure = next(f for f in report.failures if f["check"] == "checkpoint_key")
    assert key_failure["expected"] == ledger.cp_b.public_key
    assert key_failure["found"] == forged.public_key


def test_checkpoint_with_altered_root_and_an_old_signature_is_a_forgery(ledger: Ledger) -> None:
    forged = Checkpoint.objects.create(
        tree_size=9,
        root_hash="ab" * 32,
        created_at=ledger.cp_b.created_at + timedelta(seconds=1),
        key_id=ledger.cp_b.key_id,
        public_key=ledger.cp_b.public_key,
        signature=ledger.cp_b.signature,
    )
    report = vault_verify()
    assert summary(report.failures) == {
        ("checkpoint_signature", None, None, forged.pk),
        ("checkpoint_root", None, None, forged.pk),
        ("checkpoint_consistency", None, None, forged.pk),
    }
    root = next(f for f in report.failures if f["check"] == "checkpoint_root")
    assert (root["expected"], root["found"]) == ("ab" * 32, ledger.cp_b.root_hash)


def test_a_later_checkpoint_of_a_smaller_tree_is_out_of_order(ledger: Ledger) -> None:
    created_at = ledger.cp_b.created_at + timedelta(seconds=1)
    key = crypto.ledger_signing_key()
    shrunk = Checkpoint.objects.create(
        tree_size=4,
        root_hash=ledger.cp_a.root_hash,
        created_at=created_at,
        key_id=ledger.cp_a.key_id,
        public_key=ledger.cp_a.public_key,
        signature=key.sign(checkpoint_message(4, ledger.cp_a.root_hash, utc_iso(created_at))).hex(),
    )
    report = vault_verify()
    assert summary(report.failures) == {("checkpoint_order", None, None, shrunk.pk)}


def test_case_scope_checks_its_items_but_always_the_global_ledger(
    ledger: Ledger, triggers_dropped: None
) -> None:
    other_case = CaseFactory.create()
    other = stored_item(case=other_case, data=b"other case photo", actor=ledger.actor)
    _delete(writable_object(other.blob_id))
    scoped = vault_verify(case=ledger.case)
    assert scoped.ok, scoped.failures
    assert scoped.checked == 3
    assert not CustodyEvent.objects.filter(item=other, action=CustodyAction.VERIFIED).exists()
    everything = vault_verify()
    assert summary(everything.failures) == {("blob_missing", other.pk, None, None)}
    assert everything.checked == 4
    # a leaf of the other case's ledger is still checked when verifying this case
    other_acquired = CustodyEvent.objects.get(item=other, action=CustodyAction.ACQUIRED)
    CustodyEvent.objects.filter(pk=other_acquired.pk).update(purpose="rewritten")
    scoped_again = vault_verify(case=ledger.case)
    assert summary(scoped_again.failures) == {("leaf_hash", other.pk, other_acquired.seq, None)}


def test_case_level_chain_is_checked(ledger: Ledger, triggers_dropped: None) -> None:
    first = custody_append(case_id=ledger.case.pk, action=CustodyAction.TRANSFERRED, actor=ledger.actor)
    second = custody_append(case_id=ledger.case.pk, action=CustodyAction.SEALED, actor=ledger.actor)
    assert first.prev_hash == GENESIS_HASH and second.prev_hash == first.leaf_hash
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM evidence_custodyevent WHERE seq = %s", [first.seq])
    report = vault_verify(case=ledger.case)
    assert ("chain", None, second.seq, None) in summary(report.failures)
    chain = next(f for f in report.failures if f["check"] == "chain")
    assert chain["expected"] == GENESIS_HASH and f"case {ledger.case.pk}" in chain["message"]


def test_acquired_hash_rewritten_in_the_ledger_is_detected(ledger: Ledger, triggers_dropped: None) -> None:
    three = ledger.items[2]
    CustodyEvent.objects.filter(item=three, action=CustodyAction.ACQUIRED).update(sha256_after="cd" * 32)
    report = vault_verify()
    checks = summary(report.failures)
    assert ("acquired_hash", three.pk, 4, None) in checks
    assert ("leaf_hash", three.pk, 4, None) in checks
    acquired = next(f for f in report.failures if f["check"] == "acquired_hash")
    assert (acquired["expected"], acquired["found"]) == ("cd" * 32, three.blob_id)


def test_a_status_changed_without_a_custody_event_is_a_discrepancy(
    ledger: Ledger, capsys: pytest.CaptureFixture[str]
) -> None:
    """The status column is what the item's last status-changing event left it in; an UPDATE as the database
    owner that skips the ledger (here: "destroyed" with no destruction) is named, and verify exits 1."""
    one = ledger.items[0]
    with database_owner():
        EvidenceItem.objects.filter(pk=one.pk).update(status=ItemStatus.DESTROYED)
    report = vault_verify()
    assert not report.ok
    acquired = CustodyEvent.objects.get(item=one, action=CustodyAction.ACQUIRED)
    assert summary(report.failures) == {("item_status", one.pk, acquired.seq, None)}
    failure = report.failures[0]
    assert (failure["expected"], failure["found"]) == (ItemStatus.INGESTED, ItemStatus.DESTROYED)
    assert "`acquired`" in failure["message"] and "without a custody event" in failure["message"]
    with pytest.raises(SystemExit) as exited:
        call_command("verify", "--json", "--actor", ledger.actor.username)
    assert exited.value.code == 1
    assert "item_status" in capsys.readouterr().out


# --- the command -----------------------------------------------------------------------------------------


def test_command_json_when_clean(ledger: Ledger, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("verify", "--json", "--actor", ledger.actor.username)
    assert json.loads(capsys.readouterr().out) == {
        "ok": True,
        "checked": 3,
        "failures": [],
        "timestamps": [],
        "timestamp_note": "no trusted timestamp: HAETAE_TSA_URL is not configured",
    }


def test_command_case_scope_and_unknown_case(ledger: Ledger, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("verify", "--case", ledger.case.number)
    assert f"verified 3 items in case {ledger.case.number}: all checks passed" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exited:
        call_command("verify", "--case", "2099-NOWHERE-0001")
    assert exited.value.code == 1
    assert "no case numbered '2099-NOWHERE-0001'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        call_command("verify", "--actor", "nobody-here")
    assert exited.value.code == 2


def test_command_for_one_case_checks_the_actor_is_on_its_team(
    ledger: Ledger, capsys: pytest.CaptureFixture[str]
) -> None:
    outsider = make_actor("outsider-auditor")
    with pytest.raises(SystemExit) as exited:
        call_command("verify", "--case", ledger.case.number, "--actor", outsider.username)
    assert exited.value.code == 1
    assert f"outsider-auditor is not on the team of case {ledger.case.number}" in capsys.readouterr().err
    CaseMemberFactory(case=ledger.case, user=outsider, role="auditor")
    call_command("verify", "--case", ledger.case.number, "--actor", outsider.username)
    assert "all checks passed" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_command_as_a_subprocess_exit_codes_and_json(data_dir: Path, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "HAETAE_DATA_DIR": str(data_dir),
        "HAETAE_MASTER_KEY_FILE": str(settings.MASTER_KEY_FILE),
        "HAETAE_LEDGER_KEY_FILE": str(settings.LEDGER_KEY_FILE),
    }
    if connection.vendor == "postgresql":
        base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
        env["DATABASE_URL"] = f"{base}/{connection.settings_dict['NAME']}"
    else:  # the SQLite test database lives in memory: give the subprocesses a file database of their own
        env.pop("DATABASE_URL", None)  # the default: the data directory's database, as migrated
        copy_sqlite(migrated_sqlite_template(tmp_path.parent), data_dir / "haetae.sqlite3")

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(REPO / ".venv/bin/python"), "manage.py", *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
        )

    seed = (
        "from django.contrib.auth import get_user_model\n"
        "from tests.factories import CaseFactory, CaseMemberFactory, stored_item\n"
        "actor = get_user_model().objects.create(username='auditor-sub')\n"
        "case = CaseFactory(number='2024-SUB-0001')\n"
        "stored_item(case=case, data=b'first' * 100, actor=actor, name='a.jpg')\n"
        "item = stored_item(case=case, data=b'second' * 100, actor=actor, name='b.jpg')\n"
        "print('seeded', item.pk, item.blob_id)\n"
    )
    seeded = manage("shell", "-c", seed)
    assert seeded.returncode == 0, seeded.stderr
    _, item_id, sha256 = next(
        line for line in seeded.stdout.splitlines() if line.startswith("seeded ")
    ).split()

    clean = manage("verify", "--json")
    assert clean.returncode == 0, clean.stderr
    assert json.loads(clean.stdout) == {
        "ok": True,
        "checked": 2,
        "failures": [],
        "timestamps": [],
        "timestamp_note": "no trusted timestamp: HAETAE_TSA_URL is not configured",
    }

    flip_byte(writable_object(sha256), -5)
    damaged = manage("verify", "--json", "--actor", "auditor-sub")
    assert damaged.returncode == 1, damaged.stderr
    payload = json.loads(damaged.stdout)
    assert set(payload) == {"ok", "checked", "failures", "timestamps", "timestamp_note"}
    assert payload["ok"] is False and payload["checked"] == 2
    assert len(payload["failures"]) == 1
    failure = payload["failures"][0]
    assert set(failure) == {"check", "item", "event", "checkpoint", "expected", "found", "message"}
    assert (failure["check"], failure["item"], failure["event"]) == ("blob_damaged", int(item_id), None)

    usage = manage("verify", "--no-such-option")
    assert usage.returncode == 2
