"""The exhibits API: the lifecycle through HTTP, who may take each step, what each role sees of exhibits,
and the report/bundle rows' visibility (generation and downloads: tests/exhibits/test_reports_api.py)."""

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from access.choices import CaseMemberRole
from evidence.choices import CustodyAction
from evidence.models import CustodyEvent
from exhibits.models import Exhibit, ExportBundle, Report
from tests.factories import Team, custody_actions, exhibit_to, item, new_user, supervisor, team
from tests.factories import api_client as api
from tests.schema import openapi_schema

pytestmark = pytest.mark.django_db


def url(t: Team, tail: str = "") -> str:
    return f"/api/v1/cases/{t.case.number}/exhibits/{tail}"


def test_the_whole_lifecycle_over_http() -> None:
    t = team()
    a, b = item(t, b"a"), item(t, b"b")
    lead = api(t.lead)
    created = lead.post(
        url(t),
        {"items": [a.pk, b.pk], "description": "Photos from the room", "opinion": "same face"},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["number"], body["status"], body["items"], body["created_by"]) == (
        "E-001",
        "draft",
        [a.pk, b.pk],
        t.lead.username,
    )
    edited = lead.patch(url(t, "E-001/"), {"items": [b.pk], "description": "One photo"}, format="json")
    assert edited.status_code == 200 and edited.json()["items"] == [b.pk]
    assert lead.post(url(t, "E-001/request-approval/")).json()["status"] == "pending"
    boss = supervisor(t)
    approved = api(boss).post(url(t, "E-001/approve/"), {"note": "hashes checked"}, format="json")
    assert approved.status_code == 200 and approved.json()["approved_by"] == boss.username
    shared = lead.post(url(t, "e-001/share/"))  # the number is case-insensitive
    assert shared.status_code == 200 and shared.json()["status"] == "shared"
    no_reason = lead.post(url(t, "E-001/withdraw/"), {}, format="json")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()
    withdrawn = lead.post(url(t, "E-001/withdraw/"), {"reason": "better copy"}, format="json")
    assert withdrawn.status_code == 200
    assert (withdrawn.json()["status"], withdrawn.json()["withdrawn_reason"]) == ("withdrawn", "better copy")
    actions = custody_actions(case=t.case, action__startswith="exhibit_")
    assert actions == [
        "exhibit_created",
        "exhibit_changed",
        "exhibit_approval_requested",
        "exhibit_approved",
        "exhibit_shared",
        "exhibit_withdrawn",
    ]
    # A new exhibit takes the next number: E-001 is never reused.
    again = lead.post(url(t), {"items": [a.pk], "description": "again"}, format="json")
    assert again.json()["number"] == "E-002"


def test_refusals_say_what_was_wrong() -> None:
    t, other = team(), team()
    foreign = item(other, b"elsewhere")
    lead = api(t.lead)
    bad = lead.post(url(t), {"items": [foreign.pk], "description": "d"}, format="json")
    assert bad.status_code == 400 and f"no evidence item {foreign.pk}" in bad.json()["detail"]
    assert bad.json()["details"] == {"items": [f"no evidence item {foreign.pk} in case {t.case.number}"]}
    empty = lead.post(url(t), {"items": [], "description": "d"}, format="json")
    assert empty.status_code == 400 and "at least one" in empty.json()["detail"]
    shapeless = lead.post(url(t), {"items": "x"}, format="json")
    assert shapeless.status_code == 400 and {"items", "description"} <= set(shapeless.json())
    exhibit_to(t, [item(t)], status="approved")
    final = lead.patch(url(t, "E-001/"), {"description": "x"}, format="json")
    assert final.status_code == 400 and "can no longer be edited" in final.json()["detail"]
    own = api(t.lead).post(url(t, "E-001/approve/"), {}, format="json")
    assert own.status_code == 403 and "only a supervisor" in own.json()["detail"]
    missing = lead.get(url(t, "E-404/"))
    assert missing.status_code == 404 and "no exhibit E-404" in missing.json()["detail"]


