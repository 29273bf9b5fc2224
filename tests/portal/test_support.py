"""Victim-support pages: every page and step through the client, the refusals, and a browser scan of every
page's DOM for media elements and content URLs."""

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone

from evidence.choices import CustodyAction
from evidence.content import media_refusal
from evidence.models import CustodyEvent
from portal.views.support import evidence_page_refusal
from support import services as support
from support.choices import TakedownStatus
from support.models import SupportConsent, SupportNote, TakedownRequest
from tests.factories import UserFactory, full_team, link, pdq_annotate, person, photo_item
from tests.factories import portal_client as client_for

pytestmark = pytest.mark.django_db

# What would mean media (or a way to it) reached a support worker's page.
MEDIA_TAG = re.compile(r"<\s*(img|video|audio|object|embed|picture|canvas|svg|iframe|source)\b", re.I)
CONTENT_URL = re.compile(
    r"""(href|src|srcset|action|hx-get|hx-post)\s*=\s*["'][^"']*(/content/|/preview|/evidence/)""", re.I
)


@pytest.fixture
def world() -> dict[str, Any]:
    t = full_team()
    victim = person(t.case, pseudonym="V-1", actor=t.lead)
    item = photo_item(t.case, t.lead, which="astronaut", name="victim-photo-name-marker.jpg")
    link(item, victim, actor=t.lead)
    pdq_annotate(item)
    sfile = support.support_file_open(case=t.case, person=victim, actor=t.support, assigned_worker=t.support)
    sent = support.takedown_create(
        case=t.case,
        support_file=sfile,
        actor=t.support,
        addressee="platform",
        platform="telegram",
        target_url="https://t.me/room_marker/812",
        item_ids=[item.pk],
    )
    sent = support.takedown_send(takedown=sent, actor=t.support, sent_at=timezone.now() - timedelta(days=9))
    return {"t": t, "victim": victim, "item": item, "file": sfile, "sent": sent}


def pages(w: dict[str, Any]) -> list[str]:
    n, f, s = w["t"].case.number, w["file"].pk, w["sent"].pk
    return [
        "/support/",
        f"/cases/{n}/support/",
        f"/cases/{n}/support/files/{f}/",
        f"/cases/{n}/support/files/{f}/notes/",
        f"/cases/{n}/support/takedowns/",
        f"/cases/{n}/support/takedowns/?status=sent",
        f"/cases/{n}/support/takedowns/{s}/",
        f"/cases/{n}/support/overdue/",
    ]


def assert_no_media(html: str) -> None:
    assert not MEDIA_TAG.search(html), MEDIA_TAG.search(html)
    assert not CONTENT_URL.search(html), CONTENT_URL.search(html)
    assert "victim-photo-name-marker" not in html  # file names can name a victim
    assert 'href="https://t.me' not in html  # a target is shown as text, never a link to the material


def test_every_support_page_renders_for_the_support_worker_without_media(world):
    client = client_for(world["t"].support)
    for url in pages(world):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert_no_media(html)
    case_page = client.get(pages(world)[1]).content.decode()
    assert "V-1" in case_page and world["t"].case.number in case_page
    file_page = client.get(pages(world)[2]).content.decode()
    assert world["item"].blob_id in file_page  # items by reference: number and hashes


def test_pages_send_the_unsigned_to_sign_in(world):
    response = Client().get(pages(world)[1])
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_lead_reads_support_pages_but_not_the_notes_and_cannot_act(world):
    t = world["t"]
    client = client_for(t.lead)
    for url in pages(world):
        if "/notes/" in url:
            continue
        assert client.get(url).status_code == 200, url
    refused = client.get(f"/cases/{t.case.number}/support/files/{world['file'].pk}/notes/")
    assert refused.status_code == 403
    assert "read restricted support notes" in refused.content.decode()
    form = client.post(
        f"/cases/{t.case.number}/support/files/{world['file'].pk}/consents/",
        {"kind": "contact", "given_by": "victim"},
    )
    assert form.status_code == 403 and "change victim support records" in form.content.decode()
    assert not SupportConsent.objects.exists()


def test_other_roles_get_the_api_403_and_non_members_a_404(world):
    t = world["t"]
    for user in (t.investigator, t.analyst, t.prosecutor, t.auditor):
        response = client_for(user).get(f"/cases/{t.case.number}/support/")
        assert response.status_code == 403
        assert "only members with the role lead, victim_support" in response.content.decode()
    stranger = client_for(UserFactory())
    for url in pages(world)[1:]:
        response = stranger.get(url)
        assert response.status_code == 404, url
        assert "among your cases" in response.content.decode()  # as for a case that does not exist


