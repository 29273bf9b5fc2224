"""Victim support in a real browser: sign in with a TOTP code, visit every support page, act on one, and
find no media element and no content URL anywhere in the DOM (screenshots under test-artifacts/portal/)."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.selectors import case_get_for
from support import services as support
from tests.factories import full_team, link, pdq_annotate, person, photo_item
from tests.portal.conftest import screenshot

PASSWORD = "a long enough passphrase 42"
MEDIA_SELECTOR = "img, video, audio, object, embed, picture, canvas, svg, iframe, source, image"
# Any attribute of any element that names content, a preview or an evidence page.
CONTENT_URL_SCRIPT = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('*')) {
    for (const name of ['href', 'src', 'srcset', 'action', 'data', 'poster', 'hx-get', 'hx-post']) {
      const value = el.getAttribute(name);
      if (value && /\\/content\\/|\\/preview|\\/evidence\\//.test(value)) {
        bad.push(el.tagName + ' ' + name + '=' + value);
      }
    }
    const style = el.getAttribute('style') || '';
    if (/url\\(/.test(style)) bad.push(el.tagName + ' style=' + style);
  }
  return bad;
}"""


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def assert_no_media(page: Any) -> None:
    assert page.locator(MEDIA_SELECTOR).count() == 0, page.url
    assert page.evaluate(CONTENT_URL_SCRIPT) == [], page.url


@pytest.mark.django_db(transaction=True)
@override_settings(HAETAE_REQUIRE_TOTP=True, HAETAE_LOGIN_THROTTLE=False)
def test_support_worker_visits_every_support_page_and_finds_no_media(page: Any) -> None:
    t = full_team()
    worker: Any = t.support
    worker.set_password(PASSWORD)
    worker.save()
    device = TOTPDevice.objects.create(user=worker, name="phone", confirmed=True)
    victim = person(t.case, pseudonym="V-1", actor=t.lead)
    item = photo_item(t.case, t.lead, which="astronaut")
    link(item, victim, actor=t.lead)
    pdq_annotate(item)
    sfile = support.support_file_open(case=t.case, person=victim, actor=worker, assigned_worker=worker)
    sent = support.takedown_create(
        case=t.case,
        support_file=sfile,
        actor=worker,
        addressee="platform",
        platform="telegram",
        target_url="https://t.me/some_room/812",
        item_ids=[item.pk],
    )
    support.takedown_send(takedown=sent, actor=worker, sent_at=timezone.now() - timedelta(days=8))
    removed = support.takedown_create(
        case=t.case,
        support_file=sfile,
        actor=worker,
        addressee="kcsc",
        platform="website",
        target_url="https://example.org/post/1",
        item_ids=[item.pk],
    )
    support.takedown_mark_removed(
        takedown=support.takedown_send(takedown=removed, actor=worker), actor=worker
    )
    support.note_add(
        case=case_get_for(user=worker, number=t.case.number),
        support_file=sfile,
        text="reach by text message only",
        actor=worker,
    )

    page.goto(page.base + "/support/")
    page.fill("#id_username", worker.username)
    page.fill("#id_password", PASSWORD)
    page.fill("#id_otp_token", _code(device))
    page.locator("main button[type=submit]").click()
    page.wait_for_url(page.base + "/support/")

    number = t.case.number
    visits = {
        "support-home": "/support/",
        "support-case": f"/cases/{number}/support/",
        "support-file": f"/cases/{number}/support/files/{sfile.pk}/",
        "support-notes": f"/cases/{number}/support/files/{sfile.pk}/notes/",
        "support-takedowns": f"/cases/{number}/support/takedowns/",
        "support-takedown-sent": f"/cases/{number}/support/takedowns/{sent.pk}/",
        "support-takedown-removed": f"/cases/{number}/support/takedowns/{removed.pk}/",
        "support-overdue": f"/cases/{number}/support/overdue/",
    }
    for name, path in visits.items():
        page.goto(page.base + path)
        assert page.locator("h1").count() == 1, path
        assert_no_media(page)
        screenshot(page, name)
    assert page.get_by_text("V-1").first.is_visible()

    # No consent yet: the export is refused with what to do.
    page.goto(page.base + visits["support-file"])
    page.fill("#id_recipient", "StopNCII")
    page.locator("#hash-export button[type=submit]").click()
    assert page.locator("[role=alert]").inner_text().count("consent") >= 1
    assert_no_media(page)
    screenshot(page, "support-export-refused")

    # Record the consent in the page, then the download comes.
    page.goto(page.base + visits["support-file"])
    page.select_option("#id_kind", "share_hashes")
    page.fill("#id_how", "signed form")
    page.locator("#consents form.panel button[type=submit]").last.click()
    page.wait_for_url("**/support/files/**")
    assert page.get_by_text("signed form").first.is_visible()
    page.fill("#id_recipient", "StopNCII")
    with page.expect_download() as download_info:
        page.locator("#hash-export button[type=submit]").click()
    assert download_info.value.suggested_filename.startswith("hashes-")
    page.reload()
    assert_no_media(page)
    screenshot(page, "support-file-after-export")

    # A step action from the page: the sent request is acknowledged.
    page.goto(page.base + visits["support-takedown-sent"])
    page.fill("#acknowledge-reference_number", "TG-77")
    page.locator("button[data-step=acknowledge]").click()
    page.wait_for_url(page.base + visits["support-takedown-sent"])
    assert page.get_by_text("TG-77").first.is_visible()
    assert_no_media(page)
    screenshot(page, "support-takedown-acknowledged")
