"""The captures page: ask for a capture, follow its status; lead, investigator and analyst see results."""

import re

import pytest
from django.urls import reverse

from captures.models import Capture
from captures.selectors import capture_items
from tests.factories import full_team, victim_takedown
from tests.factories import portal_client as client_for

pytestmark = pytest.mark.django_db

CONTENT_URL = re.compile(r"""(href|src|action)\s*=\s*["'][^"']*(/content/|/preview|/evidence/)""", re.I)


def test_support_worker_asks_for_a_capture_and_sees_only_its_status() -> None:
    t = full_team()
    page = reverse("portal:case-captures", args=[t.case.number])
    client = client_for(t.support)
    answer = client.post(page, {"url": "http://192.0.2.1/reported-post"}, follow=True)
    assert answer.status_code == 200
    capture = Capture.objects.get()
    body = answer.content.decode()
    assert "http://192.0.2.1/reported-post" in body and f'data-status="{capture.status}"' in body
    assert not CONTENT_URL.search(body)
    # A bad address is refused with the service's message, and nothing is recorded.
    answer = client.post(page, {"url": "javascript:alert(1)"}, follow=True)
    assert "http://" in answer.content.decode() and Capture.objects.count() == 1


def test_investigator_sees_the_result_links_and_the_auditor_is_refused() -> None:
    t = full_team()
    page = reverse("portal:case-captures", args=[t.case.number])
    client_for(t.investigator).post(page, {"url": "http://192.0.2.1/post"})
    answer = client_for(t.investigator).get(page)
    assert answer.status_code == 200 and "Result" in answer.content.decode()
    assert capture_items(capture=Capture.objects.get()) == []  # not run in this test
    assert client_for(t.auditor).get(page).status_code == 403


def test_takedown_page_captures_its_target() -> None:
    t = full_team()
    takedown = victim_takedown(t, target_url="https://t.me/room/5")
    client = client_for(t.support)
    detail = client.get(reverse("portal:support-takedown", args=[t.case.number, takedown.pk]))
    assert (
        reverse("portal:support-takedown-capture", args=[t.case.number, takedown.pk])
        in detail.content.decode()
    )
    answer = client.post(reverse("portal:support-takedown-capture", args=[t.case.number, takedown.pk]))
    assert answer.status_code == 302
    assert Capture.objects.get().url == "https://t.me/room/5"
