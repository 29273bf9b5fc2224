"""Ingest: files, folders, uploads and ZIP archives into the vault, each finding an item with its custody.

The shape of a run (see docs/ingest.md for the reasons):

1. ``vault_recover`` and ``acquisition_recover_interrupted`` clean up after processes that died.
2. The ``Acquisition`` row and an ``acquisition_started`` case event commit first: the retryable record.
3. Two threads read each file once (hash + encrypt into the work dir) a little ahead of the main thread,
   which commits batches: objects placed durably, then Blob rows, items and custody events in ONE
   transaction. An item therefore commits whole or not at all.
4. A ZIP is kept as an item, then opened from the vault (what we parse is what we stored) and each member
   streamed as a child item; nested archives likewise, up to a depth and under zip-bomb limits.
5. A source reader (``evidence.hooks``: a messenger export, an extraction report), when the run is of
   such a kind, reads what was stored and commits its own records in batches.
6. A manifest (sha256sum format) of every finding with content is stored as a blob; the acquisition
   completes with its hash, and what the source reader recorded, in an ``acquisition_completed`` event.
"""

import io
import logging
import os
import signal
import socket
import threading
import zipfile
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

import magic
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

import haetae
from access.models import Case
from evidence.choices import AcquisitionStatus, CustodyAction, ItemKind, ItemStatus
from evidence.crypto import EncryptedObjectReader
from evidence.custody import EventSpec, actor_role, custody_append_many
from evidence.hooks import (
    NoProgress,
    SourceContext,
    SourceFile,
    SourceProgress,
    SourceSummary,
    ingest_hooks_run,
    source_kind_detect_stored,
    source_readers,
)
from evidence.models import Acquisition, Blob, EvidenceItem
from evidence.records import acquisition_record, item_record
from evidence.sources import (
    ArchiveBudget,
    ArchiveLimitExceeded,
    Finding,
    NotRegularFile,
    PathSource,
    UploadSource,
    appended_zip,
    is_zip,
    upload_finding,
    walk_path,
    zip_member_findings,
    zip_overlap,
)
from evidence.timestamps import tsa_configured
from evidence.vault import (
    StagedObject,
    WorkDir,
    blob_commit,
    lock_blobs,
    lock_is_free,
    open_object,
    place_objects,
    vault_recover,
    vault_root,
)
from haetae.db import bulk_insert, ledger_transaction
from haetae.errors import RejectedInput
from haetae.toolkit import task_queue_on_commit, utc_iso

__all__ = [
    "IngestResult",
    "ItemOutcome",
    "PathSource",
    "UploadSource",
    "acquisition_recover_interrupted",
    "evidence_ingest",
    "manifest_text",
]

logger = logging.getLogger(__name__)

TOOL_NAME = "haetae"
BATCH_ITEMS = 1000
BATCH_BYTES = 512 * 1024 * 1024
STAGE_THREADS = 2
# Findings staged ahead of the committing thread, so hashing goes on while a batch commits; bounded in count
# and in claimed bytes, since each one is a temporary file until its batch commits.
READ_AHEAD_ITEMS = 512
READ_AHEAD_BYTES = 256 * 1024 * 1024
# Archive members stay close behind: an archive's limits (bombs) stop it as soon as one member trips them.
MEMBER_READ_AHEAD_ITEMS = 16
STATUS_DUPLICATE = "duplicate"


@dataclass
class ItemOutcome:
    """What became of one finding: ingested (new item), duplicate (already there) or rejected."""

    id: int | None
    path: str
    parent: int | None
    status: str
    reason: str
    size: int | None
    md5: str | None
    sha1: str | None
    sha256: str | None
    mime: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "path": self.path,
            "parent": self.parent,
            "status": self.status,
            "reason": self.reason,
            "size": self.size,
            "md5": self.md5,
            "sha1": self.sha1,
            "sha256": self.sha256,
            "mime": self.mime,
        }


