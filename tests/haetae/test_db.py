"""bulk_insert: rows arrive whole (JSON, bytes, times, foreign keys) with their primary keys set."""

from datetime import UTC, datetime

import pytest

from evidence.models import Acquisition, EvidenceItem
from haetae.db import bulk_insert
from tests.factories import CaseFactory, UserFactory


@pytest.mark.django_db
def test_bulk_insert_round_trips_values_and_sets_ids() -> None:
    case = CaseFactory.create()
    actor = UserFactory.create()
    started = datetime(2024, 8, 1, 3, 4, 5, 678901, tzinfo=UTC)
    acquisitions = [
        Acquisition(
            case=case,
            actor=actor,
            tool_name="haetae",
            tool_version="0.1.0",
            started_at=started,
            seal_numbers=["봉인-1", f"S-{n}"],
            participants=[{"name": "참관인", "n": n}],
            counts={"ingested": n},
        )
        for n in range(3)
    ]
    bulk_insert(Acquisition, acquisitions)
    assert all(a.pk for a in acquisitions) and len({a.pk for a in acquisitions}) == 3
    for original in acquisitions:
        stored = Acquisition.objects.get(pk=original.pk)
        assert stored.seal_numbers == original.seal_numbers
        assert stored.participants == original.participants
        assert stored.counts == original.counts
        assert stored.started_at == started
    raw_name = b"/mnt/phone/\xc7\xd1\xb1\xdb.jpg"  # not UTF-8
    item = EvidenceItem(
        case=case,
        acquisition=acquisitions[0],
        kind="file",
        status="rejected",
        original_name="x",
        original_path="x",
        original_path_raw=raw_name,
        locator_sha256="0" * 64,
        acquired_by=actor,
    )
    bulk_insert(EvidenceItem, [item])
    assert bytes(EvidenceItem.objects.get(pk=item.pk).original_path_raw) == raw_name
    later = Acquisition.objects.create(case=case, actor=actor, tool_name="haetae", tool_version="0")
    assert later.pk not in {a.pk for a in acquisitions}  # the id sequence moved past the inserted rows


@pytest.mark.django_db
def test_bulk_insert_of_nothing_does_nothing() -> None:
    bulk_insert(Acquisition, [])
    assert not Acquisition.objects.exists()
