"""The dashboard: my cases with my role, alerts by role (cross-case matches, overdue takedowns, integrity
incidents), jobs in progress with progress bars polled by HTMX, and the navigation each role sees."""

from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from access.choices import CaseMemberRole
from access.models import CaseMember
from detection.models import DetectionRun, Detector, HashBank, Match, MatchAlert, ScanJob
from detection.models.runs import JobKind, RunStatus
from evidence.choices import AcquisitionStatus, CustodyAction
from evidence.custody import EventSpec, custody_append_many
from evidence.models import Acquisition
from exhibits.models import Report
from support.models import TakedownRequest
from tests.factories import (
    assign_worker,
    bank_match,
    case_opener,
    item,
    new_user,
    team,
    victim,
)
from tests.factories import portal_client as _client

pytestmark = pytest.mark.django_db


def test_my_cases_show_my_role_and_never_another_teams_case() -> None:
    mine, other = team(), team()
    analyst = mine.member(CaseMemberRole.ANALYST)
    page = _client(analyst).get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert mine.case.number in page and "<td>analyst</td>" in page
    assert other.case.number not in page


def test_a_match_alert_names_the_other_case_only_by_whom_to_ask() -> None:
    mine, other = team(), team()
    bank = HashBank.objects.create(name="victim originals", kind="victim", case=other.case)
    own_item = item(mine, data=b"first", name="leak.jpg")
    bank_match(item=own_item, bank=bank, sha256=own_item.blob_id or "", recipient=mine.lead)
    page = _client(mine.lead).get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "alert-match" in page and "leak.jpg" in page
    assert other.case.number not in page  # the bank's case: only its lead's name, to ask
    assert other.lead.get_username() in page


def test_an_item_match_alert_shows_my_side_whichever_side_of_the_match_it_is() -> None:
    mine, other = team(), team()
    my_item = item(mine, data=b"mine", name="posted.jpg")
    their_item = item(other, data=b"theirs", name="victim-original.png")
    match = Match.objects.create(item=their_item, other_item=my_item, kind="pdq", distance=2)
    MatchAlert.objects.create(match=match, recipient=mine.lead, case=mine.case)
    page = _client(mine.lead).get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "posted.jpg" in page and f"item {my_item.pk}" in page
    assert "victim-original.png" not in page and other.case.number not in page
    assert "an item in a case you are not on" in page and other.lead.get_username() in page


def test_overdue_takedowns_show_to_the_support_worker_and_not_to_an_analyst() -> None:
    t = team()
    worker = t.member(CaseMemberRole.VICTIM_SUPPORT)
    analyst = t.member(CaseMemberRole.ANALYST)
    support_file = assign_worker(victim(t), worker)
    TakedownRequest.objects.create(
        support_file=support_file,
        addressee="platform",
        platform="telegram",
        target_url="https://t.me/room/17",
        created_by=worker,
        status="sent",
        sent_at=timezone.now() - timedelta(days=10),
    )
    assert "alert-takedown" in _client(worker).get("/").content.decode()
    assert "alert-takedown" not in _client(analyst).get("/").content.decode()


def test_integrity_incidents_of_my_cases_only() -> None:
    mine, other = team(), team()
    stored = item(other)
    custody_append_many(
        [
            EventSpec(
                case_id=other.case.pk,
                item_id=stored.pk,
                action=CustodyAction.INCIDENT,
                actor=None,
                details={
                    "source": "verify",
                    "problems": [{"check": "blob_hash", "event": None, "message": "x"}],
                },
            )
        ]
    )
    assert "blob_hash" in _client(other.lead).get("/").content.decode()
    assert "blob_hash" not in _client(mine.lead).get("/").content.decode()