@dataclass
class IngestResult:
    """One run's acquisition, its counts by status, and every finding's outcome in the order found."""

    acquisition: Acquisition
    counts: dict[str, int]
    items: list[ItemOutcome]
    source_kind: str = "files"
    source_counts: dict[str, int] = field(default_factory=dict)


_fault_passes: dict[str, int] = {}


def _fault_point(name: str) -> None:
    """Crash-test seam: HAETAE_TEST_KILL_AT=name[:n] SIGKILLs this process on the n-th pass here."""
    wanted = os.environ.get("HAETAE_TEST_KILL_AT")
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    _fault_passes[name] = _fault_passes.get(name, 0) + 1
    if _fault_passes[name] >= int(nth or "1"):
        os.kill(os.getpid(), signal.SIGKILL)


def manifest_text(entries: Iterable[tuple[str, str]]) -> bytes:
    """sha256sum-format lines "<sha256>  <path>", sorted by the path's UTF-8 bytes, then by digest."""
    lines = []
    for path, sha256 in sorted(entries, key=lambda entry: (entry[0].encode(), entry[1])):
        escaped = path.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
        prefix = "\\" if escaped != path else ""  # sha256sum marks escaped names with a leading backslash
        lines.append(f"{prefix}{sha256}  {escaped}\n")
    return "".join(lines).encode()


def _work_dir_alive(token: str) -> bool:
    lock = vault_root() / "tmp" / f"w-{token}" / "lock"
    return bool(token) and lock.exists() and not lock_is_free(lock)


def acquisition_recover_interrupted() -> list[Acquisition]:
    """Mark running acquisitions of this host whose process is gone as interrupted (with a case event)."""
    marked = []
    host = socket.gethostname()
    candidates = Acquisition.objects.filter(status=AcquisitionStatus.RUNNING, host=host)
    for candidate in candidates.only("pk", "work_token"):
        if _work_dir_alive(candidate.work_token):
            continue
        # The ledger lock comes before the row lock: the one lock order (docs/ledger.md)
        with ledger_transaction():
            acquisition = (
                Acquisition.objects.select_for_update()
                .filter(pk=candidate.pk, status=AcquisitionStatus.RUNNING)
                .first()
            )
            if acquisition is None:
                continue
            _mark_interrupted(
                acquisition,
                why=f"the ingest process (pid {acquisition.pid} on {acquisition.host}) stopped before "
                "finishing; every committed item is whole — run the same ingest again to complete it",
            )
        marked.append(acquisition)
    return marked


def _mark_interrupted(acquisition: Acquisition, *, why: str) -> None:
    committed = {
        status: EvidenceItem.objects.filter(acquisition=acquisition, status=status).count()
        for status in (ItemStatus.INGESTED, ItemStatus.REJECTED)
    }
    acquisition.status = AcquisitionStatus.INTERRUPTED
    acquisition.finished_at = timezone.now()
    acquisition.counts = committed
    acquisition.save(update_fields=["status", "finished_at", "counts"])
    custody_append_many(
        [
            EventSpec(
                case_id=acquisition.case_id,
                action=CustodyAction.ACQUISITION_INTERRUPTED,
                actor=None,
                details={"acquisition": acquisition.pk, "items_committed": committed, "reason": why},
            )
        ]
    )


@dataclass
class _Read:
    """A finding after its one read: the staged object, or why it has no content."""

    finding: Finding
    staged: StagedObject | None = None
    mime: str = ""
    reason: str = ""
    open_archive: bool = False
    outcome: ItemOutcome | None = None

    @property
    def sha256(self) -> str | None:
        return self.staged.digests.sha256 if self.staged else None


