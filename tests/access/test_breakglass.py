# mypy: disable-error-code="attr-defined"
"""Break-glass: admins only, a reason and a bounded duration, a case-level custody event, read-only access
that ends on expiry or when ended, and the lead sees it all through the API."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from access.breakglass import break_glass_end, break_glass_open
from access.choices import CaseMemberRole
from access.models import BreakGlassGrant
from access.selectors import case_list
from evidence.choices import CustodyAction
from evidence.models import CustodyEvent
from haetae.errors import AccessDenied, NotFound, RejectedInput
from tests.factories import CaseFactory, CaseMemberFactory, UserFactory, stored_item
from tests.factories import api_client as api_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    lead = UserFactory(username="lead")
    case = CaseFactory(number="2024-SEOUL-0101")
    CaseMemberFactory(case=case, user=lead, role=CaseMemberRole.LEAD)
    item = stored_item(case=case, data=b"photo", actor=lead)
    admin = UserFactory(username="sysadmin", is_staff=True)
    return {"lead": lead, "case": case, "item": item, "admin": admin}


def test_opening_a_grant_is_a_case_level_custody_event(setup) -> None:
    admin = setup["admin"]
    assert not case_list(user=admin).exists()
    grant = break_glass_open(case_number="2024-SEOUL-0101", actor=admin, reason="court order 77", minutes=30)
    assert grant.is_live and grant.expires_at - grant.granted_at == timedelta(minutes=30)
    event = CustodyEvent.objects.get(action=CustodyAction.BREAK_GLASS)
    assert event.item_id is None and event.case_id == setup["case"].pk
    assert (event.actor_name, event.actor_role, event.purpose) == ("sysadmin", "admin", "court order 77")
    assert event.details["event"] == "opened" and event.details["grant"] == grant.pk
    assert event.details["minutes"] == 30
    assert [c.caller_role for c in case_list(user=admin)] == ["break_glass"]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"reason": "  "}, RejectedInput, "needs a stated reason"),
        ({"minutes": 0}, RejectedInput, "lasts 1 to 240 minutes, not 0"),
        ({"minutes": 241}, RejectedInput, "lasts 1 to 240 minutes"),
        ({"case_number": "2024-NOPE-0001"}, NotFound, "no case numbered '2024-NOPE-0001'"),
    ],
)
def test_bad_requests_are_refused_and_nothing_is_written(setup, kwargs, error, message) -> None:
    arguments = {"case_number": "2024-SEOUL-0101", "actor": setup["admin"], "reason": "audit", "minutes": 10}
    with pytest.raises(error, match=message):
        break_glass_open(**{**arguments, **kwargs})
    assert not BreakGlassGrant.objects.exists()
    assert not CustodyEvent.objects.filter(action=CustodyAction.BREAK_GLASS).exists()


def test_only_admins_off_the_team_and_one_live_grant_at_a_time(setup) -> None:
    with pytest.raises(AccessDenied, match="only administrators"):
        break_glass_open(case_number="2024-SEOUL-0101", actor=UserFactory(), reason="r", minutes=5)
    staff_member = UserFactory(username="staff.member", is_staff=True)
    CaseMemberFactory(case=setup["case"], user=staff_member, role=CaseMemberRole.ANALYST)
    with pytest.raises(RejectedInput, match="you are on the team"):
        break_glass_open(case_number="2024-SEOUL-0101", actor=staff_member, reason="r", minutes=5)
    break_glass_open(case_number="2024-SEOUL-0101", actor=setup["admin"], reason="r", minutes=5)
    with pytest.raises(RejectedInput, match="already hold a live grant"):
        break_glass_open(case_number="2024-SEOUL-0101", actor=setup["admin"], reason="r", minutes=5)


def test_expiry_closes_access_without_any_action(setup) -> None:
    grant = break_glass_open(case_number="2024-SEOUL-0101", actor=setup["admin"], reason="r", minutes=5)
    BreakGlassGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert not case_list(user=setup["admin"]).exists()
    response = api_for(setup["admin"]).get(f"/api/v1/evidence/{setup['item'].pk}/")
    assert response.status_code == 404


def test_holder_or_lead_may_end_a_grant_and_it_is_logged(setup) -> None:
    grant = break_glass_open(case_number="2024-SEOUL-0101", actor=setup["admin"], reason="r", minutes=60)
    with pytest.raises(NotFound):
        break_glass_end(grant_id=grant.pk, actor=UserFactory())
    ended = break_glass_end(grant_id=grant.pk, actor=setup["lead"])
    assert not ended.is_live and ended.ended_by == setup["lead"]
    event = CustodyEvent.objects.filter(action=CustodyAction.BREAK_GLASS).order_by("seq").last()
    assert event is not None and event.details["event"] == "ended" and event.actor_role == "lead"
    assert not case_list(user=setup["admin"]).exists()
    with pytest.raises(RejectedInput, match="already ended"):
        break_glass_end(grant_id=grant.pk, actor=setup["admin"])


def test_api_admin_opens_lead_sees_and_ends(setup) -> None:
    admin_api, lead_api = api_for(setup["admin"]), api_for(setup["lead"])
    opened = admin_api.post(
        "/api/v1/break-glass/", {"case": "2024-SEOUL-0101", "reason": "account compromise", "minutes": 15}
    )
    assert opened.status_code == 201, opened.content
    body = opened.json()
    assert (body["case"], body["user"], body["reason"], body["is_live"]) == (
        "2024-SEOUL-0101",
        "sysadmin",
        "account compromise",
        True,
    )
    # the admin now reads the case and the item's metadata, read-only
    assert admin_api.get("/api/v1/cases/2024-SEOUL-0101/").status_code == 200
    assert admin_api.get(f"/api/v1/evidence/{setup['item'].pk}/").status_code == 200
    content = admin_api.get(f"/api/v1/evidence/{setup['item'].pk}/content/?reason=look")
    assert content.status_code == 403
    upload = admin_api.post("/api/v1/cases/2024-SEOUL-0101/evidence/", {}, format="multipart")
    assert upload.status_code == 403
    # the lead sees who, why and until when
    listed = lead_api.get("/api/v1/break-glass/").json()
    assert listed["count"] == 1 and listed["results"][0]["reason"] == "account compromise"
    ended = lead_api.post(f"/api/v1/break-glass/{body['id']}/end/")
    assert ended.status_code == 200 and ended.json()["ended_by"] == "lead"
    assert admin_api.get("/api/v1/cases/2024-SEOUL-0101/").status_code == 404


def test_api_refuses_non_admins_and_bad_forms(setup) -> None:
    refused = api_for(setup["lead"]).post(
        "/api/v1/break-glass/", {"case": "2024-SEOUL-0101", "reason": "x", "minutes": 5}
    )
    assert refused.status_code == 403 and "only administrators" in refused.json()["detail"]
    bad = api_for(setup["admin"]).post("/api/v1/break-glass/", {"case": "2024-SEOUL-0101", "minutes": "soon"})
    assert bad.status_code == 400 and set(bad.json()) >= {"reason", "minutes"}
    assert not BreakGlassGrant.objects.exists()


def test_api_grants_of_others_are_not_found(setup) -> None:
    grant = break_glass_open(case_number="2024-SEOUL-0101", actor=setup["admin"], reason="r", minutes=5)
    stranger = api_for(UserFactory(username="stranger"))
    assert stranger.get(f"/api/v1/break-glass/{grant.pk}/").status_code == 404
    assert stranger.post(f"/api/v1/break-glass/{grant.pk}/end/").status_code == 404
    assert stranger.get("/api/v1/break-glass/").json()["count"] == 0


def test_api_grant_list_query_count_is_constant(setup, django_assert_num_queries) -> None:
    lead_api = api_for(setup["lead"])
    admins = [UserFactory(is_staff=True) for _ in range(2)]
    for admin in admins:
        break_glass_open(case_number="2024-SEOUL-0101", actor=admin, reason="r", minutes=5)

    def count_queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert lead_api.get("/api/v1/break-glass/").status_code == 200
        return len(queries)

    few = count_queries()
    for _ in range(4):
        break_glass_open(
            case_number="2024-SEOUL-0101", actor=UserFactory(is_staff=True), reason="r", minutes=5
        )
    assert count_queries() == few


def test_command_opens_lists_and_ends(setup, capsys) -> None:
    from django.core.management import call_command

    call_command(
        "break_glass",
        "open",
        "2024-SEOUL-0101",
        "--actor",
        "sysadmin",
        "--reason",
        "audit",
        "--minutes",
        "20",
        "--json",
    )
    opened = json.loads(capsys.readouterr().out)
    assert opened["case"] == "2024-SEOUL-0101" and opened["is_live"] and opened["reason"] == "audit"
    call_command("break_glass", "list", "--actor", "lead")
    assert f"grant {opened['id']}: sysadmin on case 2024-SEOUL-0101, live" in capsys.readouterr().out
    call_command("break_glass", "end", str(opened["id"]), "--actor", "lead", "--json")
    assert json.loads(capsys.readouterr().out)["is_live"] is False
    with pytest.raises(SystemExit) as exited:
        call_command(
            "break_glass", "open", "2024-SEOUL-0101", "--actor", "lead", "--reason", "x", "--minutes", "5"
        )
    assert exited.value.code == 1 and "only administrators" in capsys.readouterr().err
