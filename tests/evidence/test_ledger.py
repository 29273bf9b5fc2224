"""Checkpoints and proofs: signatures that pyca verifies, forgeries refused, proofs checked offline."""

import io
import json
import os
import subprocess
import sys
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from evidence import crypto, merkle, proofcheck
from evidence.choices import CustodyAction
from evidence.custody import custody_append, event_leaf_data, event_leaf_hash
from evidence.ledger import (
    checkpoint_consistency_proof,
    checkpoint_create,
    checkpoint_message,
    checkpoint_signature_valid,
    event_inclusion_proof,
    event_inclusion_proofs,
)
from evidence.ledger_sql import create_statements, drop_statements
from evidence.models import Checkpoint, CustodyEvent
from haetae.errors import HaetaeError, IntegrityFailure, RejectedInput
from haetae.toolkit import utc_iso
from tests.db_roles import database_owner
from tests.factories import CaseFactory, stored_item

REPO_ROOT = Path(__file__).resolve().parents[2]


def trusted_key() -> str:
    return crypto.public_key_hex(crypto.ledger_signing_key().public_key())


def append_events(count: int) -> list[CustodyEvent]:
    """``count`` case-level and item events on a fresh case (two per stored item, one per append)."""
    # no password: hashing one (PBKDF2) would cost more than the whole test
    actor, _ = get_user_model().objects.get_or_create(username="ledger-officer")
    case = CaseFactory.create()
    events: list[CustodyEvent] = []
    while len(events) < count:
        if len(events) % 3 == 0:
            item = stored_item(case=case, data=f"photo {case.pk} {len(events)}".encode(), actor=actor)
            events += list(item.custody_events.order_by("seq"))
        else:
            events.append(
                custody_append(
                    case_id=case.pk, action=CustodyAction.TRANSFERRED, actor=actor, to_custodian="lab"
                )
            )
    return events


class tampered_ledger:
    """Lift the append-only triggers for a moment, as a superuser attacking the database could."""

    def __enter__(self) -> None:
        self.owner = database_owner()
        self.owner.__enter__()
        with connection.cursor() as cursor:
            for sql in drop_statements(connection.vendor):
                cursor.execute(sql)

    def __exit__(self, *exc: object) -> None:
        with connection.cursor() as cursor:
            for sql in create_statements(connection.vendor):
                cursor.execute(sql)
        self.owner.__exit__(None, None, None)


@pytest.mark.django_db
def test_checkpoint_signs_the_tree_head_in_the_documented_format() -> None:
    events = append_events(7)
    checkpoint = checkpoint_create()
    leaves = [bytes.fromhex(e.leaf_hash) for e in CustodyEvent.objects.order_by("seq")]
    assert checkpoint.tree_size == len(leaves) == len(events)
    assert checkpoint.root_hash == merkle.root_from_leaf_hashes(leaves)[1].hex()
    assert checkpoint.public_key == trusted_key()
    assert checkpoint.key_id == crypto.public_key_id(trusted_key())

    stored = Checkpoint.objects.get(pk=checkpoint.pk)
    signed_at = stored.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    note = (
        b"haetae-ledger-checkpoint/v1\n" + f"{stored.tree_size}\n{stored.root_hash}\n{signed_at}\n".encode()
    )
    assert checkpoint_message(stored.tree_size, stored.root_hash, signed_at) == note
    # pyca alone, from the stored hex values: no Haetae code in the check
    Ed25519PublicKey.from_public_bytes(bytes.fromhex(stored.public_key)).verify(
        bytes.fromhex(stored.signature), note
    )
    with pytest.raises(InvalidSignature):
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(stored.public_key)).verify(
            bytes.fromhex(stored.signature), note.replace(b"/v1", b"/v2")
        )
    assert checkpoint_signature_valid(stored, trusted_key())


