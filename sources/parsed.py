"""What a source parser yields: chats, messages and notes, plain data with no database in sight.

Parsers stream: they yield one record at a time, so a chat of a million messages never sits in memory.
A parser never trusts its file: whatever it cannot read becomes a ``ParsedNote`` (malformed, a gap), never
an exception that would lose the rest.
"""

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from haetae.errors import RejectedInput

# Longest text kept per field; a hostile export can put gigabytes in one string.
MAX_TEXT_CHARS = 100_000
MAX_NAME_CHARS = 300


class ByteStream(Protocol):
    """What a parser reads: a file, or the vault's decrypting reader."""

    def read(self, size: int = ..., /) -> bytes: ...


@dataclass
class ParsedChat:
    """A conversation: the platform's id for it (or the export's title where it has none), its kind, title."""

    key: str
    kind: str = ""
    title: str = ""
    platform: str = ""  # a parties.choices.ChannelPlatform value, where the source names one per chat


@dataclass
class ParsedMessage:
    """One message as the export wrote it, with its date read in a stated time zone."""

    chat: ParsedChat
    key: str  # the message id in the chat (Telegram's id, KakaoTalk's line number)
    position: int  # order in the export
    kind: str = "message"  # message or service
    sent_at: datetime | None = None
    sent_at_text: str = ""  # the date exactly as written
    time_zone: str = ""  # how sent_at_text was read: "UTC (date_unixtime)", "Asia/Seoul", …
    sender_key: str = ""
    sender_name: str = ""
    text: str = ""
    reply_to: str = ""
    forwarded_from: str = ""
    edited_at: datetime | None = None
    media: list[tuple[str, str]] = field(default_factory=list)  # (role, path as written in the export)
    problems: list[str] = field(default_factory=list)

    def record(self) -> dict[str, object]:
        """The canonical facts of the message, as hashed into the acquisition's digest list."""
        facts = asdict(self)
        facts.pop("problems")
        facts.pop("position")
        facts["chat"] = self.chat.key
        facts["sent_at"] = self.sent_at.astimezone(UTC).isoformat() if self.sent_at else None
        facts["edited_at"] = self.edited_at.astimezone(UTC).isoformat() if self.edited_at else None
        facts["media"] = [list(pair) for pair in self.media]
        return facts

    def sha256(self) -> str:
        data = json.dumps(self.record(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(data.encode()).hexdigest()


@dataclass
class ParsedDeviceFile:
    """A file as an extraction report lists it: its path on the device, its times, the report's hashes."""

    device_path: str
    local_path: str  # where the report says the file lies, relative to the report
    report_id: str = ""
    size: int | None = None
    created_at: datetime | None = None
    modified_at: datetime | None = None
    accessed_at: datetime | None = None
    sha256: str = ""
    md5: str = ""
    deleted_state: str = ""


@dataclass
class ParsedNote:
    """Something the parser could not take as it is: where, and why (kept as a record, never fatal)."""

    kind: str  # a sources.choices.SourceNoteKind value
    where: str
    reason: str


TRUNCATED = " […truncated by Haetae]"


def clip(value: object, limit: int = MAX_TEXT_CHARS) -> str:
    """A string field of the export as text, at most ``limit`` characters: a longer one is cut and marked so
    (the mark within the limit, so that the value fits its column; a short limit is cut without a mark)."""
    text = value if isinstance(value, str) else "" if value is None else str(value)
    text = text.replace("\x00", "")
    if len(text) <= limit:
        return text
    return text[: limit - len(TRUNCATED)] + TRUNCATED if limit > 4 * len(TRUNCATED) else text[:limit]


def zone(name: str) -> ZoneInfo:
    """The IANA time zone an operator named (e.g. Asia/Seoul), or a clear refusal."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise RejectedInput(
            f"unknown time zone {name!r}: name an IANA zone such as Asia/Seoul or UTC ({exc})"
        ) from exc
