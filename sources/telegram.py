"""Telegram Desktop's machine-readable export (``result.json``), read as a stream.

Two layouts come out of Telegram Desktop's exporter (``export_output_json.cpp``): "Export chat history"
writes one chat, ``{"name", "type", "id", "messages": [...]}``; "Export Telegram data" writes the whole
account, with every chat under ``chats.list`` (and ``left_chats.list``), each of the same shape. Media paths
are relative to the export's folder; a file the operator chose not to download is written as
"(File not included. …)". Dates are the exporting computer's local time without an offset ("date"), and
since 2021 also seconds since the epoch ("date_unixtime"), which we prefer.

The file is walked event by event (ijson): one message is built at a time, so memory stays flat whatever
the export's size. Nothing in it is trusted: a field of the wrong type is a problem noted on the message,
a malformed or truncated JSON ends the parse with a note, never an exception.
"""

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import ijson

from sources.choices import SourceNoteKind
from sources.parsed import MAX_NAME_CHARS, ByteStream, ParsedChat, ParsedMessage, ParsedNote, clip, zone

EXPORT_NAME = "result.json"
# Where chats sit: a single-chat export at the top, a full-account one in two lists.
CHAT_BASES = ("", "chats.list.item.", "left_chats.list.item.")
MEDIA_FIELDS = (("photo", "photo"), ("file", "file"), ("thumbnail", "thumbnail"))
NOT_INCLUDED = "(File not included"
# The newest Telegram messages carry 64-bit dates; anything past this is not a date (year 9999).
MAX_UNIXTIME = 253402300799


def _scalar(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, Decimal | int):
        return str(value)
    return value if isinstance(value, str) else ""


def flatten_text(value: Any) -> str:
    """A message's text with its entities flattened: the visible text, a link's target in brackets."""
    if isinstance(value, str):
        return value
    if not isinstance(value, list):
        return ""
    parts = []
    for part in value:
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, dict):
            text = part.get("text")
            shown = text if isinstance(text, str) else ""
            href = part.get("href")
            if isinstance(href, str) and href and href != shown:
                shown = f"{shown} ({href})"
            parts.append(shown)
    return "".join(parts)


def _moment(
    message: dict[str, Any], field: str, tz: ZoneInfo, problems: list[str]
) -> tuple[datetime | None, str, str]:
    """(the moment, the text as written, how it was read) for "date" or "edited", or a problem noted."""
    written = _scalar(message.get(field))
    unixtime = _scalar(message.get(f"{field}_unixtime"))
    if unixtime:
        try:
            seconds = int(unixtime)
            if not 0 <= seconds <= MAX_UNIXTIME:
                raise ValueError("out of range")
            return datetime.fromtimestamp(seconds, UTC), written or unixtime, "UTC (date_unixtime)"
        except (ValueError, OverflowError):
            problems.append(f"malformed {field}_unixtime {clip(unixtime, 40)!r}")
    if not written:
        if field == "date":
            problems.append("no date")
        return None, "", ""
    try:
        parsed = datetime.fromisoformat(written)
    except ValueError:
        problems.append(f"malformed {field} {clip(written, 40)!r}: kept as written, not dated")
        return None, clip(written, 64), ""
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=tz), written, tz.key
    return parsed, written, "as written (with offset)"