@pytest.mark.django_db
def test_checkpoint_is_not_repeated_when_nothing_was_appended() -> None:
    with pytest.raises(RejectedInput, match="empty"):
        checkpoint_create()
    append_events(3)
    first = checkpoint_create()
    assert checkpoint_create().pk == first.pk
    assert Checkpoint.objects.count() == 1
    append_events(2)
    second = checkpoint_create()
    assert second.pk != first.pk and second.tree_size > first.tree_size
    assert Checkpoint.objects.count() == 2


@pytest.mark.django_db
def test_forged_or_altered_checkpoints_fail_the_signature_check() -> None:
    append_events(4)
    genuine = checkpoint_create()
    key = trusted_key()
    forger = Ed25519PrivateKey.generate()
    forged_key = crypto.public_key_hex(forger.public_key())
    forged_at = genuine.created_at + timedelta(seconds=1)
    forged_note = checkpoint_message(genuine.tree_size, "ab" * 32, utc_iso(forged_at))
    forged = Checkpoint.objects.create(
        tree_size=genuine.tree_size,
        root_hash="ab" * 32,
        created_at=forged_at,
        key_id=crypto.public_key_id(forged_key),
        public_key=forged_key,
        signature=forger.sign(forged_note).hex(),
    )
    forged.refresh_from_db()
    assert checkpoint_signature_valid(forged, forged_key)  # internally consistent…
    assert not checkpoint_signature_valid(forged, key)  # …but not signed by the ledger key

    def altered(**changes: object) -> Checkpoint:
        copy = Checkpoint.objects.get(pk=genuine.pk)
        for field, value in changes.items():
            setattr(copy, field, value)
        return copy

    assert checkpoint_signature_valid(altered(), key)
    assert not checkpoint_signature_valid(altered(root_hash="00" * 32), key)
    assert not checkpoint_signature_valid(altered(tree_size=genuine.tree_size + 1), key)
    assert not checkpoint_signature_valid(
        altered(created_at=genuine.created_at + timedelta(microseconds=1)), key
    )
    flipped = bytes.fromhex(genuine.signature)
    assert not checkpoint_signature_valid(
        altered(signature=(bytes([flipped[0] ^ 1]) + flipped[1:]).hex()), key
    )
    assert not checkpoint_signature_valid(altered(signature="not hex"), key)
    assert not checkpoint_signature_valid(altered(), "zz" * 32)


@pytest.mark.django_db
def test_every_event_has_an_inclusion_proof_that_verifies_offline() -> None:
    append_events(12)
    early = checkpoint_create()
    assert event_inclusion_proof(event=CustodyEvent.objects.get(seq=0))["checkpoint"]["id"] == early.pk
    append_events(9)
    late = checkpoint_create()
    key = trusted_key()
    for event in CustodyEvent.objects.order_by("seq"):
        proof = event_inclusion_proof(event=event)
        assert proof["checkpoint"]["id"] == late.pk  # the newest checkpoint that covers the event
        assert proof["leaf_index"] == event.seq and proof["leaf_hash"] == event.leaf_hash
        problems = proofcheck.inclusion_proof_problems(
            proof, trusted_public_key=key, leaf_data=event_leaf_data(event)
        )
        assert problems == []
        against_late = event_inclusion_proof(event=event, checkpoint=late)
        assert against_late["tree_size"] == late.tree_size
        assert proofcheck.verify_inclusion_proof(against_late, trusted_public_key=key)

    event = CustodyEvent.objects.get(seq=3)
    proof = event_inclusion_proof(event=event, checkpoint=early)
    other_key = crypto.public_key_hex(Ed25519PrivateKey.generate().public_key())
    assert not proofcheck.verify_inclusion_proof(proof, trusted_public_key=other_key)
    assert not proofcheck.verify_inclusion_proof(
        proof, trusted_public_key=key, leaf_data=event_leaf_data(event) + b" "
    )
    for field, value in [
        ("leaf_index", 4),
        ("tree_size", early.tree_size + 1),
        ("root_hash", late.root_hash),
        ("leaf_hash", CustodyEvent.objects.get(seq=4).leaf_hash),
        ("proof", proof["proof"][:-1]),
        ("proof", ["00" * 32, *proof["proof"][1:]]),
        ("proof", "not a list"),
        ("leaf_hash", "XYZ"),
    ]:
        assert not proofcheck.verify_inclusion_proof({**proof, field: value}, trusted_public_key=key), field
    moved = {**proof, "checkpoint": {**proof["checkpoint"], "root_hash": late.root_hash}}
    assert not proofcheck.verify_inclusion_proof(moved, trusted_public_key=key)


