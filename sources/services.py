"""Recording what a source reader parsed: chats matched to channels, senders, messages and their media.

Messages commit in batches, each in ONE transaction with a case event that names the batch's digest, so a
run killed at any point leaves whole batches (and re-running the same ingest adds only what is missing:
a message already recorded, same chat, same id, same facts, counts as a duplicate). A media path is
resolved strictly inside the folder of the export file that names it, and only among the files this run
stored; anything else is a recorded note, never a guess. Each media item of a chat gets an item→channel
link *suggested* (source "export", suspected) for an investigator to confirm.
"""

import hashlib
import posixpath
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, BinaryIO, cast

from django.contrib.auth.models import User
from django.db import transaction

from evidence.choices import CustodyAction, ItemStatus
from evidence.custody import EventSpec, actor_role, custody_append_many
from evidence.hooks import SourceContext, SourceFile, SourceSummary
from evidence.models import Blob, EvidenceItem
from haetae.db import bulk_insert, ledger_lock, ledger_transaction
from haetae.errors import RejectedInput
from parties.choices import ChannelPlatform, LinkConfidence, LinkSource
from parties.models import Channel, ItemChannelLink, Person, PersonAccount
from parties.services.channels import channel_record
from parties.services.links import Assertion, link_assert_item_channel
from parties.services.people import person_account_add, person_event
from sources.choices import MessageKind, SourceKind, SourceNoteKind
from sources.listeners import messages_recorded
from sources.models import Chat, DeviceFile, Message, MessageItem, Sender, SourceNote, SourceRun
from sources.parsed import ParsedChat, ParsedDeviceFile, ParsedMessage, ParsedNote

BATCH_MESSAGES = 500
# Source kinds that list device files (with their device paths) besides messages.
DEVICE_KINDS = frozenset({SourceKind.UFDR, SourceKind.EXTRACTION})
# Telegram chats whose messages have public t.me/c/<chat>/<id> links (supergroups and channels).
TELEGRAM_LINKED_KINDS = frozenset(
    {"private_supergroup", "public_supergroup", "private_channel", "public_channel"}
)
_DRIVE = re.compile(r"^[A-Za-z]:")


def media_path_resolve(folder: str, written: str) -> tuple[str | None, str, str]:
    """(the place of the media file among the run's files, or None; the note kind; why not) for a path
    written in an export. Only relative paths that stay inside ``folder`` (the export's) are resolved."""
    if written.startswith("(File not included") or written.startswith("(File exceeds maximum size"):
        return None, SourceNoteKind.GAP, "not in the export: the exporter was set not to download it"
    if "\x00" in written or written.startswith(("/", "\\")) or _DRIVE.match(written) or "://" in written:
        return (
            None,
            SourceNoteKind.ESCAPE,
            "an absolute path: it points outside the export folder; not followed",
        )
    relative = posixpath.normpath(written.replace("\\", "/"))
    if relative == ".." or relative.startswith("../"):
        return None, SourceNoteKind.ESCAPE, "climbs out of the export folder ('..'); not followed"
    return f"{folder}/{relative}", "", ""


def _sender_key(message: ParsedMessage) -> str:
    """Who sent it: the platform's id where the export gives one, else the name shown."""
    return (message.sender_key or message.sender_name)[:64]


@dataclass
class _Batch:
    chat: Chat | None = None
    messages: list[ParsedMessage] = field(default_factory=list)
    notes: list[ParsedNote] = field(default_factory=list)
    device_files: list[ParsedDeviceFile] = field(default_factory=list)


