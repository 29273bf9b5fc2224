"""Detection API: runs, findings with confirm / reject, jobs and progress, each filtered by the caller."""

from typing import Any

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from access.choices import CaseMemberRole
from detection.models import Annotation, DetectionRun, ScanJob
from detection.models.runs import JobKind, ReviewStatus, RunStatus
from detection.pipeline import scan_job_create
from detection.services import detection_run
from evidence.choices import CustodyAction
from evidence.models import CustodyEvent
from exhibits.services import exhibit_approve, exhibit_create, exhibit_share
from tests.detection.conftest import png
from tests.detection.plugins import DominantChannelDetector
from tests.factories import CaseMemberFactory, UserFactory, stored_item
from tests.factories import api_client as client_for
from tests.schema import openapi_schema

pytestmark = pytest.mark.django_db

ROLES = CaseMemberRole


@pytest.fixture
def finding(team: dict[str, Any], test_detectors: Any) -> Annotation:
    item = stored_item(
        case=team["case"], data=png((10, 200, 10)), actor=team[ROLES.LEAD], name="g.png", mime="image/png"
    )
    detection_run(item=item, detector=DominantChannelDetector())
    return Annotation.objects.get(item=item)


def test_runs_of_your_cases_with_provenance_and_filters(team, finding) -> None:
    client = client_for(team[ROLES.INVESTIGATOR])
    body = client.get("/api/v1/runs/", {"item": finding.item_id}).json()
    (run,) = body["results"]
    assert run["case"] == team["case"].number
    assert run["detector"] == {"name": "test-channel", "version": "1", "model_sha256": ""}
    assert (run["status"], run["annotation_count"], run["input_sha256"]) == ("done", 1, finding.item.blob_id)
    assert client.get("/api/v1/runs/", {"status": "failed"}).json()["results"] == []
    assert client.get(f"/api/v1/runs/{run['id']}/").json()["id"] == run["id"]


def test_outsiders_see_no_runs_findings_or_jobs_and_get_404(team, finding) -> None:
    client = client_for(team["outsider"])
    assert client.get("/api/v1/runs/").json()["results"] == []
    assert client.get("/api/v1/annotations/").json()["results"] == []
    assert client.get(f"/api/v1/runs/{finding.run_id}/").status_code == 404
    assert client.get(f"/api/v1/annotations/{finding.pk}/").status_code == 404
    response = client.post(f"/api/v1/annotations/{finding.pk}/confirm/", {"reason": "looks right"})
    assert response.status_code == 404
    assert APIClient().get("/api/v1/annotations/").status_code in (401, 403)


def test_reviewers_see_the_whole_finding_apart_from_its_provenance_and_review(team, finding) -> None:
    body = client_for(team[ROLES.ANALYST]).get(f"/api/v1/annotations/{finding.pk}/").json()
    assert body["finding"]["label"] == "dominant-green"
    assert body["finding"]["region"] == {"x": 0, "y": 0, "w": 16, "h": 16}
    assert body["finding"]["details"] == {"sums": [2560, 51200, 2560]}
    assert body["finding"]["withheld"] is False
    assert body["provenance"]["detector"] == "test-channel"
    assert body["provenance"]["input_sha256"] == finding.item.blob_id
    assert body["review"] == {"status": "lead", "by": None, "at": None, "reason": ""}


def _share_with_the_prosecutor(team: dict[str, Any], item: Any) -> None:
    """A prosecutor sees findings only of items in shared exhibits: share the item."""
    boss: Any = CaseMemberFactory(case=team["case"], role=ROLES.INVESTIGATOR).user
    boss.groups.add(Group.objects.get(name="supervisor"))
    exhibit = exhibit_create(case=team["case"], item_ids=[item.pk], description="d", actor=team[ROLES.LEAD])
    exhibit_share(exhibit=exhibit_approve(exhibit=exhibit, actor=boss), actor=team[ROLES.LEAD])


@pytest.mark.parametrize("role", [ROLES.VICTIM_SUPPORT, ROLES.AUDITOR, ROLES.PROSECUTOR])
def test_other_roles_see_labels_and_provenance_but_not_regions_or_details(team, finding, role) -> None:
    if role == ROLES.PROSECUTOR:
        _share_with_the_prosecutor(team, finding.item)
    (body,) = client_for(team[role]).get("/api/v1/annotations/").json()["results"]
    assert body["finding"]["label"] == "dominant-green"
    assert body["finding"]["region"] is None and body["finding"]["details"] is None
    assert body["finding"]["withheld"] is True
    assert body["provenance"]["detector"] == "test-channel"