@pytest.mark.parametrize(
    ("role", "may"),
    [("investigator", True), ("analyst", False), ("prosecutor", False), ("victim_support", False)],
)
def test_who_drafts(role: str, may: bool) -> None:
    t = team()
    one = item(t)
    response = api(t.member(role)).post(url(t), {"items": [one.pk], "description": "d"}, format="json")
    assert response.status_code == (201 if may else 403)


def test_non_members_get_not_found_for_the_case_and_its_exhibits() -> None:
    t = team()
    exhibit_to(t, [item(t)])
    stranger = api(new_user())
    for path, method in [
        ("", "get"),
        ("E-001/", "get"),
        ("E-001/share/", "post"),
        ("E-001/approve/", "post"),
    ]:
        response = getattr(stranger, method)(url(t, path))
        assert response.status_code == 404
        assert f"no case numbered '{t.case.number}'" in response.json()["detail"]


def _exhibits(t: Team) -> None:
    shared = exhibit_to(t, [item(t, b"shared")], status="shared", description="Victim V-1 photographs")
    assert shared.number == "E-001"
    exhibit_to(t, [item(t, b"approved")], status="approved")  # E-002
    exhibit_to(t, [item(t, b"draft")], status="draft")  # E-003
    exhibit_to(t, [item(t, b"withdrawn")], status="withdrawn")  # E-004


def test_a_prosecutor_lists_and_reads_only_shared_exhibits() -> None:
    t = team()
    _exhibits(t)
    prosecutor = api(t.member(CaseMemberRole.PROSECUTOR))
    listed = prosecutor.get(url(t)).json()
    assert [row["number"] for row in listed["results"]] == ["E-001"]
    assert listed["results"][0]["description"] == "Victim V-1 photographs"
    assert prosecutor.get(url(t, "E-001/")).status_code == 200
    for hidden in ("E-002", "E-003", "E-004"):
        response = prosecutor.get(url(t, f"{hidden}/"))
        assert response.status_code == 404
        assert response.json()["detail"].replace(hidden, "E-x") == prosecutor.get(url(t, "E-999/")).json()[
            "detail"
        ].replace("E-999", "E-x")
    # Nor can they act on an exhibit they do not see.
    assert prosecutor.post(url(t, "E-002/share/")).status_code == 404
    assert prosecutor.post(url(t, "E-001/withdraw/"), {"reason": "r"}, format="json").status_code == 403


@pytest.mark.parametrize("role", ["victim_support", "auditor"])
def test_victim_support_and_auditor_see_numbers_and_statuses_only(role: str) -> None:
    t = team()
    _exhibits(t)
    client = api(t.member(role))
    listed = client.get(url(t)).json()["results"]
    assert [(row["number"], row["status"]) for row in listed] == [
        ("E-001", "shared"),
        ("E-002", "approved"),
        ("E-003", "draft"),
        ("E-004", "withdrawn"),
    ]
    for row in [*listed, client.get(url(t, "E-004/")).json()]:
        assert set(row) == {
            "number",
            "status",
            "status_label",
            "items",
            "created_at",
            "approved_at",
            "shared_at",
            "withdrawn_at",
        }
    assert "V-1" not in client.get(url(t)).content.decode()


def test_the_team_sees_every_exhibit_with_its_text_and_can_filter() -> None:
    t = team()
    _exhibits(t)
    analyst = api(t.member("analyst"))
    listed = analyst.get(url(t)).json()["results"]
    assert [row["number"] for row in listed] == ["E-001", "E-002", "E-003", "E-004"]
    assert listed[3]["withdrawn_reason"] == "the wrong photo"
    assert [r["number"] for r in analyst.get(url(t), {"status": "shared"}).json()["results"]] == ["E-001"]
    one = Exhibit.objects.get(case=t.case, number="E-002").exhibit_items.get().item_id
    assert [r["number"] for r in analyst.get(url(t), {"item": one}).json()["results"]] == ["E-002"]


