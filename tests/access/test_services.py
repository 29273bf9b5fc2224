"""Case services: opening, details, status lifecycle, legal hold, authorities and team; each one event."""

from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from access.models import Case, CaseMember, LegalAuthority, Offence
from access.services import (
    case_create,
    case_get,
    case_legal_hold_set,
    case_status_change,
    case_update,
    legal_authority_mark_executed,
    legal_authority_record,
    member_add,
    member_change_role,
    member_remove,
)
from evidence.custody import GENESIS_HASH, event_leaf_hash
from evidence.models import CustodyEvent
from haetae.errors import AccessDenied, RejectedInput
from tests.factories import CaseMemberFactory, case_opener, new_user, team


@pytest.mark.django_db
def test_case_create_refuses_a_creator_whose_global_role_may_not_open_cases() -> None:
    with pytest.raises(AccessDenied, match="only investigators and supervisors open cases"):
        case_create(number="2024-SEOUL-0009", title="t", actor=new_user())
    assert not Case.objects.exists() and not CustodyEvent.objects.exists()


@pytest.mark.django_db
def test_case_create_records_lead_and_event() -> None:
    lead = case_opener()
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


# Grown case: offences, lifecycle, legal hold, authorities, team


def case_events(case, action: str | None = None) -> list[CustodyEvent]:
    events = CustodyEvent.objects.filter(case=case, item__isnull=True).order_by("seq")
    return list(events.filter(action=action) if action else events)


@pytest.mark.django_db
def test_the_offence_table_is_seeded_with_the_deepfake_articles() -> None:
    codes = set(Offence.objects.values_list("code", flat=True))
    assert {
        "sc-14-film",
        "sc-14-2-create",
        "sc-14-2-distribute",
        "sc-14-2-possess",
        "sc-14-3-threat",
    } <= codes
    assert {"cy-11-produce", "cy-11-possess"} <= codes
    possess = Offence.objects.get(code="sc-14-2-possess")
    assert possess.article == "14-2(4)"
    assert "시청" in possess.label_ko and "viewing" in possess.label_en
    assert possess.since is not None and possess.since.year == 2024
    assert Offence.objects.filter(minor_victim=True, statute_en__contains="Children and Youth").count() == 3


@pytest.mark.django_db
def test_case_create_with_offences_unit_and_lead_investigator() -> None:
    lead = case_opener()
    case = case_create(
        number="2024-SEOUL-0100",
        title="t",
        actor=lead,
        unit="서울청 사이버수사대",
        offences=["sc-14-2-distribute", "cy-11-distribute"],
    )
    assert case.lead_investigator == lead
    assert sorted(case.offences.values_list("code", flat=True)) == ["cy-11-distribute", "sc-14-2-distribute"]
    event = CustodyEvent.objects.get(case=case)
    assert event.details["offences"] == ["sc-14-2-distribute", "cy-11-distribute"]
    assert event.details["lead"] == lead.username


@pytest.mark.django_db
def test_unknown_offence_codes_are_refused_and_nothing_is_written() -> None:
    with pytest.raises(RejectedInput, match="unknown offence code") as raised:
        case_create(number="2024-SEOUL-0101", title="t", offences=["sc-14-2-create", "no-such"])
    assert "offences" in raised.value.details
    assert not Case.objects.exists() and not CustodyEvent.objects.exists()


@pytest.mark.django_db
def test_status_lifecycle_with_reopening_each_an_event() -> None:
    t = team()
    case_status_change(case=t.case, actor=t.lead, status="referred", reason="sent to the prosecutor")
    case_status_change(case=t.case, actor=t.lead, status="open", reason="returned for more investigation")
    closed = case_status_change(case=t.case, actor=t.lead, status="closed", reason="indictment filed")
    assert closed.closed_at is not None
    archived = case_status_change(case=t.case, actor=t.lead, status="archived", reason="judgment final")
    assert archived.closed_at == closed.closed_at
    reopened = case_status_change(case=t.case, actor=t.lead, status="open", reason="retrial ordered")
    assert reopened.status == "open" and reopened.closed_at is None
    events = case_events(t.case, "case_status_changed")
    assert [(e.details["from"], e.details["to"], e.details["reopened"]) for e in events] == [
        ("open", "referred", False),
        ("referred", "open", True),
        ("open", "closed", False),
        ("closed", "archived", False),
        ("archived", "open", True),
    ]
    assert events[-1].purpose == "retrial ordered"
    assert all(e.actor_role == "lead" for e in events)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "target"), [([], "archived"), ([], "open"), (["closed"], "referred"), (["referred"], "referred")]
)
def test_impossible_status_changes_are_refused_with_the_allowed_ones(path: list[str], target: str) -> None:
    t = team()
    for step in path:
        case_status_change(case=t.case, actor=t.lead, status=step, reason="step")
    before = CustodyEvent.objects.count()
    with pytest.raises(RejectedInput, match=r"cannot become \w+, only") as raised:
        case_status_change(case=t.case, actor=t.lead, status=target, reason="try")
    assert "status" in raised.value.details
    assert CustodyEvent.objects.count() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "reason", "field"), [("closed", "  ", "reason"), ("gone", "why", "status")]
)
def test_status_change_needs_a_reason_and_a_real_status(status: str, reason: str, field: str) -> None:
    t = team()
    with pytest.raises(RejectedInput) as raised:
        case_status_change(case=t.case, actor=t.lead, status=status, reason=reason)
    assert field in raised.value.details
    assert Case.objects.get(pk=t.case.pk).status == "open"