class _Run:
    """The state of one ingest: the batch being built and the outcomes so far."""

    def __init__(
        self,
        *,
        case: Case,
        actor: User,
        acquisition: Acquisition,
        work: WorkDir,
        pool: ThreadPoolExecutor,
        source_label: str,
        seal_numbers: list[str],
        location: str,
        on_progress: Callable[[int], None] | None,
    ) -> None:
        self.case = case
        self.actor = actor
        self.acquisition = acquisition
        self.work = work
        self.pool = pool
        self.source_label = source_label
        self.seal_numbers = seal_numbers
        self.location = location
        self.tool = f"{TOOL_NAME} {haetae.__version__}"
        self.role = actor_role(actor, case.pk)
        limits = settings.HAETAE_INGEST
        self.max_depth = int(limits["MAX_ARCHIVE_DEPTH"])
        self.max_ratio = int(limits["MAX_COMPRESSION_RATIO"])
        self.max_expanded = int(limits["MAX_ARCHIVE_EXPANDED_BYTES"])
        self.max_members = int(limits["MAX_ARCHIVE_MEMBERS"])
        self.max_tree_ratio = int(limits.get("MAX_ARCHIVE_TREE_RATIO", 50))
        self.tree_floor = int(limits.get("ARCHIVE_TREE_FLOOR_BYTES", 1024**3))
        self.items: list[ItemOutcome] = []
        self.counts = {ItemStatus.INGESTED.value: 0, STATUS_DUPLICATE: 0, ItemStatus.REJECTED.value: 0}
        self.manifest: list[tuple[str, str]] = []
        self._batch: list[_Read] = []
        self._batch_bytes = 0
        self._reason_updates: dict[int, str] = {}
        self._magic = threading.local()
        self._on_progress = on_progress
        self._progress_lock = threading.Lock()

    # -- reading (staging threads) ------------------------------------------------------------------

    def _progress(self, size: int) -> None:
        if self._on_progress is not None:
            with self._progress_lock:
                self._on_progress(size)

    def _mime(self, head: bytes) -> str:
        detector = getattr(self._magic, "detector", None)
        if detector is None:  # libmagic handles are not thread-safe: one per thread
            detector = self._magic.detector = magic.Magic(mime=True)
        return str(detector.from_buffer(head))

    def read(self, finding: Finding) -> _Read:
        """Read one finding once: hash, encrypt to a temp file, detect MIME and whether it is a ZIP."""
        if finding.opener is None:
            return _Read(finding, reason=finding.reject_reason)
        try:
            stream = finding.opener()
            try:
                staged = self.work.stage(stream, on_progress=self._progress)
            finally:
                if finding.kind != ItemKind.UPLOAD:  # the uploader's file object is the caller's to close
                    stream.close()
        except ArchiveLimitExceeded as exc:
            return _Read(finding, reason=exc.reason)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            return _Read(
                finding,
                reason=f"could not be read from the archive ({exc}): damaged or truncated; nothing of it was "
                "stored, the archive itself is kept whole",
            )
        except NotImplementedError as exc:
            return _Read(
                finding,
                reason=f"uses a ZIP feature Haetae cannot read ({exc}); the archive itself is kept whole",
            )
        except NotRegularFile as exc:
            return _Read(finding, reason=f"not read: {exc.strerror}; ingest it again once it is stable")
        except OSError as exc:
            return _Read(
                finding,
                reason=f"could not be read: {exc.strerror or exc} (errno {exc.errno}); give the ingesting "
                "user read access and ingest it again",
            )
        _fault_point("after_stage")
        result = _Read(finding, staged=staged, mime=self._mime(staged.digests.head))
        notes = [finding.note]
        if is_zip(staged.digests.head):
            notes.append(self._archive_note(finding, staged, result))
        elif result.mime in {"image/jpeg", "image/png"}:
            with EncryptedObjectReader(staged.temp_path) as reader:
                polyglot = appended_zip(reader, result.mime)
            if polyglot:  # flagged, and its members become child items like any archive's
                notes.extend([polyglot, self._archive_note(finding, staged, result)])
        result.reason = "; ".join(n for n in notes if n)
        staged.digests = replace(staged.digests, head=b"")  # keep memory flat across a batch
        return result

    def _archive_note(self, finding: Finding, staged: StagedObject, result: _Read) -> str:
        if finding.depth >= self.max_depth:
            return (
                f"ZIP archive not opened: it lies {finding.depth} archive(s) deep and "
                f"HAETAE_MAX_ARCHIVE_DEPTH is {self.max_depth}; it is kept whole as found"
            )
        try:
            with EncryptedObjectReader(staged.temp_path) as reader, zipfile.ZipFile(reader) as archive:
                count = len(archive.infolist())
                overlap = zip_overlap(archive)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as exc:
            return (
                f"ZIP archive whose members could not be listed ({exc}): damaged or truncated; it is kept "
                "whole as found"
            )
        if overlap:
            return (
                f"ZIP archive not opened: {overlap}; none of its {count} entries was extracted, the archive "
                "is kept whole as found and can be examined with a forensic tool"
            )
        result.open_archive = True
        return f"ZIP archive with {count} {'entry' if count == 1 else 'entries'}; each member is a child item"

    # -- committing (calling thread) ------------------------------------------------------------------

    def run(self, findings: Iterable[Finding], *, read_ahead: int = READ_AHEAD_ITEMS) -> None:
        """Read findings ahead on the staging threads and take their results in order."""
        window: deque[tuple[Future[_Read], int]] = deque()
        window_bytes = 0
        try:
            for finding in findings:
                window.append((self.pool.submit(self.read, finding), finding.size_hint))
                window_bytes += finding.size_hint
                while window and (len(window) >= read_ahead or window_bytes >= READ_AHEAD_BYTES):
                    future, size_hint = window.popleft()
                    window_bytes -= size_hint
                    self._take(future.result())
            while window:
                self._take(window.popleft()[0].result())
        finally:
            for future, _size in window:
                future.cancel()
            wait(
                [future for future, _size in window]
            )  # nothing may still read from an archive we are about to close

    def _take(self, read: _Read) -> None:
        self._batch.append(read)
        self._batch_bytes += read.staged.digests.size if read.staged else 0
        if read.open_archive:
            self.flush()  # the container row must exist before its members can point at it
            self._descend(read)
        elif len(self._batch) >= BATCH_ITEMS or self._batch_bytes >= BATCH_BYTES:
            self.flush()

    def _descend(self, read: _Read) -> None:
        """Open a committed ZIP from the vault and ingest each member as a child item."""
        assert read.outcome is not None and read.outcome.id is not None and read.sha256 is not None
        budget = read.finding.budget or self._budget(read)
        container_id = read.outcome.id
        try:
            with open_object(read.sha256) as reader, zipfile.ZipFile(reader) as archive:
                self.run(
                    zip_member_findings(
                        archive,
                        container_raw_path=read.finding.raw_path,
                        container_id=container_id,
                        depth=read.finding.depth + 1,
                        budget=budget,
                        max_ratio=self.max_ratio,
                        open_lock=threading.Lock(),
                    ),
                    read_ahead=MEMBER_READ_AHEAD_ITEMS,
                )
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
            self._reason_updates[container_id] = (
                f"ZIP archive whose members could not be listed from the vault ({exc}); kept whole as found"
            )
            return
        if budget.stopped:
            self._reason_updates[container_id] = f"{read.reason}; extraction stopped: {budget.stopped}"

    def _budget(self, read: _Read) -> ArchiveBudget:
        """One budget for a top-level archive and everything nested in it: the absolute cap, or the
        archive's own size times the whole-tree ratio (at least the floor), whichever is smaller."""
        stored = read.staged.digests.size if read.staged is not None else 0
        by_ratio = max(self.max_tree_ratio * stored, self.tree_floor)
        if by_ratio < self.max_expanded:
            return ArchiveBudget(
                max_bytes=by_ratio,
                max_members=self.max_members,
                limit_name=f"HAETAE_MAX_ARCHIVE_TREE_RATIO {self.max_tree_ratio} × its {stored} bytes",
            )
        return ArchiveBudget(max_bytes=self.max_expanded, max_members=self.max_members)

    def flush(self) -> None:
        """Commit the batch: objects placed, then Blob rows, items and custody events in one transaction."""
        if not self._batch and not self._reason_updates:
            return
        batch, self._batch, self._batch_bytes = self._batch, [], 0
        staged = [read.staged for read in batch if read.staged is not None]
        shas = sorted({s.digests.sha256 for s in staged})
        with transaction.atomic():
            lock_blobs(shas)
            existing = set(Blob.objects.filter(sha256__in=shas).values_list("sha256", flat=True))
            place_objects(self.work, staged, existing=existing)
            _fault_point("after_place")
            new_blobs: dict[str, Blob] = {}
            for read in batch:
                if read.staged is not None and read.sha256 not in existing and read.sha256 not in new_blobs:
                    digests = read.staged.digests
                    new_blobs[digests.sha256] = Blob(
                        sha256=digests.sha256,
                        md5=digests.md5,
                        sha1=digests.sha1,
                        size=digests.size,
                        mime=read.mime,
                        encryption_scheme=read.staged.scheme,
                        key_id=read.staged.key_id,
                    )
            bulk_insert(Blob, list(new_blobs.values()))
            created = self._create_items(batch)
            self._append_events(created, new_blobs=set(new_blobs))
            ingest_hooks_run(
                items=[item for item, _ in created if item.blob_id], acquisition=self.acquisition
            )
            for item_id, reason in self._reason_updates.items():
                EvidenceItem.objects.filter(pk=item_id).update(status_reason=reason)
            self._reason_updates.clear()
        _fault_point("after_commit")
        for read in batch:
            assert read.outcome is not None
            self.items.append(read.outcome)
            self.counts[read.outcome.status] += 1
            if read.sha256 is not None:
                self.manifest.append((read.finding.path, read.sha256))

    def _create_items(self, batch: list[_Read]) -> list[tuple[EvidenceItem, _Read]]:
        locators = {read.finding.locator for read in batch}
        known: dict[tuple[str, str | None], int | EvidenceItem] = {
            (locator, blob_id): pk
            for locator, blob_id, pk in EvidenceItem.objects.filter(
                case=self.case, locator_sha256__in=locators
            ).values_list("locator_sha256", "blob_id", "pk")
        }
        created: list[tuple[EvidenceItem, _Read]] = []
        repeats: list[tuple[_Read, int | EvidenceItem]] = []
        for read in batch:
            key = (read.finding.locator, read.sha256)
            if key in known:
                repeats.append((read, known[key]))
                continue
            item = self._new_item(read)
            known[key] = item
            created.append((item, read))
        bulk_insert(EvidenceItem, [item for item, _ in created])
        for item, read in created:
            read.outcome = self._outcome(read, item_id=item.pk, status=item.status, reason=item.status_reason)
        for read, seen in repeats:
            seen_id = seen if isinstance(seen, int) else seen.pk
            if read.sha256 is None:
                read.outcome = self._outcome(
                    read, item_id=seen_id, status=ItemStatus.REJECTED, reason=read.reason
                )
            else:
                read.outcome = self._outcome(
                    read,
                    item_id=seen_id,
                    status=STATUS_DUPLICATE,
                    reason=f"already in this case as item {seen_id} (same place, same bytes): nothing added",
                )
        return created

    def _new_item(self, read: _Read) -> EvidenceItem:
        finding = read.finding
        digests = read.staged.digests if read.staged else None
        return EvidenceItem(
            case=self.case,
            acquisition=self.acquisition,
            parent_id=finding.parent_id,
            blob_id=read.sha256,
            kind=finding.kind,
            status=ItemStatus.INGESTED if read.staged else ItemStatus.REJECTED,
            status_reason=read.reason,
            source=self.source_label,
            original_name=finding.name,
            original_path=finding.path,
            original_path_raw=finding.raw_path,
            member_index=finding.member_index,
            locator_sha256=finding.locator,
            size=digests.size if digests else None,
            mime=read.mime,
            link_target=finding.link_target,
            file_modified_at=finding.modified_at,
            file_accessed_at=finding.accessed_at,
            file_changed_at=finding.changed_at,
            acquired_by=self.actor,
        )

    def _outcome(self, read: _Read, *, item_id: int, status: str, reason: str) -> ItemOutcome:
        digests = read.staged.digests if read.staged else None
        return ItemOutcome(
            id=item_id,
            path=read.finding.path,
            parent=read.finding.parent_id,
            status=str(status),
            reason=reason,
            size=digests.size if digests else None,
            md5=digests.md5 if digests else None,
            sha1=digests.sha1 if digests else None,
            sha256=digests.sha256 if digests else None,
            mime=read.mime or None,
        )

    def _append_events(self, created: list[tuple[EvidenceItem, _Read]], *, new_blobs: set[str]) -> None:
        specs = []
        stored: set[str] = set()
        for item, read in created:
            finding = read.finding
            digests = read.staged.digests if read.staged else None
            details: dict[str, Any] = {
                "tool": self.tool,
                **finding.details,
                # Everything a court relies on about the item, so that verify and the manifest can hold the
                # item's columns to what the ledger recorded; its name, paths and source only as salted
                # hashes, since the ledger can never be redacted (evidence.records).
                **item_record(item),
            }
            if read.reason:
                # A symbolic link's reason quotes its target, a path: the ledger holds that only as a hash.
                target = finding.link_target
                details["reason"] = read.reason.replace(target, "(its target)") if target else read.reason
            common: dict[str, Any] = {
                "case_id": self.case.pk,
                "item_id": item.pk,
                "actor": self.actor,
                "actor_role": self.role,
                "location": self.location,
                "seal_numbers": self.seal_numbers,
                "legal_authority": self.acquisition.seizure_reference,
                "new_item": True,
            }
            if digests is None:
                specs.append(EventSpec(action=CustodyAction.REJECTED, details=details, **common))
                continue
            details.update(
                size=digests.size, md5=digests.md5, sha1=digests.sha1, sha256=digests.sha256, mime=read.mime
            )
            specs.append(
                EventSpec(
                    action=CustodyAction.ACQUIRED, sha256_after=digests.sha256, details=details, **common
                )
            )
            if digests.sha256 in new_blobs and digests.sha256 not in stored:
                stored.add(digests.sha256)
                specs.append(
                    EventSpec(
                        action=CustodyAction.STORED,
                        sha256_after=digests.sha256,
                        details={
                            "acquisition": self.acquisition.pk,
                            "encryption_scheme": read.staged.scheme if read.staged else "",
                            "key_id": read.staged.key_id if read.staged else "",
                        },
                        **common,
                    )
                )
        custody_append_many(specs)


