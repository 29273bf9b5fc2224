"""Ingest pages: seizure record + files through the upload service, outcomes per file, processing progress."""

import io
import re
import zipfile
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from access.choices import CaseMemberRole
from access.services import legal_authority_record
from evidence.choices import AcquisitionStatus, CustodyAction
from evidence.models import Acquisition, CustodyEvent, EvidenceItem
from tests.factories import Team, jpeg_bytes, team, verified_login
from tests.portal.browser import browser_sign_in
from tests.portal.conftest import screenshot

pytestmark = pytest.mark.django_db
XHR = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}


def zip_with_a_damaged_member() -> bytes:
    """Two photographs and a member whose stored bytes no longer match its CRC (rejected at ingest)."""
    bad = b"B" * 1000
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("phone/DCIM/coffee.jpg", jpeg_bytes("coffee", quality=60))
        archive.writestr("phone/DCIM/chelsea.jpg", jpeg_bytes("chelsea", quality=60))
        archive.writestr("phone/notes/bad.txt", bad)
    data = bytearray(buffer.getvalue())
    data[data.find(bad) + 500] ^= 0xFF
    return bytes(data)


def _warrant(t: Team) -> Any:
    return legal_authority_record(
        case=t.case,
        actor=t.lead,
        number="2026-4471",
        scope="the suspect's phone and cloud accounts",
        issued_at=datetime(2026, 11, 1, tzinfo=UTC),
        court="Seoul Central District Court",
    )


def _upload(client: Client, t: Team, files: list[tuple[str, bytes]], **fields: Any) -> Any:
    uploads = []
    for name, data in files:
        handle = io.BytesIO(data)
        handle.name = name
        uploads.append(handle)
    return client.post(
        reverse("portal:ingest_upload", args=[t.case.number]), {"files": uploads, **fields}, **XHR
    )


@pytest.fixture
def disabled_detectors(settings: Any) -> None:
    """Detection is not under test here except where a test says so; the runs would only slow it down."""
    from detection.registry import detectors

    settings.HAETAE_DETECTORS_DISABLED = list(detectors())


def test_page_offers_the_case_authorities_and_every_seizure_field() -> None:
    t = team()
    warrant = _warrant(t)
    client = Client()
    verified_login(client, t.lead)
    page = client.get(reverse("portal:ingest", args=[t.case.number]))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'<option value="{warrant.pk}">' in html and "2026-4471" in html
    for name in ("seizure_reference", "seal_numbers", "participants", "location", "source"):
        assert f'name="{name}"' in html
        assert f'<label for="id_{name}">' in html
    assert 'name="files"' in html and "multiple" in html
    assert reverse("portal:ingest_upload", args=[t.case.number]) in html


def test_upload_records_the_seizure_and_lists_rejected_members_with_reasons(disabled_detectors: None) -> None:
    t = team()
    warrant = _warrant(t)
    investigator = t.member(CaseMemberRole.INVESTIGATOR)
    client = Client()
    verified_login(client, investigator)
    response = _upload(
        client,
        t,
        [("seized.zip", zip_with_a_damaged_member()), ("loose.jpg", jpeg_bytes("astronaut", quality=50))],
        legal_authority=str(warrant.pk),
        seizure_reference="압수조서 2026-11-03",
        seal_numbers="SEAL-001, SEAL-002\nSEAL-003",
        participants="Park (suspect's counsel)\nLee (witness)",
        location="Mapo-gu, Seoul",
        source="Galaxy S21 SN R58N123",
    )
    assert response.status_code == 201, response.content.decode()[:500]
    html = response.content.decode()
    acquisition = Acquisition.objects.get(case=t.case)
    assert acquisition.actor == investigator
    assert acquisition.seizure_reference == (
        "search and seizure warrant (압수·수색영장) 2026-4471 (Seoul Central District Court); "
        "압수조서 2026-11-03"
    )
    assert acquisition.seal_numbers == ["SEAL-001", "SEAL-002", "SEAL-003"]
    assert acquisition.participants == ["Park (suspect's counsel)", "Lee (witness)"]
    assert acquisition.location == "Mapo-gu, Seoul"
    assert acquisition.source_description == "Galaxy S21 SN R58N123"
    assert acquisition.status == AcquisitionStatus.COMPLETED
    started = CustodyEvent.objects.get(action=CustodyAction.ACQUISITION_STARTED, case=t.case)
    assert started.legal_authority == acquisition.seizure_reference
    assert started.seal_numbers == ["SEAL-001", "SEAL-002", "SEAL-003"]
    # zip, its three members and the loose photograph: one member rejected, with its reason on the page.
    assert EvidenceItem.objects.filter(case=t.case).count() == 5
    rejected = re.search(r'<table class="rejected">.*?</table>', html, re.S)
    assert rejected is not None
    assert "phone/notes/bad.txt" in rejected.group(0) and "Bad CRC-32" in rejected.group(0)
    assert "coffee.jpg" not in rejected.group(0)
    assert 'class="processing-bar" max="100" value="100"' in html  # detection off: nothing left to run
    assert "hx-trigger" not in html  # finished: the panel does not poll


