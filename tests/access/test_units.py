"""Units and their supervisors: a unit supervisor holds the ``supervisor`` role on every case of the unit,
kept in step by the services, with a custody event for each change; what the role may do comes from the
policy table (all an investigator may, and approve, assign the team, authorise destruction)."""

import json
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command

from access.choices import CaseMemberRole, GlobalRole
from access.models import Case, CaseMember, Unit, UnitSupervisor
from access.policy import POLICY, Action, may
from access.selectors import case_list
from access.services import (
    case_create,
    case_update,
    member_add,
    member_change_role,
    member_remove,
    unit_for_name,
    unit_supervisor_add,
    unit_supervisor_remove,
)
from evidence.models import CustodyEvent
from haetae.errors import AccessDenied, RejectedInput
from tests.factories import case_opener, new_user

SEOUL = "서울청 사이버수사대"


def _supervisor_user(username: str = "") -> User:
    user = new_user(**({"username": username} if username else {}))
    user.groups.add(Group.objects.get(name=GlobalRole.SUPERVISOR))
    return user


def _admin() -> User:
    return new_user(is_superuser=True, is_staff=True)


def _case(number: str, unit: str = SEOUL) -> Case:
    return case_create(number=number, title="Telegram room", actor=case_opener(), unit=unit)


@pytest.mark.django_db
def test_a_unit_supervisor_joins_every_case_of_the_unit_and_only_those() -> None:
    mine, other = _case("2024-SEOUL-0101"), _case("2024-BUSAN-0101", unit="부산청 사이버수사대")
    boss = _supervisor_user()
    unit_supervisor_add(unit=mine.unit, user=boss, actor=_admin())
    member = CaseMember.objects.get(case=mine, user=boss)
    assert (member.role, member.via_unit) == (CaseMemberRole.SUPERVISOR, mine.unit)
    assert not CaseMember.objects.filter(case=other, user=boss).exists()
    assert [c.number for c in case_list(user=boss)] == ["2024-SEOUL-0101"]
    event = CustodyEvent.objects.filter(case=mine, action="member_added").latest("id")
    assert event.details["via_unit"] == SEOUL and event.details["user"] == boss.get_username()


@pytest.mark.django_db
def test_a_case_opened_in_a_supervised_unit_takes_its_supervisors() -> None:
    boss = _supervisor_user()
    unit = unit_for_name(SEOUL)
    assert unit is not None
    unit_supervisor_add(unit=unit, user=boss, actor=_admin())
    case = _case("2024-SEOUL-0102")
    assert CaseMember.objects.get(case=case, user=boss).role == CaseMemberRole.SUPERVISOR


@pytest.mark.django_db
def test_moving_a_case_to_another_unit_moves_its_supervisors() -> None:
    case = _case("2024-SEOUL-0103")
    seoul_boss, busan_boss = _supervisor_user(), _supervisor_user()
    busan = unit_for_name("부산청 사이버수사대")
    assert busan is not None and case.unit is not None
    unit_supervisor_add(unit=case.unit, user=seoul_boss, actor=_admin())
    unit_supervisor_add(unit=busan, user=busan_boss, actor=_admin())
    case_update(case=case, actor=None, changes={"unit": "부산청 사이버수사대"})
    assert not CaseMember.objects.filter(case=case, user=seoul_boss).exists()
    assert CaseMember.objects.get(case=case, user=busan_boss).via_unit == busan
    removed = CustodyEvent.objects.get(case=case, action="member_removed")
    assert removed.details["user"] == seoul_boss.get_username() and "부산청" in removed.purpose


@pytest.mark.django_db
def test_ending_a_supervision_takes_the_supervisor_off_the_units_cases_but_not_a_role_held_otherwise() -> (
    None
):
    held, own = _case("2024-SEOUL-0104"), _case("2024-SEOUL-0105")
    boss = _supervisor_user()
    member_add(case=own, user=boss, role=CaseMemberRole.INVESTIGATOR, actor=None)
    assert held.unit is not None
    unit_supervisor_add(unit=held.unit, user=boss, actor=_admin())
    assert (
        CaseMember.objects.get(case=own, user=boss).role == CaseMemberRole.INVESTIGATOR
    )  # kept, not doubled
    unit_supervisor_remove(unit=held.unit, user=boss, actor=_admin(), reason="moved to another unit")
    assert not CaseMember.objects.filter(case=held, user=boss).exists()
    assert CaseMember.objects.get(case=own, user=boss).role == CaseMemberRole.INVESTIGATOR
    assert not UnitSupervisor.objects.exists()


