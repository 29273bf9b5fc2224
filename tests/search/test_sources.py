"""Messages and captured pages in search and the timeline: a Telegram export's text found in Korean as people
type it, the hit naming its message and items, need-to-know (prosecutor, victim support), the index in step
with ingest and reindex, and message, capture and RFC 3161 points ordered across time zones."""

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from access.choices import CaseMemberRole
from access.selectors import case_get_for
from captures.choices import CaptureStatus
from captures.models import Capture
from evidence.ingest import PathSource, evidence_ingest
from evidence.models import EvidenceItem
from evidence.timestamps import acquisition_timestamp
from haetae.errors import AccessDenied
from search.models import IndexEntry
from search.services import case_search, index_capture_completed, index_forget, search_reindex
from search.timeline import case_timeline
from sources.models import Chat, Message, Sender
from tests.captures.site import Site, site
from tests.factories import exhibit_to, team, verified_login
from tests.sources.exports import telegram_message, write_telegram_export
from tests.tsa import LocalAuthority, tsa_authority, tsa_configured

__all__ = ["site", "tsa_authority", "tsa_configured"]

pytestmark = pytest.mark.django_db

PHOTO = "photos/photo_1@05-01-2024_15-04-05.jpg"
# 2024-05-01T15:00:00Z is 1714575600: Telegram writes the instant as date_unixtime (message id added below).
AT_15_UTC = 1714575600


def _messages() -> list[dict[str, Any]]:
    first = telegram_message(
        1, unixtime=AT_15_UTC - 1, text="피해자가 텔레그램 방 3에서 사진을 봤다고 했다", photo=PHOTO
    )
    second = telegram_message(
        2, unixtime=AT_15_UTC, text="다른 이야기만 했다", sender="이영희", sender_id="user2"
    )
    # No date_unixtime: a local time written without an offset, read in the ingest's zone (Asia/Seoul):
    # 23:30 in Seoul is 14:30 UTC, before the first message's 15:00 UTC.
    third = telegram_message(3, text="성범죄피해자의 진술서", sender="이영희", sender_id="user2")
    third.pop("date_unixtime")
    third["date"] = "2024-05-01T23:30:00"
    return [first, second, third]


@pytest.fixture
def export_case(data_dir: Path, tmp_path: Path) -> dict[str, Any]:
    """A case whose Telegram export was ingested through the command, read in Asia/Seoul."""
    t = team()
    folder = write_telegram_export(tmp_path / "ChatExport_2024-05-01", _messages())
    out = io.StringIO()
    call_command(
        "ingest",
        t.case.number,
        str(folder),
        "--actor",
        t.lead.username,
        "--timezone",
        "Asia/Seoul",
        "--json",
        stdout=out,
    )
    assert json.loads(out.getvalue())["counts"]["messages"] == 3
    messages = {m.key: m for m in Message.objects.filter(case=t.case)}
    photo = messages["1"].items.get()
    return {"team": t, "messages": messages, "photo": photo, "export": messages["1"].source_item}


def _search(t: Any, user: Any, query: str) -> list[dict[str, Any]]:
    case = case_get_for(user=user, number=t.case.number)
    return case_search(case=case, user=user, query=query).results


def test_a_message_is_found_by_a_korean_word_without_its_particle(export_case: dict[str, Any]) -> None:
    t, messages = export_case["team"], export_case["messages"]
    hits = [h for h in _search(t, t.lead, "피해자") if h["field"] == "message"]
    # `피해자` finds `피해자가` (message 1) and `성범죄피해자의` (message 3), not message 2.
    by_message = {h["object"]["id"]: h for h in hits if h["object"]["kind"] == "message"}
    assert set(by_message) == {messages["1"].pk, messages["3"].pk}
    first = by_message[messages["1"].pk]
    assert first["item"] == export_case["export"].pk  # the export file the text was parsed from
    assert first["object"]["items"] == [export_case["photo"].pk]
    assert first["object"]["chat"] == messages["1"].chat_id and first["object"]["key"] == "1"
    assert first["snippet"].startswith("<mark>피해자</mark>가 텔레그램")
    assert by_message[messages["3"].pk]["object"]["items"] == []

    # Mixed Korean and digits: every word must match in the same message.
    assert [h["object"]["id"] for h in _search(t, t.lead, "텔레그램 방 3")] == [messages["1"].pk]
    assert _search(t, t.lead, "텔레그램 방 4") == []


