"""Providers for the records of the apps below search: messages (``sources``) and captured pages
(``captures``), registered in ``SearchConfig.ready`` with the item provider.

Messages: the text of each message (field ``message``), and the chats' titles and senders' names, which
quote the material and name people as the text does (docs/access.md treats all three as content of the
export file). A message's document belongs to its export file (``item_id``), so the prosecutor finds it
only when that file is in an exhibit shared with them, as they would read its text; titles and names
belong to no one file (a chat's messages may come from several exports) and are searched only by the roles
that see the whole case.

Captured pages (field ``capture``): the address asked for and the final one after redirects, the page's
title (from the rendered DOM) and its rendered text, read back from the vault (each chunk authenticated,
as every read is) — the text of the capture's ``dom.txt`` item, to which the documents belong.
"""

from collections.abc import Iterator, Sequence
from typing import Any

from captures.choices import CaptureStatus
from captures.models import Capture
from detection.detectors.metadata import decode_text, html_text
from evidence.choices import ItemStatus
from evidence.models import EvidenceItem
from evidence.vault import read_verified
from search.choices import SearchField
from search.providers import MAX_DOCUMENT_TEXT, Document
from sources.models import Chat, Message, MessageItem, Sender

CHUNK = 1000
# What a capture's files are called in its acquisition (captures.browser writes them so).
CAPTURE_TEXT_NAME = "dom.txt"
CAPTURE_HTML_NAME = "dom.html"
# Bytes of a captured DOM read for the index (its text is cut to MAX_DOCUMENT_TEXT characters anyway).
MAX_CAPTURE_BYTES = 4 * MAX_DOCUMENT_TEXT


def _chunks(rows: Any, fields: Sequence[str]) -> Iterator[list[dict[str, Any]]]:
    """The rows in id order, a chunk at a time, from one query (``ItemProvider`` says why)."""
    chunk: list[dict[str, Any]] = []
    for row in rows.order_by("pk").values("pk", *fields).iterator(chunk_size=CHUNK):
        chunk.append(row)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _scoped(rows: Any, object_ids: Sequence[int] | None, case_id: int | None) -> Any:
    if object_ids is not None:
        rows = rows.filter(pk__in=list(object_ids))
    if case_id is not None:
        rows = rows.filter(case_id=case_id)
    return rows


class MessageProvider:
    """Messages: their text, as the export wrote it (entities flattened), belonging to the export file."""

    kind = "message"

    def documents(
        self, *, object_ids: Sequence[int] | None = None, case_id: int | None = None
    ) -> Iterator[Document]:
        messages = _scoped(
            Message.objects.exclude(text="").filter(source_item__status=ItemStatus.INGESTED),
            object_ids,
            case_id,
        )
        for chunk in _chunks(messages, ["case_id", "source_item_id", "text"]):
            for row in chunk:
                yield Document(
                    case_id=row["case_id"],
                    kind=self.kind,
                    object_id=row["pk"],
                    field=SearchField.MESSAGE,
                    source="text",
                    text=row["text"][:MAX_DOCUMENT_TEXT],
                    item_id=row["source_item_id"],
                )

    def hit_details(self, object_ids: Sequence[int], item_ids: set[int] | None) -> dict[int, dict[str, Any]]:
        """What a hit names besides the export file: the chat, the message's id in it, its media items
        (only those in ``item_ids`` when given: the prosecutor's shared items)."""
        details: dict[int, dict[str, Any]] = {
            row["pk"]: {"chat": row["chat_id"], "key": row["key"], "items": []}
            for row in Message.objects.filter(pk__in=list(object_ids)).values("pk", "chat_id", "key")
        }
        media = MessageItem.objects.filter(message_id__in=list(details)).order_by("id")
        for message_id, item_id in media.values_list("message_id", "item_id"):
            if (item_ids is None or item_id in item_ids) and item_id not in details[message_id]["items"]:
                details[message_id]["items"].append(item_id)
        return details


class ChatProvider:
    """Chats: their titles as the export wrote them (no item: whole-case roles only)."""

    kind = "chat"

    def documents(
        self, *, object_ids: Sequence[int] | None = None, case_id: int | None = None
    ) -> Iterator[Document]:
        # A title is the export's words: it stays searchable while one of its exports is (not destroyed).
        alive = Message.objects.filter(source_item__status=ItemStatus.INGESTED)
        chats = _scoped(
            Chat.objects.exclude(title="").filter(pk__in=alive.values("chat_id")), object_ids, case_id
        )
        for chunk in _chunks(chats, ["case_id", "title"]):
            for row in chunk:
                yield Document(
                    row["case_id"], self.kind, row["pk"], SearchField.MESSAGE, "title", row["title"]
                )


