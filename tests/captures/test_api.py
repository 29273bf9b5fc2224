"""The captures API: requesters follow the status; only those who may see the result get it."""

from typing import Any

import pytest
from django.urls import reverse

from access.choices import CaseMemberRole
from captures.choices import CaptureStatus
from captures.models import Capture
from evidence.choices import CustodyAction
from evidence.models import CustodyEvent
from support import services as support
from tests.evidence.test_tasks import celery_conf
from tests.factories import api_client as client_for
from tests.factories import custody_actions, full_team, victim_takedown

pytestmark = pytest.mark.django_db

RESULT_FIELDS = {"final_url", "resolved_ip", "user_agent", "facts", "items", "acquisition", "manifest_sha256"}


def test_support_worker_submits_a_url_and_sees_its_status_never_the_result(
    django_capture_on_commit_callbacks: Any,
) -> None:
    t = full_team()
    url = reverse("captures-api:capture-list", kwargs={"number": t.case.number})
    # A reserved address (TEST-NET-1): the run is refused before any connection, a recorded failure.
    with celery_conf(task_always_eager=True), django_capture_on_commit_callbacks(execute=True):
        answer = client_for(t.support).post(url, {"url": "http://192.0.2.1/post/17"}, format="json")
    assert answer.status_code == 202, answer.content
    assert set(answer.json()) & RESULT_FIELDS == set()
    capture = Capture.objects.get()
    assert capture.status == CaptureStatus.FAILED and "reserved" in capture.reason
    assert capture.requested_role == CaseMemberRole.VICTIM_SUPPORT
    actions = set(custody_actions(case=t.case))
    assert {CustodyAction.CAPTURE_REQUESTED, CustodyAction.CAPTURE_FAILED} <= actions

    listed = client_for(t.support).get(url).json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [row["status"] for row in rows] == ["failed"]
    assert set(rows[0]) & RESULT_FIELDS == set()
    detail = client_for(t.investigator).get(
        reverse("captures-api:capture-detail", kwargs={"number": t.case.number, "pk": capture.pk})
    )
    assert detail.status_code == 200 and set(detail.json()) >= RESULT_FIELDS


def test_bad_urls_are_refused_and_the_auditor_may_not_ask() -> None:
    t = full_team()
    url = reverse("captures-api:capture-list", kwargs={"number": t.case.number})
    answer = client_for(t.investigator).post(url, {"url": "file:///etc/passwd"}, format="json")
    assert answer.status_code == 400 and "http://" in answer.json()["detail"]
    assert client_for(t.auditor).post(url, {"url": "http://example.org/"}, format="json").status_code == 403
    assert client_for(t.auditor).get(url).status_code == 403
    assert not Capture.objects.exists()


def test_a_takedown_target_is_captured_and_a_reappearance_triggers_a_new_capture() -> None:
    t = full_team()
    takedown = victim_takedown(t, target_url="https://t.me/some_room/17")
    answer = client_for(t.support).post(
        reverse("support-api:takedown-capture", kwargs={"number": t.case.number, "pk": takedown.pk})
    )
    assert answer.status_code == 202, answer.content
    assert answer.json()["url"] == "https://t.me/some_room/17" and set(answer.json()) & RESULT_FIELDS == set()
    removed = support.takedown_mark_removed(
        takedown=support.takedown_send(takedown=takedown, actor=t.support), actor=t.support
    )
    result = support.takedown_record_reappearance(
        case=t.case, takedown=removed, actor=t.support, url="https://t.me/other_room/3"
    )
    assert result.capture is not None and result.capture.url == "https://t.me/other_room/3"
    assert [c.url for c in Capture.objects.order_by("id")] == [
        "https://t.me/some_room/17",
        "https://t.me/other_room/3",
    ]
    events = CustodyEvent.objects.filter(case=t.case, action=CustodyAction.TAKEDOWN_CHANGED)
    assert {e.details.get("capture") for e in events} >= {c.pk for c in Capture.objects.all()}