def test_jobs_show_progress_and_poll_every_two_seconds_while_running() -> None:
    t = team()
    running = Acquisition.objects.create(
        case=t.case, actor=t.lead, tool_name="haetae", tool_version="1", status=AcquisitionStatus.RUNNING
    )
    stored = item(t)
    job = ScanJob.objects.create(kind=JobKind.MANUAL, case=t.case, requested_by=t.lead)
    detector = Detector.objects.create(name="demo", version="1")
    DetectionRun.objects.create(
        item=stored, detector=detector, job=job, status=RunStatus.DONE, input_sha256="a"
    )
    other_detector = Detector.objects.create(name="demo2", version="1")
    DetectionRun.objects.create(item=stored, detector=other_detector, job=job, input_sha256="a")
    Report.objects.create(
        case=t.case, report_id="R-1", version=1, requested_by=t.lead, status="running", progress=40
    )
    client = _client(t.lead)
    page = client.get("/").content.decode()
    assert f'id="job-acquisition-{running.pk}"' in page
    assert f'id="progress-scan-{job.pk}" max="100" value="50"' in page
    assert 'value="40"' in page  # the report's own percentage
    partial = client.get("/jobs/").content.decode()
    assert partial.lstrip().startswith('<section id="jobs"') and 'hx-trigger="every 2s"' in partial
    Acquisition.objects.filter(pk=running.pk).update(
        status=AcquisitionStatus.COMPLETED, finished_at=timezone.now() - timedelta(hours=1)
    )
    ScanJob.objects.filter(pk=job.pk).update(status="done", finished_at=timezone.now() - timedelta(hours=1))
    Report.objects.update(status="done", finished_at=timezone.now() - timedelta(hours=1))
    idle = client.get("/jobs/").content.decode()
    assert "every 15s" in idle and "<progress" not in idle


def test_no_jobs_section_for_roles_that_do_not_ingest() -> None:
    t = team()
    auditor = t.member(CaseMemberRole.AUDITOR)
    Acquisition.objects.create(case=t.case, actor=t.lead, tool_name="haetae", tool_version="1")
    page = _client(auditor).get("/").content.decode()
    assert 'id="jobs"' not in page
    assert _client(auditor).get("/jobs/").content.decode().count("<progress") == 0


def test_navigation_follows_roles() -> None:
    t = team()
    auditor = t.member(CaseMemberRole.AUDITOR)
    operator = new_user(is_staff=True)
    assert 'href="/audit/"' in _client(auditor).get("/").content.decode()
    lead_page = _client(t.lead).get("/").content.decode()
    assert 'href="/audit/"' not in lead_page and 'href="/admin/"' not in lead_page
    assert 'href="/admin/"' in _client(operator).get("/").content.decode()
    # Opening a case is a global-role action: the link follows the policy's CASE_OPEN row.
    assert 'href="/cases/new/"' in _client(case_opener()).get("/").content.decode()
    assert 'href="/cases/new/"' not in _client(auditor).get("/").content.decode()


