"""Hash bank and match API: who may manage and read banks, and what a match reveals across cases."""

import json
from typing import cast

import numpy as np
import pytest
from rest_framework.test import APIClient

from access.choices import CaseMemberRole
from access.models import Case, Unit
from detection import pdq
from detection.banks import bank_create, bank_entry_add
from detection.detectors.pdq import PdqDetector
from detection.models import BankEntry, HashBank, Match, MatchAlert
from detection.models.banks import HashBankKind
from detection.services import detection_run
from tests.factories import (  # noqa: F401 (fixture)
    CaseFactory,
    CaseMemberFactory,
    UserFactory,
    encode,
    fresh_hash_indexes,
    photo,
    stored_item,
)
from tests.factories import api_client as client_for
from tests.schema import openapi_schema

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_hash_indexes")]


def _case(**fields) -> Case:
    return cast(Case, CaseFactory(**fields))


@pytest.fixture
def two_cases():
    """Case A (lead Kim, unit with a name) holds the first copy; case B (lead Lee) gets a flipped copy."""
    case_a = _case(number="2024-SEOUL-0417", title="Telegram room A")
    case_b = _case(number="2024-BUSAN-0099", title="School chat B")
    case_a.unit = Unit.objects.create(name="Seoul Cyber Bureau")
    case_a.save()
    kim = UserFactory(username="kim", first_name="Minji", last_name="Kim")
    lee = UserFactory(username="lee", first_name="Jun", last_name="Lee")
    CaseMemberFactory(case=case_a, user=kim, role=CaseMemberRole.LEAD)
    CaseMemberFactory(case=case_b, user=lee, role=CaseMemberRole.LEAD)
    first = stored_item(
        case=case_a, data=encode(photo("coffee")), actor=kim, name="victim-original.jpg", mime="image/jpeg"
    )
    detection_run(item=first, detector=PdqDetector())
    copy = stored_item(
        case=case_b,
        data=encode(np.ascontiguousarray(photo("coffee")[:, ::-1]), quality=60),
        actor=lee,
        name="reposted.jpg",
        mime="image/jpeg",
    )
    detection_run(item=copy, detector=PdqDetector())
    return case_a, case_b, kim, lee, first, copy


def test_cross_case_match_reveals_only_that_it_exists_and_whom_to_ask(two_cases):
    case_a, case_b, kim, lee, first, copy = two_cases
    (match,) = Match.objects.all()
    assert (match.item_id, match.other_item_id) == (copy.pk, first.pk)

    response = client_for(lee).get(f"/api/v1/matches/?case={case_b.number}")
    assert response.status_code == 200
    (body,) = response.json()["results"]
    assert body["item"] == {
        "visible": True,
        "item_id": copy.pk,
        "case_number": case_b.number,
        "original_name": "reposted.jpg",
        "contacts": [],
    }
    other = body["other_item"]
    assert other["visible"] is False and other["item_id"] is None and other["case_number"] is None
    assert other["original_name"] is None
    assert other["contacts"] == [{"name": "Minji Kim", "unit": "Seoul Cyber Bureau"}]
    assert body["orientation"] == "flipy" and body["distance"] <= 31
    raw = response.content.decode()
    for secret in (case_a.number, case_a.title, "victim-original.jpg", first.blob_id, first.blob.md5):
        assert secret not in raw
    assert f'"item_id":{first.pk}' not in raw.replace(" ", "")

    # The alert says the same, in words.
    alerts = client_for(lee).get("/api/v1/match-alerts/").json()["results"]
    (alert,) = alerts
    assert alert["case"] == case_b.number
    assert "ask Minji Kim" in alert["message"]
    assert case_a.number not in json.dumps(alerts) and "victim-original" not in json.dumps(alerts)

    # Kim sees the mirror image: her item, and only whom to ask on the other side.
    body_a = client_for(kim).get(f"/api/v1/matches/?item={first.pk}").json()["results"][0]
    assert body_a["other_item"]["visible"] is True and body_a["other_item"]["item_id"] == first.pk
    assert body_a["item"]["visible"] is False
    assert body_a["item"]["contacts"][0]["name"] == "Jun Lee"
    assert case_b.number not in json.dumps(body_a)
    (kim_alert,) = client_for(kim).get("/api/v1/match-alerts/").json()["results"]
    assert kim_alert["case"] == case_a.number and "ask Jun Lee" in kim_alert["message"]


def test_a_member_of_both_cases_sees_both_sides(two_cases):
    case_a, case_b, _, _, first, _copy = two_cases
    both = UserFactory()
    CaseMemberFactory(case=case_a, user=both, role=CaseMemberRole.INVESTIGATOR)
    CaseMemberFactory(case=case_b, user=both, role=CaseMemberRole.INVESTIGATOR)
    (body,) = client_for(both).get(f"/api/v1/matches/?case={case_b.number}").json()["results"]
    assert body["other_item"]["case_number"] == case_a.number and body["other_item"]["item_id"] == first.pk
    assert client_for(both).get("/api/v1/match-alerts/").json()["results"] == []  # alerts go to leads


