"""Chats and messages as a parsed export leaves them, for tests that need rows without an ingest."""

from typing import Any

from evidence.models import EvidenceItem
from parties.models import Channel
from sources.models import Chat, Message, MessageItem, Sender


def chat_with_messages(
    *,
    source_item: EvidenceItem,
    media_item: EvidenceItem | None = None,
    channel: Channel | None = None,
    count: int = 2,
    key: str = "555",
    text: str = "message text",
    title: str = "chat title",
    sender_name: str = "sender name",
) -> tuple[Chat, list[Message]]:
    """A Telegram chat of ``count`` messages parsed from ``source_item``; the first shows ``media_item``."""
    case = source_item.case
    assert source_item.acquisition is not None
    chat, _ = Chat.objects.get_or_create(
        case=case,
        platform="telegram",
        key=key,
        defaults={
            "title": title,
            "kind": "private_supergroup",
            "channel": channel,
            "acquisition": source_item.acquisition,
        },
    )
    sender, _ = Sender.objects.get_or_create(
        case=case, platform="telegram", key="user42", defaults={"name": sender_name}
    )
    start = chat.messages.count()
    messages = []
    for n in range(start + 1, start + count + 1):
        fields: dict[str, Any] = {"sent_at": None, "time_zone": "UTC (date_unixtime)"}
        messages.append(
            Message.objects.create(
                case=case,
                chat=chat,
                acquisition=source_item.acquisition,
                source_item=source_item,
                key=str(n),
                position=n,
                sender=sender,
                sender_name=sender_name,
                text=f"{text} {n}",
                sha256=f"{n:064x}",
                **fields,
            )
        )
    if media_item is not None:
        MessageItem.objects.create(message=messages[0], item=media_item, role="photo")
    return chat, messages
