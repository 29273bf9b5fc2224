"""The victim-support API: who sees what, field errors, explicit steps, filters, query counts, exports."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from access.choices import CaseMemberRole
from evidence.choices import CustodyAction
from evidence.models import CustodyEvent
from support import services as support
from support.choices import ConsentKind, TakedownAddressee, TakedownPlatform, TakedownStatus
from support.models import SupportFile, SupportNote, TakedownRequest
from tests.factories import (
    CaseMemberFactory,
    UserFactory,
    full_team,
    link,
    pdq_annotate,
    person,
    photo_item,
    stored_item,
)
from tests.factories import api_client as client_for
from tests.schema import openapi_schema

pytestmark = pytest.mark.django_db

# Keys that would mean media reached a support worker; none may appear in any support response.
MEDIA_KEYS = {
    "content",
    "thumbnail",
    "preview",
    "data",
    "url_preview",
    "image",
    "original_name",
    "original_path",
}


def keys_of(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for inner in value.values() for k in keys_of(inner)}
    if isinstance(value, list):
        return {k for inner in value for k in keys_of(inner)}
    return set()


def base(t) -> str:
    return f"/api/v1/cases/{t.case.number}"


def make_takedown(t, sfile, **kwargs) -> TakedownRequest:
    fields = {
        "addressee": TakedownAddressee.PLATFORM,
        "platform": TakedownPlatform.TELEGRAM,
        "target_url": "https://t.me/room/1",
    }
    fields.update(kwargs)
    return support.takedown_create(case=t.case, support_file=sfile, actor=t.support, **fields)


# --- who sees what ---------------------------------------------------------------------------------------


def urls(t, sfile, takedown) -> list[str]:
    b = base(t)
    return [
        f"{b}/support-files/",
        f"{b}/support-files/{sfile.pk}/",
        f"{b}/support-files/{sfile.pk}/consents/",
        f"{b}/support-files/{sfile.pk}/hash-exports/",
        f"{b}/support-files/{sfile.pk}/items/",
        f"{b}/takedowns/",
        f"{b}/takedowns/{takedown.pk}/",
        f"{b}/takedowns/{takedown.pk}/reappearances/",
        f"{b}/takedowns/overdue/",
    ]


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (CaseMemberRole.VICTIM_SUPPORT, 200),
        (CaseMemberRole.LEAD, 200),
        (CaseMemberRole.INVESTIGATOR, 403),
        (CaseMemberRole.ANALYST, 403),
        (CaseMemberRole.PROSECUTOR, 403),
        (CaseMemberRole.AUDITOR, 403),
    ],
)
def test_reads_by_role(t, sfile, role, expected):
    takedown = make_takedown(t, sfile)
    client = client_for(t.by_role(role))
    for url in urls(t, sfile, takedown):
        response = client.get(url)
        assert response.status_code == expected, url
        if expected == 403:
            assert "victim_support" in response.json()["detail"]
            assert "V-1" not in response.content.decode()


def test_non_members_get_404_with_no_hint_and_anonymous_401(t, sfile):
    takedown = make_takedown(t, sfile)
    outsider = client_for(UserFactory())
    for url in urls(t, sfile, takedown):
        response = outsider.get(url)
        assert response.status_code == 404, url
        assert "V-1" not in response.content.decode()
        assert APIClient().get(url).status_code == 401
    missing = outsider.get("/api/v1/cases/2099-NOPE-0001/support-files/")
    assert missing.status_code == 404
    assert missing.json()["detail"].replace("'2099-NOPE-0001'", "X") == outsider.get(
        f"{base(t)}/support-files/"
    ).json()["detail"].replace(f"'{t.case.number}'", "X")


def test_objects_of_another_case_are_not_reachable_through_mine(t, sfile):
    other = full_team()
    other_file = support.support_file_open(
        case=other.case, person=person(other.case, pseudonym="V-1"), actor=other.support
    )
    other_takedown = make_takedown(other, other_file)
    client = client_for(t.support)
    assert client.get(f"{base(t)}/support-files/{other_file.pk}/").status_code == 404
    assert client.get(f"{base(t)}/support-files/{other_file.pk}/consents/").status_code == 404
    assert client.get(f"{base(t)}/takedowns/{other_takedown.pk}/").status_code == 404
    assert client.post(f"{base(t)}/takedowns/{other_takedown.pk}/send/", {}).status_code == 404
    listed = client.get(f"{base(t)}/takedowns/").json()
    assert [r["id"] for r in listed["results"]] == []
    made = client.post(
        f"{base(t)}/takedowns/",
        {
            "support_file": other_file.pk,
            "addressee": "kcsc",
            "platform": "x",
            "target_url": "https://x.com/a",
        },
        format="json",
    )
    assert made.status_code == 400 and "support_file" in made.json()["details"]


@pytest.mark.parametrize(
    "role",
    [
        CaseMemberRole.LEAD,
        CaseMemberRole.INVESTIGATOR,
        CaseMemberRole.ANALYST,
        CaseMemberRole.PROSECUTOR,
        CaseMemberRole.AUDITOR,
    ],
)
def test_only_support_workers_write(t, victim, role):
    client = client_for(t.by_role(role))
    b = base(t)
    assert client.post(f"{b}/support-files/", {"person": "V-1"}, format="json").status_code == 403
    assert not SupportFile.objects.exists()
    sfile = support.support_file_open(case=t.case, person=victim, actor=t.support)
    takedown = make_takedown(t, sfile)
    posts = [
        (f"{b}/support-files/{sfile.pk}/status/", {"status": "active"}),
        (f"{b}/support-files/{sfile.pk}/assign/", {"assigned_worker": None}),
        (f"{b}/support-files/{sfile.pk}/notes/", {"text": "x"}),
        (f"{b}/support-files/{sfile.pk}/hash-export/", {"recipient": "x"}),
        (f"{b}/support-files/{sfile.pk}/consents/", {"kind": "contact"}),
        (f"{b}/takedowns/", {"support_file": sfile.pk}),
        (f"{b}/takedowns/{takedown.pk}/send/", {}),
        (f"{b}/takedowns/{takedown.pk}/reappearances/", {"url": "https://t.me/x/1"}),
    ]
    for url, body in posts:
        assert client.post(url, body, format="json").status_code == 403, url
    assert (
        client.patch(f"{b}/takedowns/{takedown.pk}/", {"description": "x"}, format="json").status_code == 403
    )
    takedown.refresh_from_db()
    assert takedown.status == TakedownStatus.DRAFT and takedown.description == ""
    assert CustodyEvent.objects.filter(case=t.case, actor=t.by_role(role)).count() == 0


def test_notes_are_for_support_workers_only_not_the_lead(t, sfile):
    url = f"{base(t)}/support-files/{sfile.pk}/notes/"
    created = client_for(t.support).post(url, {"text": "prefers contact by text message"}, format="json")
    assert created.status_code == 201
    assert created.json()["text"] == "prefers contact by text message"
    listed = client_for(t.support2).get(url)
    assert listed.status_code == 200
    assert [n["text"] for n in listed.json()["results"]] == ["prefers contact by text message"]
    assert listed.json()["results"][0]["written_by"] == t.support.username
    refused = client_for(t.lead).get(url)
    assert refused.status_code == 403
    assert "text message" not in refused.content.decode()
    # The support file itself, as the lead sees it, carries no note either.
    detail = client_for(t.lead).get(f"{base(t)}/support-files/{sfile.pk}/").content.decode()
    assert "text message" not in detail
    assert SupportNote.objects.count() == 1


# --- support files and consents --------------------------------------------------------------------------


def test_open_a_support_file_and_bad_input_gets_field_messages(t, victim):
    client = client_for(t.support)
    url = f"{base(t)}/support-files/"
    missing = client.post(url, {}, format="json")
    assert missing.status_code == 400 and "person" in missing.json()
    unknown = client.post(url, {"person": "V-9"}, format="json")
    assert unknown.status_code == 400 and "person" in unknown.json()["details"]
    worker = client.post(url, {"person": "V-1", "assigned_worker": t.investigator.username}, format="json")
    assert worker.status_code == 400 and "assigned_worker" in worker.json()["details"]
    nobody = client.post(url, {"person": "V-1", "assigned_worker": "no-such-user"}, format="json")
    assert nobody.status_code == 400
    assert nobody.json()["detail"].replace("no-such-user", "U") == worker.json()["detail"].replace(
        t.investigator.username, "U"
    )  # the same words whether or not the user exists
    assert not SupportFile.objects.exists()

    made = client.post(url, {"person": "V-1", "assigned_worker": t.support2.username}, format="json")
    assert made.status_code == 201
    body = made.json()
    assert body["person"] == "V-1" and body["status"] == "intake"
    assert body["assigned_worker"] == t.support2.username
    assert body["consents"] == [] and body["consents_in_force"] == []
    assert not keys_of(body) & MEDIA_KEYS


def test_status_and_assignment_through_the_api(t, sfile):
    client = client_for(t.support)
    url = f"{base(t)}/support-files/{sfile.pk}"
    bad = client.post(f"{url}/status/", {"status": "finished"}, format="json")
    assert bad.status_code == 400 and "status" in bad.json()
    wrong_path = client.post(f"{url}/status/", {"status": "monitoring"}, format="json")
    assert wrong_path.status_code == 400 and "intake cannot become monitoring" in wrong_path.json()["detail"]
    ok = client.post(f"{url}/status/", {"status": "active"}, format="json")
    assert ok.status_code == 200 and ok.json()["status"] == "active"
    assert ok.json()["status_changed_by"] == t.support.username
    assigned = client.post(f"{url}/assign/", {"assigned_worker": t.support2.username}, format="json")
    assert assigned.json()["assigned_worker"] == t.support2.username
    unassigned = client.post(f"{url}/assign/", {"assigned_worker": None}, format="json")
    assert unassigned.json()["assigned_worker"] is None


def test_consents_through_the_api(t, sfile):
    client = client_for(t.support)
    url = f"{base(t)}/support-files/{sfile.pk}/consents/"
    bad = client.post(url, {"kind": "everything", "given_by": "neighbour"}, format="json")
    assert bad.status_code == 400 and {"kind", "given_by"} <= set(bad.json())
    given = client.post(
        url, {"kind": "share_hashes", "given_by": "guardian", "how": "signed form"}, format="json"
    )
    assert given.status_code == 201
    consent = given.json()
    assert consent["in_force"] and consent["given_recorded_by"] == t.support.username
    twice = client.post(url, {"kind": "share_hashes"}, format="json")
    assert twice.status_code == 400 and "kind" in twice.json()["details"]
    client.post(url, {"kind": "contact"}, format="json")

    in_force = client.get(url, {"in_force": "true", "kind": "share_hashes"}).json()
    assert [c["id"] for c in in_force["results"]] == [consent["id"]]
    withdrawn = client.post(f"{url}{consent['id']}/withdraw/", {"how": "phone"}, format="json")
    assert withdrawn.status_code == 200 and withdrawn.json()["in_force"] is False
    assert client.get(url, {"in_force": "true"}).json()["count"] == 1
    detail = client_for(t.lead).get(f"{base(t)}/support-files/{sfile.pk}/").json()
    assert detail["consents_in_force"] == ["contact"]
    assert len(detail["consents"]) == 2
    assert client.post(f"{url}99999/withdraw/", {}, format="json").status_code == 404


# --- takedowns -------------------------------------------------------------------------------------------


def test_a_takedown_through_its_steps(t, sfile):
    item = photo_item(t.case, t.investigator)
    client = client_for(t.support)
    b = base(t)
    created = client.post(
        f"{b}/takedowns/",
        {
            "support_file": sfile.pk,
            "addressee": "platform",
            "platform": "telegram",
            "target_url": "https://t.me/deepfake_room/456",
            "channel_reference": "@deepfake_room",
            "items": [item.pk],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["items"] == [{"id": item.pk, "sha256": item.blob_id}]
    assert body["status"] == "draft" and body["person"] == "V-1"
    assert not keys_of(body) & MEDIA_KEYS
    url = f"{b}/takedowns/{body['id']}"

    edited = client.patch(
        f"{url}/", {"addressee": "kcsc", "description": "video in pinned post"}, format="json"
    )
    assert edited.status_code == 200 and edited.json()["addressee"] == "kcsc"
    sent = client.post(f"{url}/send/", {"reference_number": "D4U-2024-77"}, format="json")
    assert sent.json()["status"] == "sent" and sent.json()["sent_by"] == t.support.username
    assert sent.json()["waiting_since"] is not None and sent.json()["overdue"] is False
    assert client.patch(f"{url}/", {"description": "x"}, format="json").status_code == 400
    ack = client.post(f"{url}/acknowledge/", {"reference_number": "KCSC-123"}, format="json")
    assert ack.json()["status"] == "acknowledged" and ack.json()["reference_number"] == "KCSC-123"
    removed = client.post(f"{url}/removed/", {}, format="json")
    assert removed.json()["status"] == "removed" and removed.json()["removed_at"]
    assert removed.json()["waiting_since"] is None

    reappeared = client.post(
        f"{url}/reappearances/",
        {"url": "https://t.me/mirror/9", "note": "mirror channel", "draft_follow_up": True},
        format="json",
    )
    assert reappeared.status_code == 201
    result = reappeared.json()
    assert result["support_file_reopened"] is False
    assert result["follow_up"]["status"] == "draft"
    assert result["follow_up"]["target_url"] == "https://t.me/mirror/9"
    assert result["follow_up"]["follows_up"] == result["reappearance"]["id"]
    listed = client_for(t.lead).get(f"{url}/reappearances/").json()["results"]
    assert [r["url"] for r in listed] == ["https://t.me/mirror/9"]
    assert listed[0]["follow_ups"] == [result["follow_up"]["id"]]
    changes = [
        e.details["change"]
        for e in CustodyEvent.objects.filter(case=t.case, action=CustodyAction.TAKEDOWN_CHANGED).order_by(
            "seq"
        )
    ]
    assert changes == ["drafted", "draft_edited", "sent", "acknowledged", "removed", "reappeared", "drafted"]


def test_takedown_bad_input_is_400_with_field_messages_and_writes_nothing(t, sfile):
    client = client_for(t.support)
    url = f"{base(t)}/takedowns/"
    bad = client.post(
        url,
        {"support_file": sfile.pk, "addressee": "police", "platform": "myspace", "target_url": "not a url"},
        format="json",
    )
    assert bad.status_code == 400
    assert {"addressee", "platform", "target_url"} <= set(bad.json())
    foreign = photo_item(full_team().case, UserFactory())
    items = client.post(
        url,
        {
            "support_file": sfile.pk,
            "addressee": "kcsc",
            "platform": "x",
            "target_url": "https://x.com/a/1",
            "items": [foreign.pk],
        },
        format="json",
    )
    assert items.status_code == 400 and "items" in items.json()["details"]
    assert not TakedownRequest.objects.exists()
    takedown = make_takedown(t, sfile)
    future = (timezone.now() + timedelta(days=2)).isoformat()
    assert client.post(f"{url}{takedown.pk}/send/", {"sent_at": future}, format="json").status_code == 400
    assert (
        client.post(f"{url}{takedown.pk}/send/", {"sent_at": "yesterday"}, format="json").status_code == 400
    )
    assert client.post(f"{url}{takedown.pk}/refuse/", {}, format="json").status_code == 400
    takedown.refresh_from_db()
    assert takedown.status == TakedownStatus.DRAFT


def test_takedown_filters(t, sfile):
    second = support.support_file_open(case=t.case, person=person(t.case, pseudonym="V-2"), actor=t.support)
    a = make_takedown(t, sfile)
    b = make_takedown(t, second, addressee=TakedownAddressee.KCSC, platform=TakedownPlatform.X)
    support.takedown_send(takedown=b, actor=t.support, sent_at=timezone.now() - timedelta(days=10))
    client = client_for(t.support)
    url = f"{base(t)}/takedowns/"

    def ids(**params):
        response = client.get(url, params)
        assert response.status_code == 200, response.json()
        return [r["id"] for r in response.json()["results"]]

    assert ids(status="draft") == [a.pk]
    assert ids(status=["draft", "sent"]) == [a.pk, b.pk]
    assert ids(addressee="kcsc") == [b.pk]
    assert ids(platform="telegram") == [a.pk]
    assert ids(person="V-2") == [b.pk]
    assert ids(support_file=sfile.pk) == [a.pk] == ids(support_file_id=sfile.pk)
    assert ids(overdue="true") == [b.pk]
    assert ids(overdue="false") == [a.pk]
    assert ids(reappeared="true") == []
    c = make_takedown(t, sfile)
    support.takedown_send(takedown=c, actor=t.support, sent_at=timezone.now() - timedelta(days=1))
    support.takedown_mark_removed(takedown=c, actor=t.support)
    for n in (1, 2):
        support.takedown_record_reappearance(
            case=t.case, takedown=c, actor=t.support, url=f"https://t.me/m/{n}"
        )
    assert ids(reappeared="true") == [c.pk]  # once, however many reappearances
    assert ids(reappeared="false") == [a.pk, b.pk]
    window = {
        "sent_after": (timezone.now() - timedelta(days=11)).isoformat(),
        "sent_before": (timezone.now() - timedelta(days=5)).isoformat(),
    }
    assert ids(**window) == [b.pk]
    bad = client.get(url, {"status": "lost"})
    assert bad.status_code == 400 and "status" in bad.json()
    files = client.get(f"{base(t)}/support-files/", {"person": "V-2"}).json()
    assert [f["id"] for f in files["results"]] == [second.pk]
    unassigned = client.get(f"{base(t)}/support-files/", {"unassigned": "true"}).json()
    assert [f["id"] for f in unassigned["results"]] == [second.pk]


def test_overdue_endpoint_lists_late_requests_with_the_limits(t, sfile, settings):
    settings.HAETAE_TAKEDOWN_OVERDUE_DAYS = {"default": 3, "kcsc": 7}
    late = make_takedown(t, sfile)
    support.takedown_send(takedown=late, actor=t.support, sent_at=timezone.now() - timedelta(days=4))
    waiting = make_takedown(t, sfile, addressee=TakedownAddressee.KCSC)
    support.takedown_send(takedown=waiting, actor=t.support, sent_at=timezone.now() - timedelta(days=4))
    response = client_for(t.lead).get(f"{base(t)}/takedowns/overdue/")
    assert response.status_code == 200
    body = response.json()
    assert body["limits"] == {"platform": 3, "kcsc": 7, "support_center": 3}
    assert body["count"] == 1
    assert [r["id"] for r in body["results"]] == [late.pk]
    assert body["results"][0]["overdue"] is True


# --- query counts ----------------------------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_list_query_counts_do_not_grow_with_rows(t, sfile):
    client = client_for(t.support)
    item = photo_item(t.case, t.investigator)
    support.consent_give(support_file=sfile, kind=ConsentKind.CONTACT, given_by="victim", actor=t.support)
    first = make_takedown(t, sfile, item_ids=[item.pk])
    support.takedown_send(takedown=first, actor=t.support)
    support.takedown_mark_removed(takedown=first, actor=t.support)
    support.takedown_record_reappearance(case=t.case, takedown=first, actor=t.support, url="https://t.me/a/2")
    late = make_takedown(t, sfile, item_ids=[item.pk])
    support.takedown_send(takedown=late, actor=t.support, sent_at=timezone.now() - timedelta(days=9))
    lists = [
        f"{base(t)}/support-files/",
        f"{base(t)}/takedowns/",
        f"{base(t)}/takedowns/overdue/",
        f"{base(t)}/support-files/{sfile.pk}/consents/",
        "/api/v1/takedowns/overdue/",
    ]
    before = {url: _queries(client, url) for url in lists}

    for n in range(2, 6):
        more = support.support_file_open(
            case=t.case, person=person(t.case, pseudonym=f"V-{n}"), actor=t.support
        )
        support.consent_give(
            support_file=more, kind=ConsentKind.SHARE_HASHES, given_by="victim", actor=t.support
        )
        request = make_takedown(t, more, item_ids=[item.pk])
        support.takedown_send(takedown=request, actor=t.support, sent_at=timezone.now() - timedelta(days=9))
    for kind in (ConsentKind.SHARE_HASHES, ConsentKind.TAKEDOWN_ON_BEHALF):
        support.consent_give(support_file=sfile, kind=kind, given_by="victim", actor=t.support)
    after = {url: _queries(client, url) for url in lists}
    assert after == before
    # case + role (1), count (1), rows (1) and a fixed number of prefetches
    assert before[f"{base(t)}/support-files/"] <= 5
    assert before[f"{base(t)}/takedowns/"] <= 6


# --- hash export -----------------------------------------------------------------------------------------


def test_hash_export_without_consent_is_403_saying_how_to_record_it(t, sfile, victim):
    link(photo_item(t.case, t.investigator), victim)
    response = client_for(t.support).post(
        f"{base(t)}/support-files/{sfile.pk}/hash-export/", {"recipient": "StopNCII"}, format="json"
    )
    assert response.status_code == 403
    detail = response.json()["detail"]
    assert "consent" in detail and f"/support-files/{sfile.pk}/consents/" in detail
    assert not CustodyEvent.objects.filter(action=CustodyAction.HASHES_EXPORTED).exists()


def test_hash_export_json_and_csv(t, sfile, victim):
    item = photo_item(t.case, t.investigator)
    link(item, victim)
    pdq = pdq_annotate(item)
    support.consent_give(
        support_file=sfile, kind=ConsentKind.SHARE_HASHES, given_by="victim", actor=t.support
    )
    client = client_for(t.support)
    url = f"{base(t)}/support-files/{sfile.pk}/hash-export/"

    missing = client.post(url, {"format": "pdf"}, format="json")
    assert missing.status_code == 400 and {"format", "recipient"} <= set(missing.json())

    as_json = client.post(url, {"recipient": "StopNCII"}, format="json")
    assert as_json.status_code == 200
    assert as_json["Content-Type"] == "application/json"
    assert as_json["Content-Disposition"].startswith('attachment; filename="hashes-')
    document = json.loads(as_json.content)
    (entry,) = document["files"]
    assert entry["sha256"] == item.blob_id and entry["pdq"][0]["hash"] == pdq
    assert document["subject"] is None

    as_csv = client.post(
        url, {"recipient": "KCSC", "format": "csv", "include_pseudonym": True}, format="json"
    )
    assert as_csv.status_code == 200 and as_csv["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode())))
    assert {r["signal_type"] for r in rows} == {"sha256", "md5", "pdq"}
    assert 'filename="hashes-V-1-' in as_csv["Content-Disposition"]

    events = CustodyEvent.objects.filter(case=t.case, action=CustodyAction.HASHES_EXPORTED).order_by("seq")
    assert [(e.details["format"], e.details["recipient"]) for e in events] == [
        ("json", "StopNCII"),
        ("csv", "KCSC"),
    ]
    assert events[1].details["export_sha256"] == as_csv["X-Haetae-Export-SHA256"]


def test_the_lead_cannot_export_hashes(t, sfile, victim):
    link(photo_item(t.case, t.investigator), victim)
    support.consent_give(
        support_file=sfile, kind=ConsentKind.SHARE_HASHES, given_by="victim", actor=t.support
    )
    response = client_for(t.lead).post(
        f"{base(t)}/support-files/{sfile.pk}/hash-export/", {"recipient": "StopNCII"}, format="json"
    )
    assert response.status_code == 403


# --- schema ----------------------------------------------------------------------------------------------


def test_the_schema_documents_every_support_endpoint_without_warnings():
    paths = openapi_schema()["paths"]
    prefix = "/api/v1/cases/{number}"
    for path, methods in {
        "/support-files/": {"get", "post"},
        "/support-files/{id}/": {"get"},
        "/support-files/{id}/status/": {"post"},
        "/support-files/{id}/assign/": {"post"},
        "/support-files/{id}/notes/": {"get", "post"},
        "/support-files/{id}/hash-export/": {"post"},
        "/support-files/{id}/hash-exports/": {"get"},
        "/support-files/{id}/items/": {"get"},
        "/support-files/{support_file_pk}/consents/": {"get", "post"},
        "/support-files/{support_file_pk}/consents/{id}/withdraw/": {"post"},
        "/takedowns/": {"get", "post"},
        "/takedowns/{id}/": {"get", "patch"},
        "/takedowns/{id}/send/": {"post"},
        "/takedowns/{id}/acknowledge/": {"post"},
        "/takedowns/{id}/removed/": {"post"},
        "/takedowns/{id}/refuse/": {"post"},
        "/takedowns/{id}/reappearances/": {"get", "post"},
        "/takedowns/overdue/": {"get"},
    }.items():
        assert methods <= set(paths[prefix + path]), path
    assert "get" in paths["/api/v1/takedowns/overdue/"]
    export = paths[prefix + "/support-files/{id}/hash-export/"]["post"]
    assert {"application/json", "text/csv"} <= set(export["responses"]["200"]["content"])
    assert {"400", "403", "404"} <= set(export["responses"])
    takedown_params = {p["name"] for p in paths[prefix + "/takedowns/"]["get"]["parameters"]}
    assert {"status", "addressee", "platform", "person", "overdue", "support_file_id"} <= takedown_params


def test_overdue_across_cases_covers_only_cases_where_i_support_or_lead(t, sfile):
    late = make_takedown(t, sfile)
    support.takedown_send(takedown=late, actor=t.support, sent_at=timezone.now() - timedelta(days=9))
    # A second case where the same worker is on the team as an investigator: not theirs to track.
    other = full_team()
    CaseMemberFactory(case=other.case, user=t.support, role=CaseMemberRole.INVESTIGATOR)
    other_file = support.support_file_open(
        case=other.case, person=person(other.case, pseudonym="V-1"), actor=other.support
    )
    hidden = make_takedown(other, other_file)
    support.takedown_send(takedown=hidden, actor=other.support, sent_at=timezone.now() - timedelta(days=9))
    # A third case where they support: listed too.
    third = full_team()
    CaseMemberFactory(case=third.case, user=t.support, role=CaseMemberRole.VICTIM_SUPPORT)
    third_file = support.support_file_open(
        case=third.case, person=person(third.case, pseudonym="V-1"), actor=t.support
    )
    shown = make_takedown(third, third_file)
    support.takedown_send(takedown=shown, actor=t.support, sent_at=timezone.now() - timedelta(days=5))

    body = client_for(t.support).get("/api/v1/takedowns/overdue/").json()
    assert [(r["id"], r["case"]) for r in body["results"]] == [
        (late.pk, t.case.number),
        (shown.pk, third.case.number),
    ]
    assert client_for(t.investigator).get("/api/v1/takedowns/overdue/").json()["count"] == 0
    assert client_for(UserFactory()).get("/api/v1/takedowns/overdue/").json()["results"] == []
    assert APIClient().get("/api/v1/takedowns/overdue/").status_code == 401


def test_past_exports_are_listed_from_the_ledger_for_support_and_lead(t, sfile, victim):
    link(photo_item(t.case, t.investigator), victim)
    support.consent_give(
        support_file=sfile, kind=ConsentKind.SHARE_HASHES, given_by="victim", actor=t.support
    )
    other = support.support_file_open(case=t.case, person=person(t.case, pseudonym="V-2"), actor=t.support)
    export_url = f"{base(t)}/support-files/{sfile.pk}/hash-export/"
    first = client_for(t.support).post(export_url, {"recipient": "StopNCII"}, format="json")
    second = client_for(t.support2).post(export_url, {"recipient": "KCSC", "format": "csv"}, format="json")

    history = client_for(t.lead).get(f"{base(t)}/support-files/{sfile.pk}/hash-exports/")
    assert history.status_code == 200
    rows = history.json()["results"]
    assert [(r["actor"], r["recipient"], r["format"]) for r in rows] == [
        (t.support2.username, "KCSC", "csv"),
        (t.support.username, "StopNCII", "json"),
    ]
    assert rows[1]["export_sha256"] == first["X-Haetae-Export-SHA256"]
    assert rows[0]["export_sha256"] == second["X-Haetae-Export-SHA256"]
    assert client_for(t.support).get(f"{base(t)}/support-files/{other.pk}/hash-exports/").json()["count"] == 0
    assert client_for(t.analyst).get(f"{base(t)}/support-files/{sfile.pk}/hash-exports/").status_code == 403


def test_items_that_depict_the_victim_are_listed_by_reference_only(t, sfile, victim):
    confirmed = photo_item(t.case, t.investigator, which="astronaut")
    suspected = photo_item(t.case, t.investigator, which="coffee")
    withdrawn = photo_item(t.case, t.investigator, which="camera")
    link(confirmed, victim)
    link(suspected, victim, confidence="suspected")
    gone = link(withdrawn, victim)
    gone.withdrawn_at = timezone.now()
    gone.save()
    link(photo_item(t.case, t.investigator, which="chelsea"), person(t.case, pseudonym="V-2"))
    pdq_annotate(confirmed)
    url = f"{base(t)}/support-files/{sfile.pk}/items/"

    with CaptureQueriesContext(connection) as captured:
        response = client_for(t.support).get(url)
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(r["item"], r["confidence"], r["in_hash_export"], r["pdq_hashes"]) for r in rows] == [
        (confirmed.pk, "confirmed", True, 1),
        (suspected.pk, "suspected", False, 0),
    ]
    assert rows[0]["sha256"] == confirmed.blob_id and rows[0]["content_type"] == "photo"
    assert not keys_of(response.json()) & MEDIA_KEYS
    assert "astronaut" not in response.content.decode()  # no file names: they can name a victim
    # case, the support file (+ its consents), count, rows with the PDQ count as a subquery
    assert len(captured.captured_queries) <= 5
    more = stored_item(case=t.case, data=b"another", actor=t.investigator, name="x.jpg")
    link(more, victim)
    pdq_annotate(confirmed)  # idempotent: no second run
    assert _queries(client_for(t.support), url) == len(captured.captured_queries)
    assert client_for(t.lead).get(url).status_code == 200
    assert client_for(t.investigator).get(url).status_code == 403
