"""The Telegram Desktop JSON parser: both layouts, entities, dates, hostile and huge files."""

import io
import json
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sources.parsed import ParsedChat, ParsedMessage, ParsedNote
from sources.telegram import flatten_text, telegram_messages
from tests.sources.exports import telegram_chat, telegram_message


def parse(
    document: object, *, time_zone: str = "Asia/Seoul"
) -> list[ParsedChat | ParsedMessage | ParsedNote]:
    data = document if isinstance(document, bytes) else json.dumps(document).encode()
    return list(telegram_messages(io.BytesIO(data), time_zone=time_zone))


def test_a_full_account_export_yields_each_chat_with_its_messages() -> None:
    document = {
        "about": "Here is the data you requested.",
        "personal_information": {"user_id": 5, "first_name": "Me"},
        "chats": {
            "about": "This page lists all chats from this export.",
            "list": [
                telegram_chat([telegram_message(1), telegram_message(2)], chat_id=11, kind="personal_chat"),
                telegram_chat([telegram_message(7)], chat_id=22, kind="public_channel"),
            ],
        },
        "left_chats": {"about": "…", "list": [telegram_chat([telegram_message(9)], chat_id=33)]},
    }
    records = parse(document)
    chats = [r for r in records if isinstance(r, ParsedChat)]
    assert [(c.key, c.kind) for c in chats] == [
        ("11", "personal_chat"),
        ("22", "public_channel"),
        ("33", "private_supergroup"),
    ]
    messages = [r for r in records if isinstance(r, ParsedMessage)]
    assert [(m.chat.key, m.key) for m in messages] == [("11", "1"), ("11", "2"), ("22", "7"), ("33", "9")]


def test_entities_are_flattened_with_link_targets() -> None:
    text = [
        "a ",
        {"type": "bold", "text": "b"},
        {"type": "text_link", "text": "c", "href": "https://x.test/"},
        {"type": "link", "text": "https://y.test"},
        5,
    ]
    assert flatten_text(text) == "a bc (https://x.test/)https://y.test"
    assert flatten_text({"not": "text"}) == ""


def test_dates_prefer_unixtime_and_otherwise_use_the_stated_zone() -> None:
    no_unixtime = telegram_message(1)
    del no_unixtime["date_unixtime"]
    records = parse(telegram_chat([telegram_message(2), no_unixtime]), time_zone="Asia/Seoul")
    exact, local = [r for r in records if isinstance(r, ParsedMessage)]
    assert (
        exact.sent_at == datetime.fromtimestamp(1704434647, UTC) and exact.time_zone == "UTC (date_unixtime)"
    )
    assert local.sent_at == datetime(2024, 1, 5, 15, 4, 5, tzinfo=ZoneInfo("Asia/Seoul"))
    assert local.time_zone == "Asia/Seoul"


@pytest.mark.parametrize(
    "fields",
    [
        {"date": "yesterday", "date_unixtime": None},
        {"date": "2024-13-45T99:00:00", "date_unixtime": "soon"},
        {"date_unixtime": "99999999999999999999"},
        {"date": 12, "date_unixtime": None},
        {"date": None, "date_unixtime": None},
    ],
)
def test_malformed_dates_are_problems_not_failures(fields: dict[str, object]) -> None:
    message = telegram_message(1) | fields
    records = parse(telegram_chat([message, telegram_message(2)]))
    first, second = [r for r in records if isinstance(r, ParsedMessage)]
    assert first.problems and (first.sent_at is None or "unixtime" in first.problems[0])
    assert second.sent_at is not None and not second.problems


def test_hostile_shapes_are_notes() -> None:
    records = parse(
        telegram_chat(["not a message", {"type": "message"}, {"id": {"x": 1}}, telegram_message(3)])
    )
    notes = [r for r in records if isinstance(r, ParsedNote)]
    assert [n.kind for n in notes] == ["malformed"] * 3
    assert [r.key for r in records if isinstance(r, ParsedMessage)] == ["3"]


def test_a_truncated_file_keeps_what_came_before() -> None:
    data = json.dumps(telegram_chat([telegram_message(1), telegram_message(2)])).encode()
    records = parse(data[: data.index(b'"id": 2') + 3])
    assert [r.key for r in records if isinstance(r, ParsedMessage)] == ["1"]
    assert isinstance(records[-1], ParsedNote) and "truncated" in records[-1].reason


def test_a_chat_without_an_id_is_named_and_noted() -> None:
    records = parse({"name": "x", "messages": [telegram_message(1)]})
    assert isinstance(records[0], ParsedNote) and records[1].key == "unidentified-1"


def test_a_large_export_is_streamed_in_flat_memory(tmp_path: Path) -> None:
    """About 50 MB of messages parse with a small, bounded peak: one message is in memory at a time."""
    path = tmp_path / "result.json"
    filler = "가" * 3000  # large messages: few allocations to trace, many bytes to stream
    with path.open("w", encoding="utf-8") as out:
        out.write('{"name": "big", "type": "private_channel", "id": 42, "messages": [')
        count = 0
        while out.tell() < 50 * 1024 * 1024:
            out.write(
                ("," if count else "")
                + json.dumps(telegram_message(count + 1, text=f"{count} {filler}"), ensure_ascii=False)
            )
            count += 1
        out.write("]}")
    tracemalloc.start()
    seen = 0
    with path.open("rb") as stream:
        for record in telegram_messages(stream, time_zone="UTC"):
            seen += isinstance(record, ParsedMessage)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert seen == count
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes while parsing a {path.stat().st_size}-byte file"


class SparseExport:
    """A ``result.json`` of ``total`` bytes made as it is read, never on disk nor whole in memory: one chat
    whose ``messages`` are far apart, JSON whitespace between them."""

    def __init__(self, total: int, messages: int) -> None:
        self.padding = b" " * (1 << 20)
        self.gap = total // (messages + 1)
        self.messages = messages
        self.made = 0  # messages written so far
        self.pending = b'{"name": "big", "type": "private_channel", "id": 42, "messages": ['
        self.padding_left = self.gap
        self.sent = 0

    def read(self, size: int = -1, /) -> bytes:
        if size == 0:
            return b""  # ijson asks for nothing first, to learn whether the stream gives bytes
        size = size if size > 0 else len(self.padding)
        while not self.pending:
            if self.padding_left:
                take = min(self.padding_left, len(self.padding), size)
                self.padding_left -= take
                self.sent += take
                return self.padding[:take]
            if self.made > self.messages:
                return b""
            self.made += 1
            if self.made > self.messages:
                self.pending = b"]}"
            else:
                message = telegram_message(self.made, text=f"message {self.made}")
                self.pending = (b"," if self.made > 1 else b"") + json.dumps(message).encode()
                self.padding_left = self.gap
        out, self.pending = self.pending[:size], self.pending[size:]
        self.sent += len(out)
        return out


@pytest.mark.slow
def test_a_2_gib_export_is_streamed_in_flat_memory() -> None:
    """The issue's "2 GB JSON": 2 GiB read through the parser, every message found, memory flat."""
    export = SparseExport(2 * 1024**3, messages=16)
    tracemalloc.start()
    keys = [r.key for r in telegram_messages(export, time_zone="UTC") if isinstance(r, ParsedMessage)]
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert export.sent > 2 * 1024**3
    assert keys == [str(n) for n in range(1, 17)]
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes while parsing {export.sent} bytes"