def test_sender_names_and_chat_titles_are_found(export_case: dict[str, Any]) -> None:
    t = export_case["team"]
    sender = Sender.objects.get(case=t.case, name="이영희")
    assert [(h["object"]["kind"], h["object"]["id"], h["item"]) for h in _search(t, t.lead, "이영희")] == [
        ("sender", sender.pk, None)
    ]
    chat = Chat.objects.get(case=t.case)
    assert ("chat", chat.pk) in {(h["object"]["kind"], h["object"]["id"]) for h in _search(t, t.lead, "room")}


def test_victim_support_and_auditor_search_nothing(export_case: dict[str, Any]) -> None:
    t = export_case["team"]
    for role in (CaseMemberRole.VICTIM_SUPPORT, CaseMemberRole.AUDITOR):
        with pytest.raises(AccessDenied):
            _search(t, t.member(role), "피해자")


def test_the_prosecutor_finds_a_message_only_when_its_export_file_is_shared(
    export_case: dict[str, Any],
) -> None:
    t, messages = export_case["team"], export_case["messages"]
    prosecutor = t.member(CaseMemberRole.PROSECUTOR)
    # The photo alone is shared: the message's text belongs to the export file, which is not.
    exhibit_to(t, [export_case["photo"]], description="the photo")
    assert [h for h in _search(t, prosecutor, "피해자") if h["object"]["kind"] == "message"] == []
    assert _search(t, prosecutor, "이영희") == []  # names belong to no shared file

    exhibit_to(t, [export_case["export"]], description="the export")
    hits = {
        h["object"]["id"]: h for h in _search(t, prosecutor, "피해자") if h["object"]["kind"] == "message"
    }
    assert set(hits) == {messages["1"].pk, messages["3"].pk}
    assert hits[messages["1"].pk]["object"]["items"] == [export_case["photo"].pk]


def test_the_prosecutor_is_told_only_of_shared_media(export_case: dict[str, Any]) -> None:
    t, messages = export_case["team"], export_case["messages"]
    prosecutor = t.member(CaseMemberRole.PROSECUTOR)
    exhibit_to(t, [export_case["export"]], description="the export")
    (hit,) = [h for h in _search(t, prosecutor, "텔레그램") if h["object"]["kind"] == "message"]
    assert hit["object"]["id"] == messages["1"].pk and hit["object"]["items"] == []


def test_reindex_gives_the_same_entries_and_a_destroyed_export_takes_its_messages(
    export_case: dict[str, Any],
) -> None:
    t = export_case["team"]

    def entries() -> list[tuple[Any, ...]]:
        return sorted(
            IndexEntry.objects.filter(case=t.case).values_list(
                "kind", "object_id", "field", "source", "terms"
            )
        )

    before = entries()
    assert {row[0] for row in before} >= {"item", "message", "chat", "sender"}
    search_reindex(case=t.case)
    assert entries() == before

    EvidenceItem.objects.filter(pk=export_case["export"].pk).update(status="destroyed")
    search_reindex(case=t.case)
    assert not IndexEntry.objects.filter(case=t.case, kind="message").exists()


def _capture(t: Any, tmp_path: Path, text: str) -> Capture:
    """A capture as ``capture_run`` leaves it (its files one acquisition), told to the index as it does."""
    folder = tmp_path / "capture"
    folder.mkdir()
    (folder / "dom.txt").write_text(text, encoding="utf-8")
    (folder / "dom.html").write_text(
        f"<html><head><title>신고된 게시물</title></head><body><p>{text}</p></body></html>", encoding="utf-8"
    )
    result = evidence_ingest(
        case=t.case,
        sources=[PathSource(folder / "dom.html"), PathSource(folder / "dom.txt")],
        actor=t.lead,
        source_label="capture",
    )
    capture = Capture.objects.create(
        case=t.case,
        url="https://example.org/post/1",
        status=CaptureStatus.CAPTURED,
        requested_by=t.lead,
        started_at=datetime(2024, 5, 1, 14, 44, 58, tzinfo=UTC),
        finished_at=datetime(2024, 5, 1, 14, 46, 30, tzinfo=UTC),
        final_url="https://example.org/p/1",
        facts={"started_at": "2024-05-01T14:45:00.000Z", "finished_at": "2024-05-01T14:46:00.000Z"},
        acquisition=result.acquisition,
    )
    index_capture_completed(capture)
    return capture