@pytest.mark.django_db
def test_events_not_yet_checkpointed_have_no_proof() -> None:
    append_events(3)
    first = CustodyEvent.objects.get(seq=0)
    with pytest.raises(HaetaeError, match=r"manage\.py checkpoint"):
        event_inclusion_proof(event=first)
    early = checkpoint_create()
    newer = append_events(3)[-1]
    with pytest.raises(HaetaeError, match=r"manage\.py checkpoint"):
        event_inclusion_proof(event=newer)
    with pytest.raises(RejectedInput, match=f"checkpoint {early.pk} covers events 0..{early.tree_size - 1}"):
        event_inclusion_proof(event=newer, checkpoint=early)


@pytest.mark.django_db
def test_batch_proofs_build_the_tree_once_and_match_single_proofs() -> None:
    append_events(30)
    checkpoint = checkpoint_create()
    append_events(3)
    events = list(CustodyEvent.objects.order_by("seq"))
    with CaptureQueriesContext(connection) as queries:
        proofs = event_inclusion_proofs(events=events)
    assert len(queries) <= 2  # the newest checkpoint and (unless cached) one read of the leaves
    assert set(proofs) == {e.seq for e in events}
    for event in events:
        if event.seq < checkpoint.tree_size:
            assert proofs[event.seq] == event_inclusion_proof(event=event)
        else:
            assert proofs[event.seq] is None
    assert event_inclusion_proofs(events=events[:2], checkpoint=checkpoint) == {
        0: proofs[0],
        1: proofs[1],
    }


@pytest.mark.django_db
def test_batch_proofs_before_any_checkpoint_are_all_pending() -> None:
    events = append_events(3)
    assert event_inclusion_proofs(events=events) == {e.seq: None for e in events}


@pytest.mark.django_db
def test_consistency_between_checkpoints_verifies_offline() -> None:
    append_events(5)
    first = checkpoint_create()
    append_events(11)
    second = checkpoint_create()
    append_events(1)
    third = checkpoint_create()
    key = trusted_key()
    for old, new in [(first, second), (second, third), (first, third), (first, first)]:
        proof = checkpoint_consistency_proof(old=old, new=new)
        assert (proof["old_size"], proof["new_size"]) == (old.tree_size, new.tree_size)
        assert (proof["old_root"], proof["new_root"]) == (old.root_hash, new.root_hash)
        assert proofcheck.consistency_proof_problems(proof, trusted_public_key=key) == []
    proof = checkpoint_consistency_proof(old=first, new=third)
    assert not proofcheck.verify_consistency_proof(
        {**proof, "old_root": second.root_hash}, trusted_public_key=key
    )
    assert not proofcheck.verify_consistency_proof(
        {**proof, "proof": proof["proof"][1:]}, trusted_public_key=key
    )
    assert not proofcheck.verify_consistency_proof({**proof, "old_size": 6}, trusted_public_key=key)
    resigned = {**proof, "new_checkpoint": {**proof["new_checkpoint"], "signature": "00" * 64}}
    assert not proofcheck.verify_consistency_proof(resigned, trusted_public_key=key)
    with pytest.raises(RejectedInput, match="older checkpoint first"):
        checkpoint_consistency_proof(old=third, new=first)


@pytest.mark.django_db
def test_a_gap_in_the_sequence_stops_checkpointing() -> None:
    events = append_events(4)
    checkpoint_create()
    model = CustodyEvent.objects.get(seq=events[-1].seq)
    model.pk, model.seq, model.leaf_hash = None, model.seq + 3, "ee" * 32
    model.save(force_insert=True)  # an insert is allowed; it leaves seqs missing
    with pytest.raises(IntegrityFailure, match=f"event {events[-1].seq + 1} is missing"):
        checkpoint_create()
    assert Checkpoint.objects.count() == 1


