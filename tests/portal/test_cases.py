"""Portal case pages (portal/views/cases.py): create, case page, graph JSON, evidence list with filters,
sorts, keyset pages and thumbnails; every refusal; constant query counts on the list."""

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from access.choices import CaseMemberRole, GlobalRole
from access.models import Case
from detection.models import HashBank
from evidence.choices import CustodyAction
from evidence.models import CustodyEvent, EvidenceItem
from parties.services.links import Assertion, link_assert_item_channel, link_assert_item_person
from portal.views import cases as case_views
from tests.factories import (
    IDENTITY,
    bank_match,
    channel,
    detection_rows,
    item,
    jpeg_bytes,
    new_user,
    suspect,
    team,
    victim,
)
from tests.factories import portal_client as _client

pytestmark = pytest.mark.django_db
SURE = Assertion(confidence="confirmed")


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache.clear()


def _creator(role: str = GlobalRole.INVESTIGATOR) -> Any:
    user = new_user()
    group, _ = Group.objects.get_or_create(name=role)
    user.groups.add(group)
    return user


# --- create ---


def test_investigator_opens_a_case_and_becomes_its_lead() -> None:
    user = _creator()
    client = _client(user)
    assert client.get("/cases/new/").status_code == 200
    response = client.post(
        "/cases/new/",
        {"number": "2026-SEOUL-0042", "title": "Room of deepfakes", "retention_class": "standard"},
    )
    assert response.status_code == 302 and response["Location"] == "/cases/2026-SEOUL-0042/"
    case = Case.objects.get(number="2026-SEOUL-0042")
    assert case.members.get().user == user and case.members.get().role == CaseMemberRole.LEAD
    assert CustodyEvent.objects.filter(case=case, action=CustodyAction.CASE_CREATED).count() == 1


def test_case_create_says_what_is_wrong() -> None:
    client = _client(_creator(GlobalRole.SUPERVISOR))
    bad = client.post("/cases/new/", {"number": "x", "title": "t", "retention_class": "standard"})
    assert bad.status_code == 400
    assert "letters, digits and hyphens" in bad.content.decode()
    team("2026-DUP-0001")
    duplicate = client.post(
        "/cases/new/", {"number": "2026-DUP-0001", "title": "t", "retention_class": "standard"}
    )
    assert duplicate.status_code == 400 and "already exists" in duplicate.content.decode()


def test_only_investigators_and_supervisors_open_cases() -> None:
    client = _client(_creator(GlobalRole.VICTIM_SUPPORT))
    response = client.get("/cases/new/")
    assert response.status_code == 403
    assert "only investigators and supervisors" in response.content.decode()
    assert client.post("/cases/new/", {"number": "2026-NO-0001", "title": "t"}).status_code == 403
    assert not Case.objects.filter(number="2026-NO-0001").exists()


def test_pages_need_a_signed_in_user() -> None:
    t = team()
    for url in (f"/cases/{t.case.number}/", f"/cases/{t.case.number}/evidence/", "/cases/new/"):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


# --- case page ---


def test_case_page_shows_sections_and_victims_only_by_pseudonym() -> None:
    t = team()
    v1 = victim(t, identity=IDENTITY, is_minor=True)
    s1 = suspect(t)
    channel(t, handle="@room_one")
    response = _client(t.lead).get(f"/cases/{t.case.number}/")
    html = response.content.decode()
    assert response.status_code == 200
    for heading in ("Summary", "Team", "Offences", "Legal authorities", "People", "Channels", "Graph"):
        assert heading in html or heading.lower() in html.lower()
    assert v1.pseudonym == "V-1" and "V-1" in html and s1.pseudonym in html
    assert "@room_one" in html
    assert IDENTITY.name not in html and IDENTITY.contact not in html and "@jisu.kim" not in html


def test_non_member_gets_404_everywhere_as_for_a_missing_case() -> None:
    t = team()
    stranger = _client(new_user())
    for url in (
        f"/cases/{t.case.number}/",
        f"/cases/{t.case.number}/evidence/",
        f"/cases/{t.case.number}/graph.json",
        "/cases/2099-NONE-0001/",
    ):
        assert stranger.get(url).status_code == 404, url


def test_graph_json_has_people_by_pseudonym_channels_and_items_by_id() -> None:
    t = team()
    v1 = victim(t, identity=IDENTITY)
    room = channel(t)
    photo = item(t, jpeg_bytes(), name="jisu_kim_private.jpg")
    link_assert_item_person(item=photo, person=v1, relation="depicts", actor=t.lead, assertion=SURE)
    link_assert_item_channel(item=photo, channel=room, actor=t.lead, assertion=SURE)
    response = _client(t.lead).get(f"/cases/{t.case.number}/graph.json")
    assert response.status_code == 200 and response["Cache-Control"].startswith("no-store")
    body = response.json()
    ids = {node["id"] for node in body["nodes"]}
    assert {f"person:{v1.pk}", f"channel:{room.pk}", f"item:{photo.pk}"} <= ids
    assert len(body["edges"]) == 2
    text = response.content.decode()
    assert "jisu_kim_private" not in text and IDENTITY.name not in text