class MessageRecorder:
    """Takes a parser's stream for one acquisition and commits it in batches; ``finish`` closes the run."""

    def __init__(self, context: SourceContext, *, kind: str, platform: str, time_zone: str) -> None:
        self.context = context
        self.kind = kind
        self.platform = platform
        self.time_zone = time_zone
        self.files = {f.path: f for f in context.files}
        self.role = actor_role(context.actor, context.case.pk)
        self.counts = {"messages": 0, "messages_duplicate": 0, "media_linked": 0, "notes": 0, "chats": 0}
        if kind in DEVICE_KINDS:
            self.counts.update(device_files=0, discrepancies=0)
        self.digests = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - closed in finish
        self._batch = _Batch()
        self._chats: dict[str, Chat] = {}
        self._export: SourceFile | None = None
        self._folder = ""

    # -- taking a parser's records ---------------------------------------------------------------------------

    def take_all(
        self,
        records: Iterable[ParsedChat | ParsedMessage | ParsedNote | ParsedDeviceFile],
        *,
        export: SourceFile | None,
        folder: str = "",
    ) -> None:
        """Record every chat, message, device file and note that one export file yields; paths it names are
        resolved inside ``folder`` (default: the export file's folder)."""
        self.flush()
        self._export = export
        self._folder = folder or (export.path.rsplit("/", 1)[0] if export else "")
        for record in records:
            if isinstance(record, ParsedChat):
                self.flush()
                self._batch.chat = self._chat(record)
            elif isinstance(record, ParsedNote):
                self._batch.notes.append(record)
            elif isinstance(record, ParsedDeviceFile):
                self._batch.device_files.append(record)
                if len(self._batch.device_files) >= BATCH_MESSAGES:
                    self.flush()
            else:
                if self._batch.chat is None or self._batch.chat.key != record.chat.key:
                    self.flush()
                    self._batch.chat = self._chat(record.chat)
                self._batch.messages.append(record)
                if len(self._batch.messages) >= BATCH_MESSAGES:
                    self.flush()
        self.flush()

    def note(self, kind: str, where: str, reason: str) -> None:
        self._batch.notes.append(ParsedNote(kind, where, reason))

    # -- chats, channels and senders -------------------------------------------------------------------------

    def _channel_place(self, parsed: ParsedChat, platform: str) -> dict[str, str]:
        if platform == ChannelPlatform.TELEGRAM and parsed.kind in TELEGRAM_LINKED_KINDS:
            return {"url": f"https://t.me/c/{parsed.key}"}
        return {"handle": f"chat:{parsed.key}"[:300]}

    def _chat(self, parsed: ParsedChat) -> Chat:
        """The case's chat for this key: found, or recorded with its channel (matched or recorded)."""
        if parsed.key in self._chats:
            return self._chats[parsed.key]
        case = self.context.case
        platform = parsed.platform or self.platform
        chat = Chat.objects.filter(case=case, platform=platform, key=parsed.key).first()
        if chat is None:
            place = self._channel_place(parsed, platform)
            channel = Channel.objects.filter(case=case, platform=platform, **place).first()
            if channel is None:  # its own transaction, with its CHANNEL_RECORDED event
                channel = channel_record(
                    case=case, platform=platform, actor=self.context.actor, title=parsed.title, **place
                )
            chat, _created = Chat.objects.get_or_create(
                case=case,
                platform=platform,
                key=parsed.key,
                defaults={
                    "kind": parsed.kind,
                    "title": parsed.title,
                    "channel": channel,
                    "acquisition": self.context.acquisition,
                },
            )
        self.counts["chats"] += 1
        self._chats[parsed.key] = chat
        return chat

    def _senders(self, messages: list[ParsedMessage], platform: str) -> dict[str, Sender]:
        keys = {_sender_key(m): m.sender_name for m in messages if _sender_key(m)}
        case = self.context.case
        known = {s.key: s for s in Sender.objects.filter(case=case, platform=platform, key__in=keys)}
        missing = [
            Sender(case=case, platform=platform, key=key, name=name)
            for key, name in keys.items()
            if key not in known
        ]
        bulk_insert(Sender, missing)
        known.update({s.key: s for s in missing})
        return known

    # -- one batch, one transaction --------------------------------------------------------------------------

    def flush(self) -> None:
        """Commit the batch: senders, new messages, their media and notes, and one case event, together."""
        batch, self._batch = self._batch, _Batch(chat=self._batch.chat)
        if not batch.messages and not batch.notes and not batch.device_files:
            return
        context, export = self.context, self._export
        chat = batch.chat
        with ledger_transaction():
            new: list[tuple[Message, ParsedMessage]] = []
            media: list[tuple[MessageItem, Message]] = []
            duplicates = 0
            notes = [self._note_row(n) for n in batch.notes]
            if chat is not None and batch.messages:
                assert export is not None  # messages come from an export file
                senders = self._senders(batch.messages, chat.platform)
                seen = set(
                    Message.objects.filter(chat=chat, key__in={m.key for m in batch.messages}).values_list(
                        "key", "sha256"
                    )
                )
                for parsed in batch.messages:
                    digest = parsed.sha256()
                    self.digests.write(f"{digest}  {chat.platform}:{chat.key}/{parsed.key}\n".encode())
                    if (parsed.key, digest) in seen:
                        duplicates += 1
                        continue
                    seen.add((parsed.key, digest))
                    sender = senders.get(_sender_key(parsed))
                    new.append((self._message_row(parsed, chat, export, sender, digest), parsed))
                bulk_insert(Message, [row for row, _ in new])
                media = self._media_rows(new, notes)
                bulk_insert(MessageItem, [row for row, _ in media])
            device_rows = self._device_rows(batch.device_files, notes)
            bulk_insert(DeviceFile, device_rows)
            bulk_insert(SourceNote, notes)
            digests = "".join(sorted(row.sha256 for row, _ in new))
            custody_append_many(
                [
                    EventSpec(
                        case_id=context.case.pk,
                        action=CustodyAction.CHANNEL_RECORDED,
                        actor=context.actor,
                        actor_role=self.role,
                        details={
                            "acquisition": context.acquisition.pk,
                            "source_kind": self.kind,
                            "source_item": export.item_id if export else None,
                            "chat": chat.pk if chat else None,
                            "channel_id": chat.channel_id if chat else None,
                            "messages_recorded": len(new),
                            "messages_duplicate": duplicates,
                            "notes": len(notes),
                            "device_files": len(device_rows),
                            "messages_sha256": hashlib.sha256(digests.encode()).hexdigest(),
                        },
                    )
                ]
            )
            if chat is not None and chat.channel_id is not None:
                self._suggest_links(media, chat)
            messages_recorded([row.pk for row, _ in new])
        context.fault_point("after_message_batch")
        context.progress.recorded(len(new) + duplicates)
        self.counts["messages"] += len(new)
        self.counts["messages_duplicate"] += duplicates
        self.counts["notes"] += len(notes)
        self.counts["media_linked"] += len(media)
        if device_rows:
            self.counts["device_files"] += len(device_rows)
            self.counts["discrepancies"] += sum(1 for row in device_rows if row.hash_agrees is False)

    def _note_row(self, note: ParsedNote) -> SourceNote:
        where = f"{self._export.path if self._export else self._folder}: {note.where}"
        return SourceNote(
            acquisition=self.context.acquisition,
            kind=note.kind,
            where=where[:500],
            reason=note.reason,
            recorded_by=self.context.actor,
        )

    def _message_row(
        self, parsed: ParsedMessage, chat: Chat, export: SourceFile, sender: Sender | None, digest: str
    ) -> Message:
        return Message(
            case=self.context.case,
            chat=chat,
            acquisition=self.context.acquisition,
            source_item_id=export.item_id,
            key=parsed.key,
            position=parsed.position,
            kind=MessageKind.SERVICE if parsed.kind == "service" else MessageKind.MESSAGE,
            sent_at=parsed.sent_at,
            sent_at_text=parsed.sent_at_text,
            time_zone=parsed.time_zone,
            sender=sender,
            sender_name=parsed.sender_name,
            text=parsed.text,
            reply_to=parsed.reply_to,
            forwarded_from=parsed.forwarded_from,
            edited_at=parsed.edited_at,
            media_paths=[list(pair) for pair in parsed.media],
            problems=parsed.problems,
            sha256=digest,
        )

    def _media_rows(
        self, new: list[tuple[Message, ParsedMessage]], notes: list[SourceNote]
    ) -> list[tuple[MessageItem, Message]]:
        rows: list[tuple[MessageItem, Message]] = []
        for message, parsed in new:
            for problem in parsed.problems:
                notes.append(
                    self._note_row(ParsedNote(SourceNoteKind.MALFORMED, f"message {parsed.key}", problem))
                )
            linked: set[tuple[int, str]] = set()
            for role, written in parsed.media:
                place, kind, why = media_path_resolve(self._folder, written)
                found = self.files.get(place) if place else None
                if place and found is None:
                    kind, why = SourceNoteKind.GAP, "missing from the export: no such file was stored"
                elif found is not None and (found.sha256 is None or found.status == ItemStatus.REJECTED):
                    kind, why = (
                        SourceNoteKind.GAP,
                        f"recorded without content (item {found.item_id}: {found.reason})",
                    )
                    found = None
                if found is None:
                    notes.append(
                        self._note_row(
                            ParsedNote(kind, f"message {parsed.key}, {role} {written[:300]!r}", why)
                        )
                    )
                    continue
                if (found.item_id, role) in linked:
                    continue
                linked.add((found.item_id, role))
                rows.append((MessageItem(message=message, item_id=found.item_id, role=role), message))
        return rows

    def _device_rows(self, parsed: list[ParsedDeviceFile], notes: list[SourceNote]) -> list[DeviceFile]:
        """Device files with their items where the report's place resolves, the report's hashes compared."""
        placed = []
        for device_file in parsed:
            place, kind, why = media_path_resolve(self._folder, device_file.local_path)
            found = self.files.get(place) if place and device_file.local_path else None
            if found is not None and found.sha256 is None:
                found = None
            placed.append((device_file, found, kind, why))
        stored = {found.sha256 for _, found, _, _ in placed if found is not None}
        md5s = dict(Blob.objects.filter(sha256__in=stored).values_list("sha256", "md5"))
        rows = []
        for device_file, found, kind, why in placed:
            where = f"file {device_file.device_path[:300]!r}"
            agrees: bool | None = None
            if found is None:
                reason = why or (
                    "not in the extraction: no such file was stored"
                    if device_file.local_path
                    else "the report gives no place for it in the extraction"
                )
                notes.append(self._note_row(ParsedNote(kind or SourceNoteKind.GAP, where, reason)))
            elif device_file.sha256 or device_file.md5:
                ours = {"SHA256": found.sha256 or "", "MD5": md5s.get(found.sha256 or "", "")}
                theirs = {"SHA256": device_file.sha256, "MD5": device_file.md5}
                differing = [name for name, value in theirs.items() if value and value != ours[name]]
                agrees = not differing
                for name in differing:
                    reason = (
                        f"the report's {name} is {theirs[name]}, the stored file's (item {found.item_id}) "
                        f"is {ours[name]}: the file changed between the extraction and this ingest, or the "
                        "report is wrong"
                    )
                    notes.append(self._note_row(ParsedNote(SourceNoteKind.DISCREPANCY, where, reason)))
            rows.append(
                DeviceFile(
                    acquisition=self.context.acquisition,
                    item_id=found.item_id if found else None,
                    device_path=device_file.device_path,
                    report_id=device_file.report_id,
                    size=device_file.size,
                    created_on_device=device_file.created_at,
                    modified_on_device=device_file.modified_at,
                    accessed_on_device=device_file.accessed_at,
                    report_sha256=device_file.sha256,
                    report_md5=device_file.md5,
                    hash_agrees=agrees,
                    deleted_state=device_file.deleted_state,
                )
            )
        return rows

    def _suggest_links(self, media: list[tuple[MessageItem, Message]], chat: Chat) -> None:
        """Suggest item→channel links for the batch's media, unless that link is already there."""
        channel = chat.channel
        assert channel is not None
        for row, message in media:
            if row.role == "thumbnail":
                continue
            reference = message.reference
            active = ItemChannelLink.objects.filter(
                item_id=row.item_id, channel=channel, message_reference=reference, withdrawn_at__isnull=True
            )
            if active.exists():
                continue
            link_assert_item_channel(
                item=EvidenceItem.objects.get(pk=row.item_id),
                channel=channel,
                assertion=Assertion(
                    confidence=LinkConfidence.SUSPECTED,
                    source=LinkSource.EXPORT,
                    note=f"message {message.key} of acquisition {self.context.acquisition.pk}",
                ),
                actor=self.context.actor,
                posted_at=message.sent_at,
                message_reference=reference,
            )

    # -- closing ---------------------------------------------------------------------------------------------

    def finish(self, details: dict[str, Any] | None = None) -> SourceSummary:
        """Store the digest list, record the run, and say what goes into the completion event."""
        self.flush()
        self.digests.seek(0)
        sha256 = self.context.store_text(cast(BinaryIO, self.digests), "text/plain")
        self.digests.close()
        with transaction.atomic():
            SourceRun.objects.update_or_create(
                acquisition=self.context.acquisition,
                defaults={
                    "kind": self.kind,
                    "time_zone": self.time_zone,
                    "counts": dict(self.counts),
                    "messages_sha256": sha256,
                },
            )
        return SourceSummary(
            counts=dict(self.counts),
            details={
                "time_zone": self.time_zone,
                "messages_sha256": sha256,
                **dict(self.counts),
                **(details or {}),
            },
        )


def sender_attach(*, sender: Sender, person: Person, actor: User) -> Sender:
    """Attach a sender to a person (a suspect, a witness) as one of their accounts, on record."""
    if person.case_id != sender.case_id:
        raise RejectedInput(
            f"person: {person.pseudonym} is in another case",
            details={"person": ["use a person of this case"]},
        )
    with transaction.atomic():
        account = PersonAccount.objects.filter(
            person=person, platform=sender.platform, handle=sender.key
        ).first()
        if account is None:  # its own event (person_recorded, account_added)
            account = person_account_add(
                person=person, platform=sender.platform, handle=sender.key, actor=actor
            )
        ledger_lock()
        Sender.objects.filter(pk=sender.pk).update(account=account)
        custody_append_many(
            [
                person_event(
                    person,
                    CustodyAction.PERSON_RECORDED,
                    actor,
                    sender_attached=sender.pk,
                    account_id=account.pk,
                )
            ]
        )
    sender.account = account
    return sender
