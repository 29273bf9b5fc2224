"""Reads of messages and chats, filtered by who asks: the case gate first, then the policy table."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from access.models import Case
from access.policy import Action, require
from evidence.models import EvidenceItem
from haetae.errors import NotFound
from haetae.toolkit import utc_iso
from sources.models import Chat, DeviceFile, Message, MessageItem, Sender, SourceNote, SourceRun


def message_list(*, case: Case) -> QuerySet[Message]:
    """The case's messages in chat order, for a caller whose role may list them (AccessDenied otherwise).

    ``case`` comes from the access gate (``case_for``), annotated with the caller's role."""
    require(case=case, action=Action.MESSAGES_LIST, doing="see the case's messages")
    return (
        Message.objects.filter(case=case)
        .select_related("chat", "source_item")
        .prefetch_related(Prefetch("media", queryset=MessageItem.objects.order_by("id")))
        .annotate(has_media=Exists(MessageItem.objects.filter(message=OuterRef("pk"))))
        .order_by("chat_id", "sent_at", "position", "id")
    )


def chat_list(*, case: Case) -> QuerySet[Chat]:
    """The case's chats, for a caller whose role may list messages."""
    require(case=case, action=Action.MESSAGES_LIST, doing="see the case's chats")
    return Chat.objects.filter(case=case).select_related("channel", "acquisition").order_by("id")


@dataclass(frozen=True)
class SourceProgressCounts:
    """How far a source reader has come with one acquisition: counts only, nothing quoted."""

    kind: str  # the reader's kind once its run is recorded; "" while it runs
    messages: int
    notes: int


def acquisition_source_progress(*, acquisition_id: int) -> SourceProgressCounts | None:
    """Messages and notes a source reader has committed for an acquisition so far (they commit in batches,
    so a running ingest shows them growing), or None for an acquisition of plain files.

    The caller already checked that the user may follow this acquisition (the ingest progress page)."""
    run = SourceRun.objects.filter(acquisition_id=acquisition_id).only("kind").first()
    messages = Message.objects.filter(acquisition_id=acquisition_id).count()
    notes = SourceNote.objects.filter(acquisition_id=acquisition_id).count()
    if run is None and not messages and not notes:
        return None
    return SourceProgressCounts(kind=run.kind if run else "", messages=messages, notes=notes)


def message_refs_for_item(*, item: EvidenceItem) -> list[dict[str, Any]]:
    """The messages that show an item, as (message id, its key, its chat) for the item page's links.

    The item page already checked who may see the item; ids and keys quote nothing."""
    rows = (
        Message.objects.filter(media__item=item).only("id", "key", "chat_id").order_by("chat_id", "position")
    )
    return [{"id": row.pk, "key": row.key, "chat_id": row.chat_id} for row in rows[:20]]


@dataclass(frozen=True)
class SourceProvenance:
    """Where a source reader found an item: in a message of a chat, or at a path on a device.

    For the court report and the export bundle: ids, times and hashes only; a chat is named by its
    platform id where that is a number (Telegram), else by its row, since a KakaoTalk chat's key is a name."""

    kind: str
    acquisition_id: int
    chat: str = ""
    message: str = ""
    sent_at: datetime | None = None
    time_zone: str = ""
    source_item_id: int | None = None
    source_sha256: str = ""
    device_path: str = ""
    report_hash_agrees: bool | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "acquisition": self.acquisition_id,
            "chat": self.chat,
            "message": self.message,
            "sent_at": utc_iso(self.sent_at) if self.sent_at else None,
            "time_zone": self.time_zone,
            "source_item": self.source_item_id,
            "source_sha256": self.source_sha256,
            "device_path": self.device_path,
            "report_hash_agrees": self.report_hash_agrees,
        }


def _chat_name(chat: Chat) -> str:
    return (
        f"{chat.platform}:{chat.key}" if chat.key.lstrip("-").isdigit() else f"{chat.platform} chat {chat.pk}"
    )


def item_source_provenance(item_ids: Iterable[int]) -> dict[int, list[SourceProvenance]]:
    """For each item, the messages that carried it and the device paths it was found at (two queries)."""
    ids = list(item_ids)
    found: dict[int, list[SourceProvenance]] = defaultdict(list)
    media = (
        MessageItem.objects.filter(item_id__in=ids)
        .select_related("message__chat", "message__source_item", "message__acquisition__source_run")
        .order_by("item_id", "message__chat_id", "message__position")
    )
    for row in media:
        message = row.message
        run = getattr(message.acquisition, "source_run", None)
        found[row.item_id].append(
            SourceProvenance(
                kind=run.kind if run else "",
                acquisition_id=message.acquisition_id,
                chat=_chat_name(message.chat),
                message=message.key,
                sent_at=message.sent_at,
                time_zone=message.time_zone,
                source_item_id=message.source_item_id,
                source_sha256=message.source_item.blob_id or "",
            )
        )
    for device_file in (
        DeviceFile.objects.filter(item_id__in=ids)
        .select_related("acquisition__source_run")
        .order_by("item_id", "id")
    ):
        run = getattr(device_file.acquisition, "source_run", None)
        assert device_file.item_id is not None
        found[device_file.item_id].append(
            SourceProvenance(
                kind=run.kind if run else "",
                acquisition_id=device_file.acquisition_id,
                device_path=device_file.device_path,
                report_hash_agrees=device_file.hash_agrees,
            )
        )
    return dict(found)


def sender_get(*, case: Case, sender_id: int) -> Sender:
    """One sender of the case (NotFound otherwise, as for another case's)."""
    sender = Sender.objects.filter(case=case, pk=sender_id).first()
    if sender is None:
        raise NotFound(
            f"no sender {sender_id} in case {case.number}: sender ids are in the messages' `sender`"
        )
    return sender