@pytest.mark.parametrize("role", [ROLES.LEAD, ROLES.INVESTIGATOR, ROLES.ANALYST])
def test_reviewers_confirm_with_a_reason_recorded_on_the_finding_and_the_ledger(team, finding, role) -> None:
    user = team[role]
    response = client_for(user).post(
        f"/api/v1/annotations/{finding.pk}/confirm/", {"reason": "checked the pixels myself"}, format="json"
    )
    assert response.status_code == 200, response.content
    review = response.json()["review"]
    assert (review["status"], review["by"], review["reason"]) == (
        "confirmed",
        user.username,
        "checked the pixels myself",
    )
    assert response.json()["finding"]["label"] == "dominant-green"  # the detector's output is unchanged
    event = CustodyEvent.objects.get(item=finding.item, action=CustodyAction.FINDING_REVIEWED)
    assert (event.actor_id, event.actor_role) == (user.pk, role)
    assert event.details == {
        "annotation": finding.pk,
        "run": finding.run_id,
        "label": "dominant-green",
        "detector": "test-channel",
        "version": "1",
        "decision": "confirmed",
        "previous": "lead",
        "reason": "checked the pixels myself",
    }


def test_a_review_can_be_revised_and_each_review_is_its_own_event(team, finding) -> None:
    client = client_for(team[ROLES.LEAD])
    client.post(f"/api/v1/annotations/{finding.pk}/confirm/", {"reason": "first look"}, format="json")
    response = client.post(
        f"/api/v1/annotations/{finding.pk}/reject/", {"reason": "the reference photo differs"}, format="json"
    )
    assert response.json()["review"]["status"] == "rejected"
    events = CustodyEvent.objects.filter(item=finding.item, action=CustodyAction.FINDING_REVIEWED).order_by(
        "seq"
    )
    assert [(e.details["previous"], e.details["decision"]) for e in events] == [
        ("lead", "confirmed"),
        ("confirmed", "rejected"),
    ]
    listed = client.get("/api/v1/annotations/", {"review_status": ReviewStatus.REJECTED}).json()["results"]
    assert [a["id"] for a in listed] == [finding.pk]


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}])
def test_a_review_without_a_reason_is_refused(team, finding, body) -> None:
    response = client_for(team[ROLES.LEAD]).post(
        f"/api/v1/annotations/{finding.pk}/reject/", body, format="json"
    )
    assert response.status_code == 400
    assert Annotation.objects.get(pk=finding.pk).review_status == ReviewStatus.LEAD
    assert not CustodyEvent.objects.filter(action=CustodyAction.FINDING_REVIEWED).exists()


@pytest.mark.parametrize("role", [ROLES.VICTIM_SUPPORT, ROLES.AUDITOR, ROLES.PROSECUTOR])
def test_other_roles_may_not_review(team, finding, role) -> None:
    if role == ROLES.PROSECUTOR:
        _share_with_the_prosecutor(team, finding.item)
    response = client_for(team[role]).post(
        f"/api/v1/annotations/{finding.pk}/confirm/", {"reason": "agree"}, format="json"
    )
    assert response.status_code == 403
    assert (
        "lead, investigator" not in response.json()["detail"]
        or "may confirm or reject" in response.json()["detail"]
    )
    assert Annotation.objects.get(pk=finding.pk).review_status == ReviewStatus.LEAD


def _job(team: dict[str, Any], *, failing: bool = False, value: int = 250) -> ScanJob:
    data = b"\x89PNG truncated" if failing else png((value, value, value))
    item = stored_item(
        case=team["case"], data=data, actor=team[ROLES.LEAD], name=f"{value}.png", mime="image/png"
    )
    job, planned = scan_job_create(
        kind=JobKind.MANUAL, case_id=team["case"].pk, detector_name="test-brightness", actor=None, send=False
    )
    from detection.pipeline import detection_item_process, scan_job_refresh

    detection_item_process(item_id=item.pk, run_ids=planned[item.pk])
    scan_job_refresh(job_id=job.pk)
    return job


def test_jobs_show_progress_and_failures_with_what_to_do(team, test_detectors) -> None:
    job = _job(team, failing=True)
    client = client_for(team[ROLES.VICTIM_SUPPORT])
    (listed,) = client.get("/api/v1/jobs/").json()["results"]
    assert listed["progress"] == {"total": 1, "done": 0, "failed": 1, "pending": 0, "finished": True}
    assert listed["status"] == "done_with_failures"
    detail = client.get(f"/api/v1/jobs/{job.pk}/").json()
    (failure,) = detail["progress"]["failures"]
    assert failure["detector"] == "test-brightness" and "cannot decode as an image" in failure["error"]
    assert "nothing to retry" in failure["error"]
    assert client_for(team["outsider"]).get(f"/api/v1/jobs/{job.pk}/").status_code == 404
    assert client_for(team["outsider"]).get("/api/v1/jobs/").json()["results"] == []


def test_job_list_queries_do_not_grow_with_jobs(team, test_detectors, django_assert_max_num_queries) -> None:
    for value in (200, 220, 240):
        _job(team, value=value)
    client = client_for(team[ROLES.LEAD])
    with django_assert_max_num_queries(2):  # count, page (progress counts are annotated)
        assert len(client.get("/api/v1/jobs/").json()["results"]) == 3


