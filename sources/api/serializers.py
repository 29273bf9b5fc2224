"""Shapes of the messages API. Text, names and titles only when the view says the caller was let see them."""

from typing import Any

from rest_framework import serializers

from sources.models import Message


class MessageSerializer(serializers.ModelSerializer):
    """A message: always its ids, times and media item ids; its text, sender's name, chat title and platform
    reference only in a content view (``reason`` given, on record), else null."""

    items = serializers.SerializerMethodField()
    has_media = serializers.BooleanField(read_only=True)
    forwarded = serializers.SerializerMethodField()
    text = serializers.SerializerMethodField()
    sender_name = serializers.SerializerMethodField()
    forwarded_from = serializers.SerializerMethodField()
    chat_title = serializers.SerializerMethodField()
    reference = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = [
            "id",
            "chat",
            "key",
            "position",
            "kind",
            "sent_at",
            "sent_at_text",
            "time_zone",
            "sender",
            "reply_to",
            "forwarded",
            "edited_at",
            "has_media",
            "items",
            "problems",
            "acquisition",
            "source_item",
            "sha256",
            "text",
            "sender_name",
            "forwarded_from",
            "chat_title",
            "reference",
        ]
        read_only_fields = fields

    def _shown(self, value: Any) -> Any:
        return value if self.context.get("text_visible") else None

    def get_items(self, message: Message) -> list[int]:
        return [row.item_id for row in message.media.all()]

    def get_forwarded(self, message: Message) -> bool:
        return bool(message.forwarded_from)

    def get_text(self, message: Message) -> str | None:
        return self._shown(message.text)

    def get_sender_name(self, message: Message) -> str | None:
        return self._shown(message.sender_name)

    def get_forwarded_from(self, message: Message) -> str | None:
        return self._shown(message.forwarded_from)

    def get_chat_title(self, message: Message) -> str | None:
        return self._shown(message.chat.title)

    def get_reference(self, message: Message) -> str | None:
        return self._shown(message.reference)


class SenderAttachSerializer(serializers.Serializer):
    person = serializers.CharField(help_text="Pseudonym of the person who uses the account, e.g. S-1.")


class SenderSerializer(serializers.Serializer):
    """A sender after attaching: its account and the person's pseudonym."""

    id = serializers.IntegerField()
    platform = serializers.CharField()
    account = serializers.IntegerField(source="account_id", allow_null=True)
    person = serializers.CharField(source="account.person.pseudonym", allow_null=True)
