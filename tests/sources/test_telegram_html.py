"""Telegram Desktop's HTML export: the page parser, and `ingest` reading an export that has no result.json."""

import io
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from evidence.choices import CustodyAction
from evidence.models import CustodyEvent, EvidenceItem
from parties.choices import LinkConfidence, LinkSource
from parties.models import ItemChannelLink
from sources.choices import SourceNoteKind
from sources.models import Chat, Message, SourceNote, SourceRun
from sources.parsed import ParsedChat, ParsedMessage, ParsedNote
from sources.telegram_html import MAX_PENDING_CHARS, page_number, telegram_html_messages, title_date
from tests.sources.exports import (
    html_message,
    html_page,
    write_telegram_export,
    write_telegram_html_export,
    zip_folder,
)
from tests.sources.ingesting import case_with_park, ingest_json, upload_as_park

NUMBER = "2024-SEOUL-0713"
KST = timezone(timedelta(hours=9))


def parse(page: str | bytes, **options: object) -> list[ParsedChat | ParsedMessage | ParsedNote]:
    data = page.encode() if isinstance(page, str) else page
    return list(telegram_html_messages(io.BytesIO(data), time_zone="Asia/Seoul", **options))


def messages_of(records: list[ParsedChat | ParsedMessage | ParsedNote]) -> list[ParsedMessage]:
    return [r for r in records if isinstance(r, ParsedMessage)]


def test_a_page_yields_its_chat_and_messages_as_the_writer_laid_them_out(tmp_path: Path) -> None:
    export = write_telegram_html_export(tmp_path / "ChatExport")
    records = parse((export / "messages.html").read_bytes())
    assert records[0] == ParsedChat(key="Room 7", title="Room 7")
    first, joined, reply, forward = messages_of(records)  # the day separator (id -1) is not a message
    assert (first.key, first.sender_name, first.text) == ("1", "Kim", "first")
    assert first.sent_at == datetime(2024, 1, 5, 15, 4, 5, tzinfo=KST)
    assert (
        first.sent_at_text == "05.01.2024 15:04:05 UTC+09:00"
        and first.time_zone == "as written (with offset)"
    )
    assert first.media == [
        ("photo", "photos/photo_1@05-01-2024_15-04-05.jpg"),
        ("thumbnail", "photos/photo_1@05-01-2024_15-04-05_thumb.jpg"),
    ]
    assert (joined.sender_name, joined.text, joined.problems) == ("Kim", "same sender, joined", [])
    assert reply.reply_to == "1" and reply.sender_name == "Lee"
    assert reply.text == "see this\nhere (https://example.org/x) & more"
    assert (forward.forwarded_from, forward.text, forward.sender_name) == (
        "Other channel",
        "forwarded words",
        "Lee",
    )
    assert forward.sent_at == datetime(2024, 1, 5, 15, 6, 5, tzinfo=KST)  # not the forwarded original's date
    assert [m.position for m in messages_of(records)] == [1, 2, 3, 4]


def test_a_later_page_continues_the_chat_order_and_sender(tmp_path: Path) -> None:
    export = write_telegram_html_export(tmp_path / "ChatExport")
    chat = ParsedChat(key="Room 7", title="Room 7")
    records = parse(
        (export / "messages2.html").read_bytes(), chat=chat, first_position=4, carried_sender="Lee"
    )
    assert records[0] is chat
    service, gone, escape, odd = messages_of(records)
    assert (service.kind, service.text, service.sender_name, service.position) == (
        "service",
        "Kim pinned a message",
        "",
        5,
    )
    assert gone.media == [("photo", "photos/photo_9@05-01-2024_15-07-05.jpg")]
    assert escape.media == [("photo", "../../etc/passwd")]
    assert odd.sent_at is None and odd.sent_at_text == "2024-01-05 15:09:05"
    assert odd.problems == ["malformed date '2024-01-05 15:09:05': kept as written, not dated"]
    joined = parse(html_page(html_message(9, sender=None)), carried_sender="Park")
    assert messages_of(joined)[0].sender_name == "Park"


def test_dates_with_and_without_an_offset() -> None:
    assert title_date("05.01.2024 15:04:05 UTC-03:30", ZoneInfo("Asia/Seoul")) == (
        datetime(2024, 1, 5, 18, 34, 5, tzinfo=UTC).astimezone(timezone(timedelta(hours=-3, minutes=-30))),
        "as written (with offset)",
    )
    moment, how = title_date("05.01.2024 15:04:05", ZoneInfo("Asia/Seoul"))
    assert moment == datetime(2024, 1, 5, 6, 4, 5, tzinfo=UTC) and how == "Asia/Seoul"
    for bad in ("31.02.2024 10:00:00", "05.01.2024 15:04:05 UTC+99:00", "yesterday", ""):
        assert title_date(bad, ZoneInfo("UTC")) == (None, "")
    assert [
        page_number(n) for n in ("messages.html", "messages12.html", "message.html", "messages2.htm")
    ] == [
        1,
        12,
        None,
        None,
    ]


