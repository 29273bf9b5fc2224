"""Records parsed from messenger exports and extraction reports: chats, senders, messages and notes.

A message is not an evidence item: it is a record parsed from one (the export file, kept whole in the
vault), tied to the acquisition that first recorded it, with a canonical SHA-256 of its facts; the list of
every message's digest is stored as a blob whose hash the acquisition's completion event carries.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access.models import Case
from haetae.fields import user_ref
from parties.choices import ChannelPlatform
from sources.choices import MessageKind, SourceKind, SourceNoteKind


class SourceRun(models.Model):
    """What a source reader recorded for one acquisition: its kind, counts and its messages' digest list."""

    acquisition = models.OneToOneField(
        "evidence.Acquisition", on_delete=models.PROTECT, related_name="source_run"
    )
    kind = models.CharField(max_length=16, choices=SourceKind.choices)
    time_zone = models.CharField(max_length=64, help_text=_("the zone dates without an offset were read in"))
    counts = models.JSONField(default=dict)
    messages_sha256 = models.CharField(
        max_length=64, blank=True, help_text=_("SHA-256 of the stored list of every message's digest")
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("source run")
        verbose_name_plural = _("source runs")
        ordering = ["acquisition"]

    def __str__(self) -> str:
        return f"{self.kind} of acquisition {self.acquisition_id}"


class Chat(models.Model):
    """A conversation found in a source, matched to (or recorded as) the case's channel."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="chats")
    platform = models.CharField(max_length=16, choices=ChannelPlatform.choices)
    key = models.CharField(max_length=64, help_text=_("the platform's id of the chat, or the export's title"))
    kind = models.CharField(max_length=32, blank=True, help_text=_("e.g. private_supergroup"))
    title = models.CharField(max_length=300, blank=True)
    channel = models.ForeignKey(
        "parties.Channel", on_delete=models.PROTECT, null=True, blank=True, related_name="chats"
    )
    acquisition = models.ForeignKey("evidence.Acquisition", on_delete=models.PROTECT, related_name="chats")

    class Meta:
        verbose_name = _("chat")
        verbose_name_plural = _("chats")
        ordering = ["case", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "platform", "key"], name="chat_unique_key")]

    def __str__(self) -> str:
        return f"{self.platform}:{self.key}"


class Sender(models.Model):
    """Who sent messages, as the export names them; an investigator may attach the account to a person."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="senders")
    platform = models.CharField(max_length=16, choices=ChannelPlatform.choices)
    key = models.CharField(max_length=64, help_text=_("the platform's id (e.g. user123), or the name"))
    name = models.CharField(max_length=300, blank=True)
    account = models.ForeignKey(
        "parties.PersonAccount", on_delete=models.PROTECT, null=True, blank=True, related_name="senders"
    )

    class Meta:
        verbose_name = _("sender")
        verbose_name_plural = _("senders")
        ordering = ["case", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "platform", "key"], name="sender_unique_key")]

    def __str__(self) -> str:
        return f"{self.platform}:{self.key}"


