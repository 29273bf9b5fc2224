"""The KakaoTalk text parser: PC and mobile layouts, Korean and English, tolerant of what it cannot read."""

import io
from datetime import datetime
from zoneinfo import ZoneInfo

from sources.kakaotalk import kakaotalk_looks_like, kakaotalk_messages
from sources.parsed import ParsedChat, ParsedMessage, ParsedNote
from tests.sources.exports import KAKAO_ENGLISH, KAKAO_MOBILE, KAKAO_PC

SEOUL = ZoneInfo("Asia/Seoul")


def parse(text: str | bytes, time_zone: str = "Asia/Seoul") -> list[ParsedChat | ParsedMessage | ParsedNote]:
    data = text.encode() if isinstance(text, str) else text
    return list(kakaotalk_messages(io.BytesIO(data), time_zone=time_zone, name="talk.txt"))


def messages(records: list) -> list[ParsedMessage]:
    return [r for r in records if isinstance(r, ParsedMessage)]


def test_pc_export_with_day_lines_and_continuations() -> None:
    records = parse(KAKAO_PC)
    assert isinstance(records[0], ParsedChat) and records[0].key == "김철수"
    found = messages(records)
    assert [(m.key, m.sender_name) for m in found] == [
        ("L5", "김철수"),
        ("L6", "이영희"),
        ("L8", "김철수"),
        ("L10", "김철수"),
    ]
    assert found[0].sent_at == datetime(2024, 1, 5, 15, 4, tzinfo=SEOUL)
    assert found[1].text == "네 안녕하세요\n두 번째 줄입니다"
    assert found[2].sent_at == datetime(2024, 1, 5, 0, 10, tzinfo=SEOUL)  # 오전 12:10 is just after midnight
    assert found[3].sent_at is None and "no day line" in found[3].problems[0]
    assert [n.reason.split(" (")[0] for n in records if isinstance(n, ParsedNote)] == ["malformed day line"]


def test_mobile_export_dates_every_message() -> None:
    found = messages(parse(KAKAO_MOBILE))
    assert [(m.sender_name, m.text) for m in found] == [
        ("김철수", "안녕"),
        ("이영희", "사진"),
        ("이영희", "시간이 이상함"),
    ]
    assert found[1].sent_at == datetime(2024, 1, 5, 15, 5, tzinfo=SEOUL)
    assert found[2].sent_at is None and "malformed date" in found[2].problems[0]


def test_english_exports_and_ios_dates() -> None:
    found = messages(parse(KAKAO_ENGLISH))
    assert [m.sender_name for m in found] == ["Kim", "Lee", "Kim"]
    assert found[1].sent_at == datetime(2024, 1, 5, 0, 1, tzinfo=SEOUL)
    assert found[2].sent_at == datetime(2024, 1, 5, 15, 7, tzinfo=SEOUL)
    ios = messages(parse("2024. 1. 5. 오후 3:04, 김철수 : 아이폰\n"))
    assert ios[0].sent_at == datetime(2024, 1, 5, 15, 4, tzinfo=SEOUL)


def test_hostile_bytes_and_endless_lines_are_survived() -> None:
    records = parse(b"\xff\xfe garbage\n" + b"x" * (3 * 1024 * 1024) + b"\n[a] [3:04 PM] ok\n")
    assert any(isinstance(r, ParsedNote) for r in records)
    assert messages(records)[-1].text.startswith("ok")


def test_recognition_by_content() -> None:
    assert kakaotalk_looks_like(KAKAO_PC.encode())
    assert kakaotalk_looks_like(KAKAO_MOBILE.encode())
    assert kakaotalk_looks_like(KAKAO_ENGLISH.encode())
    assert not kakaotalk_looks_like(b"just some notes\nabout nothing\n")
