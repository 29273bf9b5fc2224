"""case_create: a case opens with its lead and a case-level custody event; bad input is refused whole."""

import pytest

from casefile.models import Case, CaseMember
from casefile.services import case_create, case_get
from evidence.custody import GENESIS_HASH, event_leaf_hash
from evidence.models import CustodyEvent
from haetae.errors import RejectedInput
from tests.factories import UserFactory


@pytest.mark.django_db
def test_case_create_records_lead_and_event() -> None:
    lead = UserFactory()
    case = case_create(number="2024-SEOUL-0001", title="  Channel X  ", actor=lead)
    assert case.title == "Channel X"
    assert CaseMember.objects.get(case=case).role == "lead"
    event = CustodyEvent.objects.get(case=case)
    assert event.action == "case_created"
    assert event.item_id is None
    assert event.actor_role == "lead"
    assert event.prev_hash == GENESIS_HASH
    assert event.leaf_hash == event_leaf_hash(event)


@pytest.mark.django_db
def test_duplicate_case_number_is_refused_and_adds_nothing() -> None:
    case_create(number="2024-SEOUL-0002", title="first")
    events_before = CustodyEvent.objects.count()
    with pytest.raises(RejectedInput, match="already exists"):
        case_create(number="2024-SEOUL-0002", title="second")
    assert Case.objects.filter(number="2024-SEOUL-0002").count() == 1
    assert CustodyEvent.objects.count() == events_before


@pytest.mark.django_db
@pytest.mark.parametrize("number", ["", "x", "has space", "../etc", "a" * 65])
def test_invalid_case_number_is_refused_with_the_rule(number: str) -> None:
    with pytest.raises(RejectedInput, match=r"number"):
        case_create(number=number, title="t")
    assert not Case.objects.exists()
    assert not CustodyEvent.objects.exists()


@pytest.mark.django_db
def test_case_get_unknown_number_says_how_to_find_one() -> None:
    with pytest.raises(RejectedInput, match="create_case"):
        case_get(number="2099-NOPE-0001")