def _message(raw: Any, chat: ParsedChat, position: int, tz: ZoneInfo) -> ParsedMessage | ParsedNote:
    if not isinstance(raw, dict):
        return ParsedNote(
            SourceNoteKind.MALFORMED, f"chat {chat.key}, entry {position}", "not a message object"
        )
    key = _scalar(raw.get("id"))
    if not key or len(key) > 64:
        return ParsedNote(
            SourceNoteKind.MALFORMED,
            f"chat {chat.key}, entry {position}",
            "message without a usable id: skipped",
        )
    problems: list[str] = []
    sent_at, sent_text, how = _moment(raw, "date", tz, problems)
    edited_at, _edited_text, _ = _moment(raw, "edited", tz, problems)
    kind = "service" if raw.get("type") == "service" else "message"
    sender_name = raw.get("from") if kind == "message" else raw.get("actor")
    sender_key = raw.get("from_id") if kind == "message" else raw.get("actor_id")
    entities = raw.get("text_entities")
    text = flatten_text(entities if isinstance(entities, list) and entities else raw.get("text"))
    if kind == "service":
        action = _scalar(raw.get("action"))
        text = f"[{action}] {text}".strip() if action else text
    message = ParsedMessage(
        chat=chat,
        key=key,
        position=position,
        kind=kind,
        sent_at=sent_at,
        sent_at_text=clip(sent_text, 64),
        time_zone=how,
        sender_key=clip(_scalar(sender_key), 64),
        sender_name=clip(_scalar(sender_name), MAX_NAME_CHARS),
        text=clip(text),
        reply_to=clip(_scalar(raw.get("reply_to_message_id")), 64),
        forwarded_from=clip(_scalar(raw.get("forwarded_from")), MAX_NAME_CHARS),
        edited_at=edited_at,
        problems=problems,
    )
    for field, role in MEDIA_FIELDS:
        value = raw.get(field)
        if isinstance(value, str) and value:
            message.media.append((role, clip(value, 1000)))
    return message


def telegram_messages(
    stream: ByteStream, *, time_zone: str
) -> Iterator[ParsedChat | ParsedMessage | ParsedNote]:
    """Chats, messages and notes of a ``result.json``, in file order, one message in memory at a time."""
    tz = zone(time_zone)
    chats: dict[str, dict[str, str]] = {base: {} for base in CHAT_BASES}
    announced: dict[str, ParsedChat] = {}
    unnamed = 0
    position = 0
    events = ijson.parse(stream, use_float=False)
    try:
        for prefix, event, value in events:
            base = next((b for b in CHAT_BASES[1:] if prefix.startswith(b) or prefix == b[:-1]), "")
            if event == "start_map" and prefix == base[:-1] and base:
                chats[base] = {}  # a new chat in a list
                announced.pop(base, None)
                continue
            field = prefix[len(base) :]
            if field in {"name", "type", "id"} and event in {"string", "number"}:
                chats[base][field] = _scalar(value)
                continue
            if field != "messages.item" or event in {"end_map", "end_array"}:
                continue
            if event != "start_map":
                position += 1
                yield ParsedNote(
                    SourceNoteKind.MALFORMED,
                    f"chat {chats[base].get('id', '?')}, entry {position}",
                    "not a message",
                )
                continue
            chat = announced.get(base)
            if chat is None:
                facts = chats[base]
                key = clip(facts.get("id", ""), 64)
                if not key:
                    unnamed += 1
                    key = f"unidentified-{unnamed}"
                    yield ParsedNote(
                        SourceNoteKind.MALFORMED,
                        f"chat {clip(facts.get('name', ''), 80)!r}",
                        f"the export gives this chat no id before its messages; recorded as {key}",
                    )
                chat = announced[base] = ParsedChat(
                    key=key, kind=clip(facts.get("type", ""), 32), title=clip(facts.get("name", ""), 300)
                )
                yield chat
            builder = ijson.ObjectBuilder()
            builder.event(event, value)
            depth = 1
            for _inner_prefix, inner_event, inner_value in events:
                builder.event(inner_event, inner_value)
                if inner_event in {"start_map", "start_array"}:
                    depth += 1
                elif inner_event in {"end_map", "end_array"}:
                    depth -= 1
                    if depth == 0:
                        break
            position += 1
            yield _message(builder.value, chat, position, tz)
    except (ijson.JSONError, UnicodeDecodeError, ValueError) as exc:
        yield ParsedNote(
            SourceNoteKind.MALFORMED,
            EXPORT_NAME,
            f"the JSON is malformed or truncated after {position} message(s) ({clip(str(exc), 200)}); the "
            "messages before that point are recorded, the file itself is kept whole",
        )