def test_progress_panel_polls_until_detector_runs_end() -> None:
    from detection.models import DetectionRun, Detector
    from detection.models.runs import RunStatus

    t = team()
    client = Client()
    verified_login(client, t.lead)
    item = EvidenceItem.objects.get(pk=_item_pk(t))
    runs = [
        DetectionRun.objects.create(
            item=item, detector=Detector.objects.create(name=f"portal-test-{n}", version="1"), status=status
        )
        for n, status in enumerate((RunStatus.DONE, RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.FAILED))
    ]
    DetectionRun.objects.filter(pk=runs[3].pk).update(error="model file missing: import the pack again")
    url = reverse("portal:ingest_progress", args=[item.acquisition_id])
    panel = client.get(url, HTTP_HX_REQUEST="true")
    html = panel.content.decode()
    assert panel.status_code == 200 and "<html" not in html
    assert 'value="50"' in html and 'hx-trigger="every 1s"' in html
    assert "model file missing: import the pack again" in html
    DetectionRun.objects.filter(pk__in=[runs[1].pk, runs[2].pk]).update(status=RunStatus.DONE)
    done = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'value="100"' in done and "hx-trigger" not in done
    whole = client.get(url)
    assert "<html" in whole.content.decode() and whole.status_code == 200


def _item_pk(t: Team) -> int:
    from tests.factories import item

    return item(t, jpeg_bytes("camera", quality=50), name="camera.jpg").pk