class SenderProvider:
    """Senders: their names and ids as the export wrote them (no item: whole-case roles only)."""

    kind = "sender"

    def documents(
        self, *, object_ids: Sequence[int] | None = None, case_id: int | None = None
    ) -> Iterator[Document]:
        alive = Message.objects.filter(source_item__status=ItemStatus.INGESTED, sender__isnull=False)
        senders = _scoped(Sender.objects.filter(pk__in=alive.values("sender_id")), object_ids, case_id)
        for chunk in _chunks(senders, ["case_id", "name", "key"]):
            for row in chunk:
                text = "\n".join(dict.fromkeys(v for v in (row["name"], row["key"]) if v))
                if text:
                    yield Document(row["case_id"], self.kind, row["pk"], SearchField.MESSAGE, "name", text)


def sender_ids_of(message_ids: Sequence[int]) -> tuple[list[int], list[int]]:
    """The chats and senders of these messages (re-indexed with them: a new export may name them)."""
    rows = Message.objects.filter(pk__in=list(message_ids))
    chats = sorted(set(rows.values_list("chat_id", flat=True)))
    senders = sorted(set(rows.filter(sender__isnull=False).values_list("sender_id", flat=True)))
    return chats, senders


def chats_and_senders_of_exports(item_ids: Sequence[int]) -> tuple[list[int], list[int]]:
    """The chats and senders named by messages parsed from these export files."""
    rows = Message.objects.filter(source_item_id__in=list(item_ids))
    chats = sorted(set(rows.values_list("chat_id", flat=True)))
    senders = sorted(set(rows.filter(sender__isnull=False).values_list("sender_id", flat=True)))
    return chats, senders


def _read_text(sha256: str, html: bool) -> tuple[str, str]:
    """(text, title) of a captured DOM file read back from the vault."""
    data = bytearray()
    for chunk in read_verified(sha256):
        data.extend(chunk)
        if len(data) >= MAX_CAPTURE_BYTES:
            break
    if html:
        _text, properties = html_text(bytes(data[:MAX_CAPTURE_BYTES]))
        return "", properties.get("title", "")
    text, _encoding = decode_text(bytes(data[:MAX_CAPTURE_BYTES]))
    return text, ""


class CaptureProvider:
    """Captured pages: addresses, title and rendered text, belonging to the capture's ``dom.txt`` item."""

    kind = "capture"

    def documents(
        self, *, object_ids: Sequence[int] | None = None, case_id: int | None = None
    ) -> Iterator[Document]:
        captures = _scoped(
            Capture.objects.filter(status=CaptureStatus.CAPTURED, acquisition__isnull=False),
            object_ids,
            case_id,
        )
        for chunk in _chunks(captures, ["case_id", "acquisition_id", "url", "final_url"]):
            files: dict[tuple[int, str], tuple[int, str]] = {}
            items = EvidenceItem.objects.filter(
                acquisition_id__in=[row["acquisition_id"] for row in chunk],
                parent__isnull=True,
                status=ItemStatus.INGESTED,
                original_name__in=[CAPTURE_TEXT_NAME, CAPTURE_HTML_NAME],
            )
            for pk, acquisition_id, name, sha256 in items.values_list(
                "pk", "acquisition_id", "original_name", "blob_id"
            ):
                files[(acquisition_id, name)] = (pk, sha256)
            for row in chunk:
                text_file = files.get((row["acquisition_id"], CAPTURE_TEXT_NAME))
                if text_file is None:  # destroyed, or never stored: nothing of the page to search
                    continue
                item_id = text_file[0]
                base = {"case_id": row["case_id"], "kind": self.kind, "object_id": row["pk"]}
                addresses = "\n".join(dict.fromkeys(v for v in (row["url"], row["final_url"]) if v))
                yield Document(
                    **base, field=SearchField.CAPTURE, source="address", text=addresses, item_id=item_id
                )
                html_file = files.get((row["acquisition_id"], CAPTURE_HTML_NAME))
                if html_file is not None:
                    _none, title = _read_text(html_file[1], html=True)
                    if title.strip():
                        yield Document(
                            **base, field=SearchField.CAPTURE, source="title", text=title, item_id=item_id
                        )
                text, _title = _read_text(text_file[1], html=False)
                if text.strip():
                    yield Document(
                        **base,
                        field=SearchField.CAPTURE,
                        source="text",
                        text=text[:MAX_DOCUMENT_TEXT],
                        item_id=item_id,
                    )

    def hit_details(self, object_ids: Sequence[int], item_ids: set[int] | None) -> dict[int, dict[str, Any]]:
        """What a hit names besides the page text's item: the capture's files (the WACZ, screenshot …)."""
        rows = list(Capture.objects.filter(pk__in=list(object_ids)).values("pk", "acquisition_id"))
        files = EvidenceItem.objects.filter(
            acquisition_id__in=[row["acquisition_id"] for row in rows], parent__isnull=True
        ).order_by("id")
        by_acquisition: dict[int, list[int]] = {}
        for pk, acquisition_id in files.values_list("pk", "acquisition_id"):
            if item_ids is None or pk in item_ids:
                by_acquisition.setdefault(acquisition_id, []).append(pk)
        return {row["pk"]: {"items": by_acquisition.get(row["acquisition_id"], [])} for row in rows}
