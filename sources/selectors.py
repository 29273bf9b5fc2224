"""Reads of messages and chats, filtered by who asks: the case gate first, then the policy table."""

from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from access.models import Case
from access.policy import Action, require
from evidence.models import EvidenceItem
from sources.models import Chat, Message, MessageItem


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


def message_refs_for_item(*, item: EvidenceItem) -> list[dict[str, Any]]:
    """The messages that show an item, as (message id, its key, its chat) for the item page's links.

    The item page already checked who may see the item; ids and keys quote nothing."""
    rows = (
        Message.objects.filter(media__item=item).only("id", "key", "chat_id").order_by("chat_id", "position")
    )
    return [{"id": row.pk, "key": row.key, "chat_id": row.chat_id} for row in rows[:20]]
