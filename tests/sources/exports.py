"""Messenger exports built at test time in the layouts the real apps write (no committed material)."""

import io
import json
import zipfile
from pathlib import Path
from typing import Any

from tests.factories.media import encode, photo

CHAT_ID = 1987654321


def telegram_message(
    message_id: int,
    *,
    unixtime: int = 1704434645,
    text: Any = "hello",
    sender: str = "Kim",
    sender_id: str = "user1111",
    **fields: Any,
) -> dict[str, Any]:
    """One message as Telegram Desktop's exporter writes it (export_output_json.cpp)."""
    return {
        "id": message_id,
        "type": "message",
        "date": "2024-01-05T15:04:05",
        "date_unixtime": str(unixtime + message_id),
        "from": sender,
        "from_id": sender_id,
        "text": text,
        "text_entities": [{"type": "plain", "text": text}] if isinstance(text, str) else [],
        **fields,
    }


def telegram_chat(
    messages: list[Any], *, chat_id: int = CHAT_ID, kind: str = "private_supergroup"
) -> dict[str, Any]:
    return {"name": "Room 7", "type": kind, "id": chat_id, "messages": messages}


def write_telegram_export(root: Path, messages: list[dict[str, Any]] | None = None, **chat: Any) -> Path:
    """A single-chat export folder: result.json and photos/ with two generated JPEGs."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "photos").mkdir(exist_ok=True)
    (root / "photos" / "photo_1@05-01-2024_15-04-05.jpg").write_bytes(encode(photo("astronaut")[:64, :64]))
    (root / "photos" / "photo_2@05-01-2024_15-05-05.jpg").write_bytes(encode(photo("coffee")[:64, :64]))
    if messages is None:
        messages = [
            telegram_message(1, text="first", photo="photos/photo_1@05-01-2024_15-04-05.jpg"),
            telegram_message(
                2,
                text=[
                    "see ",
                    {"type": "bold", "text": "this"},
                    {"type": "text_link", "text": "here", "href": "https://example.org/x"},
                ],
                reply_to_message_id=1,
                forwarded_from="Other channel",
                edited="2024-01-05T16:00:00",
                edited_unixtime="1704438000",
                sender="Lee",
                sender_id="user2222",
            ),
            telegram_message(3, text="", photo="photos/photo_2@05-01-2024_15-05-05.jpg"),
            {
                "id": 4,
                "type": "service",
                "date": "2024-01-05T15:09:00",
                "date_unixtime": "1704434940",
                "actor": "Kim",
                "actor_id": "user1111",
                "action": "pin_message",
                "text": "",
            },
        ]
    (root / "result.json").write_text(
        json.dumps(telegram_chat(messages, **chat), ensure_ascii=False), encoding="utf-8"
    )
    return root


def zip_folder(folder: Path, target: Path, *, prefix: str = "ChatExport_2024-01-05/") -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, prefix + path.relative_to(folder).as_posix())
    target.write_bytes(buffer.getvalue())
    return target


KAKAO_PC = """\ufeff김철수 님과 카카오톡 대화
저장한 날짜 : 2024-01-06 10:00:00

--------------- 2024년 1월 5일 금요일 ---------------
[김철수] [오후 3:04] 안녕하세요
[이영희] [오후 3:05] 네 안녕하세요
두 번째 줄입니다
[김철수] [오전 12:10] 자정 넘어
--------------- 2024년 13월 5일 금요일 ---------------
[김철수] [오후 3:06] 날짜가 이상한 날
"""

KAKAO_MOBILE = """김철수 님과 카카오톡 대화
저장한 날짜 : 2024년 1월 6일 오전 10:00

2024년 1월 5일 오후 3:04
2024년 1월 5일 오후 3:04, 김철수 : 안녕
2024년 1월 5일 오후 3:05, 이영희 : 사진
2024년 1월 5일 오후 13:05, 이영희 : 시간이 이상함
"""

KAKAO_ENGLISH = """Talk with Kim
Date Saved : Jan 6, 2024 10:00:00

--------------- Friday, January 5, 2024 ---------------
[Kim] [3:04 PM] hello
[Lee] [12:01 AM] late
January 5, 2024 at 3:07 PM, Kim : from the phone
"""