# --- evidence list ---


def _items(t: Any, count: int) -> list[EvidenceItem]:
    return [item(t, f"bytes {n}".encode(), name=f"file-{n:03d}.bin") for n in range(count)]


def test_evidence_list_pages_by_keyset_and_sorts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(case_views, "PAGE_SIZE", 4)
    t = team()
    made = _items(t, 10)
    client = _client(t.lead)
    seen: list[int] = []
    url: str | None = f"/cases/{t.case.number}/evidence/?sort=name"
    while url:
        response = client.get(url)
        assert response.status_code == 200
        page = response.context["rows"]
        seen += [row.pk for row in page]
        next_url = response.context["next_url"]
        url = f"/cases/{t.case.number}/evidence/{next_url}" if next_url else None
    assert seen == [i.pk for i in sorted(made, key=lambda i: i.original_name)]
    newest_first = client.get(f"/cases/{t.case.number}/evidence/").context["rows"]
    assert [row.pk for row in newest_first] == sorted((i.pk for i in made), reverse=True)[:4]
    by_size = client.get(f"/cases/{t.case.number}/evidence/?sort=-size").context["rows"]
    assert [row.size for row in by_size] == sorted((i.size or 0 for i in made), reverse=True)[:4]


def test_size_sort_pages_through_items_without_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(case_views, "PAGE_SIZE", 2)
    t = team()
    made = _items(t, 3)
    EvidenceItem.objects.filter(pk=made[1].pk).update(size=None)  # a rejected finding has no size
    client = _client(t.lead)
    first = client.get(f"/cases/{t.case.number}/evidence/?sort=size")
    assert [row.pk for row in first.context["rows"]] == [made[1].pk, made[0].pk]
    second = client.get(f"/cases/{t.case.number}/evidence/{first.context['next_url']}")
    assert [row.pk for row in second.context["rows"]] == [made[2].pk]
    assert second.context["next_url"] is None


def test_evidence_list_filters() -> None:
    t = team()
    photo = item(t, jpeg_bytes(), name="a.jpg")
    other = item(t, b"%PDF-1.4 fake", name="b.pdf")
    EvidenceItem.objects.filter(pk=other.pk).update(mime="application/pdf")
    detection_rows(item=photo, name="nudenet", label="EXPOSED_BREAST")
    bank = HashBank.objects.create(name="victims", kind="victim_originals")
    bank_match(item=other, bank=bank, sha256=other.blob_id or "")
    v1 = victim(t)
    room = channel(t)
    link_assert_item_person(item=photo, person=v1, relation="depicts", actor=t.lead, assertion=SURE)
    link_assert_item_channel(item=other, channel=room, actor=t.lead, assertion=SURE)
    client = _client(t.lead)
    base = f"/cases/{t.case.number}/evidence/"

    def ids(query: str) -> set[int]:
        response = client.get(base + query)
        assert response.status_code == 200, response.content
        return {row.pk for row in response.context["rows"]}

    assert ids("") == {photo.pk, other.pk}
    assert ids("?type=image") == {photo.pk}
    assert ids("?type=application") == {other.pk}
    assert ids("?mime=application/pdf") == {other.pk}
    assert ids("?mime=IMAGE/JPEG") == {photo.pk}
    assert ids("?label=EXPOSED_BREAST") == {photo.pk}
    assert ids("?match=yes") == {other.pk}
    assert ids("?match=no") == {photo.pk}
    assert ids("?person=V-1") == {photo.pk}
    assert ids(f"?channel={room.pk}") == {other.pk}
    html = client.get(base).content.decode()
    assert "EXPOSED_BREAST" in html  # offered in the label filter and shown on the row


@pytest.mark.parametrize(
    "query,message",
    [
        ("?sort=colour", "sort must be one of"),
        ("?type=exe", "type must be one of"),
        ("?match=maybe", "match must be yes or no"),
        ("?person=V-9", "no person V-9"),
        ("?channel=abc", "channel must be a channel id"),
        ("?after=%%%", "page link is damaged"),
    ],
)
def test_evidence_list_bad_parameters_say_what_to_do(query: str, message: str) -> None:
    t = team()
    response = _client(t.lead).get(f"/cases/{t.case.number}/evidence/{query}")
    assert response.status_code == 400
    assert message in response.content.decode()


