"""The custody ledger: chains per item and per case, leaf hashes, gap-free numbering, append-only tables."""

import time
from collections import defaultdict
from collections.abc import Iterable
from itertools import pairwise
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction

from evidence.choices import CustodyAction
from evidence.custody import GENESIS_HASH, canonical_json, custody_append, event_leaf_data, event_leaf_hash
from evidence.ledger import checkpoint_create
from evidence.merkle import leaf_hash
from evidence.models import Checkpoint, CustodyEvent
from tests.db_roles import database_owner
from tests.factories import CaseFactory, UserFactory, stored_item
from tests.processes import Forked, child_env

REPO_ROOT = Path(__file__).resolve().parents[2]


def assert_ledger_sound(events: Iterable[CustodyEvent]) -> dict[tuple[str, int], list[CustodyEvent]]:
    """Sequence 0..N-1, every leaf recomputes, every chain (item, or case-level) is one unforked line."""
    events = sorted(events, key=lambda event: event.seq)
    assert [event.seq for event in events] == list(range(len(events)))
    chains: dict[tuple[str, int], list[CustodyEvent]] = defaultdict(list)
    for event in events:
        assert event_leaf_hash(event) == event.leaf_hash, f"event {event.seq} does not recompute"
        key = ("item", event.item_id) if event.item_id is not None else ("case", event.case_id)
        chains[key].append(event)
    for key, chain in chains.items():
        assert chain[0].prev_hash == GENESIS_HASH, f"{key} does not start at genesis"
        for earlier, later in pairwise(chain):
            assert later.prev_hash == earlier.leaf_hash, f"{key} breaks at event {later.seq}"
        prevs = [event.prev_hash for event in chain]
        assert len(set(prevs)) == len(prevs), f"{key} forks: two events share a predecessor"
    return chains


@pytest.mark.django_db
def test_items_and_cases_each_get_their_own_chain() -> None:
    actor = UserFactory()
    case_a, case_b = CaseFactory.create(), CaseFactory.create()
    first = stored_item(case=case_a, data=b"first item", actor=actor)
    second = stored_item(case=case_a, data=b"second item", actor=actor)
    other = stored_item(case=case_b, data=b"other case", actor=actor)
    custody_append(case_id=case_a.pk, action=CustodyAction.CASE_CREATED, actor=actor)
    custody_append(case_id=case_a.pk, item_id=first.pk, action=CustodyAction.VIEWED, actor=actor, purpose="p")
    custody_append(case_id=case_b.pk, action=CustodyAction.CASE_CREATED, actor=None)
    custody_append(case_id=case_a.pk, item_id=second.pk, action=CustodyAction.SEALED, actor=actor)
    custody_append(case_id=case_a.pk, action=CustodyAction.TRANSFERRED, actor=actor, to_custodian="lab")

    chains = assert_ledger_sound(CustodyEvent.objects.all())
    assert set(chains) == {
        ("item", first.pk),
        ("item", second.pk),
        ("item", other.pk),
        ("case", case_a.pk),
        ("case", case_b.pk),
    }
    assert [e.action for e in chains[("item", first.pk)]] == ["acquired", "stored", "viewed"]
    assert [e.action for e in chains[("case", case_a.pk)]] == ["case_created", "transferred"]
    assert chains[("case", case_b.pk)][0].actor_name == "system"
    # the chains are interleaved in the global sequence, yet each links only to its own predecessor
    viewed = chains[("item", first.pk)][-1]
    assert viewed.prev_hash == chains[("item", first.pk)][1].leaf_hash
    assert viewed.prev_hash != CustodyEvent.objects.get(seq=viewed.seq - 1).leaf_hash


@pytest.mark.django_db
def test_leaf_hash_commits_to_every_field() -> None:
    actor = UserFactory()
    case = CaseFactory.create()
    item = stored_item(case=case, data=b"sealed bag 7", actor=actor)
    event = custody_append(
        case_id=case.pk,
        item_id=item.pk,
        action=CustodyAction.TRANSFERRED,
        actor=actor,
        location="Seoul Metropolitan Police, evidence room 2",
        purpose="transfer to forensic lab",
        legal_authority="warrant 2024-12345",
        from_custodian="evidence room",
        to_custodian="digital forensics lab",
        seal_numbers=["S-1", "S-2"],
        sha256_before=item.blob_id,
        sha256_after=item.blob_id,
        details={"bag": 7, "note": "봉인 확인", "nested": {"b": [1, "2"], "a": None}},
    )
    stored = CustodyEvent.objects.get(pk=event.pk)
    assert stored.leaf_hash == event.leaf_hash == leaf_hash(event_leaf_data(stored)).hex()
    assert event_leaf_data(stored).startswith(b'{"action":"transferred","actor":')
    for field, value in [
        ("location", "elsewhere"),
        ("purpose", "curiosity"),
        ("legal_authority", ""),
        ("to_custodian", "someone else"),
        ("seal_numbers", ["S-1"]),
        ("sha256_before", "0" * 64),
        ("details", {"bag": 8, "note": "봉인 확인", "nested": {"b": [1, "2"], "a": None}}),
        ("prev_hash", GENESIS_HASH),
        ("seq", stored.seq + 1),
        ("occurred_at", stored.occurred_at.replace(microsecond=(stored.occurred_at.microsecond + 1) % 10**6)),
    ]:
        altered = CustodyEvent.objects.get(pk=event.pk)
        setattr(altered, field, value)
        assert event_leaf_hash(altered) != stored.leaf_hash, f"the leaf does not commit to {field}"


