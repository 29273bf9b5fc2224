"""Telegram Desktop's HTML export (``messages.html``, ``messages2.html`` …), read as a stream.

The exporter's HTML writer (``export_output_html.cpp``) writes one page per thousand messages. Each message
is a ``<div class="message default clearfix" id="message123">`` whose body holds the date
(``<div class="pull_right date details" title="05.01.2024 15:04:05 UTC+09:00">``; older versions wrote the
local time without an offset), the sender (``<div class="from_name">``; a message of the same sender right
after another is ``joined`` and has none: the sender carries over), a reply link (``GoToMessage(122)``), a
forwarded block (``<div class="forwarded body">`` with the original sender in its own ``from_name``), media
(``<a class="photo_wrap …" href="photos/…">`` and the like inside ``media_wrap``) and the text
(``<div class="text">``). Service messages are ``<div class="message service" id="message125">``; the
day separators between them have negative ids and are not messages. The page header names the chat; the
HTML export gives no chat id, so the chat is keyed by that title.

Parsed with the standard library's ``html.parser``, fed in chunks: one message is built at a time, a pending
construct (an unclosed tag, text without end) is bounded, and every field is clipped. Nothing is trusted:
what cannot be read is a note or a problem on its message, never an exception.
"""

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

from sources.choices import SourceNoteKind
from sources.parsed import (
    MAX_NAME_CHARS,
    MAX_TEXT_CHARS,
    ByteStream,
    ParsedChat,
    ParsedMessage,
    ParsedNote,
    clip,
    zone,
)

PAGE_NAME = re.compile(r"^messages(\d*)\.html$")
CHUNK_BYTES = 64 * 1024
# The most the parser may hold unparsed (an unclosed tag, a run of text without markup).
MAX_PENDING_CHARS = 1024 * 1024
MAX_DEPTH = 256
_MESSAGE_ID = re.compile(r"^message(-?\d{1,19})$")
_GO_TO = re.compile(r"GoToMessage\((\d{1,19})\)|#go_to_message(\d{1,19})")
_TITLE_DATE = re.compile(r"^(\d{2})\.(\d{2})\.(\d{4}) (\d{2}):(\d{2}):(\d{2})(?: UTC([+-])(\d{2}):(\d{2}))?$")
_EDITED = re.compile(r"^edited:?\s*(.+)$", re.IGNORECASE)
_LINK_SCHEMES = ("http://", "https://", "tg://", "mailto:", "tel:", "#", "javascript:")
NOT_INCLUDED = "(File not included. Change data exporting settings to download.)"


def page_number(name: str) -> int | None:
    """The page's number (messages.html is 1, messages2.html 2 …), or None if the name is not a page."""
    match = PAGE_NAME.match(name)
    if match is None:
        return None
    return int(match.group(1) or "1") if len(match.group(1)) < 7 else None


def title_date(written: str, tz: ZoneInfo) -> tuple[datetime | None, str]:
    """(the moment, how it was read) of a date title "05.01.2024 15:04:05 UTC+09:00", or (None, "")."""
    match = _TITLE_DATE.match(written.strip())
    if match is None:
        return None, ""
    day, month, year, hour, minute, second, sign, off_h, off_m = match.groups()
    try:
        local = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
        if sign is None:
            return local.replace(tzinfo=tz), tz.key
        offset = timedelta(hours=int(off_h), minutes=int(off_m))
        if offset > timedelta(hours=14, minutes=59):
            return None, ""
        return local.replace(tzinfo=timezone(offset if sign == "+" else -offset)), "as written (with offset)"
    except ValueError:
        return None, ""


@dataclass
class _Text:
    """Text gathered for one field, bounded."""

    parts: list[str] = field(default_factory=list)
    size: int = 0
    limit: int = MAX_TEXT_CHARS

    def add(self, value: str) -> None:
        if self.size <= self.limit:
            self.parts.append(value[: self.limit + 1 - self.size])
            self.size += len(value)

    def value(self) -> str:
        text = "\n".join(line.strip() for line in "".join(self.parts).strip().splitlines())
        text = text.replace("\x00", "")
        return text if self.size <= self.limit else text[: self.limit] + " […truncated by Haetae]"


