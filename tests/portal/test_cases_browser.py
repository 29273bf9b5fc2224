"""The case and evidence pages in a real browser (Debian's Chromium through Playwright): open a case, the
case page with its graph, the evidence list with blurred thumbnails, reveal with a reason and see the view in
the custody timeline, confirm a finding, greyscale. Screenshots go to test-artifacts/portal/."""

from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client

from access.choices import GlobalRole
from evidence.choices import CustodyAction
from evidence.models import CustodyEvent
from parties.services.links import Assertion, link_assert_item_channel, link_assert_item_person
from tests.factories import channel, detection_rows, item, jpeg_bytes, new_user, team, verified_login, victim
from tests.portal.conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def _sign_in(page: Any, user: Any) -> None:
    """Give the browser an OTP-verified session of ``user`` (the TOTP sign-in itself is test_auth's)."""
    client = Client()
    verified_login(client, user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": page.base}]
    )


def test_browser_opens_a_case(page: Any) -> None:
    user = new_user()
    group, _ = Group.objects.get_or_create(name=GlobalRole.INVESTIGATOR)
    user.groups.add(group)
    _sign_in(page, user)
    page.goto(page.base + "/cases/new/")
    page.fill("#id_number", "2026-SEOUL-0777")
    page.fill("#id_title", "Telegram room, school photos")
    page.fill("#id_unit", "Cyber unit 3")
    screenshot(page, "case-create")
    page.get_by_role("button", name="Open the case").click()
    page.wait_for_url(page.base + "/cases/2026-SEOUL-0777/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("2026-SEOUL-0777")
    screenshot(page, "case-created")


def test_browser_case_page_draws_the_graph(page: Any) -> None:
    t = team()
    v1 = victim(t, is_minor=True)
    room = channel(t)
    sure = Assertion(confidence="confirmed")
    for n in range(3):
        photo = item(t, jpeg_bytes(quality=60 + n), name=f"p{n}.jpg")
        link_assert_item_person(item=photo, person=v1, relation="depicts", assertion=sure, actor=t.lead)
        link_assert_item_channel(item=photo, channel=room, assertion=sure, actor=t.lead)
    _sign_in(page, t.lead)
    page.goto(page.base + f"/cases/{t.case.number}/")
    page.wait_for_selector("#case-graph[data-nodes]")
    assert page.locator("#case-graph").get_attribute("data-nodes") == "5"
    assert page.evaluate("window.haetaeCaseGraph.nodes().length") == 5
    assert page.evaluate("window.haetaeCaseGraph.edges().length") == 6
    labels = page.evaluate("window.haetaeCaseGraph.nodes().map(n => n.data('label'))")
    assert "V-1" in labels and "@deepfake_room" in labels
    assert page.locator("#case-graph canvas").count() > 0
    assert page.locator("#case-graph img").count() == 0
    page.locator("#graph").scroll_into_view_if_needed()
    screenshot(page, "case-page-graph")


def test_browser_reveal_with_a_reason_then_the_custody_event_shows(page: Any) -> None:
    t = team()
    photo = item(t, jpeg_bytes(), name="scene.jpg")
    _sign_in(page, t.lead)
    page.goto(page.base + f"/cases/{t.case.number}/evidence/")
    thumb = page.locator("td.thumb img").first
    thumb.wait_for()
    assert thumb.get_attribute("loading") == "lazy"
    page.wait_for_function("document.querySelector('td.thumb img').naturalWidth > 0")
    screenshot(page, "evidence-list")
    page.get_by_role("link", name=f"#{photo.pk}").click()
    page.wait_for_url(page.base + f"/evidence/{photo.pk}/")
    assert page.locator("#original").count() == 0
    page.get_by_role("button", name="Reveal the original").click()
    page.locator("#reveal-area .error").wait_for()  # no reason: refused, nothing shown
    assert page.locator("#original").count() == 0
    assert not CustodyEvent.objects.filter(item=photo, action=CustodyAction.VIEWED).exists()
    page.fill("#reveal-reason", "classify for the charge sheet")
    page.get_by_role("button", name="Reveal the original").click()
    page.wait_for_function(
        "document.getElementById('original') && document.getElementById('original').naturalWidth > 0"
    )
    page.locator("#custody tr.event-viewed").wait_for()
    row = page.locator("#custody tr.event-viewed")
    assert "classify for the charge sheet" in row.inner_text()
    assert CustodyEvent.objects.filter(item=photo, action=CustodyAction.VIEWED).count() == 1
    assert "1 content view (1 items)" in page.locator("#exposure").inner_text()
    screenshot(page, "item-revealed")


def test_browser_confirm_a_finding(page: Any) -> None:
    t = team()
    photo = item(t, jpeg_bytes(), name="scene.jpg")
    _, annotation = detection_rows(item=photo, name="nudenet", label="FACE_FEMALE")
    _sign_in(page, t.lead)
    page.goto(page.base + f"/evidence/{photo.pk}/")
    finding = page.locator(f"#finding-{annotation.pk}")
    # Findings are folded by detector and the review form opens on demand.
    page.locator("#detector-nudenet > summary").click()
    finding.locator("details.review > summary").click()
    finding.get_by_label("Reason for your review").fill("matches the reference photograph")
    finding.get_by_role("button", name="Confirm").click()
    page.locator(f"#finding-{annotation.pk} .badge.review-confirmed").wait_for()
    assert "matches the reference photograph" in page.locator(f"#finding-{annotation.pk}").inner_text()
    page.locator("#custody tr.event-finding_reviewed").wait_for()
    screenshot(page, "item-finding-confirmed")


def test_browser_greyscale_toggle(page: Any) -> None:
    t = team()
    photo = item(t, jpeg_bytes("coffee"), name="coffee.jpg")
    _sign_in(page, t.lead)
    page.goto(page.base + f"/evidence/{photo.pk}/")
    preview = page.locator("img.preview")
    preview.wait_for()
    assert preview.evaluate("img => getComputedStyle(img).filter") == "none"
    page.locator("#greyscale-toggle").click()
    page.wait_for_url(page.base + f"/evidence/{photo.pk}/")
    assert page.locator("#greyscale-toggle").get_attribute("aria-pressed") == "true"
    assert page.locator("img.preview").evaluate("img => getComputedStyle(img).filter") == "grayscale(1)"
    page.wait_for_function("document.querySelector('img.preview').naturalWidth > 0")
    screenshot(page, "item-greyscale")
    page.goto(page.base + f"/cases/{t.case.number}/evidence/")
    assert page.locator("table.evidence.greyscale").count() == 1


def test_browser_victim_support_case_page_has_no_media_or_drawing(page: Any) -> None:
    from access.choices import CaseMemberRole

    t = team()
    v1 = victim(t)
    photo = item(t, jpeg_bytes(), name="p.jpg")
    link_assert_item_person(
        item=photo, person=v1, relation="depicts", assertion=Assertion(confidence="confirmed"), actor=t.lead
    )
    _sign_in(page, t.member(CaseMemberRole.VICTIM_SUPPORT))
    page.goto(page.base + f"/cases/{t.case.number}/")
    page.wait_for_selector("#case-graph[data-nodes]", state="attached")
    assert page.locator("#case-graph-list li").first.inner_text() == f"#{photo.pk} — depicts → V-1"
    media = page.locator("img, video, audio, object, embed, picture, canvas, iframe")
    assert media.count() == 0
    html = page.content()
    assert "/preview" not in html and "/original/" not in html and "/content/" not in html
    assert "/evidence/" not in html
    screenshot(page, "case-page-victim-support")
    page.goto(page.base + f"/evidence/{photo.pk}/")
    assert page.locator("img, video, canvas").count() == 0
    screenshot(page, "item-page-victim-support-refused")