@pytest.mark.django_db
def test_an_altered_field_is_caught_when_its_event_is_proved() -> None:
    append_events(10)
    checkpoint = checkpoint_create()
    with tampered_ledger():
        CustodyEvent.objects.filter(seq=4).update(purpose="quietly rewritten")
    with pytest.raises(IntegrityFailure, match="custody event 4 was altered"):
        event_inclusion_proof(event=CustodyEvent.objects.get(seq=4), checkpoint=checkpoint)
    # the other events' proofs are still true statements about the signed tree
    assert proofcheck.verify_inclusion_proof(
        event_inclusion_proof(event=CustodyEvent.objects.get(seq=5)), trusted_public_key=trusted_key()
    )


@pytest.mark.django_db
def test_a_rewritten_row_with_a_matching_leaf_is_caught_by_the_signed_root() -> None:
    append_events(10)
    checkpoint_create()
    append_events(2)
    forged = CustodyEvent.objects.get(seq=4)
    forged.purpose = "quietly rewritten"
    with tampered_ledger():
        CustodyEvent.objects.filter(seq=4).update(purpose=forged.purpose, leaf_hash=event_leaf_hash(forged))
    assert event_leaf_hash(CustodyEvent.objects.get(seq=4)) == CustodyEvent.objects.get(seq=4).leaf_hash
    with pytest.raises(IntegrityFailure, match="altered after it was signed"):
        event_inclusion_proof(event=CustodyEvent.objects.get(seq=5))
    with pytest.raises(IntegrityFailure, match="not signing a fork"):
        checkpoint_create()
    assert Checkpoint.objects.count() == 1


@pytest.mark.django_db
def test_a_row_rewritten_after_its_tree_was_cached_is_still_caught() -> None:
    append_events(10)
    checkpoint = checkpoint_create()
    event_inclusion_proof(event=CustodyEvent.objects.get(seq=0))  # builds and caches the signed tree
    forged = CustodyEvent.objects.get(seq=4)
    forged.purpose = "quietly rewritten"
    with tampered_ledger():
        CustodyEvent.objects.filter(seq=4).update(purpose=forged.purpose, leaf_hash=event_leaf_hash(forged))
    with pytest.raises(IntegrityFailure, match="is not the leaf the signed tree holds"):
        event_inclusion_proof(event=CustodyEvent.objects.get(seq=4), checkpoint=checkpoint)


# ---- commands -----------------------------------------------------------------------------------