def test_consents_are_recorded_and_withdrawn_with_history_and_custody(world):
    t, f = world["t"], world["file"]
    client = client_for(t.support)
    base = f"/cases/{t.case.number}/support/files/{f.pk}"
    response = client.post(
        f"{base}/consents/", {"kind": "share_hashes", "given_by": "guardian", "how": "signed form"}
    )
    assert response.status_code == 302
    consent = SupportConsent.objects.get(support_file=f, kind="share_hashes")
    assert consent.given_by == "guardian" and consent.given_recorded_by == t.support
    future = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    refused = client.post(f"{base}/consents/{consent.pk}/withdraw/", {"withdrawn_at": future})
    assert refused.status_code == 400 and "in the future" in refused.content.decode()
    done = client.post(f"{base}/consents/{consent.pk}/withdraw/", {"how": "by phone"})
    assert done.status_code == 302
    page = client.get(f"{base}/").content.decode()
    assert "by phone" in page and "signed form" in page  # the history stays
    changes = [e.details["change"] for e in CustodyEvent.objects.filter(action=CustodyAction.SUPPORT_CHANGED)]
    assert changes[-2:] == ["consent_given", "consent_withdrawn"]


def test_hash_export_is_refused_without_consent_saying_what_to_do_then_downloads_and_is_logged(world):
    t, f = world["t"], world["file"]
    client = client_for(t.support)
    url = f"/cases/{t.case.number}/support/files/{f.pk}/hash-export/"
    refused = client.post(url, {"format": "json", "recipient": "StopNCII"})
    assert refused.status_code == 403
    text = refused.content.decode()
    assert "has not consented" in text and "record the consent" in text
    assert not CustodyEvent.objects.filter(action=CustodyAction.HASHES_EXPORTED).exists()
    support.consent_give(support_file=f, kind="share_hashes", actor=t.support, given_by="victim")
    response = client.post(url, {"format": "json", "recipient": "StopNCII"})
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    document = json.loads(response.content)
    assert document["files"][0]["sha256"] == world["item"].blob_id and document["files"][0]["pdq"]
    csv_response = client.post(url, {"format": "csv", "recipient": "KCSC"})
    assert csv_response.content.decode().startswith("signal_type,signal")
    events = CustodyEvent.objects.filter(action=CustodyAction.HASHES_EXPORTED).order_by("seq")
    assert [e.details["recipient"] for e in events] == ["StopNCII", "KCSC"]
    assert events[0].details["export_sha256"] == response["X-Haetae-Export-SHA256"]
    history = client.get(f"/cases/{t.case.number}/support/files/{f.pk}/").content.decode()
    assert response["X-Haetae-Export-SHA256"] in history
    lead = client_for(t.lead).post(url, {"format": "json", "recipient": "x"})
    assert lead.status_code == 403


def test_restricted_notes_are_sealed_and_only_for_support_workers(world):
    t, f = world["t"], world["file"]
    url = f"/cases/{t.case.number}/support/files/{f.pk}/notes/"
    client = client_for(t.support)
    assert client.post(url, {"text": "call only after 18:00"}).status_code == 302
    note = SupportNote.objects.get()
    assert b"call only" not in bytes(note.sealed)
    assert "call only after 18:00" in client_for(t.support2).get(url).content.decode()
    assert client_for(t.lead).get(url).status_code == 403
    assert client_for(t.lead).post(url, {"text": "lead note"}).status_code == 403
    assert SupportNote.objects.count() == 1
    assert client.post(url, {"text": "  "}).status_code == 400


