"""GET /api/v1/cases/{number}/messages/: filters, items, and text only as a recorded content view."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from access.choices import CaseMemberRole
from evidence.choices import CustodyAction
from evidence.models import CustodyEvent
from sources.models import Message
from tests.factories import CaseFactory, CaseMemberFactory, UserFactory, chat_with_messages, stored_item
from tests.factories import api_client as client_of

URL = "/api/v1/cases/2024-SEOUL-0800/messages/"


@pytest.fixture
def world():
    case = CaseFactory(number="2024-SEOUL-0800")
    members = {}
    for role in CaseMemberRole.values:
        members[role] = CaseMemberFactory(case=case, user=UserFactory(username=f"m.{role}"), role=role).user
    lead = members[CaseMemberRole.LEAD]
    export = stored_item(
        case=case, data=b'{"messages": []}', actor=lead, name="result.json", mime="application/json"
    )
    photo = stored_item(case=case, data=b"\xff\xd8\xff\xe0photo", actor=lead)
    chat, messages = chat_with_messages(source_item=export, media_item=photo, count=3, text="secret words")
    other, _ = chat_with_messages(source_item=export, key="777", count=1)
    start = datetime(2024, 1, 5, tzinfo=UTC)
    for n, message in enumerate(messages):
        Message.objects.filter(pk=message.pk).update(sent_at=start + timedelta(hours=n))
    return {"case": case, "members": members, "chat": chat, "other": other, "photo": photo, "export": export}


@pytest.mark.django_db
def test_the_list_gives_ids_times_and_items_but_no_text_without_a_reason(world) -> None:
    response = client_of(world["members"]["investigator"]).get(URL)
    assert response.status_code == 200
    rows = response.json()["results"]
    assert len(rows) == 4
    first = rows[0]
    assert first["items"] == [world["photo"].pk] and first["has_media"] is True
    assert first["text"] is None and first["sender_name"] is None and first["chat_title"] is None
    assert "secret words" not in response.content.decode()
    assert not CustodyEvent.objects.filter(action=CustodyAction.VIEWED).exists()


@pytest.mark.django_db
def test_filters(world) -> None:
    client = client_of(world["members"]["analyst"])

    def keys(**query) -> list[str]:
        return [r["key"] for r in client.get(URL, query).json()["results"]]

    assert keys(chat=world["other"].pk) == ["1"]
    assert keys(chat=world["chat"].pk, has_media="true") == ["1"]
    assert keys(chat=world["chat"].pk, has_media="false") == ["2", "3"]
    assert keys(since="2024-01-05T01:00:00Z", until="2024-01-05T02:00:00Z") == ["2", "3"]
    assert keys(item=world["photo"].pk) == ["1"]
    sender = Message.objects.filter(chat=world["chat"]).first().sender_id
    assert len(keys(sender=sender)) == 4
    assert client.get(URL, {"since": "not a date"}).status_code == 400


@pytest.mark.django_db
def test_text_with_a_reason_is_one_recorded_view_per_request(world) -> None:
    user = world["members"]["investigator"]
    response = client_of(user).get(URL, {"reason": "identify the uploader", "chat": world["chat"].pk})
    assert response.status_code == 200
    rows = response.json()["results"]
    assert rows[0]["text"] == "secret words 1" and rows[0]["reference"] == "t.me/c/555/1"
    views = CustodyEvent.objects.filter(action=CustodyAction.VIEWED, actor=user)
    assert views.count() == 1
    view = views.get()
    assert view.item_id == world["export"].pk and view.purpose == "identify the uploader"
    assert view.details["served"] == "messages" and view.details["messages"] == 3


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["victim_support", "auditor"])
def test_victim_support_and_auditor_never_receive_text(world, role: str) -> None:
    client = client_of(world["members"][role])
    listed = client.get(URL)
    assert listed.status_code == 200 and "secret words" not in listed.content.decode()
    asked = client.get(URL, {"reason": "please"})
    assert asked.status_code == 403 and "secret words" not in asked.content.decode()
    assert not CustodyEvent.objects.filter(action=CustodyAction.VIEWED).exists()


@pytest.mark.django_db
def test_a_prosecutor_and_outsiders_see_no_messages(world) -> None:
    assert client_of(world["members"]["prosecutor"]).get(URL).status_code == 403
    assert client_of(UserFactory()).get(URL).status_code == 404


@pytest.mark.django_db
def test_reading_text_costs_the_same_queries_for_more_messages(world) -> None:
    client = client_of(world["members"]["lead"])

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL, {"reason": "review"}).status_code == 200
        return len(captured)

    few = count()
    chat_with_messages(source_item=world["export"], media_item=world["photo"], count=5)
    assert count() == few


@pytest.mark.django_db
def test_a_sender_is_attached_to_a_suspect_as_their_account(world) -> None:
    from parties.models import PersonAccount
    from parties.services.people import person_record

    lead = world["members"]["lead"]
    suspect = person_record(case=world["case"], kind="suspect", actor=lead)
    victim = person_record(case=world["case"], kind="victim", actor=lead)
    sender = Message.objects.filter(chat=world["chat"]).first().sender
    url = f"/api/v1/cases/2024-SEOUL-0800/senders/{sender.pk}/attach/"
    attached = client_of(world["members"]["investigator"]).post(
        url, {"person": suspect.pseudonym}, format="json"
    )
    assert attached.status_code == 200, attached.content
    assert attached.json() == {
        "id": sender.pk,
        "platform": "telegram",
        "account": attached.json()["account"],
        "person": suspect.pseudonym,
    }
    account = PersonAccount.objects.get(pk=attached.json()["account"])
    assert (account.person, account.handle) == (suspect, "user42")
    assert CustodyEvent.objects.filter(action="person_recorded", details__sender_attached=sender.pk).exists()
    again = client_of(lead).post(url, {"person": suspect.pseudonym}, format="json")
    assert again.status_code == 200 and PersonAccount.objects.filter(person=suspect).count() == 1
    refused = client_of(lead).post(url, {"person": victim.pseudonym}, format="json")
    assert refused.status_code == 400  # a victim's accounts go into the identity store
    assert (
        client_of(world["members"]["victim_support"]).post(url, {"person": "S-1"}, format="json").status_code
        == 403
    )