class Message(models.Model):
    """One message of a chat, parsed from an export file that is itself an item, with its digest."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="messages")
    chat = models.ForeignKey(Chat, on_delete=models.PROTECT, related_name="messages")
    acquisition = models.ForeignKey("evidence.Acquisition", on_delete=models.PROTECT, related_name="messages")
    source_item = models.ForeignKey(
        "evidence.EvidenceItem", on_delete=models.PROTECT, related_name="parsed_messages"
    )
    key = models.CharField(max_length=64, help_text=_("the message's id in its chat"))
    position = models.PositiveBigIntegerField(help_text=_("its place in the export file"))
    kind = models.CharField(max_length=16, choices=MessageKind.choices, default=MessageKind.MESSAGE)
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_at_text = models.CharField(max_length=64, blank=True, help_text=_("the date as the export wrote it"))
    time_zone = models.CharField(max_length=64, blank=True, help_text=_("how the written date was read"))
    sender = models.ForeignKey(
        Sender, on_delete=models.PROTECT, null=True, blank=True, related_name="messages"
    )
    sender_name = models.CharField(max_length=300, blank=True)
    text = models.TextField(blank=True)
    reply_to = models.CharField(max_length=64, blank=True)
    forwarded_from = models.CharField(max_length=300, blank=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    media_paths = models.JSONField(default=list, help_text=_("[role, path as written] for each media file"))
    problems = models.JSONField(default=list, help_text=_("what the parser could not take as written"))
    sha256 = models.CharField(max_length=64, help_text=_("SHA-256 of the message's canonical facts"))
    items = models.ManyToManyField("evidence.EvidenceItem", through="MessageItem", related_name="messages")

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["chat", "sent_at", "position", "id"]
        indexes = [
            models.Index(fields=["chat", "sent_at", "position"]),
            models.Index(fields=["case", "sent_at"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["chat", "key", "sha256"], name="message_unique_version")
        ]

    def __str__(self) -> str:
        return f"message {self.key} of chat {self.chat_id}"

    @property
    def reference(self) -> str:
        """Where the message is on its platform: t.me/c/<chat>/<id> for Telegram's own numeric ids (an
        export's), else <platform>:<chat>#<id> (a KakaoTalk line, an extraction report's message id)."""
        chat = self.chat
        if (
            chat.platform == ChannelPlatform.TELEGRAM
            and chat.key.lstrip("-").isdigit()
            and self.key.isdigit()
        ):
            return f"t.me/c/{chat.key}/{self.key}"
        return f"{self.chat.platform}:{self.chat.key}#{self.key}"


class MessageItem(models.Model):
    """A media file of a message, stored as an item: photo, file or thumbnail."""

    message = models.ForeignKey(Message, on_delete=models.PROTECT, related_name="media")
    item = models.ForeignKey("evidence.EvidenceItem", on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=16)

    class Meta:
        verbose_name = _("message media")
        verbose_name_plural = _("message media")
        ordering = ["message", "id"]
        constraints = [models.UniqueConstraint(fields=["message", "item", "role"], name="messageitem_unique")]

    def __str__(self) -> str:
        return f"{self.role} item {self.item_id} of message {self.message_id}"


class SourceNote(models.Model):
    """Something a source reader could not take as given: a missing or escaping file, a malformed line."""

    acquisition = models.ForeignKey(
        "evidence.Acquisition", on_delete=models.PROTECT, related_name="source_notes"
    )
    kind = models.CharField(max_length=16, choices=SourceNoteKind.choices)
    where = models.CharField(max_length=500)
    reason = models.TextField()
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = user_ref()

    class Meta:
        verbose_name = _("source note")
        verbose_name_plural = _("source notes")
        ordering = ["acquisition", "id"]

    def __str__(self) -> str:
        return f"{self.kind} at {self.where}"


class DeviceFile(models.Model):
    """A file as an extraction found it on the device: its device path, times and the report's own hashes.

    ``hash_agrees`` compares the report's hash with ours: None when the report gives none (or the file is
    not stored), False is a recorded discrepancy (a ``SourceNote`` says which hash and both values)."""

    acquisition = models.ForeignKey(
        "evidence.Acquisition", on_delete=models.PROTECT, related_name="device_files"
    )
    item = models.ForeignKey(
        "evidence.EvidenceItem", on_delete=models.PROTECT, null=True, blank=True, related_name="device_files"
    )
    device_path = models.TextField()
    report_id = models.CharField(max_length=100, blank=True, help_text=_("the report's id of the file"))
    size = models.PositiveBigIntegerField(null=True, blank=True, help_text=_("as the report states it"))
    created_on_device = models.DateTimeField(null=True, blank=True)
    modified_on_device = models.DateTimeField(null=True, blank=True)
    accessed_on_device = models.DateTimeField(null=True, blank=True)
    report_sha256 = models.CharField(max_length=64, blank=True)
    report_md5 = models.CharField(max_length=32, blank=True)
    hash_agrees = models.BooleanField(null=True, blank=True)
    deleted_state = models.CharField(max_length=32, blank=True, help_text=_("e.g. Intact, Deleted"))

    class Meta:
        verbose_name = _("device file")
        verbose_name_plural = _("device files")
        ordering = ["acquisition", "id"]
        indexes = [models.Index(fields=["item"])]

    def __str__(self) -> str:
        return self.device_path