def test_canonical_json_is_deterministic_and_refuses_floats() -> None:
    assert canonical_json({"b": 1, "a": ["x", "한"]}) == '{"a":["x","한"],"b":1}'.encode()
    assert canonical_json({"a": 1, "b": 2}) == canonical_json({"b": 2, "a": 1})
    with pytest.raises(TypeError, match="floats"):
        canonical_json({"score": 0.93})
    with pytest.raises(TypeError, match="floats"):
        canonical_json({"regions": [[1, 2.5]]})


@pytest.mark.django_db
def test_floats_in_details_are_refused_and_nothing_is_written() -> None:
    actor = UserFactory()
    case = CaseFactory.create()
    with pytest.raises(TypeError, match="floats"):
        custody_append(case_id=case.pk, action=CustodyAction.INCIDENT, actor=actor, details={"score": 0.5})
    with pytest.raises(TypeError, match="floats"):
        custody_append(
            case_id=case.pk, action=CustodyAction.INCIDENT, actor=actor, details={"box": {"x": [0, 1.5]}}
        )
    assert not CustodyEvent.objects.exists()


@pytest.mark.django_db
def test_sequence_is_gap_free_and_rolled_back_events_leave_no_trace() -> None:
    actor = UserFactory()
    case = CaseFactory.create()
    item = stored_item(case=case, data=b"kept", actor=actor)
    before = list(CustodyEvent.objects.values_list("seq", "leaf_hash"))

    class Abandon(Exception):
        pass

    with pytest.raises(Abandon), transaction.atomic():
        custody_append(case_id=case.pk, item_id=item.pk, action=CustodyAction.VIEWED, actor=actor)
        custody_append(case_id=case.pk, action=CustodyAction.TRANSFERRED, actor=actor)
        assert CustodyEvent.objects.count() == len(before) + 2
        raise Abandon
    assert list(CustodyEvent.objects.values_list("seq", "leaf_hash")) == before

    viewed = custody_append(case_id=case.pk, item_id=item.pk, action=CustodyAction.VIEWED, actor=actor)
    assert viewed.seq == len(before)  # the rolled-back number is reused: no gap
    assert viewed.prev_hash == before[-1][1]  # and the chain continues from the last committed event
    for round_number in range(5):
        custody_append(
            case_id=case.pk, action=CustodyAction.VERIFIED, actor=None, details={"n": round_number}
        )
    assert_ledger_sound(CustodyEvent.objects.all())


def test_appends_outside_a_transaction_are_refused_at_the_lock() -> None:
    from evidence.custody import ledger_lock

    with pytest.raises(RuntimeError, match=r"transaction\.atomic"):
        ledger_lock()


# ---- append-only triggers ----------------------------------------------------------------------


def _refused(action, table: str) -> None:
    """Run ``action`` and require the append-only trigger to refuse it (the savepoint keeps PG usable).

    As the owner: the application role is refused earlier, by its privileges (test_ledger_sql.py).
    """
    with database_owner(), pytest.raises(DatabaseError, match="append-only") as raised, transaction.atomic():
        action()
    assert table in str(raised.value)


def _truncate(table: str):
    def run() -> None:
        with connection.cursor() as cursor:
            # The test's own inserts leave deferred FK checks pending, and PostgreSQL refuses TRUNCATE
            # over pending trigger events before our trigger runs: settle them so the trigger is reached.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            # CASCADE: the most destructive form, and the one that gets past the foreign keys of the rows
            # that refer to the ledger (timestamp tokens name their checkpoint) to reach the trigger.
            cursor.execute(f"TRUNCATE {table} CASCADE")

    return run


def _raw(sql: str, params: list | None = None):
    def run() -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params or [])

    return run


@pytest.fixture
def ledger_rows() -> tuple[CustodyEvent, Checkpoint]:
    actor = UserFactory()
    case = CaseFactory.create()
    stored_item(case=case, data=b"append only", actor=actor)
    return CustodyEvent.objects.get(seq=0), checkpoint_create()