def _source_findings(sources: Sequence[PathSource | UploadSource], *, source_label: str) -> Iterable[Finding]:
    for source in sources:
        if isinstance(source, UploadSource):
            yield upload_finding(source, source_label=source_label)
        else:
            yield from walk_path(_absolute(source.path), source_label=source_label)


def _absolute(path: Path | bytes) -> bytes:
    """The absolute path as bytes, without resolving symlinks (a symlink is recorded, not followed)."""
    return os.path.abspath(os.fsencode(path))  # noqa: PTH100 - bytes-safe, and resolve() follows links


def _check_sources(sources: Sequence[PathSource | UploadSource]) -> list[str]:
    if not sources:
        raise RejectedInput("nothing to ingest: name at least one file or folder")
    described = []
    for source in sources:
        if isinstance(source, UploadSource):
            described.append(f"upload {source.name}")
            continue
        raw = _absolute(source.path)
        if not os.path.lexists(raw):
            raise RejectedInput(
                f"nothing at {os.fsdecode(raw)}: check the path (nothing was ingested, no record was made)"
            )
        described.append(os.fsdecode(raw))
    return described


def _acquisition_start(
    *,
    case: Case,
    actor: User,
    work: WorkDir,
    described: list[str],
    source_label: str,
    seizure_reference: str,
    seal_numbers: list[str],
    location: str,
    participants: list[str],
) -> Acquisition:
    with transaction.atomic():
        acquisition = Acquisition.objects.create(
            case=case,
            actor=actor,
            actor_role=actor_role(actor, case.pk),
            status=AcquisitionStatus.RUNNING,
            tool_name=TOOL_NAME,
            tool_version=haetae.__version__,
            source_description=source_label or "; ".join(described),
            seizure_reference=seizure_reference,
            seal_numbers=seal_numbers,
            location=location,
            participants=participants,
            host=socket.gethostname(),
            pid=os.getpid(),
            work_token=work.token,
        )
        custody_append_many(
            [
                EventSpec(
                    case_id=case.pk,
                    action=CustodyAction.ACQUISITION_STARTED,
                    actor=actor,
                    actor_role=acquisition.actor_role,
                    location=location,
                    seal_numbers=seal_numbers,
                    legal_authority=seizure_reference,
                    # The sources' paths and the participants are in source_description and
                    # participants, which the record holds only as salted hashes (evidence.records).
                    details={
                        "tool": f"{TOOL_NAME} {haetae.__version__}",
                        **acquisition_record(acquisition),
                    },
                )
            ]
        )
    return acquisition