def test_thumbnails_are_lazy_fixed_size_preview_urls_for_investigators_only() -> None:
    t = team()
    photo = item(t, jpeg_bytes(), name="a.jpg")
    html = _client(t.lead).get(f"/cases/{t.case.number}/evidence/").content.decode()
    assert f'src="/evidence/{photo.pk}/preview/" loading="lazy" width="64" height="64"' in html
    assert "/original/" not in html
    auditor = t.member(CaseMemberRole.AUDITOR)
    audit_html = _client(auditor).get(f"/cases/{t.case.number}/evidence/").content.decode()
    assert "<img" not in audit_html and "/preview/" not in audit_html
    assert f"/evidence/{photo.pk}/" in audit_html  # metadata, as the API gives auditors


def test_victim_support_never_sees_the_evidence_list() -> None:
    t = team()
    item(t, jpeg_bytes())
    worker = t.member(CaseMemberRole.VICTIM_SUPPORT)
    client = _client(worker)
    response = client.get(f"/cases/{t.case.number}/evidence/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "victim support does not see the evidence list" in html
    assert "<img" not in html and "/preview" not in html
    case_page = client.get(f"/cases/{t.case.number}/").content.decode()
    assert f"/cases/{t.case.number}/evidence/" not in case_page and "<img" not in case_page
    assert "cytoscape" not in case_page and 'data-list-only="1"' in case_page  # the graph as text only
    lead_page = _client(t.lead).get(f"/cases/{t.case.number}/").content.decode()
    assert "cytoscape.min.js" in lead_page and "data-list-only" not in lead_page


def test_evidence_list_queries_do_not_grow_with_rows() -> None:
    t = team()
    photo = item(t, jpeg_bytes(), name="a.jpg")
    detection_rows(item=photo, name="nudenet", label="FACE")
    client = _client(t.lead)
    url = f"/cases/{t.case.number}/evidence/"
    client.get(url)  # warm the label cache and the session
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for n in range(12):
        made = item(t, f"more {n}".encode(), name=f"m{n}.jpg")
        detection_rows(item=made, name=f"det{n}", label=f"L{n}")
    cache.clear()
    client.get(url)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(response.context["rows"]) == 13
    assert len(many) == len(few), "\n".join(q["sql"][:300] for q in many.captured_queries)
    assert len(many) <= 10


def test_deep_page_uses_the_cursor_not_an_offset() -> None:
    t = team()
    _items(t, 3)
    client = _client(t.lead)
    first = client.get(f"/cases/{t.case.number}/evidence/?sort=acquired")
    assert first.context["next_url"] is None
    last = first.context["rows"][-1]
    cursor = case_views._encode_cursor(last.acquired_at, last.pk)
    with CaptureQueriesContext(connection) as queries:
        after = client.get(f"/cases/{t.case.number}/evidence/?sort=acquired&after={cursor}")
    assert after.status_code == 200 and list(after.context["rows"]) == []
    page_sql = [
        q["sql"]
        for q in queries.captured_queries
        if "evidence_evidenceitem" in q["sql"] and "LIMIT 51" in q["sql"]
    ]
    assert page_sql and "OFFSET" not in page_sql[0].upper()
    assert timezone.now() >= last.acquired_at


def test_the_evidence_list_shows_what_was_found_and_not_what_was_checked() -> None:
    t = team()
    photo = item(t, jpeg_bytes(), name="scene.jpg")
    detection_rows(item=photo, name="nudenet", label="FEMALE_BREAST_EXPOSED", category="exposed")
    detection_rows(item=photo, name="faces", label="face", category="face")
    detection_rows(
        item=photo, name="generator-watermark", label="generator_watermark", category="ai_provenance"
    )
    for name, label, category in [
        ("c2pa", "c2pa_none", "not_probative"),
        ("generator-metadata", "generator_metadata_none", "not_probative"),
        ("jpeg-forensics", "ela_map", "forensic_indicator"),
        ("file-hashes", "file_hashes", "file_hash"),
        ("pdq", "pdq", "perceptual_hash"),
        ("nudenet-covered", "BELLY_COVERED", "covered"),
    ]:
        detection_rows(item=photo, name=name, label=label, category=category)
    response = _client(t.lead).get(f"/cases/{t.case.number}/evidence/")
    (row,) = response.context["rows"]
    assert row.labels == ["FEMALE_BREAST_EXPOSED", "face", "generator_watermark"]
    html = response.content.decode()
    assert "female breast, exposed" in html and "generator watermark" in html
    for absent in ("no C2PA credentials", "no generator metadata", "error level analysis map", "file hashes"):
        assert absent not in html.split("<tbody>")[1]  # the rows; the filter still offers every label
