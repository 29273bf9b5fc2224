"""Cellebrite UFDR: device paths and times kept, the report's hashes compared with ours, chats as messages,
and a report carrying a DTD (billion laughs, external entities) refused with a reason."""

import io
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest

from evidence.models import EvidenceItem
from parties.choices import LinkConfidence, LinkSource
from parties.models import ItemChannelLink
from sources.choices import SourceNoteKind
from sources.models import Chat, DeviceFile, Message, SourceNote
from sources.parsed import ParsedDeviceFile, ParsedMessage, ParsedNote
from sources.ufdr import ufdr_records
from tests.sources.exports import BILLION_LAUGHS, EXTERNAL_ENTITY, ufdr_forwarded_messages, write_ufdr
from tests.sources.ingesting import case_with_park, ingest_json

NUMBER = "2024-SEOUL-0777"


run_ingest = partial(ingest_json, NUMBER)


@pytest.fixture
def case():
    return case_with_park(NUMBER)


@pytest.mark.django_db
def test_a_ufdr_keeps_device_paths_compares_hashes_and_records_chats(case, tmp_path: Path) -> None:
    made = write_ufdr(tmp_path / "phone.ufdr")
    code, result, _ = run_ingest(str(tmp_path / "phone.ufdr"))
    assert code == 0
    assert result["source_kind"] == "ufdr"
    counts = result["counts"]
    assert counts["device_files"] == 4 and counts["discrepancies"] == 1 and counts["messages"] == 3

    photo = DeviceFile.objects.get(report_id="f-1")
    assert photo.device_path == "/private/var/mobile/Media/DCIM/100APPLE/IMG_0001.JPG"
    assert photo.item is not None and photo.item.original_name == "IMG_0001.JPG"
    assert photo.hash_agrees is True
    assert photo.created_on_device == datetime(2024, 1, 5, 6, 4, 5, tzinfo=UTC)
    assert photo.accessed_on_device is None  # "not a time": a note, not a failure

    video = DeviceFile.objects.get(report_id="f-2")
    assert video.hash_agrees is False
    discrepancy = SourceNote.objects.get(kind=SourceNoteKind.DISCREPANCY)
    assert "MD5 is " + "0" * 32 in discrepancy.reason and "IMG_0002.MOV" in discrepancy.where

    assert DeviceFile.objects.get(report_id="f-3").item is None
    assert SourceNote.objects.filter(kind=SourceNoteKind.GAP, where__contains="gone.jpg").exists()
    assert DeviceFile.objects.get(report_id="f-4").item is None
    assert SourceNote.objects.filter(kind=SourceNoteKind.ESCAPE, where__contains="/etc/passwd").exists()

    chat = Chat.objects.get()
    assert (chat.platform, chat.key, chat.title) == ("telegram", "424242", "Trade room")
    first, second, third = Message.objects.order_by("position")
    assert first.text == "look" and first.sender_name == "Choi" and first.sender.key == "user777"
    assert list(first.items.all()) == [photo.item]
    assert second.items.get().original_name == "IMG_0002.MOV"
    assert second.time_zone == "Asia/Seoul"  # no offset written: the stated zone
    assert third.sent_at is None and third.problems
    assert EvidenceItem.objects.filter(original_name="IMG_0001.JPG").count() == 1
    assert made["photo"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "doctype", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "external-entity"]
)
def test_a_report_with_a_dtd_is_refused_with_a_reason(case, tmp_path: Path, doctype: str) -> None:
    write_ufdr(tmp_path / "hostile.ufdr", doctype=doctype)
    code, result, _ = run_ingest(str(tmp_path / "hostile.ufdr"))
    assert code == 0  # the files are stored whole; the report is not parsed
    assert result["counts"]["messages"] == 0 and result["counts"]["device_files"] == 0
    note = SourceNote.objects.get(kind=SourceNoteKind.MALFORMED)
    assert "billion laughs" in note.reason and "DTD" in note.reason
    assert EvidenceItem.objects.filter(original_name="report.xml").exists()


