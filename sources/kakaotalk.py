"""KakaoTalk's text export, as the PC and mobile apps write it, in Korean and English.

PC ("Talk_2024.1.5 15:04-1.txt"): a title line, "저장한 날짜 : …", then day lines
``--------------- 2024년 1월 5일 금요일 ---------------`` and messages ``[이름] [오후 3:04] 메시지``
(English: ``--------------- Friday, January 5, 2024 ---------------`` and ``[Name] [3:04 PM] text``).
Mobile: every message carries its date, ``2024년 1월 5일 오후 3:04, 이름 : 메시지`` (iOS writes
``2024. 1. 5. 오후 3:04, 이름 : 메시지``; English ``January 5, 2024 at 3:04 PM, Name : text``).
A line that matches none of these continues the message before it (messages span lines).

Times carry no zone: they are read in the zone the operator states (Asia/Seoul unless told). The file is
read line by line, each line capped, so its size does not matter; a line that cannot be read as the format
says is kept as a problem or a note, never fatal. A message's id is its line number in the file.
"""

import re
from collections.abc import Iterator
from datetime import date, datetime

from sources.choices import SourceNoteKind
from sources.parsed import MAX_NAME_CHARS, ByteStream, ParsedChat, ParsedMessage, ParsedNote, clip, zone

MAX_LINE_BYTES = 1024 * 1024
MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}

_TITLES = (
    re.compile(r"^(?P<title>.+?) 님과 카카오톡 대화$"),
    re.compile(r"^(?P<title>.+?) 카카오톡 대화$"),
    re.compile(r"^Talk with (?P<title>.+)$"),
    re.compile(r"^(?P<title>.+?) KakaoTalk Chats?$"),
)
_SAVED = re.compile(r"^(저장한 날짜|Date Saved)\s*:")
_DAY_KO = re.compile(r"^-{3,} (?P<y>\d{4})년 (?P<m>\d{1,2})월 (?P<d>\d{1,2})일 \S+ -{3,}$")
_DAY_EN = re.compile(r"^-{3,} [A-Za-z]+, (?P<mon>[A-Za-z]+) (?P<d>\d{1,2}), (?P<y>\d{4}) -{3,}$")
_PC = re.compile(
    r"^\[(?P<name>[^\]]{1,300})\] "
    r"\[(?:(?P<ampm_ko>오전|오후) )?(?P<h>\d{1,2}):(?P<min>\d{2})(?: (?P<ampm_en>AM|PM))?\] "
    r"(?P<text>.*)$"
)
_STAMP_KO = (
    r"(?P<y>\d{4})년 (?P<m>\d{1,2})월 (?P<d>\d{1,2})일 (?P<ampm_ko>오전|오후) (?P<h>\d{1,2}):(?P<min>\d{2})"
)
_STAMP_IOS = (
    r"(?P<y>\d{4})\. (?P<m>\d{1,2})\. (?P<d>\d{1,2})\.? (?P<ampm_ko>오전|오후) (?P<h>\d{1,2}):(?P<min>\d{2})"
)
_STAMP_EN = (
    r"(?P<mon>[A-Za-z]+) (?P<d>\d{1,2}), (?P<y>\d{4})(?: at|,) "
    r"(?P<h>\d{1,2}):(?P<min>\d{2}) ?(?P<ampm_en>AM|PM)"
)
_MOBILE = [
    re.compile(rf"^{stamp}, (?P<name>.{{1,300}}?) : (?P<text>.*)$")
    for stamp in (_STAMP_KO, _STAMP_IOS, _STAMP_EN)
]
_MOBILE_DAY = [re.compile(rf"^{stamp}$") for stamp in (_STAMP_KO, _STAMP_IOS, _STAMP_EN)]


def _lines(stream: ByteStream) -> Iterator[str]:
    """The file's lines as text (UTF-8, undecodable bytes replaced), each at most MAX_LINE_BYTES."""
    pending = b""
    first = True
    while True:
        chunk = stream.read(256 * 1024)
        if not chunk:
            break
        pending += chunk
        while True:
            cut = pending.find(b"\n")
            if cut < 0:
                if len(pending) > MAX_LINE_BYTES:
                    cut = MAX_LINE_BYTES
                else:
                    break
            raw, pending = pending[:cut], pending[cut + 1 :]
            if first:
                raw, first = raw.removeprefix(b"\xef\xbb\xbf"), False
            yield raw.rstrip(b"\r").decode("utf-8", errors="replace")
    if pending:
        yield pending.rstrip(b"\r").decode("utf-8", errors="replace")