def test_a_captured_page_is_found_by_its_text_title_and_address(data_dir: Path, tmp_path: Path) -> None:
    t = team()
    capture = _capture(t, tmp_path, "텔레그램방 초대 링크를 뿌린 게시물입니다")
    text_item = EvidenceItem.objects.get(acquisition=capture.acquisition, original_name="dom.txt")
    hits = [h for h in _search(t, t.lead, "초대") if h["field"] == "capture"]
    assert [(h["object"]["kind"], h["object"]["id"], h["item"]) for h in hits] == [
        ("capture", capture.pk, text_item.pk)
    ]
    assert set(hits[0]["object"]["items"]) == set(
        EvidenceItem.objects.filter(acquisition=capture.acquisition).values_list("pk", flat=True)
    )
    assert [h["object"]["kind"] for h in _search(t, t.lead, "방") if h["field"] == "capture"] == ["capture"]
    assert [h["field"] for h in _search(t, t.lead, "게시물") if h["object"]["kind"] == "capture"] == [
        "capture",
        "capture",
    ]  # the title and the text
    address = [h for h in _search(t, t.lead, "example org p 1") if h["object"]["kind"] == "capture"]
    assert len(address) == 1 and "<mark>p</mark>/<mark>1</mark>" in address[0]["snippet"]
    with pytest.raises(AccessDenied):
        _search(t, t.member(CaseMemberRole.VICTIM_SUPPORT), "초대")


def test_messages_captures_and_trusted_times_are_ordered_across_zones(
    export_case: dict[str, Any], tmp_path: Path, tsa_configured: LocalAuthority
) -> None:
    t, messages = export_case["team"], export_case["messages"]
    capture = _capture(t, tmp_path, "the page")
    token = acquisition_timestamp(acquisition_id=capture.acquisition_id or 0)
    assert token is not None and token.gen_time is not None

    case = case_get_for(user=t.lead, number=t.case.number)
    kinds = "message,capture_started,capture_finished,timestamped"
    with translation.override("en"):
        points = [p.as_json() for p in case_timeline(case=case, user=t.lead, kinds=kinds)]
    dated = [(p["kind"], p["what"]) for p in points if p["time"].startswith("2024-05-01")]
    chat = messages["1"].chat_id
    assert dated == [
        ("message", f"message 3 of chat {chat} sent"),  # 23:30 in Seoul = 14:30 UTC
        ("capture_started", f"capture {capture.pk} began loading the page"),  # 14:45 UTC
        ("capture_finished", f"capture {capture.pk} finished"),  # 14:46 UTC
        ("message", f"message 1 of chat {chat} sent"),  # 15:00 UTC
        ("message", f"message 2 of chat {chat} sent"),  # 15:00:02 UTC
    ]
    by_what = {p["what"]: p for p in points}
    seoul = by_what[f"message 3 of chat {chat} sent"]
    assert seoul["time"] == "2024-05-01T14:30:00Z" and seoul["local"] == "2024-05-01T23:30:00+09:00"
    assert seoul["trust"] == "exported" and seoul["zone_known"] is False
    assert "Asia/Seoul" in seoul["time_source"]
    exact = by_what[f"message 1 of chat {chat} sent"]
    assert exact["time"] == "2024-05-01T15:00:00Z" and exact["zone_known"] is True
    assert exact["item"] == export_case["export"].pk and "date_unixtime" in exact["time_source"]
    assert by_what[f"capture {capture.pk} finished"]["trust"] == "recorded"
    (stamped,) = [p for p in points if p["kind"] == "timestamped"]
    assert (
        stamped["what"] == f"capture {capture.pk} manifest timestamped (acquisition {capture.acquisition_id})"
    )
    assert stamped["trust"] == "attested" and "RFC 3161" in stamped["time_source"]
    assert stamped["time"] >= "2024-05-02"  # the authority's time is now, after every dated point

    # The prosecutor sees the message points of a shared export file only, and no capture of others.
    prosecutor = t.member(CaseMemberRole.PROSECUTOR)
    exhibit_to(t, [export_case["export"]], description="the export")
    theirs = case_timeline(
        case=case_get_for(user=prosecutor, number=t.case.number), user=prosecutor, kinds=kinds
    )
    assert [p.kind for p in theirs] == ["message", "message", "message"]


