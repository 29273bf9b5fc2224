"""The portal end to end in a real browser (issue 6 §3): sign in, create a case, upload a ZIP and watch the
progress reach 100 %, reveal an item with a reason and see the custody event, confirm a finding, approve an
exhibit and download the report, sign in as victim support and find no media element or content URL
anywhere, sign in as a prosecutor and see only shared exhibits, switch the language.

Every step runs in the one browser session, against the live server, with real detectors and signing.
"""

import io
import re
import zipfile
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse

from access.choices import CaseMemberRole
from access.models import Case
from access.services import member_add
from evidence.choices import AcquisitionStatus, CustodyAction
from evidence.models import Acquisition, CustodyEvent, EvidenceItem
from exhibits.choices import ExhibitStatus
from exhibits.models import Exhibit
from tests.factories import jpeg_bytes
from tests.portal import conftest as portal_fixtures
from tests.portal.browser import browser_sign_in
from tests.portal.conftest import screenshot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager")]
# Celery as in the embedded default (the PostgreSQL leg names a broker with no worker behind it).
chromium = portal_fixtures.chromium
page = portal_fixtures.page

NUMBER = "2026-SEOUL-0042"
MEDIA_SELECTOR = "img, video, audio, object, embed, picture, canvas, source, iframe"
CONTENT_URL = re.compile(r"/content/|/preview")


def _users() -> dict[str, User]:
    """One person per role, made the way an operator makes them (manage.py create_user)."""
    roles = {
        "kim": "investigator",
        "choi": "investigator",
        "boss": "supervisor",
        "park": "victim_support",
        "lee": "prosecutor",
    }
    for name, role in roles.items():
        call_command("create_user", name, "--role", role, "--json")
    return {name: get_user_model().objects.get(username=name) for name in roles}


def _seized_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("DCIM/astronaut.jpg", jpeg_bytes("astronaut", quality=70))
        archive.writestr("DCIM/coffee.jpg", jpeg_bytes("coffee", quality=70))
        archive.writestr("Telegram/chelsea.jpg", jpeg_bytes("chelsea", quality=70))
    return buffer.getvalue()


def _no_media_anywhere(page: Any, where: str) -> None:
    """The page holds no media element and no content or preview URL, in any attribute or in the text."""
    assert page.locator(MEDIA_SELECTOR).count() == 0, f"a media element on {where}"
    assert not CONTENT_URL.search(page.content()), f"a content or preview URL on {where}"
    hrefs = page.eval_on_selector_all(
        "[href], [src], [hx-get], [data-src]", "els => els.map(e => e.outerHTML)"
    )
    assert not any(CONTENT_URL.search(h) for h in hrefs), f"a content or preview URL on {where}"