def _hour(groups: dict[str, str | None]) -> int:
    hour = int(groups["h"] or 0)
    marker = groups.get("ampm_ko") or groups.get("ampm_en")
    if marker is None:
        return hour
    if not 1 <= hour <= 12:
        raise ValueError(f"hour {hour} with {marker}")
    if marker in {"오후", "PM"}:
        return hour % 12 + 12
    return hour % 12


def _day(groups: dict[str, str | None]) -> date:
    month = int(groups.get("m") or 0) or MONTHS.get((groups.get("mon") or "").lower(), 0)
    return date(int(groups["y"] or 0), month, int(groups["d"] or 0))


def kakaotalk_looks_like(head: bytes) -> bool:
    """Whether the first bytes of a file read as a KakaoTalk text export."""
    lines = head.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="ignore").splitlines()[:12]
    for line in lines:
        line = line.strip()
        if any(p.match(line) for p in (*_TITLES, _SAVED, _DAY_KO, _DAY_EN, _PC, *_MOBILE)):
            return True
    return False


def kakaotalk_messages(
    stream: ByteStream, *, time_zone: str, name: str
) -> Iterator[ParsedChat | ParsedMessage | ParsedNote]:
    """The chat and its messages, in file order; unreadable lines as problems or notes."""
    tz = zone(time_zone)
    chat: ParsedChat | None = None
    current: ParsedMessage | None = None
    day: date | None = None
    position = 0
    for number, line in enumerate(_lines(stream), start=1):
        stripped = line.strip()
        if chat is None:
            title = next((m.group("title") for p in _TITLES if (m := p.match(stripped))), None)
            chat = ParsedChat(key=clip(title or name, 64), kind="kakaotalk", title=clip(title or name, 300))
            yield chat
            if title is not None:
                continue
        if current is None and _SAVED.match(stripped):
            continue
        day_match = _DAY_KO.match(stripped) or _DAY_EN.match(stripped)
        if day_match:
            try:
                day = _day(day_match.groupdict())
            except ValueError as exc:
                day = None
                yield ParsedNote(
                    SourceNoteKind.MALFORMED,
                    f"line {number}",
                    f"malformed day line ({exc}): the messages under it are undated",
                )
            if current is not None:
                yield _finish(current)
                current = None
            continue
        mobile = next((m for p in _MOBILE if (m := p.match(stripped))), None)
        pc = None if mobile else _PC.match(line)
        if mobile is None and pc is None:
            if any(p.match(stripped) for p in _MOBILE_DAY):
                continue  # the mobile app's date line before a day's messages: each message repeats it
            if current is not None:
                current.text = clip(f"{current.text}\n{line}")
            elif stripped:
                yield ParsedNote(
                    SourceNoteKind.MALFORMED,
                    f"line {number}",
                    "a line outside any message: kept in the file, not recorded as a message",
                )
            continue
        if current is not None:
            yield _finish(current)
        match = mobile or pc
        assert match is not None
        groups = match.groupdict()
        position += 1
        current = ParsedMessage(
            chat=chat,
            key=f"L{number}",
            position=position,
            sender_name=clip(groups["name"], MAX_NAME_CHARS),
            text=clip(groups["text"]),
            sent_at_text=clip(stripped[: match.start("text")].rstrip(" :,"), 64),
            time_zone=tz.key,
        )
        try:
            moment_day = _day(groups) if mobile else day
            if moment_day is None:
                current.problems.append("no day line before this message: its date is unknown")
            else:
                current.sent_at = datetime(
                    moment_day.year,
                    moment_day.month,
                    moment_day.day,
                    _hour(groups),
                    int(groups["min"] or 0),
                    tzinfo=tz,
                )
        except ValueError as exc:
            current.problems.append(f"malformed date ({exc}): kept as written, not dated")
    if current is not None:
        yield _finish(current)


def _finish(message: ParsedMessage) -> ParsedMessage:
    message.text = message.text.rstrip()
    return message