def test_the_search_page_links_a_message_hit_to_its_place_in_the_chat(export_case: dict[str, Any]) -> None:
    t, messages = export_case["team"], export_case["messages"]
    client = Client()
    verified_login(client, t.lead)
    html = client.get(f"/cases/{t.case.number}/search/", {"q": "텔레그램"}).content.decode()
    chat_url = f"/cases/{t.case.number}/chats/{messages['1'].chat_id}/?message={messages['1'].pk}"
    assert chat_url in html and f'href="/evidence/{export_case["photo"].pk}/"' in html
    # The chat page asks for a reason first, keeping the message to jump to; then shows it marked.
    assert f'name="message" value="{messages["1"].pk}"' in client.get(chat_url).content.decode()
    shown = client.get(chat_url + "&reason=who+wrote+it").content.decode()
    assert f'id="m{messages["1"].pk}" class="target"' in shown


def test_the_korean_search_page_names_hits_on_senders_and_chats_in_words(
    export_case: dict[str, Any], settings: Any
) -> None:
    from tests.portal.test_i18n import raw_codes

    settings.LANGUAGE_CODE = "ko"
    t = export_case["team"]
    client = Client()
    verified_login(client, t.lead)
    sender = Sender.objects.get(case=t.case, name="이영희")
    html = client.get(f"/cases/{t.case.number}/search/", {"q": "이영희"}).content.decode()
    assert '<html lang="ko">' in html and f"발신자 {sender.pk}" in html
    assert raw_codes(html, words={"sender", "chat", "message", "capture", "item"}) == []


@pytest.mark.browser
def test_a_real_capture_is_searchable_as_soon_as_it_completes(site: Site, settings: Any) -> None:
    settings.HAETAE_CAPTURE_ALLOW_PRIVATE = True  # the local test site only
    settings.HAETAE_CAPTURE_TIMEOUT_SECONDS = 8
    settings.HAETAE_CAPTURE_SCROLL_STEPS = 2
    if not Path(settings.HAETAE_CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {settings.HAETAE_CHROMIUM}: run scripts/sysdeps.sh --test")
    t = team()
    out = io.StringIO()
    call_command(
        "capture", t.case.number, site.url("/index.html"), "--actor", t.lead.username, "--json", stdout=out
    )
    (outcome,) = json.loads(out.getvalue())["captures"]
    assert outcome["status"] == "captured"
    hits = [h for h in _search(t, t.lead, "invitation") if h["field"] == "capture"]
    assert [(h["object"]["kind"], h["object"]["id"]) for h in hits] == [("capture", outcome["capture"])]
    assert "<mark>invitation</mark>" in hits[0]["snippet"]
    titled = [h for h in _search(t, t.lead, "reported") if h["field"] == "capture"]
    assert len(titled) == 2  # the title ("Reported") and the text ("Reported post …")


def test_forgetting_a_destroyed_export_file_forgets_its_messages_chat_and_senders(
    export_case: dict[str, Any],
) -> None:
    t = export_case["team"]
    assert IndexEntry.objects.filter(case=t.case, kind="message").count() == 3
    assert IndexEntry.objects.filter(case=t.case, kind__in=["chat", "sender"]).count() == 3
    # As a destruction order's execution does: the item destroyed, then forgotten by the index.
    EvidenceItem.objects.filter(pk=export_case["export"].pk).update(status="destroyed")
    index_forget(kind="item", object_ids=[export_case["export"].pk])
    assert not IndexEntry.objects.filter(case=t.case, kind__in=["message", "chat", "sender"]).exists()
    assert [h["object"]["kind"] for h in _search(t, t.lead, "피해자")] == []


def test_the_api_gives_a_message_hit_with_its_chat_and_items(export_case: dict[str, Any]) -> None:
    t, messages = export_case["team"], export_case["messages"]
    client = APIClient()
    client.force_authenticate(t.lead)
    response = client.get(f"/api/v1/cases/{t.case.number}/search/", {"q": "텔레그램"})
    assert response.status_code == 200, response.content
    (hit,) = response.json()["results"]
    assert hit["object"] == {
        "kind": "message",
        "id": messages["1"].pk,
        "chat": messages["1"].chat_id,
        "key": "1",
        "items": [export_case["photo"].pk],
    }
    assert hit["field"] == "message" and hit["item"] == export_case["export"].pk
