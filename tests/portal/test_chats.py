"""Portal chat view (portal/views/chats.py): chats by number, a reason before any text, one recorded view per
page, search, blurred media, the jump from an item page, and the refusals."""

from pathlib import Path
from typing import Any

import pytest

from access.choices import CaseMemberRole
from evidence.choices import CustodyAction
from evidence.models import CustodyEvent
from tests.factories import (
    CaseMemberFactory,
    chat_with_messages,
    jpeg_bytes,
    new_user,
    stored_item,
    team,
)
from tests.factories import portal_client as _client
from tests.portal.test_ingest import _upload
from tests.sources.exports import write_telegram_export, zip_folder

pytestmark = pytest.mark.django_db


@pytest.fixture
def room() -> dict[str, Any]:
    t = team()
    export = stored_item(case=t.case, data=b'{"messages": []}', actor=t.lead, name="result.json")
    photo = stored_item(case=t.case, data=jpeg_bytes(), actor=t.lead, name="scene.jpg")
    chat, messages = chat_with_messages(
        source_item=export, media_item=photo, count=3, text="quoted words", title="Room title"
    )
    return {"team": t, "export": export, "photo": photo, "chat": chat, "messages": messages}


def _views() -> int:
    return CustodyEvent.objects.filter(action=CustodyAction.VIEWED).count()


def test_the_chat_list_names_chats_by_number_only(room: dict[str, Any]) -> None:
    t = room["team"]
    page = _client(t.lead).get(f"/cases/{t.case.number}/chats/")
    assert page.status_code == 200
    body = page.content.decode()
    assert f"#{room['chat'].pk}" in body and "Room title" not in body


def test_a_chat_asks_for_a_reason_before_any_text(room: dict[str, Any]) -> None:
    t = room["team"]
    page = _client(t.lead).get(f"/cases/{t.case.number}/chats/{room['chat'].pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "quoted words" not in body and 'name="reason"' in body
    assert _views() == 0


def test_reading_a_chat_is_one_recorded_view_with_blurred_media(room: dict[str, Any]) -> None:
    t = room["team"]
    page = _client(t.lead).get(
        f"/cases/{t.case.number}/chats/{room['chat'].pk}/", {"reason": "identify the uploader"}
    )
    assert page.status_code == 200
    body = page.content.decode()
    assert "quoted words 1" in body and "quoted words 3" in body and "Room title" in body
    assert f"/evidence/{room['photo'].pk}/preview/" in body  # blurred thumbnail, never the original
    view = CustodyEvent.objects.get(action=CustodyAction.VIEWED)
    assert view.item_id == room["export"].pk and view.purpose == "identify the uploader"
    assert view.details["served"] == "chat view" and view.details["messages"] == 3


def test_search_within_the_chat(room: dict[str, Any]) -> None:
    t = room["team"]
    page = _client(t.lead).get(
        f"/cases/{t.case.number}/chats/{room['chat'].pk}/", {"reason": "review", "q": "words 2"}
    )
    body = page.content.decode()
    assert "quoted words 2" in body and "quoted words 1" not in body


def test_the_item_page_jumps_to_its_message(room: dict[str, Any]) -> None:
    t = room["team"]
    client = _client(t.lead)
    item_page = client.get(f"/evidence/{room['photo'].pk}/").content.decode()
    first = room["messages"][0]
    link = f"/cases/{t.case.number}/chats/{room['chat'].pk}/?item={room['photo'].pk}#m{first.pk}"
    assert link in item_page
    chat_page = client.get(
        f"/cases/{t.case.number}/chats/{room['chat'].pk}/", {"item": room["photo"].pk, "reason": "jump"}
    ).content.decode()
    assert f'id="m{first.pk}" class="target"' in chat_page


@pytest.mark.parametrize("role", [CaseMemberRole.VICTIM_SUPPORT, CaseMemberRole.AUDITOR])
def test_victim_support_and_auditor_never_read_a_chat(room: dict[str, Any], role: str) -> None:
    t = room["team"]
    member = new_user()
    CaseMemberFactory(case=t.case, user=member, role=role)
    page = _client(member).get(f"/cases/{t.case.number}/chats/{room['chat'].pk}/", {"reason": "curious"})
    assert page.status_code == 403 and "quoted words" not in page.content.decode()
    assert _views() == 0


def test_outsiders_get_404(room: dict[str, Any]) -> None:
    t = room["team"]
    outsider = _client(new_user())
    assert outsider.get(f"/cases/{t.case.number}/chats/").status_code == 404
    assert outsider.get(f"/cases/{t.case.number}/chats/{room['chat'].pk}/").status_code == 404


def test_the_ingest_page_reads_an_uploaded_export(tmp_path: Path, settings: Any) -> None:
    from detection.registry import detectors

    settings.HAETAE_DETECTORS_DISABLED = list(detectors())
    t = team()
    archive = zip_folder(write_telegram_export(tmp_path / "e"), tmp_path / "export.zip")
    client = _client(t.lead)
    page = client.get(f"/cases/{t.case.number}/ingest/").content.decode()
    assert 'name="source_kind"' in page and 'name="time_zone"' in page
    response = _upload(
        client, t, [("export.zip", archive.read_bytes())], source_kind="telegram", time_zone="UTC"
    )
    assert response.status_code == 201, response.content.decode()[:500]
    html = response.content.decode()
    assert "telegram: 4 messages recorded" in html
    assert f"/cases/{t.case.number}/chats/?acquisition=" in html
    bad = _upload(client, t, [("export.zip", archive.read_bytes())], time_zone="Mars/Olympus")
    assert bad.status_code == 400