@pytest.mark.django_db
def test_case_update_logs_each_changed_field_once() -> None:
    t = team()
    other_lead = t.member("lead")
    updated = case_update(
        case=t.case,
        actor=t.lead,
        changes={
            "title": "New title",
            "unit": "Busan",
            "offences": ["sc-14-2-possess"],
            "lead_investigator": other_lead,
            "retention_class": "extended",
        },
    )
    assert updated.lead_investigator == other_lead
    event = case_events(t.case, "case_updated")[-1]
    changed = event.details["changed"]
    assert changed["offences"] == {"from": [], "to": ["sc-14-2-possess"]}
    assert changed["lead_investigator"] == {"from": t.lead.username, "to": other_lead.username}
    assert set(changed) == {"title", "unit", "offences", "lead_investigator", "retention_class"}
    before = CustodyEvent.objects.count()
    case_update(case=t.case, actor=t.lead, changes={"title": "New title"})  # no change, no event
    assert CustodyEvent.objects.count() == before


@pytest.mark.django_db
def test_case_update_refuses_a_lead_investigator_who_is_not_a_lead_and_writes_nothing() -> None:
    t = team()
    analyst = t.member("analyst")
    before = CustodyEvent.objects.count()
    with pytest.raises(RejectedInput, match="must be a lead"):
        case_update(case=t.case, actor=t.lead, changes={"title": "changed", "lead_investigator": analyst})
    assert Case.objects.get(pk=t.case.pk).title == "Deepfake channel"
    assert CustodyEvent.objects.count() == before
    with pytest.raises(RejectedInput, match="cannot be changed here"):
        case_update(case=t.case, actor=t.lead, changes={"number": "X-1"})


@pytest.mark.django_db
def test_legal_hold_placed_and_lifted_with_reasons() -> None:
    t = team()
    held = case_legal_hold_set(case=t.case, actor=t.lead, hold=True, reason="defence appeal pending")
    assert held.legal_hold and held.legal_hold_reason == "defence appeal pending"
    with pytest.raises(RejectedInput, match="already under a legal hold"):
        case_legal_hold_set(case=t.case, actor=t.lead, hold=True, reason="again")
    lifted = case_legal_hold_set(case=t.case, actor=t.lead, hold=False, reason="appeal decided")
    assert not lifted.legal_hold and lifted.legal_hold_reason == ""
    assert [e.details["legal_hold"] for e in case_events(t.case, "legal_hold_changed")] == [True, False]


@pytest.mark.django_db
def test_legal_authority_recorded_then_executed() -> None:
    t = team()
    issued = timezone.now() - timedelta(days=3)
    authority = legal_authority_record(
        case=t.case,
        actor=t.lead,
        number="2024-12345",
        court="서울중앙지방법원",
        scope="suspect's phone and cloud accounts",
        issued_at=issued,
    )
    executed = legal_authority_mark_executed(
        authority=authority, actor=t.lead, executed_at=issued + timedelta(days=1)
    )
    assert executed.executed_at == issued + timedelta(days=1)
    with pytest.raises(RejectedInput, match="already recorded as executed"):
        legal_authority_mark_executed(authority=authority, actor=t.lead, executed_at=timezone.now())
    events = case_events(t.case, "authority_recorded")
    assert events[0].details["number"] == "2024-12345" and events[0].details["court"] == "서울중앙지방법원"
    assert (
        events[1].details["executed_at"].startswith(str((issued + timedelta(days=1)).astimezone(UTC).date()))
    )