def _store_text(work: WorkDir) -> Callable[[BinaryIO, str], str]:
    """A reader's way to put a record it made (e.g. a digest list) in the vault: one blob, its SHA-256."""

    def store(data: BinaryIO, mime: str) -> str:
        staged = work.stage(data)
        with transaction.atomic():
            blob_commit(work=work, staged=staged, mime=mime)
        return staged.digests.sha256

    return store


def _source_files(run: _Run) -> list[SourceFile]:
    return [
        SourceFile(item_id=o.id, path=o.path, status=o.status, sha256=o.sha256, reason=o.reason)
        for o in run.items
        if o.id is not None
    ]


def _source_record(
    run: _Run,
    work: WorkDir,
    *,
    kind: str,
    roots: list[str],
    options: Mapping[str, str],
    progress: SourceProgress | None,
) -> SourceSummary:
    """Let the kind's reader parse what the run stored (nothing to do for plain files)."""
    if kind == "files":
        return SourceSummary()
    context = SourceContext(
        case=run.case,
        actor=run.actor,
        acquisition=run.acquisition,
        files=_source_files(run),
        roots=roots,
        options=options,
        store_text=_store_text(work),
        fault_point=_fault_point,
        progress=progress or NoProgress(),
    )
    return source_readers()[kind].record(context)