def test_the_dashboard_needs_a_verified_sign_in() -> None:
    response = Client().get("/jobs/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def _dashboard_queries(client: Client) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get("/").status_code == 200
    return len(captured)


def test_dashboard_queries_do_not_grow_with_cases_and_jobs() -> None:
    lead = new_user()
    client = _client(lead)

    def add_case_with_jobs() -> None:
        t = team()
        CaseMember.objects.create(case=t.case, user=lead, role=CaseMemberRole.INVESTIGATOR)
        Acquisition.objects.create(case=t.case, actor=lead, tool_name="haetae", tool_version="1")
        ScanJob.objects.create(kind=JobKind.MANUAL, case=t.case, requested_by=lead)
        Report.objects.create(case=t.case, report_id=f"R-{t.case.pk}", version=1, requested_by=lead)

    add_case_with_jobs()
    first = _dashboard_queries(client)
    for _ in range(4):
        add_case_with_jobs()
    assert _dashboard_queries(client) == first


def test_a_poll_after_the_session_ended_sends_the_whole_page_to_sign_in() -> None:
    response = Client().get("/jobs/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and response["HX-Redirect"] == "/login/?next=/"


@override_settings(ROOT_URLCONF="tests.portal.urls_with_areas")
def test_areas_and_case_links_appear_once_their_pages_are_installed() -> None:
    t = team()
    worker = t.member(CaseMemberRole.VICTIM_SUPPORT)
    prosecutor = t.member(CaseMemberRole.PROSECUTOR)
    number = t.case.number
    lead_page = _client(t.lead).get("/").content.decode()
    assert f'<a href="/cases/{number}/">{number}</a>' in lead_page
    assert 'href="/support/"' not in lead_page and 'href="/prosecutor/"' not in lead_page
    support_page = _client(worker).get("/").content.decode()
    assert 'href="/support/"' in support_page and f'<a href="/cases/{number}/support/">' in support_page
    prosecutor_page = _client(prosecutor).get("/").content.decode()
    assert (
        'href="/prosecutor/"' in prosecutor_page
        and f'<a href="/prosecutor/cases/{number}/">' in prosecutor_page
    )


def test_marking_an_alert_seen_removes_it_and_only_for_its_recipient() -> None:
    mine, other = team(), team()
    bank = HashBank.objects.create(name="victim originals", kind="victim", case=other.case)
    own_item = item(mine, data=b"first", name="leak.jpg")
    _match, alert = bank_match(item=own_item, bank=bank, sha256=own_item.blob_id or "", recipient=mine.lead)
    assert alert is not None
    intruder = _client(other.lead)
    refused = intruder.post(f"/alerts/{alert.pk}/seen/", HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 404 and "addressed to you" in refused.content.decode()
    client = _client(mine.lead)
    assert client.get(f"/alerts/{alert.pk}/seen/").status_code == 405
    swapped = client.post(f"/alerts/{alert.pk}/seen/", HTTP_HX_REQUEST="true")
    assert swapped.status_code == 200 and swapped.content == b""
    assert "alert-match" not in client.get("/").content.decode()
    assert client.post(f"/alerts/{alert.pk}/seen/")["Location"] == "/"


def test_a_detection_job_shows_each_detectors_progress_and_time_left() -> None:
    from detection.selectors import jobs_detector_progress
    from portal.templatetags.portal import time_left

    t = team()
    job = ScanJob.objects.create(kind=JobKind.ACQUISITION, case=t.case, requested_by=t.lead)
    faces, pdq = Detector.objects.create(name="faces", version="2"), Detector.objects.create(name="pdq")
    now = timezone.now()
    started = now - timedelta(minutes=10)
    for index in range(4):
        stored = item(t, data=f"photo {index}".encode(), name=f"photo-{index}.jpg")
        done = index < 2
        DetectionRun.objects.create(
            item=stored,
            detector=faces,
            job=job,
            input_sha256="a",
            status=RunStatus.DONE if done else RunStatus.QUEUED,
            started_at=started if done else None,
            finished_at=now if done else None,
        )
        DetectionRun.objects.create(
            item=stored, detector=pdq, job=job, input_sha256="a", status=RunStatus.DONE, started_at=started
        )
    progress = {p.name: p for p in jobs_detector_progress(job_ids=[job.pk], now=now)[job.pk]}
    # Two of four faces runs in ten minutes: the other two take about ten more.
    assert (progress["faces"].finished, progress["faces"].total, progress["faces"].percent) == (2, 4, 50)
    assert progress["faces"].seconds_left == 600
    assert (progress["pdq"].percent, progress["pdq"].seconds_left) == (100, None)

    page = _client(t.lead).get("/jobs/").content.decode()
    faces_row = page.split('data-detector="faces"')[1].split("</tr>")[0]
    assert "2 / 4" in faces_row and 'value="50"' in faces_row and time_left(600) in faces_row
    assert "4 / 4" in page.split('data-detector="pdq"')[1].split("</tr>")[0]
    assert time_left(600) != time_left(None) and time_left(30) != time_left(600)
