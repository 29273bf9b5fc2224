"""Messenger exports built at test time in the layouts the real apps write (no committed material)."""

import io
import json
import zipfile
from pathlib import Path
from typing import Any

from tests.factories.media import encode, photo
from tests.factories.media import photo as photo_array

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


UFDR_NS = "http://pa.cellebrite.com/report/2.0"


def _ufdr_file(file_id: str, device_path: str, local_path: str, *, sha256: str = "", md5: str = "") -> str:
    hashes = (f'<item name="SHA256"><![CDATA[{sha256}]]></item>' if sha256 else "") + (
        f'<item name="MD5"><![CDATA[{md5}]]></item>' if md5 else ""
    )
    return (
        f'<file fs="Apple" fsid="fs1" path="{device_path}" size="10" id="{file_id}" extractionId="0" '
        'deleted="Intact" embedded="false" isrelated="False">'
        "<accessInfo>"
        '<timestamp name="CreationTime">2024-01-05T15:04:05.000+09:00</timestamp>'
        '<timestamp name="ModifyTime">2024-01-05T15:05:05.000+09:00</timestamp>'
        '<timestamp name="AccessTime">not a time</timestamp>'
        "</accessInfo>"
        f'<metadata section="File"><item name="Local Path"><![CDATA[{local_path}]]></item>{hashes}</metadata>'
        "</file>"
    )


def _value(name: str, value: str, kind: str = "String") -> str:
    return f'<field name="{name}" type="{kind}"><value type="{kind}"><![CDATA[{value}]]></value></field>'


def _instant_message(message_id: str, body: str, *, stamp: str, attachment: str = "", extra: str = "") -> str:
    """An InstantMessage as Cellebrite's report writes it; ``extra``: the models of its
    ``MessageExtraData`` (ForwardedMessageData, ReplyMessageData, MessageLabel)."""
    return (
        f'<model type="InstantMessage" id="{message_id}" deleted_state="Intact" decoding_confidence="High">'
        + _value("Source", "Telegram")
        + _value("TimeStamp", stamp, "TimeStamp")
        + _value("Body", body)
        + '<modelField name="From" type="Party"><model type="Party" id="p1">'
        + _value("Identifier", "user777")
        + _value("Name", "Choi")
        + "</model></modelField>"
        + (
            f'<multiModelField name="Attachments" type="Attachment">{attachment}</multiModelField>'
            if attachment
            else ""
        )
        + (
            '<multiModelField name="MessageExtraData" type="InstantMessageExtraData">'
            + f"{extra}</multiModelField>"
            if extra
            else ""
        )
        + "</model>"
    )


def ufdr_forwarded_messages() -> str:
    """Three more messages of the UFDR chat: one forwarded (its original sender a Party) carrying two
    attachments, one replying to it, one labelled "Forwarded" with no original sender."""
    forwarded = (
        '<model type="ForwardedMessageData" id="x-1">'
        + _value("Label", "Forwarded")
        + '<modelField name="OriginalSender" type="Party"><model type="Party" id="p9">'
        + _value("Identifier", "chan_origin_9")
        + _value("Name", "Origin channel")
        + "</model></modelField></model>"
    )
    reply = '<model type="ReplyMessageData" id="x-2">' + _value("OriginalMessageID", "m-4") + "</model>"
    label = '<model type="MessageLabel" id="x-3">' + _value("Label", "Forwarded") + "</model>"
    return (
        _instant_message(
            "m-4",
            "fwd",
            stamp="2024-01-05T15:10:00.000+09:00",
            attachment='<model type="Attachment" id="a-4" file_id="f-1">'
            + _value("Filename", "IMG_0001.JPG")
            + '</model><model type="Attachment" id="a-5">'
            + _value("attachment_extracted_path", "files\\Video\\IMG_0002.MOV")
            + "</model>",
            extra=forwarded,
        )
        + _instant_message("m-5", "re", stamp="2024-01-05T15:11:00.000+09:00", extra=reply)
        + _instant_message("m-6", "again", stamp="2024-01-05T15:12:00.000+09:00", extra=label)
    )