@pytest.mark.django_db
def test_the_supervisor_role_is_not_given_or_taken_on_the_team_page() -> None:
    case = _case("2024-SEOUL-0106")
    boss = _supervisor_user()
    with pytest.raises(RejectedInput, match="comes with supervising the case's unit"):
        member_add(case=case, user=boss, role=CaseMemberRole.SUPERVISOR, actor=None)
    assert case.unit is not None
    unit_supervisor_add(unit=case.unit, user=boss, actor=_admin())
    with pytest.raises(RejectedInput, match="supervisor of unit"):
        member_remove(case=case, user=boss, actor=None, reason="tidy up")
    with pytest.raises(RejectedInput, match="supervisor of unit"):
        member_change_role(case=case, user=boss, role=CaseMemberRole.ANALYST, actor=None)
    assert CaseMember.objects.get(case=case, user=boss).role == CaseMemberRole.SUPERVISOR


@pytest.mark.django_db
def test_only_administrators_assign_units_and_only_to_supervisors() -> None:
    case = _case("2024-SEOUL-0107")
    assert case.unit is not None
    with pytest.raises(AccessDenied, match="not an administrator"):
        unit_supervisor_add(unit=case.unit, user=_supervisor_user(), actor=case_opener())
    with pytest.raises(RejectedInput, match="does not hold the supervisor global role"):
        unit_supervisor_add(unit=case.unit, user=case_opener(), actor=_admin())
    boss = _supervisor_user()
    unit_supervisor_add(unit=case.unit, user=boss, actor=_admin())
    with pytest.raises(RejectedInput, match="already supervises"):
        unit_supervisor_add(unit=case.unit, user=boss, actor=_admin())
    with pytest.raises(RejectedInput, match="say why"):
        unit_supervisor_remove(unit=case.unit, user=boss, actor=_admin(), reason=" ")
    assert CaseMember.objects.filter(case=case, user=boss).count() == 1


@pytest.mark.django_db
def test_what_a_unit_supervisor_may_is_an_investigators_and_approving_assigning_authorising() -> None:
    case = _case("2024-SEOUL-0108")
    boss = _supervisor_user()
    assert case.unit is not None
    unit_supervisor_add(unit=case.unit, user=boss, actor=_admin())
    seen: Any = case_list(user=boss).get(pk=case.pk)
    assert seen.caller_role == CaseMemberRole.SUPERVISOR
    for action in Action:
        if action in (Action.CASE_OPEN,):
            continue
        expected = CaseMemberRole.INVESTIGATOR in POLICY[action] or action in {
            Action.EXHIBIT_APPROVE,
            Action.TEAM_CHANGE,
            Action.DESTRUCTION_AUTHORISE,
        }
        assert may(user=boss, action=action, case=seen) is expected, action
    # Never the victim-support rows, the auditor's ledger, or the lead's own rows (identities, sharing).
    assert not may(user=boss, action=Action.SUPPORT_NOTES, case=seen)
    assert not may(user=boss, action=Action.IDENTITY_READ, case=seen)
    assert not may(user=boss, action=Action.EXHIBIT_SHARE, case=seen)


@pytest.mark.django_db
def test_unit_command_supervises_lists_and_ends_with_json() -> None:
    case = _case("2024-SEOUL-0109")
    boss = _supervisor_user("boss")
    admin = _admin()
    out = StringIO()
    call_command("unit", "supervise", SEOUL, "boss", "--actor", admin.get_username(), "--json", stdout=out)
    assert json.loads(out.getvalue()) == {
        "unit": SEOUL,
        "username": "boss",
        "supervises": True,
        "cases": [case.number],
    }
    out = StringIO()
    call_command("unit", "list", "--json", stdout=out)
    assert json.loads(out.getvalue()) == [{"unit": SEOUL, "supervisors": ["boss"], "cases": [case.number]}]
    call_command(
        "unit", "unsupervise", SEOUL, "boss", "--actor", admin.get_username(), "--reason", "left", stdout=out
    )
    assert not CaseMember.objects.filter(case=case, user=boss).exists()
    assert Unit.objects.get(name=SEOUL).supervisors.count() == 0