def test_annotation_list_queries_do_not_grow_with_findings(
    team, test_detectors, django_assert_max_num_queries
):
    for value in (10, 20, 30):
        item = stored_item(
            case=team["case"], data=png((value, 200, 10)), actor=team[ROLES.LEAD], name=f"{value}.png"
        )
        detection_run(item=item, detector=DominantChannelDetector())
    client = client_for(team[ROLES.LEAD])
    with django_assert_max_num_queries(3):  # count, page, the caller's roles
        assert len(client.get("/api/v1/annotations/").json()["results"]) == 3
    with django_assert_max_num_queries(2):
        assert len(client.get("/api/v1/runs/").json()["results"]) == 3


def test_acquisition_progress_for_members_only(team, test_detectors) -> None:
    job = _job(team)
    item = DetectionRun.objects.get(job=job).item
    url = f"/api/v1/acquisitions/{item.acquisition_id}/progress/"
    body = client_for(team[ROLES.AUDITOR]).get(url).json()
    assert body["case"] == team["case"].number and body["ingest_status"] == "completed"
    assert (body["detection"]["done"], body["detection"]["total"], body["detection"]["failed"]) == (1, 1, 0)
    assert client_for(team["outsider"]).get(url).status_code == 404
    assert client_for(team[ROLES.LEAD]).get("/api/v1/acquisitions/999999/progress/").status_code == 404


def test_a_case_rescan_through_the_api(
    team, test_detectors, eager, django_capture_on_commit_callbacks
) -> None:
    stored_item(case=team["case"], data=png((250, 250, 250)), actor=team[ROLES.LEAD], name="w.png")
    client = client_for(team[ROLES.INVESTIGATOR])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/jobs/", {"case": team["case"].number, "detector": "test-brightness"}, format="json"
        )
    assert response.status_code == 201, response.content
    assert (
        response.json()["kind"] == "rescan"
        and response.json()["requested_by"] == team[ROLES.INVESTIGATOR].username
    )
    job = ScanJob.objects.get(pk=response.json()["id"])
    assert DetectionRun.objects.filter(job=job, status=RunStatus.DONE).count() == 1


def test_rescans_need_a_reviewing_role_or_an_administrator(team, test_detectors) -> None:
    number = team["case"].number
    response = client_for(team[ROLES.VICTIM_SUPPORT]).post(
        "/api/v1/jobs/", {"case": number, "detector": "test-brightness"}, format="json"
    )
    assert response.status_code == 403
    response = client_for(team[ROLES.LEAD]).post(
        "/api/v1/jobs/", {"detector": "test-brightness"}, format="json"
    )
    assert response.status_code == 403 and "administrator" in response.json()["detail"]
    response = client_for(team[ROLES.LEAD]).post(
        "/api/v1/jobs/", {"case": number, "detector": "no-such"}, format="json"
    )
    assert response.status_code == 400 and "test-brightness" in response.json()["detail"]
    response = client_for(team["outsider"]).post(
        "/api/v1/jobs/", {"case": number, "detector": "test-brightness"}, format="json"
    )
    assert response.status_code == 404
    admin = UserFactory(is_superuser=True)
    response = client_for(admin).post("/api/v1/jobs/", {"detector": "test-brightness"}, format="json")
    assert response.status_code == 201 and response.json()["case"] is None
    assert client_for(admin).get("/api/v1/jobs/").json()["results"][0]["id"] == response.json()["id"]
    assert client_for(team[ROLES.LEAD]).get(f"/api/v1/jobs/{response.json()['id']}/").status_code == 404


def test_detectors_list_their_provenance_and_state(team, test_detectors, settings) -> None:
    settings.HAETAE_DETECTORS_DISABLED = ["test-channel"]
    body = client_for(team[ROLES.AUDITOR]).get("/api/v1/detectors/").json()
    listed = {d["name"]: d for d in body["detectors"]}
    assert listed["test-brightness"]["parameters"] == {"bound": 128}
    assert listed["test-brightness"]["validation"] == "not validated"
    assert (listed["test-brightness"]["installed"], listed["test-brightness"]["enabled"]) == (True, True)
    assert listed["test-channel"]["enabled"] is False
    assert body["unavailable"] == {}


def test_the_schema_documents_the_detection_api() -> None:
    paths = openapi_schema()["paths"]
    for path in (
        "/api/v1/runs/",
        "/api/v1/annotations/{id}/confirm/",
        "/api/v1/annotations/{id}/reject/",
        "/api/v1/jobs/{id}/",
        "/api/v1/acquisitions/{id}/progress/",
        "/api/v1/detectors/",
    ):
        assert path in paths, path
    assert {"200", "400", "403", "404"} <= set(
        paths["/api/v1/annotations/{id}/confirm/"]["post"]["responses"]
    )
