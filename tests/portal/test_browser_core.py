"""In a real browser: the dashboard's progress bar advancing through HTMX polling, and the auditor's ledger
with an event's inclusion proof. Screenshots go to test-artifacts/portal/."""

from typing import Any

import pytest
from django.test import override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.choices import CaseMemberRole
from detection.models import DetectionRun, Detector, ScanJob
from detection.models.runs import JobKind, RunStatus
from evidence.ledger import checkpoint_create
from evidence.models import CustodyEvent
from tests.factories import item, jpeg_bytes, team
from tests.portal.conftest import screenshot

PASSWORD = "a long enough passphrase 42"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("compiled_catalogues"),
]


def _sign_in(page: Any, user: Any) -> None:
    user.set_password(PASSWORD)
    user.save()
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    page.goto(page.base + "/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.fill(
        "#id_otp_token", f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
    )
    page.locator("main button[type=submit]").click()
    page.wait_for_url(page.base + "/")


@override_settings(HAETAE_REQUIRE_TOTP=True, HAETAE_LOGIN_THROTTLE=False)
@pytest.mark.browser_locale("ko-KR")
def test_dashboard_progress_bar_advances_by_polling(page: Any) -> None:
    t = team()
    first, second = (
        item(t, data=jpeg_bytes("coffee"), name="a.jpg"),
        item(t, data=jpeg_bytes("rocket"), name="b.jpg"),
    )
    job = ScanJob.objects.create(kind=JobKind.MANUAL, case=t.case, requested_by=t.lead)
    detector = Detector.objects.create(name="pdq", version="1")
    DetectionRun.objects.create(
        item=first, detector=detector, job=job, status=RunStatus.DONE, input_sha256="a"
    )
    pending = DetectionRun.objects.create(item=second, detector=detector, job=job, input_sha256="b")
    _sign_in(page, t.lead)
    bar = page.locator(f"#progress-scan-{job.pk}")
    assert bar.get_attribute("value") == "50"
    assert page.locator("#jobs").get_attribute("hx-trigger") == "every 2s"
    screenshot(page, "dashboard-job-running")
    DetectionRun.objects.filter(pk=pending.pk).update(status=RunStatus.DONE)
    page.wait_for_function(
        f"document.querySelector('#progress-scan-{job.pk}').getAttribute('value') === '100'", timeout=10_000
    )
    screenshot(page, "dashboard-job-finished")
    assert page.locator("html").get_attribute("lang") == "ko"
    assert page.get_by_role("heading", name="진행 중인 작업").is_visible()
    # Keyboard: the first Tab reaches the skip link, which moves focus to the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


@override_settings(HAETAE_REQUIRE_TOTP=True, HAETAE_LOGIN_THROTTLE=False)
@pytest.mark.browser_locale("ko-KR")
def test_auditor_browses_the_ledger_and_opens_a_proof(page: Any) -> None:
    t = team()
    auditor = t.member(CaseMemberRole.AUDITOR)
    stored = item(t, data=jpeg_bytes("astronaut"), name="astronaut.jpg")
    checkpoint = checkpoint_create()
    _sign_in(page, auditor)
    page.get_by_role("link", name="감사").first.click()
    page.wait_for_url(page.base + "/audit/")
    assert page.locator("nav a[aria-current=page]").first.inner_text() == "감사"
    screenshot(page, "audit-ledger")
    page.select_option("#f-action", "stored")
    page.get_by_role("button", name="필터").click()
    page.wait_for_url("**action=stored**")
    rows = page.locator("table.ledger tbody tr")
    assert rows.count() == 1
    stored_event = CustodyEvent.objects.get(item=stored, action="stored")
    page.get_by_role("link", name=f"#{stored_event.seq}").click()
    page.wait_for_url(f"**/audit/events/{stored_event.seq}/")
    assert page.get_by_text(checkpoint.root_hash).is_visible()
    assert page.get_by_text(stored_event.prev_hash).first.is_visible()
    screenshot(page, "audit-event-proof")
    # Nothing an auditor sees may carry media, thumbnails or content URLs.
    for url in ["/audit/", f"/audit/events/{stored_event.seq}/", "/audit/checkpoints/", "/"]:
        page.goto(page.base + url)
        assert page.locator("img, video, picture, object, canvas, embed, iframe").count() == 0, url
        links = page.eval_on_selector_all("[href], [src]", "els => els.map(e => e.href || e.src)")
        assert not [link for link in links if "/content" in link or "/preview" in link], url
    page.goto(page.base + "/audit/checkpoints/")
    with page.expect_navigation():
        page.select_option("#lang-select", "en")
    assert page.get_by_role("heading", name="Checkpoints").is_visible()
    screenshot(page, "audit-checkpoints-en")
