"""The cases API beyond the case list: case changes, team, authorities, people and identity, channels,
links and the graph. Reads for every member, writes by role, 404 for non-members, 400 with field messages
and nothing written on bad input, constant query counts on lists."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from rest_framework.test import APIClient

from access.models import Case, CaseMember, LegalAuthority
from evidence.models import CustodyEvent
from parties.models import Channel, ItemPersonLink, Person
from parties.services.people import identity_open
from tests.factories import (
    IDENTITY,
    Team,
    assign_worker,
    channel,
    item,
    new_user,
    suspect,
    team,
    verified_login,
    victim,
)
from tests.factories import api_client as client_for
from tests.schema import openapi_schema

pytestmark = pytest.mark.django_db


def url(t: Team, path: str = "") -> str:
    return f"/api/v1/cases/{t.case.number}/{path}"


def with_role(global_role: str):
    user = new_user()
    user.groups.add(Group.objects.get(name=global_role))
    return user


# Cases


def test_investigators_open_cases_and_lead_them() -> None:
    user = with_role("investigator")
    response = client_for(user).post(
        "/api/v1/cases/",
        {"number": "2024-SEOUL-0500", "title": "Telegram room", "offences": ["sc-14-2-distribute"]},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["role"] == "lead" and body["lead_investigator"] == user.username
    assert [o["code"] for o in body["offences"]] == ["sc-14-2-distribute"]
    assert body["offences"][0]["label_ko"]


@pytest.mark.parametrize("global_role", [None, "prosecutor", "victim_support", "auditor", "admin"])
def test_other_roles_cannot_open_cases(global_role) -> None:
    user = with_role(global_role) if global_role else new_user()
    response = client_for(user).post("/api/v1/cases/", {"number": "2024-X-0001", "title": "t"}, format="json")
    assert response.status_code == 403
    assert "investigators and supervisors" in response.json()["detail"]
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": "no number"}, "number"),
        ({"number": "has space", "title": "t"}, "number"),
        ({"number": "2024-X-0002", "title": "t", "offences": ["nope"]}, "offences"),
        ({"number": "2024-X-0003", "title": "t", "retention_class": "forever"}, "retention_class"),
    ],
)
def test_bad_case_input_is_a_400_naming_the_field_and_writes_nothing(payload, field) -> None:
    response = client_for(with_role("supervisor")).post("/api/v1/cases/", payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert field in body or field in body.get("details", {}), body
    assert not Case.objects.exists() and not CustodyEvent.objects.exists()


def test_case_list_filters() -> None:
    user = with_role("investigator")
    client = client_for(user)
    for number, offences in [("2024-A-0001", ["sc-14-2-possess"]), ("2024-B-0002", [])]:
        client.post("/api/v1/cases/", {"number": number, "title": "t", "offences": offences}, format="json")
    client.post("/api/v1/cases/2024-B-0002/status/", {"status": "closed", "reason": "done"}, format="json")
    numbers = lambda query: [c["number"] for c in client.get(f"/api/v1/cases/?{query}").json()["results"]]  # noqa: E731
    assert numbers("offence=sc-14-2-possess") == ["2024-A-0001"]
    assert numbers("status=closed") == ["2024-B-0002"]
    assert sorted(numbers("status=open&status=closed")) == ["2024-A-0001", "2024-B-0002"]
    assert numbers("q=A-00") == ["2024-A-0001"]


def test_lead_changes_details_status_and_hold() -> None:
    t = team()
    client = client_for(t.lead)
    patched = client.patch(url(t), {"unit": "Mapo", "offences": ["sc-14-2-create"]}, format="json")
    assert patched.status_code == 200, patched.content
    assert patched.json()["unit"] == "Mapo"
    status = client.post(url(t, "status/"), {"status": "referred", "reason": "to prosecutor"}, format="json")
    assert status.status_code == 200 and status.json()["status"] == "referred"
    hold = client.post(url(t, "legal-hold/"), {"legal_hold": True, "reason": "appeal"}, format="json")
    assert hold.status_code == 200 and hold.json()["legal_hold"] is True
    bad = client.post(url(t, "status/"), {"status": "archived", "reason": "skip"}, format="json")
    assert bad.status_code == 400 and "status" in bad.json()["details"]
    missing = client.post(url(t, "status/"), {"status": "closed"}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()
    assert Case.objects.get(pk=t.case.pk).status == "referred"


@pytest.mark.parametrize("role", ["investigator", "analyst", "prosecutor", "victim_support", "auditor"])
def test_only_leads_change_the_case(role: str) -> None:
    t = team()
    client = client_for(t.member(role))
    before = CustodyEvent.objects.count()
    for method, path, payload in [
        ("patch", "", {"title": "x"}),
        ("post", "status/", {"status": "closed", "reason": "r"}),
        ("post", "legal-hold/", {"legal_hold": True, "reason": "r"}),
        ("post", "members/", {"username": new_user().username, "role": "analyst"}),
    ]:
        response = getattr(client, method)(url(t, path), payload, format="json")
        assert response.status_code == 403, (path, response.content)
        assert f"your role on case {t.case.number} is {role}" in response.json()["detail"]
    assert CustodyEvent.objects.count() == before


def test_non_members_get_404_everywhere_under_the_case() -> None:
    t = team()
    person = victim(t, identity=IDENTITY)
    room = channel(t)
    outsider = client_for(new_user(is_superuser=True, is_staff=True))
    for path in [
        "members/",
        "authorities/",
        "people/",
        f"people/{person.pseudonym}/",
        "channels/",
        f"channels/{room.pk}/",
        "links/item-person/",
        "links/item-channel/",
        "links/person-channel/",
        "links/item-derivation/",
        "graph/",
    ]:
        assert outsider.get(url(t, path)).status_code == 404, path
    for path, payload in [
        (f"people/{person.pseudonym}/identity/", {"reason": "curious"}),
        ("people/", {"kind": "victim"}),
        ("status/", {"status": "closed", "reason": "r"}),
    ]:
        assert outsider.post(url(t, path), payload, format="json").status_code == 404, path
    assert not CustodyEvent.objects.filter(action="identity_read").exists()


# Team


def test_team_management_through_the_api() -> None:
    t = team()
    client = client_for(t.lead)
    newcomer = new_user()
    added = client.post(url(t, "members/"), {"username": newcomer.username, "role": "analyst"}, format="json")
    assert added.status_code == 201 and added.json()["role"] == "analyst"
    assert added.json()["added_by"] == t.lead.username
    unknown = client.post(url(t, "members/"), {"username": "nobody", "role": "analyst"}, format="json")
    assert unknown.status_code == 400 and "username" in unknown.json()["details"]
    changed = client.post(
        url(t, f"members/{newcomer.username}/role/"), {"role": "investigator"}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["role"] == "investigator"
    last_lead = client.post(url(t, f"members/{t.lead.username}/role/"), {"role": "analyst"}, format="json")
    assert last_lead.status_code == 400 and "only lead" in last_lead.json()["detail"]
    removed = client.post(url(t, f"members/{newcomer.username}/remove/"), {"reason": "moved"}, format="json")
    assert removed.status_code == 204
    assert client.get(url(t, f"members/{newcomer.username}/")).status_code == 404
    listed = client.get(url(t, "members/")).json()
    assert [m["username"] for m in listed["results"]] == [t.lead.username]
    actions = CustodyEvent.objects.filter(case=t.case, item__isnull=True).values_list("action", flat=True)
    assert list(actions.order_by("seq")) == [
        "case_created",
        "member_added",
        "member_changed",
        "member_removed",
    ]


# Legal authorities


def test_legal_authorities() -> None:
    t = team()
    client = client_for(t.member("investigator"))
    issued = timezone.now() - timedelta(days=1)
    created = client.post(
        url(t, "authorities/"),
        {
            "number": "2024-12345",
            "court": "서울중앙지방법원",
            "scope": "phone",
            "issued_at": issued.isoformat(),
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    authority_id = created.json()["id"]
    executed = client.post(
        url(t, f"authorities/{authority_id}/executed/"),
        {"executed_at": timezone.now().isoformat()},
        format="json",
    )
    assert executed.status_code == 200 and executed.json()["executed_at"]
    assert client.get(url(t, "authorities/?executed=true")).json()["count"] == 1
    assert client.get(url(t, "authorities/?executed=false")).json()["count"] == 0
    bad = client.post(
        url(t, "authorities/"), {"number": "1", "scope": "s", "issued_at": "yesterday"}, format="json"
    )
    assert bad.status_code == 400 and "issued_at" in bad.json()
    refused = client_for(t.member("analyst")).post(
        url(t, "authorities/"), {"number": "2", "scope": "s", "issued_at": issued.isoformat()}, format="json"
    )
    assert refused.status_code == 403
    assert LegalAuthority.objects.count() == 1


# People and identity


def test_people_by_pseudonym_and_identity_never_in_lists() -> None:
    t = team()
    client = client_for(t.lead)
    created = client.post(
        url(t, "people/"),
        {
            "kind": "victim",
            "is_minor": True,
            "identity": {
                "name": "김지수",
                "birth_date": "2008-03-14",
                "identifiers": [{"kind": "phone", "value": "010"}],
            },
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["pseudonym"] == "V-1" and created.json()["has_identity"] is True
    suspect_created = client.post(url(t, "people/"), {"kind": "suspect"}, format="json")
    assert suspect_created.json()["pseudonym"] == "S-1"
    for path in ["people/", "people/V-1/", "people/?kind=victim", "graph/"]:
        response = client.get(url(t, path))
        assert response.status_code == 200
        assert "김지수" not in response.content.decode() and "2008-03-14" not in response.content.decode()
    assert client.get(url(t, "people/?kind=suspect")).json()["count"] == 1
    assert client.get(url(t, "people/?is_minor=true")).json()["results"][0]["pseudonym"] == "V-1"


def test_person_create_bad_input_writes_nothing() -> None:
    t = team()
    client = client_for(t.lead)
    for payload, field in [
        ({"kind": "bystander"}, "kind"),
        ({"kind": "victim", "identity": {"birth_date": "14/03/2008"}}, "identity"),
    ]:
        response = client.post(url(t, "people/"), payload, format="json")
        assert response.status_code == 400 and field in response.json(), response.content
    assert not Person.objects.exists()
    assert (
        client_for(t.member("analyst")).post(url(t, "people/"), {"kind": "victim"}, format="json").status_code
        == 403
    )


def _read_identity(t: Team, user, pseudonym: str = "V-1", reason: str = "arranging victim support"):
    return client_for(user).post(url(t, f"people/{pseudonym}/identity/"), {"reason": reason}, format="json")


def test_identity_endpoint_access_rule() -> None:
    t = team()
    person = victim(t, identity=IDENTITY)
    assigned = t.member("victim_support")
    assign_worker(person, assigned)

    lead_read = _read_identity(t, t.lead)
    assert lead_read.status_code == 200
    assert lead_read.json() == {
        "pseudonym": "V-1",
        "identity": {**IDENTITY.as_json(), "birth_date": "2008-03-14"},
    }
    assert _read_identity(t, assigned).status_code == 200
    for user in [
        t.member("victim_support"),
        t.member("investigator"),
        t.member("auditor"),
        t.member("prosecutor"),
    ]:
        refused = _read_identity(t, user)
        assert refused.status_code == 403
        assert "pseudonym" in refused.json()["detail"] and "김지수" not in refused.content.decode()
    admin = new_user(is_superuser=True, is_staff=True)
    assert _read_identity(t, admin).status_code == 404  # not on the team: the case does not exist for them
    assert _read_identity(t, t.lead, reason="").status_code == 400
    assert CustodyEvent.objects.filter(action="identity_read").count() == 2


def test_identity_change_endpoint() -> None:
    t = team()
    victim(t)
    investigator = t.member("investigator")
    response = client_for(investigator).post(
        url(t, "people/V-1/identity/change/"),
        {"identity": {"name": "이서연", "contact": "010-9999-0000"}, "reason": "statement taken"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["has_identity"] is True and "이서연" not in response.content.decode()
    assert identity_open(person=Person.objects.get(case=t.case, pseudonym="V-1")).name == "이서연"
    assert _read_identity(t, investigator).status_code == 403
    no_reason = client_for(investigator).post(
        url(t, "people/V-1/identity/change/"), {"identity": {"name": "x"}}, format="json"
    )
    assert no_reason.status_code == 400 and "reason" in no_reason.json()


def test_accounts_and_person_update() -> None:
    t = team()
    suspect(t)
    client = client_for(t.lead)
    added = client.post(
        url(t, "people/S-1/accounts/"), {"platform": "telegram", "handle": "@uploader"}, format="json"
    )
    assert added.status_code == 201
    assert client.get(url(t, "people/S-1/")).json()["accounts"][0]["handle"] == "@uploader"
    patched = client.patch(url(t, "people/S-1/"), {"description": "operates the room"}, format="json")
    assert patched.status_code == 200 and patched.json()["description"] == "operates the room"
    assert client.get(url(t, "people/V-9/")).status_code == 404


# Channels and links


def test_channels_and_observations() -> None:
    t = team()
    client = client_for(t.member("analyst"))
    created = client.post(
        url(t, "channels/"), {"platform": "telegram", "handle": "@room", "title": "Room"}, format="json"
    )
    assert created.status_code == 201, created.content
    channel_id = created.json()["id"]
    observed = client.post(
        url(t, f"channels/{channel_id}/observations/"), {"member_count": 220000}, format="json"
    )
    assert observed.status_code == 201
    detail = client.get(url(t, f"channels/{channel_id}/")).json()
    assert detail["latest_member_count"] == 220000 and len(detail["observations"]) == 1
    empty = client.post(url(t, "channels/"), {"platform": "telegram"}, format="json")
    assert empty.status_code == 400 and "handle" in empty.json()
    assert client.get(url(t, "channels/?platform=x")).json()["count"] == 0
    refused = client_for(t.member("victim_support")).post(
        url(t, "channels/"), {"platform": "x", "handle": "@a"}, format="json"
    )
    assert refused.status_code == 403
    assert Channel.objects.count() == 1


def test_links_assert_filter_and_withdraw() -> None:
    t = team()
    client = client_for(t.member("investigator"))
    photo, source = item(t, b"deepfake"), item(t, b"source")
    victim(t)
    suspect(t)
    room = channel(t)
    posts = [
        (
            "links/item-person/",
            {"item": photo.pk, "person": "V-1", "relation": "depicts", "confidence": "confirmed"},
        ),
        (
            "links/item-person/",
            {"item": photo.pk, "person": "s-1", "relation": "distributed_by", "confidence": "suspected"},
        ),
        (
            "links/item-channel/",
            {
                "item": photo.pk,
                "channel": room.pk,
                "confidence": "confirmed",
                "message_reference": "t.me/room/5",
            },
        ),
        (
            "links/person-channel/",
            {"person": "S-1", "channel": room.pk, "relation": "administers", "confidence": "suspected"},
        ),
        ("links/item-derivation/", {"item": photo.pk, "source_item": source.pk, "confidence": "suspected"}),
    ]
    for path, payload in posts:
        response = client.post(url(t, path), payload, format="json")
        assert response.status_code == 201, (path, response.content)
        assert response.json()["asserted_by"] == t.case.members.get(role="investigator").user.username
    depicts = client.get(url(t, "links/item-person/?relation=depicts")).json()["results"]
    assert [(link["person"], link["item_sha256"]) for link in depicts] == [("V-1", photo.blob_id)]
    link_id = depicts[0]["id"]
    withdrawn = client.post(
        url(t, f"links/item-person/{link_id}/withdraw/"), {"reason": "mistaken"}, format="json"
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["active"] is False
    assert client.get(url(t, "links/item-person/?active=true")).json()["count"] == 1
    assert client.get(url(t, f"links/item-person/?item={photo.pk}&person=S-1")).json()["count"] == 1
    again = client.post(url(t, f"links/item-person/{link_id}/withdraw/"), {"reason": "x"}, format="json")
    assert again.status_code == 400
    graph = client.get(url(t, "graph/")).json()
    assert {e["type"] for e in graph["edges"]} == {
        "item_person",
        "item_channel",
        "person_channel",
        "item_derivation",
    }


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"item": 999999, "person": "V-1", "relation": "depicts", "confidence": "confirmed"}, "item"),
        ({"item": None, "person": "V-7", "relation": "depicts", "confidence": "confirmed"}, "person"),
        ({"item": None, "person": "V-1", "relation": "loves", "confidence": "confirmed"}, "relation"),
        ({"item": None, "person": "V-1", "relation": "depicts", "confidence": "sure"}, "confidence"),
    ],
)
def test_bad_link_input_is_a_400_naming_the_field(payload: dict, field: str) -> None:
    t = team()
    victim(t)
    photo = item(t)
    if payload["item"] is None:
        payload = {**payload, "item": photo.pk}
    response = client_for(t.lead).post(url(t, "links/item-person/"), payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert field in body or field in body.get("details", {}), body
    assert not ItemPersonLink.objects.exists()


def test_an_item_of_another_case_cannot_be_linked_through_the_api() -> None:
    t, other = team(), team()
    victim(t)
    foreign = item(other, b"theirs")
    response = client_for(t.lead).post(
        url(t, "links/item-person/"),
        {"item": foreign.pk, "person": "V-1", "relation": "depicts", "confidence": "confirmed"},
        format="json",
    )
    assert response.status_code == 400
    assert str(foreign.pk) in response.json()["details"]["item"][0]
    assert "theirs" not in response.content.decode()


@pytest.mark.parametrize("role", ["prosecutor", "victim_support", "auditor"])
def test_reading_roles_see_links_but_cannot_assert(role: str) -> None:
    t = team()
    victim(t)
    photo = item(t)
    client = client_for(t.member(role))
    assert client.get(url(t, "links/item-person/")).status_code == 200
    response = client.post(
        url(t, "links/item-person/"),
        {"item": photo.pk, "person": "V-1", "relation": "depicts", "confidence": "confirmed"},
        format="json",
    )
    assert response.status_code == 403


# Query counts on list endpoints


def _grow(t: Team, n: int) -> None:
    from access.services import legal_authority_record
    from parties.services.channels import channel_observe
    from parties.services.links import (
        Assertion,
        link_assert_derivation,
        link_assert_item_channel,
        link_assert_item_person,
        link_assert_person_channel,
    )
    from parties.services.people import person_account_add

    sure = Assertion(confidence="confirmed")
    t.member("analyst")
    legal_authority_record(
        case=t.case, actor=t.lead, number=f"W-{n}", scope="s", issued_at=timezone.now() - timedelta(days=1)
    )
    room = channel(t, handle=f"@room{n}")
    channel_observe(channel=room, actor=t.lead, member_count=n)
    person, offender = victim(t), suspect(t)
    person_account_add(person=offender, platform="x", handle=f"@s{n}", actor=t.lead)
    photo, source = item(t, f"fake {n}".encode()), item(t, f"src {n}".encode())
    link_assert_item_person(item=photo, person=person, relation="depicts", assertion=sure, actor=t.lead)
    link_assert_item_channel(item=photo, channel=room, assertion=sure, actor=t.lead)
    link_assert_person_channel(
        person=offender, channel=room, relation="uploads_to", assertion=sure, actor=t.lead
    )
    link_assert_derivation(item=photo, source_item=source, assertion=sure, actor=t.lead)


# The case gate (1), then the page and its count (2), plus prefetches; the graph: people, channels, 4 links.
LIST_QUERIES = {
    "members/": 3,
    "authorities/": 3,
    "people/": 4,  # + known accounts
    "channels/": 3,
    "links/item-person/": 3,
    "links/item-channel/": 3,
    "links/person-channel/": 3,
    "links/item-derivation/": 3,
    "graph/": 7,
}


@pytest.mark.parametrize("path", sorted(LIST_QUERIES))
def test_list_endpoints_keep_a_constant_query_count(path: str, django_assert_num_queries: Callable) -> None:
    t = team()
    _grow(t, 0)
    client = client_for(t.lead)
    with django_assert_num_queries(LIST_QUERIES[path]):
        first = client.get(url(t, path))
    assert first.status_code == 200
    for n in range(1, 8):
        _grow(t, n)
    with django_assert_num_queries(LIST_QUERIES[path]):
        grown = client.get(url(t, path))
    body = grown.json()
    size = len(body["edges"]) if path == "graph/" else body["count"]
    assert size > (len(first.json()["edges"]) if path == "graph/" else first.json()["count"])


def test_offences_are_listed_for_any_signed_in_user(django_assert_num_queries) -> None:
    client = client_for(new_user())
    with django_assert_num_queries(1):
        offences = client.get("/api/v1/offences/").json()
    assert any(o["code"] == "sc-14-2-possess" for o in offences)
    assert client.get("/api/v1/offences/sc-14-3-threat/").json()["article"] == "14-3(1)"
    assert APIClient().get("/api/v1/offences/").status_code == 401


def test_removed_members_lose_access_at_once() -> None:
    t = team()
    worker = t.member("victim_support")
    client = client_for(worker)
    assert client.get(url(t, "people/")).status_code == 200
    client_for(t.lead).post(
        url(t, f"members/{worker.username}/remove/"), {"reason": "reassigned"}, format="json"
    )
    assert client.get(url(t, "people/")).status_code == 404
    assert not CaseMember.objects.filter(user=worker).exists()


def test_the_schema_documents_every_cases_route() -> None:
    paths = openapi_schema()["paths"]
    for path in [
        "/api/v1/offences/",
        "/api/v1/cases/{number}/status/",
        "/api/v1/cases/{number}/legal-hold/",
        "/api/v1/cases/{number}/graph/",
        "/api/v1/cases/{number}/members/{username}/role/",
        "/api/v1/cases/{number}/people/{pseudonym}/identity/",
        "/api/v1/cases/{number}/channels/{id}/observations/",
        "/api/v1/cases/{number}/links/item-derivation/{id}/withdraw/",
    ]:
        assert path in paths, path
    identity = paths["/api/v1/cases/{number}/people/{pseudonym}/identity/"]["post"]
    assert {"200", "400", "403", "404"} <= set(identity["responses"])
    assert (
        "get" not in paths["/api/v1/cases/{number}/people/{pseudonym}/identity/"]
    )  # reads are POSTs with a reason
    people_list = paths["/api/v1/cases/{number}/people/"]["get"]
    assert {p["name"] for p in people_list["parameters"]} >= {"number", "kind", "is_minor", "limit", "offset"}


def test_the_browsable_api_renders_the_filter_forms() -> None:
    t = team()
    client = APIClient()
    verified_login(client, t.lead)  # API sessions must be OTP-verified
    for path in ["/api/v1/cases/", url(t, "people/"), url(t, "links/item-person/")]:
        response = client.get(path, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, path
        assert b"Filters" in response.content