def test_running_ingest_is_not_reported_done() -> None:
    t = team()
    client = Client()
    verified_login(client, t.lead)
    item = EvidenceItem.objects.get(pk=_item_pk(t))
    Acquisition.objects.filter(pk=item.acquisition_id).update(status=AcquisitionStatus.RUNNING)
    html = client.get(
        reverse("portal:ingest_progress", args=[item.acquisition_id]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'value="0"' in html and "hx-trigger" in html


@pytest.mark.parametrize(
    "role", [CaseMemberRole.PROSECUTOR, CaseMemberRole.VICTIM_SUPPORT, CaseMemberRole.AUDITOR]
)
def test_roles_that_do_not_ingest_are_refused_before_the_body_is_read(role: str, monkeypatch: Any) -> None:
    from evidence.uploads import VaultUploadHandler

    t = team()
    client = Client(enforce_csrf_checks=True)  # the middleware would parse the body if it checked first
    verified_login(client, t.member(role))
    client.get("/")  # the CSRF cookie
    received: list[str] = []
    original = VaultUploadHandler.new_file

    def new_file(self: Any, *args: Any, **kwargs: Any) -> None:
        received.append("file")
        original(self, *args, **kwargs)

    monkeypatch.setattr(VaultUploadHandler, "new_file", new_file)
    assert client.get(reverse("portal:ingest", args=[t.case.number])).status_code == 403
    response = _upload(client, t, [("a.jpg", b"x")], csrfmiddlewaretoken=client.cookies["csrftoken"].value)
    assert response.status_code == 403
    assert "only members with the role" in response.content.decode()
    assert received == [] and not Acquisition.objects.exists()
    progress = client.get(reverse("portal:ingest_progress", args=[1]), **XHR)
    assert progress.status_code == 404


def test_strangers_get_not_found_and_the_unsigned_go_to_sign_in() -> None:
    t = team()
    from tests.factories import new_user

    client = Client()
    verified_login(client, new_user())
    assert client.get(reverse("portal:ingest", args=[t.case.number])).status_code == 404
    assert _upload(client, t, [("a.jpg", b"x")]).status_code == 404
    anonymous = Client()
    response = anonymous.get(reverse("portal:ingest", args=[t.case.number]))
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert _upload(anonymous, t, [("a.jpg", b"x")]).status_code == 302
    assert not Acquisition.objects.exists()


def test_upload_without_the_csrf_token_is_refused_and_stores_nothing() -> None:
    t = team()
    client = Client(enforce_csrf_checks=True)
    verified_login(client, t.lead)
    response = _upload(client, t, [("a.jpg", jpeg_bytes("coffee", quality=40))])
    assert response.status_code == 403
    assert not Acquisition.objects.exists()
    page = client.get(reverse("portal:ingest", args=[t.case.number]))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert token is not None
    accepted = _upload(
        client, t, [("a.jpg", jpeg_bytes("coffee", quality=40))], csrfmiddlewaretoken=token.group(1)
    )
    assert accepted.status_code == 201


def test_session_without_a_verified_code_is_sent_to_sign_in(settings: Any) -> None:
    settings.HAETAE_REQUIRE_TOTP = True
    t = team()
    client = Client()
    client.force_login(t.lead)
    response = _upload(client, t, [("a.jpg", b"x")])
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not Acquisition.objects.exists()


def test_bad_input_says_what_to_fix_and_ingests_nothing() -> None:
    t = team()
    client = Client()
    verified_login(client, t.lead)
    url = reverse("portal:ingest_upload", args=[t.case.number])
    no_files = client.post(url, {"location": "Seoul"}, **XHR)
    assert no_files.status_code == 400
    assert "Choose at least one file" in no_files.content.decode()
    long_seal = _upload(client, t, [("a.jpg", b"x")], seal_numbers="S" * 150)
    assert long_seal.status_code == 400 and "at most 100 characters" in long_seal.content.decode()
    foreign = _upload(client, t, [("a.jpg", b"x")], legal_authority="999999")
    assert foreign.status_code == 400
    assert not Acquisition.objects.exists()


def test_everything_rejected_is_a_422_with_the_reasons(disabled_detectors: None) -> None:
    t = team()
    client = Client()
    verified_login(client, t.lead)
    data = bytearray()
    good = io.BytesIO()
    with zipfile.ZipFile(good, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("secret.jpg", b"ciphertext")
    data = bytearray(good.getvalue())
    data[6] |= 0x1
    data[data.find(b"PK\x01\x02") + 8] |= 0x1
    response = _upload(client, t, [("locked.zip", bytes(data))])
    # The archive itself is kept (an ingested item); its encrypted member is rejected.
    assert response.status_code == 201
    assert "password" in response.content.decode()


def test_without_javascript_the_form_posts_and_gets_the_whole_page(disabled_detectors: None) -> None:
    t = team()
    client = Client()
    verified_login(client, t.lead)
    handle = io.BytesIO(jpeg_bytes("coffee", quality=40))
    handle.name = "coffee.jpg"
    response = client.post(reverse("portal:ingest_upload", args=[t.case.number]), {"files": [handle]})
    html = response.content.decode()
    assert response.status_code == 201 and "<html" in html and 'id="ingest-result"' in html
    assert "Recent acquisitions" in html or "최근" in html


@pytest.mark.django_db(transaction=True)
def test_browser_uploads_a_zip_with_a_progress_bar_and_sees_100_percent(
    page: Any, settings: Any, disabled_detectors: None
) -> None:
    t = team()
    _warrant(t)
    browser_sign_in(page, t.lead)
    page.goto(page.base + reverse("portal:ingest", args=[t.case.number]))
    page.select_option("#id_legal_authority", index=1)
    page.fill("#id_seal_numbers", "SEAL-101")
    page.fill("#id_participants", "Choi (witness)")
    page.fill("#id_location", "Seoul")
    page.set_input_files(
        "#id_files",
        files=[{"name": "seized.zip", "mimeType": "application/zip", "buffer": zip_with_a_damaged_member()}],
    )
    screenshot(page, "ingest-form")
    page.click("#upload-button")
    page.wait_for_selector("#ingest-result")
    page.wait_for_selector(".processing-bar[data-percent='100']")
    assert page.locator("#upload-bar").evaluate("bar => bar.value") == 100
    assert "phone/notes/bad.txt" in page.locator("table.rejected").inner_text()
    acquisition = Acquisition.objects.get(case=t.case)
    page.wait_for_selector(
        f"#recent-acquisitions a[href='{reverse('portal:ingest_progress', args=[acquisition.pk])}']"
    )
    screenshot(page, "ingest-done")


@pytest.mark.django_db(transaction=True)
def test_browser_upload_after_the_session_ended_says_so_and_ingests_nothing(page: Any) -> None:
    t = team()
    browser_sign_in(page, t.lead)
    page.goto(page.base + reverse("portal:ingest", args=[t.case.number]))
    page.context.clear_cookies()  # signed out elsewhere, or the session expired
    page.set_input_files(
        "#id_files",
        files=[{"name": "a.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes("coffee", quality=30)}],
    )
    page.click("#upload-button")
    page.wait_for_function(
        "() => document.getElementById('upload-text').textContent.includes('sign in again')"
    )
    assert page.locator("#upload-result").inner_text().strip() == ""
    assert not Acquisition.objects.exists()
    screenshot(page, "ingest-session-ended")


def test_recent_acquisitions_poll_while_an_ingest_runs() -> None:
    t = team()
    client = Client()
    verified_login(client, t.lead)
    item = EvidenceItem.objects.get(pk=_item_pk(t))
    page_url = reverse("portal:ingest", args=[t.case.number])
    done = client.get(page_url, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="recent-acquisitions"' in done and "every 2s" not in done and "<html" not in done
    Acquisition.objects.filter(pk=item.acquisition_id).update(status=AcquisitionStatus.RUNNING)
    running = client.get(page_url, HTTP_HX_REQUEST="true").content.decode()
    assert "every 2s" in running
    assert re.search(r"<td>1 <small>", running)  # one item recorded so far


def test_a_source_ingest_shows_the_messages_recorded_while_it_runs_and_once_done(
    disabled_detectors: None,
) -> None:
    from evidence.ingest import UploadSource, evidence_ingest
    from tests.sources.exports import KAKAO_PC

    t = team()
    client = Client()
    verified_login(client, t.lead)
    seen: list[str] = []

    class Probe:
        """Fetches the progress panel each time a batch of messages has committed, mid-run."""

        acquisition_id = 0

        def parsing(self, total_bytes: int) -> None:
            self.acquisition_id = Acquisition.objects.latest("pk").pk

        def parsed(self, size: int) -> None:
            pass

        def recorded(self, messages: int) -> None:
            url = reverse("portal:ingest_progress", args=[self.acquisition_id])
            seen.append(client.get(url, HTTP_HX_REQUEST="true").content.decode())

    talk = io.BytesIO(KAKAO_PC.encode())
    result = evidence_ingest(
        case=t.case,
        sources=[UploadSource(name="Talk_2024.1.5.txt", stream=talk)],
        actor=t.lead,
        source_kind="kakaotalk",
        source_progress=Probe(),
    )
    assert result.source_counts["messages"] == 4
    assert seen, "the panel was fetched while the messages were recorded"
    running = seen[0]
    assert "4 messages recorded" in running and "still reading" in running and "hx-trigger" in running
    done = client.get(
        reverse("portal:ingest_progress", args=[result.acquisition.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "4 messages recorded" in done and "(kakaotalk)" in done and "still reading" not in done


def test_a_plain_files_ingest_shows_no_message_line() -> None:
    t = team()
    client = Client()
    verified_login(client, t.lead)
    item = EvidenceItem.objects.get(pk=_item_pk(t))
    html = client.get(
        reverse("portal:ingest_progress", args=[item.acquisition_id]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "source-progress" not in html and "messages recorded" not in html