def _acquisition_complete(run: _Run, work: WorkDir, *, kind: str, summary: SourceSummary) -> None:
    """Store the manifest as a blob and close the acquisition with its hash, in one transaction."""
    acquisition = run.acquisition
    text = manifest_text(run.manifest)
    staged = work.stage(io.BytesIO(text))
    sha = staged.digests.sha256
    _fault_point("before_complete")
    with transaction.atomic():
        blob_commit(work=work, staged=staged, mime="text/plain")
        acquisition.status = AcquisitionStatus.COMPLETED
        acquisition.finished_at = timezone.now()
        acquisition.counts = dict(run.counts)
        acquisition.manifest_sha256 = sha
        acquisition.save(update_fields=["status", "finished_at", "counts", "manifest_sha256"])
        custody_append_many(
            [
                EventSpec(
                    case_id=acquisition.case_id,
                    action=CustodyAction.ACQUISITION_COMPLETED,
                    actor=run.actor,
                    actor_role=acquisition.actor_role,
                    location=acquisition.location,
                    seal_numbers=list(acquisition.seal_numbers),
                    legal_authority=acquisition.seizure_reference,
                    details={
                        "acquisition": acquisition.pk,
                        "counts": dict(run.counts),
                        "manifest_sha256": sha,
                        "manifest_entries": len(run.manifest),
                        "finished_at": utc_iso(acquisition.finished_at),
                        # What a source reader recorded (its digest list's SHA-256 among them), if any.
                        **({"source_kind": kind, "source": summary.details} if kind != "files" else {}),
                    },
                )
            ]
        )
        if tsa_configured():  # the manifest's trusted time, asked for once this commits
            task_queue_on_commit("evidence.tasks.acquisition_timestamp_task", acquisition.pk)


