# mypy: disable-error-code="attr-defined"
"""The need-to-know selectors: membership first (or a live break-glass grant), role second; the vault's
selectors agree with the cases' ones; nobody sees anything by being a superuser."""

from datetime import timedelta

import pytest
from django.utils import timezone

from access.choices import CaseMemberRole
from access.policy import (
    BREAK_GLASS_ROLE,
    NEVER_CONTENT_ROLES,
    POLICY,
    SHARED_ONLY_ROLES,
    Action,
    case_access_role,
    case_memberships,
    may,
    require,
    restrict,
    role_may,
    shared_only,
)
from access.selectors import break_glass_grants_for, case_for_command, case_get_for, case_list
from evidence.choices import CustodyAction
from evidence.custody import custody_append
from evidence.models import EvidenceItem
from evidence.selectors import case_custody_for, custody_events_for, evidence_get_for, evidence_visible_to
from haetae.errors import AccessDenied, NotFound
from tests.factories import CaseFactory, CaseMemberFactory, UserFactory, live_grant, stored_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Two cases with a team each and an item each; an outsider, a superuser and an inactive member."""
    lead = UserFactory(username="lead")
    other_lead = UserFactory(username="other.lead")
    case = CaseFactory(number="2024-SEOUL-0001")
    other = CaseFactory(number="2024-BUSAN-0002")
    CaseMemberFactory(case=case, user=lead, role=CaseMemberRole.LEAD)
    CaseMemberFactory(case=other, user=other_lead, role=CaseMemberRole.LEAD)
    item = stored_item(case=case, data=b"seoul photo", actor=lead)
    other_item = stored_item(case=other, data=b"busan photo", actor=other_lead)
    return {
        "lead": lead,
        "other_lead": other_lead,
        "case": case,
        "other": other,
        "item": item,
        "other_item": other_item,
        "outsider": UserFactory(username="outsider"),
        "root": UserFactory(username="root", is_superuser=True, is_staff=True),
    }


def test_role_names_agree_with_the_case_roles() -> None:
    content = POLICY[Action.CONTENT_VIEW]
    assert content | NEVER_CONTENT_ROLES | POLICY[Action.CONTENT_VIEW_SHARED] == set(CaseMemberRole.values)
    assert not content & NEVER_CONTENT_ROLES
    assert BREAK_GLASS_ROLE not in CaseMemberRole.values
    assert POLICY[Action.EVIDENCE_INGEST] <= content


def test_every_action_has_a_rule_and_never_content_roles_get_no_content_action() -> None:
    assert set(POLICY) == set(Action)
    for action in (Action.CONTENT_VIEW, Action.CONTENT_VIEW_SHARED):
        assert not POLICY[action] & NEVER_CONTENT_ROLES


def test_shared_only_roles_come_from_the_table() -> None:
    # Shared content without the whole case's content: that is what "shared only" means.
    assert POLICY[Action.CONTENT_VIEW_SHARED] - POLICY[Action.CONTENT_VIEW] == SHARED_ONLY_ROLES
    assert {CaseMemberRole.PROSECUTOR} == SHARED_ONLY_ROLES
    assert shared_only(CaseMemberRole.PROSECUTOR)
    assert not shared_only(CaseMemberRole.LEAD)
    assert not shared_only(BREAK_GLASS_ROLE)
    assert not shared_only(None)


def test_item_records_are_kept_from_victim_support_only() -> None:
    refused = set(CaseMemberRole.values) - POLICY[Action.ITEM_RECORDS]
    assert refused == {CaseMemberRole.VICTIM_SUPPORT}
    assert role_may(BREAK_GLASS_ROLE, Action.ITEM_RECORDS)
    assert not role_may(None, Action.ITEM_RECORDS)


def test_case_memberships_filter_by_action_and_the_shared_only_rule(world) -> None:
    prosecutor = UserFactory(username="prosecutor")
    support = UserFactory(username="support")
    CaseMemberFactory(case=world["case"], user=prosecutor, role=CaseMemberRole.PROSECUTOR)
    CaseMemberFactory(case=world["case"], user=support, role=CaseMemberRole.VICTIM_SUPPORT)

    def users(**kwargs) -> set[str]:
        rows = case_memberships(**kwargs).filter(case=world["case"])
        return set(rows.values_list("user__username", flat=True))

    assert users(action=Action.MATCH_ALERTS) == {"lead"}
    assert users(action=Action.REPORT_READ) == {"lead", "prosecutor"}
    assert users(action=Action.REPORT_READ, shared_only=True) == {"prosecutor"}
    assert users(action=Action.REPORT_READ, shared_only=False) == {"lead"}
    assert users(action=Action.SUPPORT_WRITE) == {"support"}
    # A break-glass grant is no membership.
    live_grant(case=world["case"], user=world["root"])
    assert "root" not in users(action=Action.REPORT_READ)


def test_may_and_restrict_follow_the_table(world) -> None:
    CaseMemberFactory(case=world["case"], user=world["outsider"], role=CaseMemberRole.AUDITOR)
    assert may(user=world["lead"], case=world["case"], action=Action.EVIDENCE_INGEST)
    assert not may(user=world["outsider"], case=world["case"], action=Action.EVIDENCE_INGEST)
    assert may(user=world["outsider"], case=world["case"], action=Action.LEDGER_READ)
    assert not may(user=world["lead"], case=world["other"], action=Action.CASE_CHANGE)
    items = EvidenceItem.objects.all()
    assert set(restrict(items, user=world["lead"], action=Action.CONTENT_VIEW)) == {world["item"]}
    assert not restrict(items, user=world["outsider"], action=Action.CONTENT_VIEW).exists()
    assert list(restrict(items, user=world["outsider"], action=Action.LEDGER_READ)) == [world["item"]]


def test_members_see_their_cases_only_with_their_role(world) -> None:
    cases = list(case_list(user=world["lead"], with_counts=True))
    assert [c.number for c in cases] == ["2024-SEOUL-0001"]
    assert cases[0].caller_role == "lead" and cases[0].item_count == 1
    assert list(evidence_visible_to(user=world["lead"])) == [world["item"]]
    assert case_access_role(user=world["lead"], case_id=world["case"].pk) == "lead"
    assert case_access_role(user=world["lead"], case_id=world["other"].pk) is None


@pytest.mark.parametrize("who", ["outsider", "root"])
def test_outsiders_and_superusers_see_nothing(world, who: str) -> None:
    user = world[who]
    assert not case_list(user=user).exists()
    assert not evidence_visible_to(user=user).exists()
    with pytest.raises(NotFound):
        case_get_for(user=user, number="2024-SEOUL-0001")
    with pytest.raises(NotFound):
        evidence_get_for(user=user, item_id=world["item"].pk)
    assert not custody_events_for(user=user, item=world["item"]).exists()
    assert not case_custody_for(user=user, case_id=world["case"].pk).exists()


def test_anonymous_and_inactive_users_see_nothing(world) -> None:
    from django.contrib.auth.models import AnonymousUser

    assert not case_list(user=AnonymousUser()).exists()
    assert not evidence_visible_to(user=AnonymousUser()).exists()
    world["lead"].is_active = False
    world["lead"].save()
    assert not evidence_visible_to(user=world["lead"]).exists()
    assert not case_list(user=world["lead"]).exists()
    assert case_access_role(user=world["lead"], case_id=world["case"].pk) is None


def test_not_found_reads_the_same_for_foreign_and_missing(world) -> None:
    with pytest.raises(NotFound) as foreign:
        case_get_for(user=world["lead"], number="2024-BUSAN-0002")
    with pytest.raises(NotFound) as missing:
        case_get_for(user=world["lead"], number="2024-NOPE-0009")
    assert foreign.value.message.replace("2024-BUSAN-0002", "N") == missing.value.message.replace(
        "2024-NOPE-0009", "N"
    )
    with pytest.raises(NotFound) as foreign_item:
        evidence_get_for(user=world["lead"], item_id=world["other_item"].pk)
    with pytest.raises(NotFound) as missing_item:
        evidence_get_for(user=world["lead"], item_id=99999)
    assert foreign_item.value.message.replace(str(world["other_item"].pk), "N") == (
        missing_item.value.message.replace("99999", "N")
    )


def test_a_live_grant_opens_the_case_read_only(world) -> None:
    root = world["root"]
    live_grant(case=world["other"], user=root)
    (case,) = case_list(user=root)
    assert case.number == "2024-BUSAN-0002" and case.caller_role == BREAK_GLASS_ROLE
    assert list(evidence_visible_to(user=root)) == [world["other_item"]]
    assert evidence_get_for(user=root, item_id=world["other_item"].pk).caller_role == BREAK_GLASS_ROLE
    assert custody_events_for(user=root, item=world["other_item"]).count() == 2
    with pytest.raises(AccessDenied, match="break-glass grant, which is read-only"):
        require(case=case, action=Action.EVIDENCE_INGEST)


def test_expired_and_ended_grants_open_nothing(world) -> None:
    root = world["root"]
    grant = live_grant(case=world["other"], user=root)
    grant.expires_at = timezone.now() - timedelta(seconds=1)
    grant.save()
    assert not case_list(user=root).exists() and not evidence_visible_to(user=root).exists()
    ended = live_grant(case=world["other"], user=root)
    ended.ended_at = timezone.now()
    ended.save()
    assert not case_list(user=root).exists()
    assert case_access_role(user=root, case_id=world["other"].pk) is None


def test_a_grant_on_one_case_opens_only_that_case(world) -> None:
    live_grant(case=world["other"], user=world["lead"])  # a member of Seoul, a grant on Busan
    roles = {c.number: c.caller_role for c in case_list(user=world["lead"])}
    assert roles == {"2024-SEOUL-0001": "lead", "2024-BUSAN-0002": BREAK_GLASS_ROLE}
    assert evidence_visible_to(user=world["lead"]).count() == 2  # each item once


def test_the_vaults_selectors_agree_with_the_cases(world) -> None:
    live_grant(case=world["case"], user=world["root"])
    CaseMemberFactory(case=world["other"], user=world["outsider"], role=CaseMemberRole.AUDITOR)
    for user in (world["lead"], world["other_lead"], world["outsider"], world["root"]):
        visible_cases = set(case_list(user=user).values_list("pk", flat=True))
        item_cases = set(evidence_visible_to(user=user).values_list("case_id", flat=True))
        assert item_cases == visible_cases, user.username
        for case in case_list(user=user):
            assert case.caller_role == case_access_role(user=user, case_id=case.pk)


def test_case_custody_lists_case_level_events_of_visible_cases(world) -> None:
    custody_append(case_id=world["case"].pk, action=CustodyAction.CASE_UPDATED, actor=world["lead"])
    assert [e.action for e in case_custody_for(user=world["lead"], case_id=world["case"].pk)] == [
        "case_updated"
    ]
    assert not case_custody_for(user=world["other_lead"], case_id=world["case"].pk).exists()


def test_require(world) -> None:
    CaseMemberFactory(case=world["case"], user=world["outsider"], role=CaseMemberRole.AUDITOR)
    case = case_get_for(user=world["outsider"], number="2024-SEOUL-0001")
    with pytest.raises(AccessDenied, match="your role on case 2024-SEOUL-0001 is auditor"):
        require(case=case, action=Action.EVIDENCE_INGEST)
    require(case=case_get_for(user=world["lead"], number="2024-SEOUL-0001"), action=Action.EVIDENCE_INGEST)


def test_case_for_command_names_the_problem(world) -> None:
    with pytest.raises(NotFound, match="no case numbered '2024-NOPE-0001'"):
        case_for_command(user=world["lead"], number="2024-NOPE-0001", action=None, doing="verify it")
    with pytest.raises(
        AccessDenied, match="lead is not on the team of case 2024-BUSAN-0002, so cannot verify it"
    ):
        case_for_command(user=world["lead"], number="2024-BUSAN-0002", action=None, doing="verify it")
    assert case_for_command(
        user=world["lead"], number="2024-SEOUL-0001", action=Action.EVIDENCE_INGEST, doing="x"
    ).pk == (world["case"].pk)


def test_break_glass_grants_are_seen_by_their_holder_and_the_case_lead(world) -> None:
    grant = live_grant(case=world["case"], user=world["root"])
    live_grant(case=world["other"], user=world["root"])
    assert list(break_glass_grants_for(user=world["lead"])) == [grant]
    assert break_glass_grants_for(user=world["root"]).count() == 2
    CaseMemberFactory(case=world["case"], user=world["outsider"], role=CaseMemberRole.INVESTIGATOR)
    assert not break_glass_grants_for(user=world["outsider"]).exists()


def test_case_list_query_count_is_constant_in_rows(django_assert_num_queries) -> None:
    user = UserFactory()
    for _ in range(3):
        CaseMemberFactory(user=user)
    with django_assert_num_queries(1):
        assert len([(c.caller_role, c.item_count) for c in case_list(user=user, with_counts=True)]) == 3
    for _ in range(5):
        live_grant(case=CaseFactory(), user=user)
    with django_assert_num_queries(1):
        assert len([(c.caller_role, c.item_count) for c in case_list(user=user, with_counts=True)]) == 8


def test_one_case_is_looked_up_without_counting_its_items(world, django_assert_num_queries) -> None:
    """Every case-scoped request resolves its case here: one query, with the caller's role and no item count
    (a scan of the case's item index, tens of milliseconds at 100,000 items); the case list counts on
    request."""
    with django_assert_num_queries(1) as captured:
        case = case_get_for(user=world["lead"], number="2024-SEOUL-0001")
    assert case.caller_role == "lead" and not hasattr(case, "item_count")
    assert "COUNT(" not in captured.captured_queries[0]["sql"].upper()
    assert [c.item_count for c in case_list(user=world["lead"], with_counts=True)] == [1]
    assert not hasattr(case_list(user=world["lead"]).get(), "item_count")


def test_one_case_lookup_agrees_with_the_case_list(world) -> None:
    """``case_get_for`` asks for one case by its number, not for the list: it must find exactly the cases
    ``case_list`` lists, with the same role, for members, outsiders, live and expired grants, the signed-out
    and the deactivated."""
    from django.contrib.auth.models import AnonymousUser

    live_grant(case=world["other"], user=world["root"])
    expired = live_grant(case=world["case"], user=world["outsider"])
    expired.expires_at = timezone.now() - timedelta(seconds=1)
    expired.save()
    numbers = [world["case"].number, world["other"].number, "2024-NOPE-0009"]

    def agree(user) -> int:
        listed = {case.number: case.caller_role for case in case_list(user=user)}
        for number in numbers:
            if number in listed:
                assert case_get_for(user=user, number=number).caller_role == listed[number]
            else:
                with pytest.raises(NotFound):
                    case_get_for(user=user, number=number)
        return len(listed)

    assert agree(world["lead"]) == 1
    assert agree(world["root"]) == 1  # the live grant
    assert agree(world["outsider"]) == 0  # the expired grant
    assert agree(AnonymousUser()) == 0
    world["lead"].is_active = False
    world["lead"].save()
    assert agree(world["lead"]) == 0