def test_takedown_steps_use_the_services_and_refuse_what_they_refuse(world):
    t, f, item = world["t"], world["file"], world["item"]
    client = client_for(t.support)
    n = t.case.number
    draft = client.post(
        f"/cases/{n}/support/files/{f.pk}/takedowns/",
        {
            "addressee": "kcsc",
            "platform": "website",
            "target_url": "https://example.org/x",
            "items": [item.pk],
        },
    )
    assert draft.status_code == 302
    new = TakedownRequest.objects.order_by("-id").first()
    assert new.status == TakedownStatus.DRAFT and list(new.items.values_list("pk", flat=True)) == [item.pk]
    base = f"/cases/{n}/support/takedowns/{new.pk}"
    too_early = client.post(f"{base}/acknowledge/", {})
    assert (
        too_early.status_code == 400
        and "can be acknowledged only when it is sent" in too_early.content.decode()
    )
    assert client.post(f"{base}/send/", {"reference_number": "KCSC-1"}).status_code == 302
    assert client.post(f"{base}/acknowledge/", {"reference_number": "T-9"}).status_code == 302
    assert client.post(f"{base}/refuse/", {"reason": ""}).status_code == 400
    assert client.post(f"{base}/removed/", {}).status_code == 302
    new.refresh_from_db()
    assert new.status == TakedownStatus.REMOVED and new.reference_number == "T-9"
    assert client.post(f"{base}/nonsense/", {}).status_code == 404
    again = client.post(f"{base}/reappearances/", {"url": "https://example.org/y", "draft_follow_up": "on"})
    assert again.status_code == 302
    follow_up = TakedownRequest.objects.order_by("-id").first()
    assert follow_up.follows_up is not None and again["Location"].endswith(f"/takedowns/{follow_up.pk}/")
    page = client.get(f"{base}/").content.decode()
    assert "https://example.org/y" in page and f"#{follow_up.pk}" in page
    refused_path = client.post(
        f"/cases/{n}/support/takedowns/{world['sent'].pk}/refuse/", {"reason": "not illegal here"}
    )
    assert refused_path.status_code == 302
    changes = [
        e.details["change"] for e in CustodyEvent.objects.filter(action=CustodyAction.TAKEDOWN_CHANGED)
    ]
    assert changes[-7:] == ["drafted", "sent", "acknowledged", "removed", "reappeared", "drafted", "refused"]
    lead = client_for(t.lead).post(f"{base}/send/", {})
    assert lead.status_code == 403


def test_overdue_lists_group_by_addressee_with_the_limit(world):
    t = world["t"]
    client = client_for(t.support)
    page = client.get(f"/cases/{t.case.number}/support/overdue/").content.decode()
    assert "the platform" in page and f"#{world['sent'].pk}" in page and "3 days" in page
    home = client.get("/support/").content.decode()
    assert t.case.number in home and f"#{world['sent'].pk}" in home
    other = full_team()
    assert f"#{world['sent'].pk}" not in client_for(other.support).get("/support/").content.decode()


def test_an_evidence_page_explains_to_support_what_the_api_explains():
    t = full_team()
    item = photo_item(t.case, t.lead)
    factory = RequestFactory()

    def ask(user: Any) -> Any:
        request = factory.get(f"/cases/{t.case.number}/evidence/{item.pk}/")
        request.user = user
        return evidence_page_refusal(request, item_id=item.pk)

    response = ask(t.support)
    assert response.status_code == 403
    expected = media_refusal(role="victim_support", item_id=item.pk, what="content")
    assert expected is not None
    from django.utils.html import escape

    assert escape(expected.message) in response.content.decode()
    assert ask(t.investigator) is None and ask(t.auditor) is None
    assert ask(UserFactory()).status_code == 404


def test_the_status_filter_swaps_only_the_table_for_htmx_and_pages_keep_their_query_counts(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    t = world["t"]
    client = client_for(t.support)
    url = f"/cases/{t.case.number}/support/takedowns/?status=sent"
    partial = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "<table>" in partial and "<html" not in partial and f"#{world['sent'].pk}" in partial
    assert client.get(f"/cases/{t.case.number}/support/takedowns/?status=bogus").status_code == 404

    def queries(path: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    pages_to_count = [f"/cases/{t.case.number}/support/", f"/cases/{t.case.number}/support/takedowns/"]
    before = [queries(p) for p in pages_to_count]
    for number in range(2, 7):
        victim = person(t.case, pseudonym=f"V-{number}", actor=t.lead)
        sfile = support.support_file_open(case=t.case, person=victim, actor=t.support)
        support.consent_give(support_file=sfile, kind="contact", actor=t.support, given_by="victim")
        support.takedown_create(
            case=t.case,
            support_file=sfile,
            actor=t.support,
            addressee="platform",
            platform="x",
            target_url=f"https://x.com/p/{number}",
            item_ids=[world["item"].pk],
        )
    assert [queries(p) for p in pages_to_count] == before