def run_command(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_checkpoint_command_prints_size_root_and_key() -> None:
    append_events(4)
    text = run_command("checkpoint")
    checkpoint = Checkpoint.objects.get()
    assert f"size {checkpoint.tree_size}" in text
    assert checkpoint.root_hash in text and checkpoint.key_id in text
    payload = json.loads(run_command("checkpoint", "--json"))
    assert payload["id"] == checkpoint.pk and payload["tree_size"] == checkpoint.tree_size
    assert Checkpoint.objects.count() == 1


@pytest.mark.django_db
def test_checkpoint_command_on_an_empty_ledger_exits_1(capsys) -> None:
    err = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("checkpoint", stderr=err)
    assert exited.value.code == 1
    assert "empty" in err.getvalue()


@pytest.mark.django_db
def test_ledger_proof_command_output_verifies_offline() -> None:
    append_events(9)
    first = Checkpoint.objects.get(pk=json.loads(run_command("checkpoint", "--json"))["id"])
    append_events(5)
    second = Checkpoint.objects.get(pk=json.loads(run_command("checkpoint", "--json"))["id"])
    key = trusted_key()

    proof = json.loads(run_command("ledger", "proof", "--event", "6", "--json"))
    assert proof["checkpoint"]["id"] == second.pk
    assert proofcheck.verify_inclusion_proof(
        proof, trusted_public_key=key, leaf_data=event_leaf_data(CustodyEvent.objects.get(seq=6))
    )
    pinned = json.loads(
        run_command("ledger", "proof", "--event", "6", "--checkpoint", str(first.pk), "--json")
    )
    assert pinned["tree_size"] == first.tree_size
    assert proofcheck.verify_inclusion_proof(pinned, trusted_public_key=key)
    text = run_command("ledger", "proof", "--event", "6")
    assert "verified" in text and all(node in text for node in proof["proof"])

    consistency = json.loads(
        run_command("ledger", "consistency", "--from", str(first.pk), "--to", str(second.pk), "--json")
    )
    assert proofcheck.verify_consistency_proof(consistency, trusted_public_key=key)
    assert "verified" in run_command("ledger", "consistency", "--from", str(first.pk), "--to", str(second.pk))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["proof", "--event", "999"], "no custody event 999"),
        (["proof", "--event", "2", "--checkpoint", "424242"], "no checkpoint 424242"),
        (["proof", "--event", "6"], "manage.py checkpoint"),
        (["consistency", "--from", "LATE", "--to", "EARLY"], "older checkpoint first"),
    ],
)
def test_ledger_command_failures_exit_1(args: list[str], message: str) -> None:
    append_events(3)
    early = checkpoint_create()
    append_events(3)
    late = checkpoint_create()
    append_events(1)
    args = [str(late.pk) if a == "LATE" else str(early.pk) if a == "EARLY" else a for a in args]
    err = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("ledger", *args, stderr=err, stdout=io.StringIO())
    assert exited.value.code == 1
    assert message in err.getvalue()


def test_ledger_command_without_a_subcommand_is_a_usage_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    env["HAETAE_DATA_DIR"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "manage.py", "ledger"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "proof" in result.stderr and "consistency" in result.stderr


# ---- the offline checker needs no Django -------------------------------------------------------------

OFFLINE_CHECK = r"""
import json, sys
sys.modules["django"] = None  # importing Django from here on fails: the checker must not need it
from evidence import proofcheck
payload = json.load(sys.stdin)
problems = proofcheck.inclusion_proof_problems(
    payload["proof"], trusted_public_key=payload["key"], leaf_data=payload["leaf"].encode()
)
problems += proofcheck.consistency_proof_problems(payload["consistency"], trusted_public_key=payload["key"])
print(json.dumps(problems))
"""


@pytest.mark.django_db
def test_proofs_check_in_a_process_without_django() -> None:
    append_events(6)
    first = checkpoint_create()
    append_events(4)
    second = checkpoint_create()
    event = CustodyEvent.objects.get(seq=7)
    payload = {
        "proof": event_inclusion_proof(event=event),
        "consistency": checkpoint_consistency_proof(old=first, new=second),
        "key": trusted_key(),
        "leaf": event_leaf_data(event).decode(),
    }

    def check(data: dict) -> list[str]:
        result = subprocess.run(
            [sys.executable, "-c", OFFLINE_CHECK],
            input=json.dumps(data),
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    assert check(payload) == []
    altered_event = {**json.loads(payload["leaf"]), "action": "destroyed"}
    canonical = json.dumps(altered_event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    tampered = {**payload, "leaf": canonical}
    assert len(check(tampered)) == 1


def test_ledger_key_command_prints_the_anchor_for_bundle_verifiers() -> None:
    public_key = crypto.public_key_hex(crypto.ledger_signing_key().public_key())
    out = io.StringIO()
    call_command("ledger", "key", stdout=out)
    assert public_key in out.getvalue() and f"key id: {crypto.public_key_id(public_key)}" in out.getvalue()
    out = io.StringIO()
    call_command("ledger", "key", "--json", stdout=out)
    assert json.loads(out.getvalue()) == {
        "algorithm": "Ed25519",
        "public_key": public_key,
        "key_id": crypto.public_key_id(public_key),
    }
