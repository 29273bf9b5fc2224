"""`ingest --as telegram|kakaotalk|auto`: messages recorded from the vault copy, media linked, gaps noted."""

from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from evidence.choices import CustodyAction
from evidence.models import CustodyEvent, EvidenceItem
from evidence.vault import read_verified
from parties.choices import LinkConfidence, LinkSource
from parties.models import Channel, ItemChannelLink
from sources.choices import SourceNoteKind
from sources.models import Chat, Message, Sender, SourceNote, SourceRun
from tests.sources.exports import (
    CHAT_ID,
    KAKAO_PC,
    telegram_message,
    write_telegram_export,
    zip_folder,
)
from tests.sources.ingesting import case_with_park, ingest_json, upload_as_park

NUMBER = "2024-SEOUL-0700"


run_ingest = partial(ingest_json, NUMBER)


@pytest.fixture
def case():
    return case_with_park(NUMBER)


@pytest.mark.django_db
def test_a_telegram_export_folder_is_recognised_and_its_messages_recorded(case, tmp_path: Path) -> None:
    export = write_telegram_export(tmp_path / "ChatExport")
    code, result, err = run_ingest(str(export))
    assert code == 0, err
    assert result["source_kind"] == "telegram"
    assert result["counts"]["ingested"] == 3  # result.json and two photos
    assert result["counts"]["messages"] == 4 and result["counts"]["notes"] == 0
    assert set(result) == {"acquisition", "source_kind", "counts", "items"}

    chat = Chat.objects.get(case=case)
    assert (chat.key, chat.kind, chat.title) == (str(CHAT_ID), "private_supergroup", "Room 7")
    assert chat.channel is not None and chat.channel.url == f"https://t.me/c/{CHAT_ID}"
    messages = list(Message.objects.filter(chat=chat).order_by("position"))
    assert [m.key for m in messages] == ["1", "2", "3", "4"]
    second = messages[1]
    assert second.text == "see thishere (https://example.org/x)"
    assert (second.reply_to, second.forwarded_from, second.sender_name) == ("1", "Other channel", "Lee")
    assert second.sent_at is not None and int(second.sent_at.timestamp()) == 1704434645 + 2
    assert second.time_zone == "UTC (date_unixtime)" and second.sent_at_text == "2024-01-05T15:04:05"
    assert second.edited_at is not None and int(second.edited_at.timestamp()) == 1704438000
    assert messages[3].kind == "service" and messages[3].text == "[pin_message]"
    assert set(Sender.objects.filter(case=case).values_list("key", flat=True)) == {"user1111", "user2222"}

    photo = EvidenceItem.objects.get(case=case, original_name="photo_1@05-01-2024_15-04-05.jpg")
    assert list(messages[0].items.all()) == [photo]
    assert messages[0].source_item.original_name == "result.json"

    link = ItemChannelLink.objects.get(item=photo)
    assert (link.source, link.confidence) == (LinkSource.EXPORT, LinkConfidence.SUSPECTED)
    assert link.message_reference == f"t.me/c/{CHAT_ID}/1" and link.posted_at == messages[0].sent_at

    # The digest list is in the vault, and the completion event carries its hash.
    run = SourceRun.objects.get(acquisition_id=result["acquisition"])
    digest_list = b"".join(read_verified(run.messages_sha256)).decode()
    assert digest_list.count("\n") == 4 and f"telegram:{CHAT_ID}/2" in digest_list
    assert messages[1].sha256 in digest_list
    completed = CustodyEvent.objects.get(
        action=CustodyAction.ACQUISITION_COMPLETED, details__acquisition=result["acquisition"]
    )
    assert completed.details["source_kind"] == "telegram"
    assert completed.details["source"]["messages_sha256"] == run.messages_sha256
    batch = CustodyEvent.objects.filter(
        action=CustodyAction.CHANNEL_RECORDED, details__source_kind="telegram"
    )
    assert batch.get().details["messages_recorded"] == 4


@pytest.mark.django_db
def test_a_zipped_export_is_read_from_its_members(case, tmp_path: Path) -> None:
    archive = zip_folder(write_telegram_export(tmp_path / "e"), tmp_path / "export.zip")
    code, result, err = run_ingest(str(archive))
    assert code == 0, err
    assert result["source_kind"] == "telegram" and result["counts"]["messages"] == 4
    first = Message.objects.get(key="1")
    assert [i.original_name for i in first.items.all()] == ["photo_1@05-01-2024_15-04-05.jpg"]
    assert first.items.get().parent.original_name == "export.zip"


@pytest.mark.django_db
def test_paths_escaping_the_export_and_missing_files_are_recorded_gaps(case, tmp_path: Path) -> None:
    outside = tmp_path / "secret.jpg"
    outside.write_bytes(b"\xff\xd8\xff\xe0outside")
    export = write_telegram_export(
        tmp_path / "x" / "ChatExport",
        [
            telegram_message(1, photo="../../secret.jpg"),
            telegram_message(2, photo=str(outside)),
            telegram_message(3, file="files/gone.mp4"),
            telegram_message(4, file="(File not included. Change data exporting settings to download.)"),
            telegram_message(5, photo="photos/../photos/photo_1@05-01-2024_15-04-05.jpg"),
        ],
    )
    (export / "photos" / "escape.jpg").symlink_to(outside)
    code, result, _err = run_ingest(str(export), "--as", "telegram")
    assert code == 1  # the symbolic link is a rejected finding, as in any ingest
    assert result["counts"]["messages"] == 5
    notes = {n.where.rsplit(": ", 1)[-1].split(",")[0]: n for n in SourceNote.objects.all()}
    assert notes["message 1"].kind == SourceNoteKind.ESCAPE
    assert notes["message 2"].kind == SourceNoteKind.ESCAPE
    assert notes["message 3"].kind == SourceNoteKind.GAP and "missing" in notes["message 3"].reason
    assert notes["message 4"].kind == SourceNoteKind.GAP and "not to download" in notes["message 4"].reason
    assert "message 5" not in notes and Message.objects.get(key="5").items.count() == 1
    # Nothing outside the export folder was read or linked.
    assert not EvidenceItem.objects.filter(original_name="secret.jpg").exists()
    assert not Message.objects.filter(key__in=["1", "2"], items__isnull=False).exists()