def write_ufdr(target: Path, *, doctype: str = "", more_messages: str = "") -> dict[str, Any]:
    """A UFDR (ZIP) whose report.xml lists four files (one whose hash disagrees, one missing, one escaping)
    and one Telegram chat of three messages with attachments (and ``more_messages``, InstantMessage models);
    returns what the test needs to know."""
    import hashlib

    photo = encode(photo_array("astronaut")[:48, :48])
    video = b"\x00\x00\x00\x18ftypmp42 not really a video"
    files = "".join(
        [
            _ufdr_file(
                "f-1",
                "/private/var/mobile/Media/DCIM/100APPLE/IMG_0001.JPG",
                "files\\Image\\IMG_0001.JPG",
                sha256=hashlib.sha256(photo).hexdigest(),
                md5=hashlib.md5(photo, usedforsecurity=False).hexdigest(),
            ),
            _ufdr_file(
                "f-2",
                "/private/var/mobile/Media/DCIM/100APPLE/IMG_0002.MOV",
                "files/Video/IMG_0002.MOV",
                md5="0" * 32,
            ),
            _ufdr_file("f-3", "/private/var/mobile/gone.jpg", "files/Image/gone.jpg", sha256="1" * 64),
            _ufdr_file("f-4", "/etc/passwd", "../../etc/passwd"),
        ]
    )
    chat = (
        '<model type="Chat" id="c-1" deleted_state="Intact">'
        + _value("Source", "Telegram")
        + _value("Id", "424242")
        + _value("Name", "Trade room")
        + '<multiModelField name="Messages" type="InstantMessage">'
        + _instant_message(
            "m-1",
            "look",
            stamp="2024-01-05T15:04:05.000+09:00",
            attachment='<model type="Attachment" id="a-1" file_id="f-1">'
            + _value("Filename", "IMG_0001.JPG")
            + "</model>",
        )
        + _instant_message(
            "m-2",
            "video",
            stamp="2024-01-05T15:06:00",
            attachment='<model type="Attachment" id="a-2">'
            + _value("attachment_extracted_path", "files\\Video\\IMG_0002.MOV")
            + "</model>",
        )
        + _instant_message("m-3", "later", stamp="yesterday-ish")
        + more_messages
        + "</multiModelField></model>"
    )
    report = (
        '<?xml version="1.0" encoding="utf-8"?>'
        + doctype
        + f'<project id="p" name="Extraction" reportVersion="7.60" xmlns="{UFDR_NS}">'
        + '<sourceExtractions><extractionInfo id="0" name="Logical" type="Logical" /></sourceExtractions>'
        + f"<taggedFiles>{files}</taggedFiles>"
        + '<decodedData><modelType type="Contact"><model type="Contact" id="k1">'
        + _value("Name", "x")
        + "</model></modelType>"
        + f'<modelType type="Chat">{chat}</modelType></decodedData>'
        + "</project>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("report.xml", report)
        archive.writestr("files/Image/IMG_0001.JPG", photo)
        archive.writestr("files/Video/IMG_0002.MOV", video)
    target.write_bytes(buffer.getvalue())
    return {"photo": photo, "video": video, "report": report}


BILLION_LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
    '<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">'
    '<!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">]>'
)
EXTERNAL_ENTITY = '<!DOCTYPE p [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def html_page(body: str, *, title: str = "Room 7", next_page: str = "") -> str:
    """A page as Telegram Desktop's HTML writer lays it out (export_output_html.cpp)."""
    more = (
        f'\n   <a class="pagination block_link" href="{next_page}">\n    Next messages\n   </a>'
        if next_page
        else ""
    )
    return (
        '<!DOCTYPE html>\n<html>\n <head>\n  <meta charset="utf-8"/>\n  <title>Exported Data</title>\n'
        '  <link href="css/style.css" rel="stylesheet"/>\n'
        '  <script src="js/script.js" type="text/javascript">'
        '\n  </script>\n </head>\n <body onload="CheckLocation();">\n  <div class="page_wrap">\n'
        '   <div class="page_header">\n    <div class="content">\n     <div class="text bold">\n'
        f"{title}\n     </div>\n    </div>\n   </div>\n"
        '   <div class="page_body chat_page">\n    <div class="history">\n'
        f"{body}{more}\n    </div>\n   </div>\n  </div>\n </body>\n</html>\n"
    )


def html_message(
    message_id: int,
    *,
    title: str = "05.01.2024 15:04:05 UTC+09:00",
    sender: str | None = "Kim",
    text: str = "hello",
    inner: str = "",
) -> str:
    """One message block; ``sender`` None writes it ``joined`` (no userpic, no from_name)."""
    joined = sender is None
    userpic = (
        ""
        if joined
        else '     <div class="pull_left userpic_wrap">\n'
        '      <div class="userpic userpic1" style="width: 42px; height: 42px">\n'
        '       <div class="initials" style="line-height: 42px">\nK\n       </div>\n'
        "      </div>\n     </div>\n"
    )
    name = "" if joined else f'      <div class="from_name">\n{sender} \n      </div>\n'
    text_block = f'      <div class="text">\n{text}\n      </div>\n' if text else ""
    return (
        f'     <div class="message default clearfix{" joined" if joined else ""}" id="message{message_id}">\n'
        f'{userpic}     <div class="body">\n'
        f'      <div class="pull_right date details" title="{title}">\n{title[11:16]}\n      </div>\n'
        f"{name}{inner}{text_block}     </div>\n    </div>\n"
    )


