"""A case from the README tour: team by command, people, channel, links and graph through the API; the
identity read once by the lead and refused to others; the ledger then verifies clean and holds no identity."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.test import APIClient

from access.models import Case
from evidence.models import CustodyEvent
from evidence.verify import vault_verify
from parties.models import Person
from tests.factories import IDENTITY, custody_actions, stored_item

pytestmark = pytest.mark.django_db


def _client(username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(username=username))
    return client


def test_case_with_victim_suspect_channel_and_links(capsys: pytest.CaptureFixture[str]) -> None:
    for name, role in [("kim", "investigator"), ("park", "victim_support"), ("lee", "prosecutor")]:
        call_command("create_user", name, "--role", role, "--json")
    call_command("create_case", "2024-SEOUL-0001", "--title", "Deepfake channel", "--actor", "kim")
    call_command("add_member", "2024-SEOUL-0001", "park", "victim_support", "--actor", "kim")
    call_command("add_member", "2024-SEOUL-0001", "lee", "prosecutor", "--actor", "kim")
    capsys.readouterr()

    kim, lee = _client("kim"), _client("lee")
    case_url = "/api/v1/cases/2024-SEOUL-0001/"
    case = Case.objects.get(number="2024-SEOUL-0001")
    fake = stored_item(case=case, data=b"deepfake bytes", actor=case.lead_investigator, name="김지수.jpg")
    source = stored_item(case=case, data=b"source photo", actor=case.lead_investigator, name="source.jpg")

    def post(client: APIClient, path: str, body: dict) -> dict:
        response = client.post(case_url + path, body, format="json")
        assert response.status_code in (200, 201), (path, response.content)
        return response.json()

    assert (
        kim.patch(case_url, {"offences": ["sc-14-2-create", "cy-11-distribute"]}, format="json").status_code
        == 200
    )
    post(kim, "people/", {"kind": "victim", "is_minor": True, "identity": IDENTITY.as_json()})
    post(kim, "people/", {"kind": "suspect"})
    post(kim, "people/S-1/accounts/", {"platform": "telegram", "handle": "@df_uploader"})
    channel = post(kim, "channels/", {"platform": "telegram", "handle": "@deepfake_room"})
    post(kim, f"channels/{channel['id']}/observations/", {"member_count": 1200})
    post(
        kim,
        "links/item-person/",
        {"item": fake.pk, "person": "V-1", "relation": "depicts", "confidence": "confirmed"},
    )
    post(
        kim,
        "links/item-person/",
        {"item": fake.pk, "person": "S-1", "relation": "distributed_by", "confidence": "suspected"},
    )
    post(
        kim,
        "links/item-channel/",
        {
            "item": fake.pk,
            "channel": channel["id"],
            "confidence": "confirmed",
            "message_reference": "t.me/deepfake_room/4412",
        },
    )
    post(
        kim,
        "links/person-channel/",
        {"person": "S-1", "channel": channel["id"], "relation": "administers", "confidence": "suspected"},
    )
    post(
        kim, "links/item-derivation/", {"item": fake.pk, "source_item": source.pk, "confidence": "confirmed"}
    )

    graph = lee.get(case_url + "graph/").json()  # the prosecutor sees the graph, by pseudonym
    assert sorted(n["pseudonym"] for n in graph["nodes"] if n["type"] == "person") == ["S-1", "V-1"]
    assert len(kim.get(case_url + "graph/").json()["edges"]) == 5
    # No exhibit is shared yet: the prosecutor sees no item, so only the edge that names none.
    assert [e["type"] for e in graph["edges"]] == ["person_channel"]
    assert "김지수" not in json.dumps(graph, ensure_ascii=False)

    assert post(kim, "people/V-1/identity/", {"reason": "victim interview"})["identity"]["name"] == "김지수"
    for refused in ("lee", "park"):  # park is not (yet) assigned to V-1's support file
        assert (
            _client(refused)
            .post(case_url + "people/V-1/identity/", {"reason": "x"}, format="json")
            .status_code
            == 403
        )
    post(kim, "status/", {"status": "referred", "reason": "sent to the prosecutors"})

    ledger = json.dumps(list(CustodyEvent.objects.values("details", "purpose")), ensure_ascii=False)
    for secret in ["김지수", "2008-03-14", "010-1234-5678", "@jisu.kim"]:
        assert secret not in ledger
    actions = set(custody_actions(case=case))
    assert {"case_created", "member_added", "case_updated", "person_recorded", "channel_recorded"} <= actions
    assert {"link_asserted", "identity_read", "case_status_changed"} <= actions
    assert CustodyEvent.objects.filter(action="identity_read").count() == 1
    assert Person.objects.get(case=case, pseudonym="V-1").has_identity
    report = vault_verify(case=case)
    assert report.ok, report.failures