@pytest.mark.django_db
def test_ingesting_the_same_export_again_adds_no_message_twice(case, tmp_path: Path) -> None:
    export = write_telegram_export(tmp_path / "ChatExport")
    run_ingest(str(export))
    code, result, _ = run_ingest(str(export))
    assert code == 0
    assert result["counts"]["messages"] == 0 and result["counts"]["messages_duplicate"] == 4
    assert Message.objects.count() == 4 and ItemChannelLink.objects.count() == 2
    assert Channel.objects.filter(case=case).count() == 1


@pytest.mark.django_db
def test_an_existing_channel_is_matched_not_recorded_again(case, tmp_path: Path) -> None:
    from parties.services.channels import channel_record

    channel = channel_record(
        case=case, platform="telegram", actor=case.members.first().user, url=f"https://t.me/c/{CHAT_ID}"
    )
    run_ingest(str(write_telegram_export(tmp_path / "ChatExport")))
    assert Chat.objects.get().channel == channel


@pytest.mark.django_db
def test_a_kakaotalk_text_export_is_recognised_and_parsed(case, tmp_path: Path) -> None:
    talk = tmp_path / "Talk_2024.1.6 10:00-1.txt"
    talk.write_text(KAKAO_PC, encoding="utf-8")
    code, result, err = run_ingest(str(talk))
    assert code == 0, err
    assert result["source_kind"] == "kakaotalk"
    assert result["counts"]["messages"] == 4
    chat = Chat.objects.get()
    assert (chat.platform, chat.key, chat.channel.handle) == ("kakaotalk", "김철수", "chat:김철수")
    reply = Message.objects.get(sender_name="이영희")
    assert reply.text == "네 안녕하세요\n두 번째 줄입니다"
    assert reply.sent_at == datetime(2024, 1, 5, 15, 5, tzinfo=ZoneInfo("Asia/Seoul"))
    assert reply.time_zone == "Asia/Seoul"
    assert SourceNote.objects.filter(kind=SourceNoteKind.MALFORMED).count() == 2  # bad day line, its message


@pytest.mark.django_db
def test_the_stated_time_zone_is_applied(case, tmp_path: Path) -> None:
    talk = tmp_path / "talk.txt"
    talk.write_text(KAKAO_PC, encoding="utf-8")
    run_ingest(str(talk), "--timezone", "UTC")
    assert Message.objects.get(sender_name="이영희").sent_at == datetime(2024, 1, 5, 15, 5, tzinfo=UTC)


@pytest.mark.django_db
def test_plain_folders_stay_files_and_bad_kinds_are_usage_errors(case, tmp_path: Path) -> None:
    (tmp_path / "a.bin").write_bytes(b"\x00\x01")
    code, result, _ = run_ingest(str(tmp_path / "a.bin"))
    assert code == 0 and result["source_kind"] == "files" and "messages" not in result["counts"]
    code, _, err = run_ingest(str(tmp_path / "a.bin"), "--as", "whatsapp")
    assert code == 2 and "--as whatsapp" in err
    code, _, err = run_ingest(str(tmp_path / "a.bin"), "--timezone", "Mars/Olympus")
    assert code == 2


@pytest.mark.django_db
def test_an_uploaded_export_is_read_when_the_upload_says_what_it_is(case, tmp_path: Path) -> None:
    archive = zip_folder(write_telegram_export(tmp_path / "e"), tmp_path / "export.zip")

    def upload(**fields: str):
        return upload_as_park(NUMBER, "export.zip", archive.read_bytes(), **fields)

    refused = upload(source_kind="whatsapp")
    assert refused.status_code == 400 and "source_kind" in refused.content.decode()
    assert upload(timezone="Nowhere/Land").status_code == 400
    response = upload(source_kind="telegram")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["source_kind"] == "telegram" and body["counts"]["messages"] == 4
    assert Message.objects.get(key="1").items.get().parent.original_name == "export.zip"


@pytest.mark.django_db
def test_a_folder_read_as_kakaotalk_parses_only_kakaotalk_texts(case, tmp_path: Path) -> None:
    (tmp_path / "talks").mkdir()
    (tmp_path / "talks" / "Talk_1.txt").write_text(KAKAO_PC, encoding="utf-8")
    (tmp_path / "talks" / "readme.txt").write_text("the officer's own notes\n", encoding="utf-8")
    code, result, _ = run_ingest(str(tmp_path / "talks"), "--as", "kakaotalk")
    assert code == 0 and result["counts"]["ingested"] == 2 and result["counts"]["chats"] == 1
    assert set(Message.objects.values_list("source_item__original_name", flat=True)) == {"Talk_1.txt"}
