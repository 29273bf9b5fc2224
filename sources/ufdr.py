"""Cellebrite UFDR: a ZIP (``.ufdr``) holding ``report.xml`` and the extracted files, the report read as a
stream.

The report (``http://pa.cellebrite.com/report/2.0``) lists each extracted file under ``taggedFiles`` as
``<file path="device path" id=… size=… deleted=…>`` with ``accessInfo/timestamp`` (CreationTime, ModifyTime,
AccessTime) and ``metadata section="File"`` items ("Local Path" inside the UFDR, "SHA256", "MD5"); decoded
chats are ``decodedData/modelType/model type="Chat"`` with fields (Source, Id, Name) and a ``Messages``
multiModelField of ``InstantMessage`` models (TimeStamp, Body, a ``From`` Party, ``Attachments`` naming a file
by ``file_id`` or ``attachment_extracted_path``).

Reports run to gigabytes: the XML is walked element by element (defusedxml's ``iterparse``) and each file
and message is dropped from the tree once yielded. A report that declares a DTD is refused outright (entity
expansion, "billion laughs", and external entities are the attacks a DTD carries; Cellebrite's reports have
none). Nothing in the report is trusted: an unreadable value is a note, a path is resolved only inside the
UFDR, the report's hashes are compared with ours, never taken for them.
"""

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from parties.choices import ChannelPlatform
from sources.choices import SourceNoteKind
from sources.parsed import (
    MAX_NAME_CHARS,
    ByteStream,
    ParsedChat,
    ParsedDeviceFile,
    ParsedMessage,
    ParsedNote,
    clip,
    zone,
)

REPORT_NAME = "report.xml"
_PLATFORMS = (
    ("telegram", ChannelPlatform.TELEGRAM),
    ("kakao", ChannelPlatform.KAKAOTALK),
    ("discord", ChannelPlatform.DISCORD),
    ("instagram", ChannelPlatform.INSTAGRAM),
    ("twitter", ChannelPlatform.X),
)
_TIMES = {"CreationTime": "created_at", "ModifyTime": "modified_at", "AccessTime": "accessed_at"}


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(element: Element, name: str) -> Iterator[Element]:
    return (child for child in element if _local(child.tag) == name)


def _field(element: Element, name: str) -> str:
    """The text of a model's direct ``<field name=…><value>…</value></field>``, or ''."""
    for field in _children(element, "field"):
        if field.get("name") == name:
            value = next(_children(field, "value"), None)
            return (value.text or "").strip() if value is not None else (field.text or "").strip()
    return ""


def _moment(text: str, tz: Any, problems: list[str], what: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        problems.append(f"malformed {what} {clip(text, 40)!r}: kept as written, not dated")
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def platform_of(source: str) -> str:
    lowered = source.lower()
    return next((platform for word, platform in _PLATFORMS if word in lowered), ChannelPlatform.OTHER)


def _device_file(element: Element, tz: Any) -> tuple[ParsedDeviceFile, list[str]]:
    problems: list[str] = []
    facts: dict[str, Any] = {}
    for info in _children(element, "accessInfo"):
        for stamp in _children(info, "timestamp"):
            name = _TIMES.get(stamp.get("name") or "")
            if name:
                facts[name] = _moment((stamp.text or "").strip(), tz, problems, name)
    items: dict[str, str] = {}
    for metadata in _children(element, "metadata"):
        for item in _children(metadata, "item"):
            items.setdefault(item.get("name") or "", (item.text or "").strip())
    size_text = element.get("size") or ""
    size = int(size_text) if size_text.isdigit() and len(size_text) < 20 else None
    sha256, md5 = items.get("SHA256", "").lower(), items.get("MD5", "").lower()
    if sha256 and (len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256)):
        problems.append(f"malformed SHA256 {clip(sha256, 80)!r}")
        sha256 = ""
    if md5 and (len(md5) != 32 or not all(c in "0123456789abcdef" for c in md5)):
        problems.append(f"malformed MD5 {clip(md5, 40)!r}")
        md5 = ""
    parsed = ParsedDeviceFile(
        device_path=clip(element.get("path") or "", 4000),
        local_path=clip(items.get("Local Path", ""), 1000).replace("\\", "/"),
        report_id=clip(element.get("id") or "", 100),
        size=size,
        sha256=sha256,
        md5=md5,
        deleted_state=clip(element.get("deleted") or "", 32),
        **facts,
    )
    return parsed, problems