@dataclass
class _Building:
    key: str
    service: bool
    joined: bool
    depth: int
    sender: _Text = field(default_factory=lambda: _Text(limit=MAX_NAME_CHARS))
    forwarded: _Text = field(default_factory=lambda: _Text(limit=MAX_NAME_CHARS))
    text: _Text = field(default_factory=_Text)
    date_title: str = ""
    reply_to: str = ""
    is_forwarded: bool = False
    media: list[tuple[str, str]] = field(default_factory=list)
    media_blocks: int = 0


class _PageParser(HTMLParser):
    """Collects the messages of one page; ``done`` holds what is finished, drained by the caller."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[frozenset[str]] = []  # classes of the open divs
        self.done: list[_Building] = []
        self.current: _Building | None = None
        self.header = _Text(limit=MAX_NAME_CHARS)
        self.header_depth: int | None = None
        self.title_seen = False
        self.link: tuple[str, _Text] | None = None  # an <a href> inside a text, its shown text
        self.skip_depth: int | None = None  # a forwarded from_name's date span
        self.overflow = 0  # divs past MAX_DEPTH, not on the stack

    # -- where we are ----------------------------------------------------------------------------------------

    def _inside(self, name: str, *, below: int = 0) -> int | None:
        """The depth of the innermost open div of class ``name`` (deeper than ``below``), or None."""
        for depth in range(len(self.stack) - 1, below - 1, -1):
            if name in self.stack[depth]:
                return depth
        return None

    def _in_forwarded(self) -> bool:
        message = self.current
        return message is not None and self._inside("forwarded", below=message.depth + 1) is not None

    # -- tags ------------------------------------------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        classes = frozenset(values.get("class", "").split())
        message = self.current
        if tag == "div":
            if len(self.stack) >= MAX_DEPTH:
                self.overflow += 1
                return
            self.stack.append(classes)
            depth = len(self.stack) - 1
            if "message" in classes and message is None:
                match = _MESSAGE_ID.match(values.get("id", ""))
                self.current = _Building(
                    key=match.group(1) if match else "",
                    service="service" in classes,
                    joined="joined" in classes,
                    depth=depth,
                )
            elif "page_header" in classes and self.header_depth is None and not self.title_seen:
                self.header_depth = depth
            elif message is not None:
                if "date" in classes and "details" in classes and not self._in_forwarded():
                    message.date_title = message.date_title or clip(values.get("title", ""), 200)
                if "forwarded" in classes:
                    message.is_forwarded = True
                if "media_wrap" in classes:
                    message.media_blocks += 1
            return
        if message is None:
            return
        if tag == "br":
            self._text("\n")
        elif tag == "span" and "date" in classes and self._in_forwarded():
            self.skip_depth = len(self.stack)
        elif tag == "a":
            href = values.get("href", "")
            onclick = values.get("onclick", "")
            if self._inside("reply_to", below=message.depth + 1) is not None:
                found = _GO_TO.search(onclick) or _GO_TO.search(href)
                if found and not message.reply_to:
                    message.reply_to = found.group(1) or found.group(2)
            elif self._inside("media_wrap", below=message.depth + 1) is not None:
                if href and not href.lower().startswith(_LINK_SCHEMES):
                    role = "photo" if "photo_wrap" in classes else "file"
                    message.media.append((role, clip(href, 1000)))
            elif self._inside("text", below=message.depth + 1) is not None and href:
                self.link = (href, _Text(limit=2000))
        elif tag == "img" and self._inside("media_wrap", below=message.depth + 1) is not None:
            src = values.get("src", "")
            if src and not src.lower().startswith(_LINK_SCHEMES):
                message.media.append(("thumbnail", clip(src, 1000)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "div":
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.link is not None:
            href, shown = self.link
            self.link = None
            text = shown.value()
            self._text(f"{text} ({href})" if href != text and not href.startswith("#") else text)
            return
        if tag == "span" and self.skip_depth is not None:
            self.skip_depth = None
            return
        if tag != "div" or not self.stack:
            return
        if self.overflow:
            self.overflow -= 1
            return
        self.stack.pop()
        depth = len(self.stack)
        if self.header_depth is not None and depth == self.header_depth:
            self.header_depth = None
            self.title_seen = True
        message = self.current
        if message is not None and depth == message.depth:
            self.done.append(message)
            self.current = None
            self.link = None
            self.skip_depth = None

    def handle_data(self, data: str) -> None:
        if self.header_depth is not None and "text" in self.stack[-1]:
            self.header.add(data)
            return
        self._text(data)

    def _text(self, data: str) -> None:
        message = self.current
        if message is None or self.skip_depth is not None:
            return
        if self.link is not None:
            self.link[1].add(data)
            return
        below = message.depth + 1
        if self._inside("text", below=below) is not None or (message.service and len(self.stack) > below):
            message.text.add(data)
        elif self._inside("from_name", below=below) is not None:
            (message.forwarded if self._in_forwarded() else message.sender).add(data)


def telegram_html_messages(
    stream: ByteStream,
    *,
    time_zone: str,
    chat: ParsedChat | None = None,
    first_position: int = 0,
    page: str = "messages.html",
    carried_sender: str = "",
) -> Iterator[ParsedChat | ParsedMessage | ParsedNote]:
    """Chats, messages and notes of one HTML page, in page order, one message in memory at a time.

    ``chat`` (the chat named by an earlier page of the same export) keeps every page in one chat;
    ``first_position`` and ``carried_sender`` continue the order and the joined sender across pages."""
    tz = zone(time_zone)
    parser = _PageParser()
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    announced = False
    position = first_position
    sender = carried_sender
    finished = False
    while not finished:
        chunk = stream.read(CHUNK_BYTES)
        finished = not chunk
        parser.feed(decoder.decode(chunk, final=finished))
        if finished:
            parser.close()
        if len(parser.rawdata) > MAX_PENDING_CHARS:
            yield ParsedNote(
                SourceNoteKind.MALFORMED,
                page,
                f"more than {MAX_PENDING_CHARS} characters without readable markup after {position} "
                "message(s): the page is not read further; the messages before that point are recorded, "
                "the file is kept whole",
            )
            return
        for built in parser.done:
            if chat is None:
                title = parser.header.value() if parser.title_seen else ""
                chat = ParsedChat(key=clip(title, 64) or "unnamed chat", title=clip(title, 300))
            if not announced:
                announced = True
                yield chat
            if not built.key or built.key.startswith("-"):
                if not built.key:
                    yield ParsedNote(
                        SourceNoteKind.MALFORMED,
                        f"{page}, after message {position}",
                        "a message block without a usable id: skipped",
                    )
                continue  # negative ids are the day separators, not messages
            position += 1
            parsed = _message(built, chat, position, tz, sender)
            if parsed.kind == "message" and parsed.sender_name:
                sender = parsed.sender_name
            yield parsed
        parser.done.clear()
    if parser.current is not None:
        yield ParsedNote(
            SourceNoteKind.MALFORMED,
            page,
            f"the page ends inside message {parser.current.key or '?'}: truncated; that message is not "
            "recorded",
        )


def _message(built: _Building, chat: ParsedChat, position: int, tz: ZoneInfo, carried: str) -> ParsedMessage:
    problems: list[str] = []
    lines = built.date_title.splitlines() or [""]
    written = lines[0].strip()
    sent_at, how = title_date(written, tz) if written else (None, "")
    if written and sent_at is None:
        problems.append(f"malformed date {written!r}: kept as written, not dated")
    elif not written and not built.service:
        problems.append("no date")
    edited_at = None
    for line in lines[1:]:  # a title's further line "Edited: <date>", where an exporter writes one
        edited = _EDITED.match(line.strip())
        if edited:
            edited_at, _ = title_date(edited.group(1), tz)
            if edited_at is None:
                problems.append(f"malformed edit date {clip(line.strip(), 64)!r}")
    sender = built.sender.value()
    if not built.service and not sender and built.joined:
        sender = carried
    elif not built.service and not sender:
        problems.append("no sender")
    media = built.media
    if built.media_blocks and not media:  # the exporter writes the block without a link
        media = [("file", NOT_INCLUDED)]
    return ParsedMessage(
        chat=chat,
        key=built.key,
        position=position,
        kind="service" if built.service else "message",
        sent_at=sent_at,
        sent_at_text=written,
        time_zone=how,
        sender_name=sender if not built.service else "",
        text=built.text.value(),
        reply_to=built.reply_to,
        forwarded_from=built.forwarded.value() if built.is_forwarded else "",
        edited_at=edited_at,
        media=media,
        problems=problems,
    )