def test_media_the_exporter_did_not_download_is_a_gap_not_a_guess() -> None:
    not_included = (
        '      <div class="media_wrap clearfix">\n       <div class="media clearfix pull_left media_video">\n'
        '        <div class="fill pull_left"></div>\n        <div class="body">\n'
        '         <div class="title bold">\nVideo file\n         </div>\n'
        '         <div class="status details">\nNot included, change data exporting settings to download.\n'
        "         </div>\n        </div>\n       </div>\n      </div>\n"
    )
    (message,) = messages_of(parse(html_page(html_message(1, inner=not_included, text=""))))
    assert message.media == [("file", "(File not included. Change data exporting settings to download.)")]
    assert message.text == ""


def test_hostile_pages_are_notes_not_failures() -> None:
    unclosed = html_page(html_message(1)) + '<div class="message default" id="message2"><div class="text">x'
    records = parse(unclosed)
    assert [m.key for m in messages_of(records)] == ["1"]
    assert isinstance(records[-1], ParsedNote) and "ends inside message 2" in records[-1].reason
    no_id = parse(html_page(html_message(1).replace('id="message1"', 'id="message1; DROP"')))
    assert not messages_of(no_id) and any(
        "without a usable id" in r.reason for r in no_id if isinstance(r, ParsedNote)
    )
    flood = (
        b'<html><div class="message default" id="message1"><div class="text">'
        + b"<"
        + b"a" * (MAX_PENDING_CHARS + 10)
    )
    records = parse(flood)
    assert isinstance(records[-1], ParsedNote) and "without readable markup" in records[-1].reason
    deep = html_page(
        html_message(1, text="<div>" * 400 + "deep" + "</div>" * 400) + html_message(2, text="after")
    )
    assert [(m.key, m.text) for m in messages_of(parse(deep))] == [("1", "deep"), ("2", "after")]
    broken = html_page(html_message(1, text="caf\xe9")).encode("latin-1")
    assert messages_of(parse(broken))[0].text == "caf\ufffd"


# -- ingest --------------------------------------------------------------------------------------------------


run_ingest = partial(ingest_json, NUMBER)


@pytest.fixture
def case():
    return case_with_park(NUMBER)


def _ingest_html_export(case, tmp_path: Path) -> dict:
    export = write_telegram_html_export(tmp_path / "ChatExport")
    code, result, err = run_ingest(str(export))
    assert code == 0, err
    assert result["source_kind"] == "telegram"
    assert result["counts"]["ingested"] == 4  # two pages, a photo and its thumbnail
    assert result["counts"]["messages"] == 8 and result["counts"]["chats"] == 1
    chat = Chat.objects.get(case=case)
    assert (chat.key, chat.title) == ("Room 7", "Room 7")
    assert chat.channel is not None and chat.channel.handle == "chat:Room 7"
    messages = list(Message.objects.filter(chat=chat).order_by("position"))
    assert [m.key for m in messages] == [str(n) for n in range(1, 9)]
    assert [m.source_item.original_name for m in messages] == ["messages.html"] * 4 + ["messages2.html"] * 4
    assert (messages[1].sender_name, messages[2].reply_to, messages[3].forwarded_from) == (
        "Kim",
        "1",
        "Other channel",
    )

    photo = EvidenceItem.objects.get(case=case, original_name="photo_1@05-01-2024_15-04-05.jpg")
    thumb = EvidenceItem.objects.get(case=case, original_name="photo_1@05-01-2024_15-04-05_thumb.jpg")
    assert set(messages[0].items.all()) == {photo, thumb}
    link = ItemChannelLink.objects.get(channel=chat.channel)  # the thumbnail is not suggested
    assert (link.item, link.source, link.confidence) == (photo, LinkSource.EXPORT, LinkConfidence.SUSPECTED)
    assert link.message_reference == "telegram:Room 7#1" and link.posted_at == messages[0].sent_at

    notes = {n.where.rsplit(": ", 1)[-1].split(",")[0]: n for n in SourceNote.objects.all()}
    assert notes["message 6"].kind == SourceNoteKind.GAP and "missing" in notes["message 6"].reason
    assert notes["message 7"].kind == SourceNoteKind.ESCAPE
    assert (
        notes["message 8"].kind == SourceNoteKind.MALFORMED and "malformed date" in notes["message 8"].reason
    )
    assert result["counts"]["notes"] == 3 and not messages[7].sent_at

    run = SourceRun.objects.get(acquisition_id=result["acquisition"])
    completed = CustodyEvent.objects.get(action=CustodyAction.ACQUISITION_COMPLETED)
    assert completed.details["source"]["messages_sha256"] == run.messages_sha256
    assert completed.details["source"]["html_pages"] == [m.source_item_id for m in (messages[0], messages[4])]
    return result