@pytest.mark.django_db
def test_custody_events_refuse_update_delete_and_truncate(ledger_rows) -> None:
    event, _checkpoint = ledger_rows
    table = "evidence_custodyevent"
    snapshot = list(CustodyEvent.objects.order_by("seq").values())

    _refused(lambda: CustodyEvent.objects.filter(pk=event.pk).update(purpose="rewritten"), table)
    _refused(lambda: CustodyEvent.objects.all().delete(), table)
    event.purpose = "rewritten"
    _refused(event.save, table)
    _refused(event.delete, table)
    _refused(_raw(f"UPDATE {table} SET leaf_hash = %s WHERE seq = 0", ["f" * 64]), table)  # noqa: S608
    _refused(_raw(f"DELETE FROM {table} WHERE seq = 0"), table)  # noqa: S608
    _refused(_raw(f"DELETE FROM {table}"), table)  # noqa: S608 - SQLite's truncate
    if connection.vendor == "postgresql":
        _refused(_truncate(table), table)
    assert list(CustodyEvent.objects.order_by("seq").values()) == snapshot


@pytest.mark.django_db
def test_checkpoints_refuse_update_delete_and_truncate(ledger_rows) -> None:
    _event, checkpoint = ledger_rows
    table = "evidence_checkpoint"
    snapshot = list(Checkpoint.objects.values())

    _refused(lambda: Checkpoint.objects.filter(pk=checkpoint.pk).update(root_hash="0" * 64), table)
    _refused(lambda: Checkpoint.objects.all().delete(), table)
    checkpoint.tree_size += 1
    _refused(checkpoint.save, table)
    _refused(checkpoint.delete, table)
    _refused(_raw(f"UPDATE {table} SET signature = %s", ["00" * 64]), table)  # noqa: S608
    _refused(_raw(f"DELETE FROM {table}"), table)  # noqa: S608
    if connection.vendor == "postgresql":
        _refused(_truncate(table), table)
    assert list(Checkpoint.objects.values()) == snapshot


# ---- concurrency (PostgreSQL) --------------------------------------------------------------------

WRITER_SCRIPT = r"""
import sys, time
from pathlib import Path

import django

django.setup()
from django.contrib.auth import get_user_model

from access.models import Case
from evidence.choices import CustodyAction
from evidence.custody import custody_append
from tests.factories import stored_item

name, go = sys.argv[1], Path(sys.argv[5])
case_id, shared_item_id, rounds = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
actor = get_user_model().objects.get(username="concurrency-officer")
case = Case.objects.get(pk=case_id)
Path(f"{go}.{name}").touch()
while not go.exists():
    time.sleep(0.005)
for i in range(rounds):
    item = stored_item(case=case, data=f"{name} {i} ".encode() * 50, actor=actor, name=f"{name}-{i}.jpg")
    custody_append(case_id=case_id, action=CustodyAction.TRANSFERRED, actor=actor,
                   details={"writer": name, "i": i})
    custody_append(case_id=case_id, item_id=shared_item_id, action=CustodyAction.VIEWED, actor=actor,
                   purpose="concurrency test", details={"writer": name, "i": i})
    custody_append(case_id=case_id, item_id=item.pk, action=CustodyAction.SEALED, actor=actor,
                   seal_numbers=[f"{name}-{i}"], details={"writer": name, "i": i})
print(f"{name} done")
"""


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_processes_append_concurrently_without_forking_a_chain(data_dir: Path, tmp_path: Path) -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL: the in-memory SQLite test database is invisible to other processes "
            "(run with DATABASE_URL=postgres://…)"
        )
    actor = UserFactory(username="concurrency-officer")
    case = CaseFactory.create()
    shared = stored_item(case=case, data=b"the item both writers touch", actor=actor)
    start_events = CustodyEvent.objects.count()
    env = child_env(data_dir=data_dir, PYTHONPATH=str(REPO_ROOT))
    env.pop("CELERY_BROKER_URL", None)
    rounds = 40  # five events a round: 200 events per writer
    go = tmp_path / "go"
    writers = [
        Forked(
            ["-c", WRITER_SCRIPT, name, str(case.pk), str(shared.pk), str(rounds), str(go)],
            env=env,
            cwd=REPO_ROOT,
        )
        for name in ("alpha", "bravo")
    ]
    deadline = time.monotonic() + 60
    while not all(Path(f"{go}.{name}").exists() for name in ("alpha", "bravo")):
        assert all(w.poll() is None for w in writers), [w.communicate() for w in writers]
        assert time.monotonic() < deadline, "the writers did not start"
        time.sleep(0.01)
    go.touch()  # both start appending at the same moment
    for writer in writers:
        _out, err = writer.communicate(timeout=180)
        assert writer.returncode == 0, err.decode()

    events = list(CustodyEvent.objects.order_by("seq"))
    assert len(events) == start_events + 2 * rounds * 5
    chains = assert_ledger_sound(events)
    assert len(chains[("item", shared.pk)]) == 2 + 2 * rounds
    assert len(chains[("case", case.pk)]) == 2 * rounds
    # Real contention: the two writers' events interleave in the sequence, not one batch after the other.
    writer_order = [e.details["writer"] for e in events if "writer" in (e.details or {})]
    switches = sum(1 for a, b in pairwise(writer_order) if a != b)
    assert switches >= 10, f"the writers barely overlapped ({switches} switches): no real contention"