def _party(message: Element, role: str) -> tuple[str, str]:
    for holder in _children(message, "modelField"):
        if holder.get("name") == role:
            for party in _children(holder, "model"):
                return _field(party, "Identifier"), _field(party, "Name")
    return "", ""


# A message's own fields that hold other models; anything else (``MessageExtraData`` and the like, whatever
# a reader version names it) is searched for the forwarding and reply models.
_MESSAGE_HOLDERS = frozenset({"From", "To", "Attachments", "Attachment", "SharedContacts", "Position"})


def _extra_models(message: Element) -> Iterator[Element]:
    """The models a message carries besides its parties and attachments (forwarding, reply, labels)."""
    for holder in message:
        if _local(holder.tag) in ("modelField", "multiModelField") and (
            holder.get("name") not in _MESSAGE_HOLDERS
        ):
            yield from _children(holder, "model")


def _forwarded_and_reply(message: Element) -> tuple[str, str]:
    """(forwarded from, reply to) as the report states them: ``ForwardedMessageData``'s ``OriginalSender``
    Party (its Name, else its Identifier) and ``ReplyMessageData``'s ``OriginalMessageID`` (else the id of
    the InstantMessage it embeds). A message labelled "Forwarded" with no original sender is said so."""
    forwarded = reply = ""
    labelled = False
    for model in _extra_models(message):
        kind = model.get("type")
        if kind == "ForwardedMessageData":
            identifier, name = _party(model, "OriginalSender")
            forwarded = name or identifier or forwarded
            labelled = True
        elif kind == "ReplyMessageData":
            reply = _field(model, "OriginalMessageID")
            if not reply:
                for holder in _children(model, "modelField"):
                    embedded = next(_children(holder, "model"), None)
                    if embedded is not None and embedded.get("type") == "InstantMessage":
                        reply = embedded.get("id") or _field(embedded, "Identifier")
        elif kind == "MessageLabel" and _field(model, "Label").lower() == "forwarded":
            labelled = True
    if labelled and not forwarded:
        forwarded = "(forwarded; the report names no original sender)"
    return forwarded, reply


def _message(
    element: Element, chat: ParsedChat, position: int, tz: Any, files: dict[str, str]
) -> ParsedMessage | ParsedNote:
    key = clip(element.get("id") or _field(element, "Identifier"), 64)
    if not key:
        return ParsedNote(
            SourceNoteKind.MALFORMED, f"chat {chat.key}, message {position}", "message without an id"
        )
    problems: list[str] = []
    written = _field(element, "TimeStamp")
    sender_key, sender_name = _party(element, "From")
    forwarded_from, reply_to = _forwarded_and_reply(element)
    message = ParsedMessage(
        chat=chat,
        key=key,
        position=position,
        sent_at=_moment(written, tz, problems, "TimeStamp"),
        sent_at_text=clip(written, 64),
        time_zone="as written (with offset)" if "+" in written[10:] or written.endswith("Z") else tz.key,
        sender_key=clip(sender_key, 64),
        sender_name=clip(sender_name, MAX_NAME_CHARS),
        text=clip(_field(element, "Body")),
        reply_to=clip(reply_to, 64),
        forwarded_from=clip(forwarded_from, 300),
        problems=problems,
    )
    if not written:
        problems.append("no TimeStamp")
    for holder in element:
        if _local(holder.tag) not in ("multiModelField", "modelField") or holder.get("name") not in (
            "Attachments",
            "Attachment",
        ):
            continue
        for attachment in _children(holder, "model"):
            path = _field(attachment, "attachment_extracted_path").replace("\\", "/")
            file_id = attachment.get("file_id") or ""
            if not path and file_id:
                path = files.get(file_id, "")
                if not path:
                    problems.append(
                        f"attachment names report file {clip(file_id, 100)!r}, which the report does not list"
                    )
                    continue
            if path:
                message.media.append(("attachment", clip(path, 1000)))
    return message