@pytest.mark.django_db
def test_an_html_export_is_recognised_and_recorded_like_the_json_one(case, tmp_path: Path) -> None:
    _ingest_html_export(case, tmp_path)
    # The same export again: nothing recorded twice.
    code, again, _err = run_ingest(str(tmp_path / "ChatExport"))
    assert code == 0 and again["counts"]["messages"] == 0 and again["counts"]["messages_duplicate"] == 8
    assert Message.objects.count() == 8 and ItemChannelLink.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.postgres
def test_an_html_export_on_postgresql(case, tmp_path: Path) -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    _ingest_html_export(case, tmp_path)


@pytest.mark.django_db
def test_a_zipped_html_export_is_read_from_its_members(case, tmp_path: Path) -> None:
    archive = zip_folder(write_telegram_html_export(tmp_path / "e"), tmp_path / "export.zip")
    code, result, err = run_ingest(str(archive))
    assert code == 0, err
    assert result["source_kind"] == "telegram" and result["counts"]["messages"] == 8
    assert Message.objects.get(key="1").items.count() == 2


@pytest.mark.django_db
def test_with_a_result_json_the_html_pages_are_not_parsed(case, tmp_path: Path) -> None:
    export = write_telegram_export(tmp_path / "ChatExport")
    (export / "messages.html").write_text(html_page(html_message(99)), encoding="utf-8")
    code, result, err = run_ingest(str(export))
    assert code == 0, err
    assert result["counts"]["messages"] == 4 and not Message.objects.filter(key="99").exists()


@pytest.mark.django_db
def test_an_upload_is_recognised_from_what_was_stored(case, tmp_path: Path) -> None:
    from tests.sources.exports import KAKAO_PC

    archive = zip_folder(write_telegram_html_export(tmp_path / "e"), tmp_path / "export.zip")

    def upload(name: str, data: bytes):
        return upload_as_park(NUMBER, name, data, source_kind="auto")

    response = upload("export.zip", archive.read_bytes())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["source_kind"] == "telegram" and body["counts"]["messages"] == 8
    completed = CustodyEvent.objects.filter(action=CustodyAction.ACQUISITION_COMPLETED).latest("pk")
    assert completed.details["source_kind"] == "telegram"

    talk = upload("Talk_2024.txt", KAKAO_PC.encode())
    assert talk.status_code == 201 and talk.json()["source_kind"] == "kakaotalk"
    assert talk.json()["counts"]["messages"] > 0
    plain = upload("notes.txt", b"just a note, not a conversation\n")
    assert plain.status_code == 201 and plain.json()["source_kind"] == "files"
    assert "messages" not in plain.json()["counts"]


def test_an_edit_line_in_the_date_title_is_the_edited_date() -> None:
    title = "05.01.2024 15:04:05 UTC+09:00&#10;Edited: 05.01.2024 16:00:00 UTC+09:00"
    (message,) = messages_of(
        parse(html_page(html_message(1).replace('title="05.01.2024 15:04:05 UTC+09:00"', f'title="{title}"')))
    )
    assert message.sent_at == datetime(2024, 1, 5, 15, 4, 5, tzinfo=KST)
    assert message.edited_at == datetime(2024, 1, 5, 16, 0, tzinfo=KST)
    assert message.sent_at_text == "05.01.2024 15:04:05 UTC+09:00" and message.problems == []
    bad = html_page(html_message(1).replace('UTC+09:00"', 'UTC+09:00&#10;Edited: soon"', 1))
    assert messages_of(parse(bad))[0].problems == ["malformed edit date 'Edited: soon'"]


@pytest.mark.django_db
def test_a_full_account_html_export_reads_each_chat_folder(case, tmp_path: Path) -> None:
    root = tmp_path / "DataExport"
    (root / "lists").mkdir(parents=True)
    (root / "export_results.html").write_text(html_page("", title="Exported Data"), encoding="utf-8")
    for number, title in ((1, "Room A"), (2, "Room B")):
        folder = root / "chats" / f"chat_{number:03d}"
        folder.mkdir(parents=True)
        page = html_message(1, text=f"in {title}") + html_message(2, sender=None, text="again")
        (folder / "messages.html").write_text(html_page(page, title=title), encoding="utf-8")
    code, result, err = run_ingest(str(root))
    assert code == 0, err
    assert result["source_kind"] == "telegram"
    assert result["counts"]["messages"] == 4 and result["counts"]["chats"] == 2
    assert sorted(Chat.objects.values_list("title", flat=True)) == ["Room A", "Room B"]
    assert Message.objects.get(chat__title="Room B", key="1").text == "in Room B"