def evidence_ingest(
    *,
    case: Case,
    sources: Sequence[PathSource | UploadSource],
    actor: User,
    source_label: str = "",
    seizure_reference: str = "",
    seal_numbers: Sequence[str] = (),
    location: str = "",
    participants: Sequence[str] = (),
    on_progress: Callable[[int], None] | None = None,
    source_kind: str = "files",
    source_options: Mapping[str, str] | None = None,
    source_progress: SourceProgress | None = None,
) -> IngestResult:
    """Ingest files, folders and uploads into a case: every finding becomes an item or is reported.

    ``on_progress`` receives byte counts as they are read (from the staging threads, never two at once).
    ``source_kind`` names a configured source reader (``evidence.hooks``) that records what it parses from
    the stored files, e.g. a Telegram export's messages; "files" stores files only; "auto" asks the readers
    which layout the stored files have (for uploads, whose layout is only known once stored).
    ``source_progress`` hears how far the source reader's parse has gone (a command's progress bar).
    """
    described = _check_sources(sources)
    if source_kind not in {"files", "auto"} and source_kind not in source_readers():
        raise RejectedInput(
            f"unknown source kind {source_kind!r}: use files, auto or one of {', '.join(source_readers())}"
        )
    vault_recover()
    acquisition_recover_interrupted()
    seals, people = [str(s) for s in seal_numbers], [str(p) for p in participants]
    with WorkDir() as work:
        acquisition = _acquisition_start(
            case=case,
            actor=actor,
            work=work,
            described=described,
            source_label=source_label,
            seizure_reference=seizure_reference,
            seal_numbers=seals,
            location=location,
            participants=people,
        )
        _fault_point("after_start")
        try:
            with ThreadPoolExecutor(STAGE_THREADS, thread_name_prefix="haetae-stage") as pool:
                run = _Run(
                    case=case,
                    actor=actor,
                    acquisition=acquisition,
                    work=work,
                    pool=pool,
                    source_label=source_label,
                    seal_numbers=seals,
                    location=location,
                    on_progress=on_progress,
                )
                run.run(_source_findings(sources, source_label=source_label))
                run.flush()
            if source_kind == "auto":  # an upload's layout is known once it is stored
                source_kind = source_kind_detect_stored(_source_files(run))
            summary = _source_record(
                run,
                work,
                kind=source_kind,
                roots=described,
                options=dict(source_options or {}),
                progress=source_progress,
            )
            _acquisition_complete(run, work, kind=source_kind, summary=summary)
        except BaseException as exc:
            _interrupt_quietly(acquisition, exc)
            raise
    return IngestResult(
        acquisition=acquisition,
        counts=dict(run.counts),
        items=run.items,
        source_kind=source_kind,
        source_counts=dict(summary.counts),
    )


def _interrupt_quietly(acquisition: Acquisition, exc: BaseException) -> None:
    """Record that this run stopped on an error; if even that fails, recovery will record it later."""
    try:
        with ledger_transaction():
            locked = (
                Acquisition.objects.select_for_update()
                .filter(pk=acquisition.pk, status=AcquisitionStatus.RUNNING)
                .first()
            )
            if locked is not None:
                _mark_interrupted(
                    locked,
                    why=f"the ingest stopped on an error ({type(exc).__name__}: {exc}); every committed item "
                    "is whole — fix the cause and run the same ingest again to complete it",
                )
    except Exception:
        logger.exception("could not mark acquisition %s interrupted", acquisition.pk)