def test_the_parser_streams_and_drops_what_it_yielded(tmp_path: Path) -> None:
    made = write_ufdr(tmp_path / "x.ufdr")
    records = list(ufdr_records(io.BytesIO(made["report"].encode()), time_zone="Asia/Seoul"))
    assert sum(isinstance(r, ParsedDeviceFile) for r in records) == 4
    assert [r.key for r in records if isinstance(r, ParsedMessage)] == ["m-1", "m-2", "m-3"]
    truncated = list(ufdr_records(io.BytesIO(made["report"].encode()[:-400]), time_zone="UTC"))
    assert isinstance(truncated[-1], ParsedNote) and "truncated" in truncated[-1].reason


@pytest.mark.django_db
def test_an_extraction_folder_keeps_device_paths(case, tmp_path: Path) -> None:
    root = tmp_path / "graykey"
    (root / "private" / "var" / "mobile").mkdir(parents=True)
    (root / "private" / "var" / "mobile" / "notes.db").write_bytes(b"SQLite format 3\x00")
    code, result, _ = run_ingest(str(root), "--as", "extraction")
    assert code == 0 and result["source_kind"] == "extraction"
    device_file = DeviceFile.objects.get()
    assert device_file.device_path == "/private/var/mobile/notes.db"
    assert device_file.item.original_name == "notes.db" and device_file.hash_agrees is None


@pytest.mark.django_db
def test_a_forwarded_message_with_attachments_links_every_item_and_keeps_its_origin(
    case, tmp_path: Path
) -> None:
    write_ufdr(tmp_path / "phone.ufdr", more_messages=ufdr_forwarded_messages())
    code, result, _ = run_ingest(str(tmp_path / "phone.ufdr"))
    assert code == 0 and result["counts"]["messages"] == 6

    forwarded = Message.objects.get(key="m-4")
    assert forwarded.forwarded_from == "Origin channel"
    assert forwarded.sender_name == "Choi"  # who forwarded it, not who first wrote it
    assert forwarded.media_paths == [
        ["attachment", "files/Image/IMG_0001.JPG"],
        ["attachment", "files/Video/IMG_0002.MOV"],
    ]
    names = sorted(item.original_name for item in forwarded.items.all())
    assert names == ["IMG_0001.JPG", "IMG_0002.MOV"]
    photo = EvidenceItem.objects.get(original_name="IMG_0001.JPG")
    assert sorted(photo.messages.values_list("key", flat=True)) == ["m-1", "m-4"]  # one item, two messages

    # Each attachment is an item→channel link suggested for an investigator to confirm, at the message.
    links = ItemChannelLink.objects.filter(item=photo, message_reference__endswith="#m-4")
    link = links.get()
    assert (link.source, link.confidence) == (LinkSource.EXPORT, LinkConfidence.SUSPECTED)
    assert link.posted_at == datetime(2024, 1, 5, 6, 10, tzinfo=UTC)

    reply = Message.objects.get(key="m-5")
    assert reply.reply_to == "m-4" and reply.forwarded_from == ""
    labelled = Message.objects.get(key="m-6")
    assert labelled.forwarded_from == "(forwarded; the report names no original sender)"


def test_long_values_are_cut_to_fit_their_columns(tmp_path: Path) -> None:
    long_id = "m-" + "9" * 200
    made = write_ufdr(
        tmp_path / "x.ufdr",
        more_messages=ufdr_forwarded_messages().replace('id="m-4"', f'id="{long_id}"', 1),
    )
    messages = [
        r
        for r in ufdr_records(io.BytesIO(made["report"].encode()), time_zone="UTC")
        if isinstance(r, ParsedMessage)
    ]
    assert all(len(m.key) <= 64 and len(m.reply_to) <= 64 for m in messages)
    assert messages[3].key == long_id[:64]