def test_outsiders_get_404_for_items_and_cases_and_no_alerts(two_cases):
    case_a, _, _, _, first, _ = two_cases
    outsider = CaseMemberFactory(role=CaseMemberRole.LEAD).user
    client = client_for(outsider)
    assert client.get(f"/api/v1/matches/?item={first.pk}").status_code == 404
    assert client.get(f"/api/v1/matches/?case={case_a.number}").status_code == 404
    assert client.get("/api/v1/match-alerts/").json()["results"] == []
    assert client.get("/api/v1/matches/").status_code == 400
    assert APIClient().get(f"/api/v1/matches/?case={case_a.number}").status_code == 401


def test_alerts_can_be_marked_seen_only_by_their_recipient(two_cases):
    _, _, kim, lee, _, _ = two_cases
    alert = MatchAlert.objects.get(recipient=lee)
    assert client_for(kim).post(f"/api/v1/match-alerts/{alert.pk}/seen/").status_code == 404
    response = client_for(lee).post(f"/api/v1/match-alerts/{alert.pk}/seen/")
    assert response.status_code == 200 and response.json()["seen_at"]


def test_victims_bank_of_another_case_shows_no_label_and_names_whom_to_ask():
    victim_case, other_case = _case(), _case()
    CaseMemberFactory(
        case=victim_case, role=CaseMemberRole.LEAD, user=UserFactory(first_name="Ara", last_name="Choi")
    )
    lead = CaseMemberFactory(case=other_case, role=CaseMemberRole.LEAD).user
    bank = bank_create(name="V-1 originals", kind=HashBankKind.VICTIM_ORIGINALS, actor=None, case=victim_case)
    bank_entry_add(
        bank=bank, actor=None, pdq=pdq.pdq_from_bytes(encode(photo("astronaut"))).hash, label="V-1 #3"
    )
    item = stored_item(
        case=other_case, data=encode(photo("astronaut"), quality=70), actor=lead, mime="image/jpeg"
    )
    detection_run(item=item, detector=PdqDetector())
    (body,) = client_for(lead).get(f"/api/v1/matches/?item={item.pk}").json()["results"]
    entry = body["bank_entry"]
    assert entry["bank"] == "V-1 originals" and entry["label"] is None and entry["source"] is None
    assert entry["contacts"][0]["name"] == "Ara Choi"
    assert victim_case.number not in json.dumps(body)
    assert MatchAlert.objects.filter(case=victim_case).count() == 1  # the victim's lead is told too


def test_banks_are_managed_by_administrators_and_read_by_investigators():
    admin = UserFactory(is_staff=True)
    investigator = CaseMemberFactory(role=CaseMemberRole.INVESTIGATOR).user
    support = CaseMemberFactory(role=CaseMemberRole.VICTIM_SUPPORT).user

    created = client_for(admin).post(
        "/api/v1/hash-banks/", {"name": "NCII", "kind": "known_material", "pdq_threshold": 20}, format="json"
    )
    assert created.status_code == 201 and created.json()["pdq_threshold"] == 20
    bank_id = created.json()["id"]
    added = client_for(admin).post(
        f"/api/v1/hash-banks/{bank_id}/entries/", {"md5": "D41D8CD98F00B204E9800998ECF8427E"}, format="json"
    )
    assert added.status_code == 201 and added.json()["md5"] == "d41d8cd98f00b204e9800998ecf8427e"
    bad = client_for(admin).post(f"/api/v1/hash-banks/{bank_id}/entries/", {"pdq": "abc"}, format="json")
    assert bad.status_code == 400 and "64 hex digits" in bad.json()["detail"]

    names = client_for(investigator).get("/api/v1/hash-banks/").json()["results"]
    assert [b["name"] for b in names] == ["NCII"] and names[0]["entry_count"] is None
    assert client_for(admin).get("/api/v1/hash-banks/").json()["results"][0]["entry_count"] == 1
    assert client_for(investigator).get(f"/api/v1/hash-banks/{bank_id}/entries/").status_code == 403
    refused = client_for(investigator).post(
        "/api/v1/hash-banks/", {"name": "x", "kind": "imported"}, format="json"
    )
    assert refused.status_code == 403
    assert client_for(support).get("/api/v1/hash-banks/").status_code == 403
    assert HashBank.objects.count() == 1 and BankEntry.objects.count() == 1


def test_case_lead_may_add_to_their_victims_bank_only():
    case = _case()
    lead = CaseMemberFactory(case=case, role=CaseMemberRole.LEAD).user
    own = bank_create(name="V-1", kind=HashBankKind.VICTIM_ORIGINALS, actor=None, case=case)
    shared = bank_create(name="shared", kind=HashBankKind.KNOWN_MATERIAL, actor=None)
    sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    ok = client_for(lead).post(f"/api/v1/hash-banks/{own.pk}/entries/", {"sha256": sha}, format="json")
    assert ok.status_code == 201
    no = client_for(lead).post(f"/api/v1/hash-banks/{shared.pk}/entries/", {"sha256": sha}, format="json")
    assert no.status_code == 403
    listed = {b["name"]: b["case"] for b in client_for(lead).get("/api/v1/hash-banks/").json()["results"]}
    assert listed == {"V-1": case.number, "shared": None}


def test_schema_documents_the_bank_endpoints():
    paths = openapi_schema()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/hash-banks/"])
    assert "post" in paths["/api/v1/hash-banks/{id}/entries/"]