@pytest.mark.django_db
def test_legal_authority_bad_input_is_refused_whole() -> None:
    t = team()
    now = timezone.now()
    with pytest.raises(RejectedInput, match="executed before it was issued"):
        legal_authority_record(
            case=t.case,
            actor=t.lead,
            number="1",
            scope="s",
            issued_at=now,
            executed_at=now - timedelta(days=1),
        )
    with pytest.raises(RejectedInput, match="scope"):
        legal_authority_record(case=t.case, actor=t.lead, number="1", scope="", issued_at=now)
    legal_authority_record(case=t.case, actor=t.lead, number="1", scope="s", issued_at=now)
    with pytest.raises(RejectedInput, match="already recorded"):
        legal_authority_record(case=t.case, actor=t.lead, number="1", scope="s", issued_at=now)
    assert LegalAuthority.objects.count() == 1
    assert len(case_events(t.case, "authority_recorded")) == 1


@pytest.mark.django_db
def test_member_add_change_remove_each_an_event() -> None:
    t = team()
    user = new_user()
    member_add(case=t.case, user=user, role="investigator", actor=t.lead)
    member_change_role(case=t.case, user=user, role="analyst", actor=t.lead, reason="reassigned")
    member_remove(case=t.case, user=user, actor=t.lead, reason="left the unit")
    assert not CaseMember.objects.filter(case=t.case, user=user).exists()
    events = case_events(t.case)
    assert [e.action for e in events] == ["case_created", "member_added", "member_changed", "member_removed"]
    assert events[1].details == {"user": user.username, "user_id": user.pk, "role": "investigator"}
    assert events[2].details["from"] == "investigator" and events[2].details["to"] == "analyst"
    assert events[3].purpose == "left the unit"


@pytest.mark.django_db
def test_the_last_lead_cannot_be_demoted_or_removed() -> None:
    t = team()
    before = CustodyEvent.objects.count()
    with pytest.raises(RejectedInput, match="only lead"):
        member_change_role(case=t.case, user=t.lead, role="investigator", actor=t.lead)
    with pytest.raises(RejectedInput, match="only lead"):
        member_remove(case=t.case, user=t.lead, actor=t.lead, reason="r")
    assert CaseMember.objects.get(case=t.case, user=t.lead).role == "lead"
    assert CustodyEvent.objects.count() == before


@pytest.mark.django_db
def test_the_lead_investigator_steps_down_only_after_another_is_named() -> None:
    t = team()
    second = t.member("lead")
    with pytest.raises(RejectedInput, match="lead investigator"):
        member_remove(case=t.case, user=t.lead, actor=t.lead, reason="transfer")
    case_update(case=t.case, actor=t.lead, changes={"lead_investigator": second})
    member_remove(case=t.case, user=t.lead, actor=second, reason="transfer")
    assert list(CaseMember.objects.filter(case=t.case).values_list("role", flat=True)) == ["lead"]


@pytest.mark.django_db
def test_member_add_refuses_duplicates_unknown_roles_and_global_role_mismatch() -> None:
    from django.contrib.auth.models import Group

    t = team()
    user = new_user()
    member_add(case=t.case, user=user, role="auditor", actor=t.lead)
    with pytest.raises(RejectedInput, match="already on the team"):
        member_add(case=t.case, user=user, role="analyst", actor=t.lead)
    with pytest.raises(RejectedInput, match="not a case role"):
        member_add(case=t.case, user=new_user(), role="boss", actor=t.lead)
    prosecutor = new_user()
    prosecutor.groups.add(Group.objects.get(name="prosecutor"))
    with pytest.raises(RejectedInput, match="may take the case roles prosecutor, not lead"):
        member_add(case=t.case, user=prosecutor, role="lead", actor=t.lead)
    admin = new_user()
    admin.groups.add(Group.objects.get(name="admin"))
    with pytest.raises(RejectedInput, match="break-glass"):
        member_add(case=t.case, user=admin, role="auditor", actor=t.lead)
    member_add(case=t.case, user=prosecutor, role="prosecutor", actor=t.lead)
    assert len(case_events(t.case, "member_added")) == 2


@pytest.mark.django_db
def test_change_role_and_remove_name_non_members_clearly() -> None:
    t = team()
    stranger = new_user()
    with pytest.raises(RejectedInput, match="not on the team"):
        member_change_role(case=t.case, user=stranger, role="analyst", actor=t.lead)
    with pytest.raises(RejectedInput, match="say why"):
        member_remove(case=t.case, user=stranger, actor=t.lead, reason="")
    CaseMemberFactory(case=t.case, user=stranger, role="analyst")
    with pytest.raises(RejectedInput, match="already has the role"):
        member_change_role(case=t.case, user=stranger, role="analyst", actor=t.lead)