def html_photo(path: str, *, thumb: bool = True) -> str:
    image = (
        f'        <img class="photo" src="{path.rsplit(".", 1)[0]}_thumb.jpg" '
        'style="width: 64px; height: 64px"/>\n'
        if thumb
        else ""
    )
    return (
        '      <div class="media_wrap clearfix">\n'
        f'       <a class="photo_wrap clearfix pull_left" href="{path}">\n{image}'
        "       </a>\n      </div>\n"
    )


def html_service(message_id: int, text: str) -> str:
    return (
        f'     <div class="message service" id="message{message_id}">\n'
        f'      <div class="body details">\n{text}\n      </div>\n     </div>\n'
    )


def write_telegram_html_export(root: Path) -> Path:
    """An HTML export of one chat in two pages: a photo, a joined message, a reply with a link, a forward,
    a service message, a photo missing from the export, a path escaping the folder, a malformed date."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "photos").mkdir(exist_ok=True)
    image = encode(photo("astronaut")[:64, :64])
    (root / "photos" / "photo_1@05-01-2024_15-04-05.jpg").write_bytes(image)
    (root / "photos" / "photo_1@05-01-2024_15-04-05_thumb.jpg").write_bytes(
        encode(photo("astronaut")[:32, :32])
    )
    first = (
        html_service(-1, "5 January 2024")
        + html_message(1, text="first", inner=html_photo("photos/photo_1@05-01-2024_15-04-05.jpg"))
        + html_message(2, sender=None, title="05.01.2024 15:04:30 UTC+09:00", text="same sender, joined")
        + html_message(
            3,
            sender="Lee",
            title="05.01.2024 15:05:05 UTC+09:00",
            text='see <strong>this</strong><br><a href="https://example.org/x">here</a> &amp; more',
            inner=(
                '      <div class="reply_to details">\nIn reply to <a href="#go_to_message1" '
                'onclick="return GoToMessage(1)">this message</a>\n      </div>\n'
            ),
        )
        + html_message(
            4,
            sender=None,
            title="05.01.2024 15:06:05 UTC+09:00",
            text="",
            inner=(
                '      <div class="pull_left forwarded userpic_wrap">\n       <div class="userpic userpic2" '
                'style="width: 42px; height: 42px"></div>\n      </div>\n'
                '      <div class="forwarded body">\n       <div class="from_name">\nOther channel'
                '<span class="date details" title="01.01.2024 09:00:00 UTC+09:00">'
                " 01.01.2024 09:00:00</span>\n"
                '       </div>\n       <div class="text">\nforwarded words\n       </div>\n      </div>\n'
            ),
        )
    )
    second = (
        html_service(5, "Kim pinned a message")
        + html_message(
            6,
            sender="Kim",
            title="05.01.2024 15:07:05 UTC+09:00",
            text="gone",
            inner=html_photo("photos/photo_9@05-01-2024_15-07-05.jpg", thumb=False),
        )
        + html_message(
            7,
            title="05.01.2024 15:08:05 UTC+09:00",
            text="escape",
            inner=html_photo("../../etc/passwd", thumb=False),
        )
        + html_message(8, title="2024-01-05 15:09:05", text="odd date")
    )
    (root / "messages.html").write_text(html_page(first, next_page="messages2.html"), encoding="utf-8")
    (root / "messages2.html").write_text(html_page(second), encoding="utf-8")
    return root


def ufdr_many_messages(count: int) -> str:
    """``count`` InstantMessage models for the UFDR chat (ids m-1001 …), every hundredth with the photo."""
    return "".join(
        _instant_message(
            f"m-{1000 + n}",
            f"message {n}",
            stamp="2024-01-05T15:10:00.000+09:00",
            attachment=(
                '<model type="Attachment" id="a-x" file_id="f-1">'
                + _value("Filename", "IMG_0001.JPG")
                + "</model>"
            )
            if n % 100 == 0
            else "",
        )
        for n in range(1, count + 1)
    )


def kakaotalk_many_lines(count: int) -> str:
    """A KakaoTalk PC export of ``count`` messages on one day."""
    head = "\ufeff김철수 님과 카카오톡 대화\n저장한 날짜 : 2024-01-06 10:00:00\n\n"
    day = "--------------- 2024년 1월 5일 금요일 ---------------\n"
    return head + day + "".join(f"[김철수] [오후 3:04] message {n}\n" for n in range(1, count + 1))