@pytest.mark.browser_locale("ko-KR")
def test_portal_flow(page: Any) -> None:
    people = _users()
    kim, choi, boss, park, lee = (people[n] for n in ("kim", "choi", "boss", "park", "lee"))

    # 1. Sign in (password and TOTP code).
    browser_sign_in(page, kim)
    screenshot(page, "flow-01-dashboard")

    # 2. Create a case.
    page.goto(page.base + reverse("portal:case_create"))
    page.fill("#id_number", NUMBER)
    page.fill("#id_title", "Deepfake distribution channel")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(page.base + reverse("portal:case_detail", args=[NUMBER]))
    screenshot(page, "flow-02-case-created")
    case = Case.objects.get(number=NUMBER)
    for user, role in [
        (choi, CaseMemberRole.INVESTIGATOR),
        (boss, CaseMemberRole.INVESTIGATOR),
        (park, CaseMemberRole.VICTIM_SUPPORT),
        (lee, CaseMemberRole.PROSECUTOR),
    ]:
        member_add(case=case, user=user, role=role, actor=kim)

    # 3. Upload a ZIP and watch the progress reach 100 % (ingest, then every detector run).
    page.goto(page.base + reverse("portal:ingest", args=[NUMBER]))
    page.fill("#id_seizure_reference", "압수조서 2026-11-03")
    page.fill("#id_seal_numbers", "SEAL-0042-1")
    page.fill("#id_participants", "Han (suspect's counsel)")
    page.fill("#id_location", "Mapo-gu, Seoul")
    page.fill("#id_source", "Galaxy S21, SN R58N0042")
    page.set_input_files(
        "#id_files", files=[{"name": "seized.zip", "mimeType": "application/zip", "buffer": _seized_zip()}]
    )
    page.click("#upload-button")
    page.wait_for_selector("#ingest-result")
    page.wait_for_selector(".processing-bar[data-percent='100']", timeout=180_000)
    assert page.locator("#upload-bar").evaluate("bar => bar.value") == 100
    screenshot(page, "flow-03-ingest-100")
    acquisition = Acquisition.objects.get(case=case)
    assert acquisition.status == AcquisitionStatus.COMPLETED and acquisition.seal_numbers == ["SEAL-0042-1"]
    astronaut = EvidenceItem.objects.get(case=case, original_name="astronaut.jpg")
    coffee = EvidenceItem.objects.get(case=case, original_name="coffee.jpg")

    # 4. Reveal an item with a reason and see the custody event.
    page.goto(page.base + reverse("portal:evidence_detail", args=[astronaut.pk]))
    page.fill("#reveal-reason", "compare with V-1's reference photograph")
    page.click("#reveal-button")
    # The custody timeline refreshes with the new `viewed` event and its reason.
    page.wait_for_selector("#custody >> text=compare with V-1's reference photograph")
    viewed = CustodyEvent.objects.filter(item=astronaut, action=CustodyAction.VIEWED).latest("seq")
    assert viewed.purpose == "compare with V-1's reference photograph" and viewed.actor == kim
    screenshot(page, "flow-04-revealed")

    # 5. Confirm a finding (a detector's lead becomes the investigator's confirmed finding).
    # Findings are folded by detector, and each review form opens on demand.
    page.locator("#detector-faces > summary").click()
    finding = page.locator("#detector-faces tbody.finding").first
    finding.locator("details.review > summary").click()
    finding.locator("input[name=reason]").fill("a face is visible at the centre")
    finding.locator("button[name=decision][value=confirmed]").click()
    page.wait_for_selector("tbody.finding .review-confirmed")
    assert CustodyEvent.objects.filter(item=astronaut, action=CustodyAction.FINDING_REVIEWED).exists()
    screenshot(page, "flow-05-finding-confirmed")

    # 6. An exhibit: drafted by choi, approved by the supervisor, shared by the lead; then the report.
    browser_sign_in(page, choi)
    page.goto(page.base + reverse("portal:exhibit_create", args=[NUMBER]))
    page.fill("#item-search", "astronaut")
    page.wait_for_selector(f"#search-results[data-query='astronaut'] #pick-{astronaut.pk}")
    page.check(f"#pick-{astronaut.pk}")
    page.fill("#id_description", "Image found in the seized phone's camera folder")
    page.fill("#id_opinion", "Consistent with the image posted in the channel (investigator's reading).")
    page.click("#exhibit-form button[type=submit]")
    page.wait_for_url(page.base + reverse("portal:exhibit_detail", args=[NUMBER, "E-001"]))
    page.click(f"form[action='{reverse('portal:exhibit_request_approval', args=[NUMBER, 'E-001'])}'] button")
    page.wait_for_selector("#exhibit-status.status-pending")
    browser_sign_in(page, boss)
    page.goto(page.base + reverse("portal:exhibit_detail", args=[NUMBER, "E-001"]))
    page.fill("#id_note", "hashes match the acquisition manifest")
    page.click("#approve-form button[type=submit]")
    page.wait_for_selector("#exhibit-status.status-approved")
    screenshot(page, "flow-06-exhibit-approved")
    browser_sign_in(page, kim)
    page.goto(page.base + reverse("portal:exhibit_detail", args=[NUMBER, "E-001"]))
    page.click(f"form[action='{reverse('portal:exhibit_share', args=[NUMBER, 'E-001'])}'] button")
    page.wait_for_selector("#exhibit-status.status-shared")
    assert Exhibit.objects.get(case=case).status == ExhibitStatus.SHARED
    page.goto(page.base + reverse("portal:exhibit_list", args=[NUMBER]))
    page.check("input[name=exhibits][value=E-001]")
    page.select_option("#id_language", "ko")
    page.click(f"form[action='{reverse('portal:report_create', args=[NUMBER])}'] button[type=submit]")
    page.wait_for_selector(".job-bar[data-status=done]", timeout=180_000)
    screenshot(page, "flow-06-report-done")
    with page.expect_download() as download:
        page.click("#report-download")
    assert download.value.suggested_filename.endswith(".pdf")
    assert CustodyEvent.objects.filter(case=case, action=CustodyAction.REPORT_DOWNLOADED).count() == 1

    # 7. Victim support: no media element and no content URL on any page they reach.
    browser_sign_in(page, park)
    _no_media_anywhere(page, "the dashboard")
    page.goto(page.base + reverse("portal:exhibit_list", args=[NUMBER]))
    _no_media_anywhere(page, "the exhibit list (refused)")
    page.goto(page.base + reverse("portal:support-home"))
    _no_media_anywhere(page, "the support start page")
    links = page.eval_on_selector_all("main a[href^='/']", "links => links.map(a => a.getAttribute('href'))")
    for href in dict.fromkeys(links):
        if "export" in href:  # a file download (the hash list), not a page
            continue
        page.goto(page.base + href)
        _no_media_anywhere(page, href)
    refused = page.request.get(page.base + f"/api/v1/evidence/{astronaut.pk}/preview/")
    assert refused.status == 403  # and the previews themselves stay closed to this session
    screenshot(page, "flow-07-victim-support")

    # 8. The prosecutor sees the shared exhibit, and nothing else of the case.
    browser_sign_in(page, lee)
    page.goto(page.base + reverse("portal:prosecutor_home"))
    page.click(f"a[href='{reverse('portal:prosecutor_case', args=[NUMBER])}']")
    page.wait_for_selector("table.shared-items")
    text = page.content()
    assert "E-001" in text and astronaut.blob_id in text
    assert coffee.original_name not in text and str(coffee.blob_id) not in text
    page.goto(page.base + reverse("portal:exhibit_list", args=[NUMBER]))  # sent to their own view
    assert page.url.endswith(reverse("portal:prosecutor_case", args=[NUMBER]))
    screenshot(page, "flow-08-prosecutor")

    # 9. Switch the language.
    page.goto(page.base + reverse("portal:prosecutor_verify"))
    assert page.locator("html").get_attribute("lang") == "ko"
    with page.expect_navigation():
        page.select_option("#lang-select", "en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="How to verify a report and an export bundle").is_visible()
    screenshot(page, "flow-09-english")