def ufdr_records(
    stream: ByteStream, *, time_zone: str
) -> Iterator[ParsedChat | ParsedMessage | ParsedDeviceFile | ParsedNote]:
    """The report's files, chats and messages in document order, each dropped from memory once yielded."""
    tz = zone(time_zone)
    stack: list[Element] = []
    files: dict[str, str] = {}  # the report's file id → its place in the UFDR, for attachments
    chat: ParsedChat | None = None
    chat_element: Element | None = None
    chats = position = 0
    try:
        for event, element in SafeET.iterparse(stream, events=("start", "end"), forbid_dtd=True):
            name = _local(element.tag)
            if event == "start":
                parent = stack[-1] if stack else None
                if name == "model" and element.get("type") == "Chat":
                    chat_element, chat = element, None
                elif (
                    name == "multiModelField"
                    and element.get("name") == "Messages"
                    and parent is chat_element
                    and chat_element is not None
                ):
                    chats += 1
                    source = _field(chat_element, "Source")
                    platform = platform_of(source)
                    identifier = _field(chat_element, "Id") or chat_element.get("id") or f"chat-{chats}"
                    key = (
                        identifier
                        if platform != ChannelPlatform.OTHER
                        else f"{source or 'chat'}:{identifier}"
                    )
                    chat = ParsedChat(
                        key=clip(key, 64),
                        kind=clip(source, 32),
                        title=clip(_field(chat_element, "Name"), 300),
                        platform=platform,
                    )
                    yield chat
                stack.append(element)
                continue
            stack.pop()
            parent = stack[-1] if stack else None
            parent_name = _local(parent.tag) if parent is not None else ""
            drop = name == "model" and parent_name == "modelType"  # contacts, calls …: not kept
            if name == "file" and parent_name == "taggedFiles":
                device_file, problems = _device_file(element, tz)
                if device_file.report_id and device_file.local_path:
                    files[device_file.report_id] = device_file.local_path
                yield device_file
                for problem in problems:
                    yield ParsedNote(
                        SourceNoteKind.MALFORMED, f"file {device_file.device_path[:300]!r}", problem
                    )
                drop = True
            elif (
                name == "model"
                and element.get("type") == "InstantMessage"
                and parent is not None
                and parent_name == "multiModelField"
                and parent.get("name") == "Messages"
                and chat is not None
            ):
                position += 1
                yield _message(element, chat, position, tz, files)
                drop = True
            elif name == "model" and element is chat_element:
                chat_element = chat = None
            if drop and parent is not None:
                parent.remove(element)  # keep memory flat: what was yielded is dropped from the tree
    except DefusedXmlException as exc:
        yield ParsedNote(
            SourceNoteKind.MALFORMED,
            REPORT_NAME,
            f"refused: the report declares a DTD or entities ({type(exc).__name__}), the carrier of entity "
            "expansion (billion laughs) and external-entity attacks; nothing more was parsed from it, the "
            "file is kept whole",
        )
    except (ParseError, ValueError, UnicodeDecodeError) as exc:
        yield ParsedNote(
            SourceNoteKind.MALFORMED,
            REPORT_NAME,
            f"the XML is malformed or truncated after {position} message(s) ({clip(str(exc), 200)}); what "
            "came before is recorded, the file is kept whole",
        )