def test_listing_runs_the_same_queries_for_more_exhibits() -> None:
    t = team()
    client = api(t.lead)

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url(t)).status_code == 200
        return len(captured)

    exhibit_to(t, [item(t, b"first")], status="shared")
    few = count()
    for n in range(4):
        exhibit_to(t, [item(t, f"more {n}".encode()), item(t, f"extra {n}".encode())], status="approved")
    assert count() == few


# --- report and bundle rows: who sees them (generating and downloading need the sign and bundle work) -----


def _report(t: Team, exhibits: list[Exhibit], **fields: Any) -> Report:
    """A report row as sign's report_request leaves it (its generation is not under test here)."""
    report = Report.objects.create(
        case=t.case,
        report_id=f"R-{t.case.number}-{len(exhibits)}",
        version=Report.objects.filter(case=t.case).count() + 1,
        scope=[e.number for e in exhibits],
        requested_by=t.lead,
        **fields,
    )
    report.exhibits.set(exhibits)
    return report


def _bundle(t: Team, exhibits: list[Exhibit]) -> ExportBundle:
    bundle = ExportBundle.objects.create(
        case=t.case,
        scope=[e.number for e in exhibits],
        recipient="Seoul Central Prosecutors",
        requested_by=t.lead,
    )
    bundle.exhibits.set(exhibits)
    return bundle


def test_report_and_bundle_rows_by_role() -> None:
    t = team()
    shared = exhibit_to(t, [item(t, b"s")], status="shared")
    approved = exhibit_to(t, [item(t, b"a")], status="approved")
    of_shared, of_both = _report(t, [shared]), _report(t, [shared, approved])
    bundle_shared, bundle_both = _bundle(t, [shared]), _bundle(t, [shared, approved])
    base = f"/api/v1/cases/{t.case.number}/"

    def ids(client: APIClient, kind: str) -> set[int]:
        response = client.get(base + f"{kind}/")
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    for role in ("investigator", "analyst", "auditor"):
        client = api(t.member(role))
        assert ids(client, "reports") == {of_shared.pk, of_both.pk}
        assert ids(client, "bundles") == {bundle_shared.pk, bundle_both.pk}
    prosecutor = api(t.member(CaseMemberRole.PROSECUTOR))
    assert ids(prosecutor, "reports") == {of_shared.pk}
    assert ids(prosecutor, "bundles") == {bundle_shared.pk}
    assert prosecutor.get(f"/api/v1/reports/{of_both.pk}/").status_code == 404
    assert prosecutor.get(f"/api/v1/bundles/{bundle_both.pk}/").status_code == 404
    progress = prosecutor.get(f"/api/v1/reports/{of_shared.pk}/").json()
    assert (progress["status"], progress["progress_url"], progress["download_url"]) == (
        "queued",
        f"/api/v1/reports/{of_shared.pk}/",
        None,
    )
    support = api(t.member("victim_support"))
    refused = support.get(base + "reports/")
    assert (
        refused.status_code == 403 and "victim support does not receive reports" in refused.json()["detail"]
    )
    assert support.get(f"/api/v1/reports/{of_shared.pk}/").status_code == 404
    assert api(new_user()).get(f"/api/v1/bundles/{bundle_shared.pk}/").status_code == 404


def test_downloads_refuse_the_auditor_and_unfinished_jobs() -> None:
    t = team()
    shared = exhibit_to(t, [item(t, b"s")], status="shared")
    queued, failed = _report(t, [shared]), _report(t, [shared], status="failed", error="PII found: V-1 name")
    auditor = api(t.member("auditor"))
    refused = auditor.get(f"/api/v1/reports/{queued.pk}/download/")
    assert refused.status_code == 403 and "does not download reports" in refused.json()["detail"]
    lead = api(t.lead)
    pending = lead.get(f"/api/v1/reports/{queued.pk}/download/")
    assert pending.status_code == 400 and "is queued (0 %)" in pending.json()["detail"]
    broken = lead.get(f"/api/v1/reports/{failed.pk}/download/")
    assert broken.status_code == 400 and "is failed: PII found" in broken.json()["detail"]
    bundle = _bundle(t, [shared])
    assert auditor.get(f"/api/v1/bundles/{bundle.pk}/download/").status_code == 403
    assert lead.get(f"/api/v1/bundles/{bundle.pk}/download/").status_code == 400
    assert not CustodyEvent.objects.filter(
        action__in=[CustodyAction.REPORT_DOWNLOADED, CustodyAction.BUNDLE_DOWNLOADED]
    ).exists()


def test_report_and_bundle_requests_are_checked_before_any_job() -> None:
    t = team()
    shared = exhibit_to(t, [item(t, b"s")], status="shared")
    base = f"/api/v1/cases/{t.case.number}/"
    for role in ("analyst", "prosecutor", "auditor", "victim_support"):
        response = api(t.member(role)).post(base + "reports/", {"language": "en"}, format="json")
        assert response.status_code == 403, role
    # Lead and investigator export bundles (the policy table, as the service and `manage.py export` had it).
    analyst = api(t.member("analyst"))
    bundle = {"exhibits": [shared.number], "recipient": "prosecutor", "passphrase": "correct horse battery"}
    assert analyst.post(base + "bundles/", bundle, format="json").status_code == 403
    lead = api(t.lead)
    neither = lead.post(base + "bundles/", {"exhibits": ["E-001"], "recipient": "p"}, format="json")
    assert neither.status_code == 400 and "exactly one" in str(neither.json())
    bad_key = lead.post(
        base + "bundles/",
        {"exhibits": ["E-001"], "recipient": "p", "recipient_public_key": "AAAA"},
        format="json",
    )
    assert bad_key.status_code == 400 and "32 bytes" in str(bad_key.json())
    unknown = lead.post(base + "reports/", {"exhibits": ["E-009"], "language": "ko"}, format="json")
    assert unknown.status_code == 404 and "no exhibit E-009" in unknown.json()["detail"]
    language = lead.post(base + "reports/", {"language": "fr"}, format="json")
    assert language.status_code == 400 and "language" in language.json()
    assert not Report.objects.exists() and not ExportBundle.objects.exists()


# --- schema ----------------------------------------------------------------------------------------------


def test_the_schema_documents_every_exhibit_report_and_bundle_endpoint_without_warnings() -> None:
    paths = openapi_schema()["paths"]
    case = "/api/v1/cases/{number}"
    expected = {
        f"{case}/exhibits/": {"get", "post"},
        f"{case}/exhibits/{{exhibit}}/": {"get", "patch"},
        f"{case}/exhibits/{{exhibit}}/request-approval/": {"post"},
        f"{case}/exhibits/{{exhibit}}/approve/": {"post"},
        f"{case}/exhibits/{{exhibit}}/share/": {"post"},
        f"{case}/exhibits/{{exhibit}}/withdraw/": {"post"},
        f"{case}/reports/": {"get", "post"},
        f"{case}/bundles/": {"get", "post"},
        "/api/v1/reports/{id}/": {"get"},
        "/api/v1/reports/{id}/download/": {"get"},
        "/api/v1/bundles/{id}/": {"get"},
        "/api/v1/bundles/{id}/download/": {"get"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert set(paths[path]) - {"parameters"} == methods, path
    queued = paths[f"{case}/reports/"]["post"]["responses"]
    assert "202" in queued
    assert "application/pdf" in paths["/api/v1/reports/{id}/download/"]["get"]["responses"]["200"]["content"]
