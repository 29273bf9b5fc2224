"""Verification: re-read every blob, recompute every leaf, chain and checkpoint, and record the result.

``vault_verify`` is what ``manage.py verify`` and scheduled verification run. It never stops at the first
problem: an operator (and a court) needs the whole picture, so each failure is collected as a dict naming the
check, the item, the event (by sequence number) and the checkpoint involved, what was expected and what was
found, and a sentence saying what it means and what to do. The run ends by appending one ``verified`` custody
event per item checked (and an ``incident`` event per item whose stored content failed).

Memory stays bounded on large vaults: items and events are streamed with chunked iterators, blobs are read
chunk by chunk, and the Merkle roots at every checkpoint (plus the nodes of the consistency proofs between
successive checkpoints) are computed in one pass over the leaves with an O(log n) stack.
"""

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F, OuterRef, Q, QuerySet, Subquery

from access.models import Case
from evidence import crypto, merkle
from evidence.bundle import NO_TRUSTED_TIMESTAMP, KeyFileError
from evidence.choices import ITEM_STATUS_AFTER, CustodyAction, ItemStatus, TimestampStatus
from evidence.custody import GENESIS_HASH, EventSpec, custody_append_many, event_leaf_hash
from evidence.destruction import erasures_pending
from evidence.ledger import checkpoint_signature_valid
from evidence.models import Acquisition, Blob, Checkpoint, CustodyEvent, EvidenceItem, TimestampToken
from evidence.proofcheck import checkpoint_signature_ok
from evidence.records import (
    SALT_FIELD,
    Difference,
    acquisition_record_differences,
    item_record_differences,
)
from evidence.timestamps import timestamp_check, timestamp_summary, tsa_anchors, tsa_configured
from evidence.vault import open_object, vault_recover
from evidence.witness import WitnessHead, WitnessRead, bundle_heads, witness_read
from haetae.errors import HaetaeError, IntegrityFailure

ProgressCallback = Callable[[str, int, int], None]
"""on_progress(phase, done, total): phases are 'content', 'ledger' and 'recording'."""

_ITEM_CHUNK = 2000
_EVENT_CHUNK = 5000
_APPEND_BATCH = 1000
# Checks whose failure means the stored content itself is not what was seized: each gets an incident event.
_CONTENT_CHECKS = frozenset({"blob_missing", "blob_damaged", "blob_hash", "blob_size"})


@dataclass
class VerificationReport:
    """The outcome of one verification run: clean or not, how many items, and every failure found."""

    ok: bool
    checked: int
    failures: list[dict[str, Any]] = field(default_factory=list)
    run: str = ""
    destroyed: int = 0
    timestamps: list[dict[str, Any]] = field(default_factory=list)
    timestamp_note: str = ""

    def as_json(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"ok": self.ok, "checked": self.checked, "failures": self.failures}
        payload["timestamps"] = self.timestamps
        if self.timestamp_note:
            payload["timestamp_note"] = self.timestamp_note
        if self.destroyed:  # only where something was destroyed: scripts reading the usual keys are unchanged
            payload["destroyed"] = self.destroyed
        return payload


def _recorded_against(difference: Difference, event: CustodyEvent | None) -> str:
    """How a column differs from its event, in words that quote no fact the ledger holds only as a hash
    (verify writes its failures into the ledger's `verified` events)."""
    where = f"its `{event.action}` custody event (event {event.seq})" if event else "its custody event"
    if difference.field == SALT_FIELD:
        return (
            f"missing or malformed, so the facts {where} holds as salted SHA-256 commitments "
            f"({difference.recorded}) cannot be checked"
        )
    if difference.committed:
        return (
            f"not the value {where} committed to (salted SHA-256 {difference.recorded}; the column now "
            f"gives {difference.found})"
        )
    return f"{difference.found!r}, but {where} recorded {difference.recorded!r}"


def _failure(
    check: str,
    message: str,
    *,
    item: int | None = None,
    event: int | None = None,
    checkpoint: int | None = None,
    expected: Any = "",
    found: Any = "",
) -> dict[str, Any]:
    return {
        "check": check,
        "item": item,
        "event": event,
        "checkpoint": checkpoint,
        "expected": expected,
        "found": found,
        "message": message,
    }


# ---------------------------------------------------------------------------------------------------------
# Merkle roots and consistency proofs in one pass over the leaves


def consistency_proof_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The leaf ranges [start, end) whose subtree roots form the RFC 9162 consistency proof, in order.

    Mirrors ``merkle.consistency_proof`` but names ranges instead of hashing them, so that the hashes can be
    collected during a single pass over the leaves. Each range is either a complete, aligned power-of-two
    subtree or runs to ``new_size`` (the right edge of the new tree).
    """
    if not 0 < old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to {new_size}")

    def sub(m: int, start: int, end: int, complete: bool) -> list[tuple[int, int]]:
        n = end - start
        if m == n:
            return [] if complete else [(start, end)]
        k = merkle.largest_power_of_two_below(n)
        if m <= k:
            return [*sub(m, start, start + k, complete), (start + k, end)]
        return [*sub(m - k, start + k, end, False), (start, start + k)]

    return sub(old_size, 0, new_size, True)


def _is_complete_subtree(start: int, end: int) -> bool:
    size = end - start
    return size > 0 and size & (size - 1) == 0 and start % size == 0


class MerkleWalk:
    """Consumes leaf hashes in order and remembers the roots and proof nodes asked for, in O(log n) memory.

    ``root_sizes``: tree sizes whose root is wanted. ``ranges``: leaf ranges whose subtree root is wanted
    (complete aligned subtrees are caught when the stack forms them; right-edge ranges when the leaf count
    reaches their end).
    """

    def __init__(self, *, root_sizes: Iterable[int], ranges: Iterable[tuple[int, int]] = ()) -> None:
        self._root_sizes = set(root_sizes)
        self._complete: set[tuple[int, int]] = set()
        self._edges: dict[int, set[int]] = defaultdict(set)
        for start, end in ranges:
            if _is_complete_subtree(start, end):
                self._complete.add((start, end))
            else:
                self._edges[end].add(start)
        self._stack: list[tuple[int, int, bytes]] = []  # (first leaf, leaf count, subtree hash)
        self.count = 0
        self.roots: dict[int, bytes] = {}
        self.nodes: dict[tuple[int, int], bytes] = {}
        if 0 in self._root_sizes:
            self.roots[0] = hashlib.sha256(b"").digest()

    def add(self, leaf: bytes) -> None:
        node = (self.count, 1, leaf)
        self.count += 1
        self._capture(node)
        while self._stack and self._stack[-1][1] == node[1]:
            left = self._stack.pop()
            node = (left[0], left[1] * 2, merkle.node_hash(left[2], node[2]))
            self._capture(node)
        self._stack.append(node)
        if self.count in self._root_sizes:
            self.roots[self.count] = self._fold_from(0)
        for start in self._edges.get(self.count, ()):
            self.nodes[(start, self.count)] = self._fold_from(start)

    def _capture(self, node: tuple[int, int, bytes]) -> None:
        key = (node[0], node[0] + node[1])
        if key in self._complete:
            self.nodes[key] = node[2]

    def _fold_from(self, start: int) -> bytes:
        """The root of the leaves from ``start`` to the current count (``start`` is a stack boundary)."""
        index = next(i for i, entry in enumerate(self._stack) if entry[0] == start)
        root = self._stack[-1][2]
        for entry in reversed(self._stack[index:-1]):
            root = merkle.node_hash(entry[2], root)
        return root

    def proof(self, old_size: int, new_size: int) -> list[bytes]:
        return [self.nodes[r] for r in consistency_proof_ranges(old_size, new_size)]

    def prefix_gap(self, size: int, root_hash: str) -> Literal["short", "rewritten"] | None:
        """Why the leaves walked do not begin with the signed tree of ``size`` leaves and ``root_hash``:
        "short" when there are fewer leaves, "rewritten" when the first ``size`` hash to another root (the
        root at ``size`` must have been asked for in ``root_sizes``); None when they do begin with it."""
        if size > self.count:
            return "short"
        if self.roots[size].hex() != root_hash:
            return "rewritten"
        return None


def _head_signature_ok(head: WitnessHead, public_key: str) -> bool:
    """Whether a witnessed signed tree head verifies under ``public_key``."""
    return checkpoint_signature_ok(
        tree_size=head.tree_size,
        root_hash=head.root_hash,
        created_at=head.created_at,
        signature=head.signature,
        public_key=public_key,
    )


def _hex32(value: str) -> bytes | None:
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        return None
    return raw if len(raw) == 32 else None


# ---------------------------------------------------------------------------------------------------------
# The run


class _Run:
    """State of one verification run; the phases below fill ``failures`` and the per-item outcomes."""

    def __init__(
        self,
        *,
        case: "Case | None",
        on_progress: ProgressCallback | None,
        bundle_heads: Iterable[WitnessHead] = (),
    ) -> None:
        self.case = case
        self.bundle_heads = list(bundle_heads)
        self.on_progress = on_progress
        self.run_id = uuid.uuid4().hex
        self.failures: list[dict[str, Any]] = []
        self.item_problems: dict[int, list[dict[str, Any]]] = defaultdict(list)
        self.blob_found: dict[str, str] = {}  # only blobs that failed: sha256 → what was found ('' if unread)
        self.incident_items: set[int] = set()
        self.destroyed = 0  # items destroyed by order: reported as such, not as missing

    def fail(self, failure: dict[str, Any]) -> None:
        self.failures.append(failure)
        if failure["item"] is not None:
            self.item_problems[failure["item"]].append(
                {"check": failure["check"], "event": failure["event"], "message": failure["message"]}
            )
            if failure["check"] in _CONTENT_CHECKS:
                self.incident_items.add(failure["item"])

    def progress(self, phase: str, done: int, total: int) -> None:
        if self.on_progress is not None:
            self.on_progress(phase, done, total)

    def items(self) -> QuerySet[EvidenceItem]:
        items = EvidenceItem.objects.all()
        return items.filter(case=self.case) if self.case is not None else items

    # -- content ------------------------------------------------------------------------------------------

    def check_content(self) -> None:
        """Each blob in scope read once, decrypted chunk by chunk and hashed; compared with its rows."""
        # A destroyed item's content is gone by order: it is reported as destroyed (``record``), never read.
        with_blob = self.items().filter(blob__isnull=False).exclude(status=ItemStatus.DESTROYED)
        total = with_blob.values("blob_id").distinct().count()
        self.progress("content", 0, total)
        rows = with_blob.order_by("blob_id", "id").values_list(
            "id", "size", "blob_id", "blob__size", "blob__key_id"
        )
        done = 0
        group: list[tuple[int, int | None]] = []
        current: tuple[str, int, str] | None = None
        for item_id, item_size, sha256, blob_size, key_id in rows.iterator(chunk_size=_ITEM_CHUNK):
            if current is not None and current[0] != sha256:
                self._check_blob(*current, items=group)
                done += 1
                self.progress("content", done, total)
                group = []
            current = (sha256, blob_size, key_id)
            group.append((item_id, item_size))
        if current is not None:
            self._check_blob(*current, items=group)
            done += 1
            self.progress("content", done, total)
        self._check_acquired_hashes(with_blob)
        self._check_item_records()
        self._check_item_status()
        self._check_acquisition_records()

    def check_erasures(self) -> None:
        """Blobs a committed destruction marked whose bytes are still in the store: the erasure's second
        phase was interrupted (a crash after the commit). Reported until it is finished."""
        pending = erasures_pending()
        if not pending:
            return
        blobs = Blob.objects.filter(pk__in=pending)
        if self.case is not None:
            blobs = blobs.filter(destruction_reference__startswith=f"{self.case.number} ")
        for sha256, reference in blobs.order_by("sha256").values_list("sha256", "destruction_reference"):
            case_number, _, number = reference.rpartition(" ")
            item = self.items().filter(blob_id=sha256).order_by("id").values_list("id", flat=True).first()
            self.fail(
                _failure(
                    "erasure_pending",
                    f"erasure pending: blob {sha256} was destroyed by {reference} but its encrypted object "
                    f"is still in the store (the erasure after the commit was interrupted); finish it with "
                    f"manage.py destruction finish {case_number} {number} --actor USER",
                    item=item,
                    expected="erased",
                    found="object present",
                )
            )

    def _check_blob(
        self, sha256: str, blob_size: int, key_id: str, *, items: list[tuple[int, int | None]]
    ) -> None:
        problems: list[tuple[str, str, Any, Any]] = []  # (check, message, expected, found)
        found_sha, found_size = "", None
        damage = unreadable = ""
        try:
            digest = hashlib.sha256()
            size = 0
            with open_object(sha256) as reader:
                for chunk in reader.chunks():
                    digest.update(chunk)
                    size += len(chunk)
            found_sha, found_size = digest.hexdigest(), size
        except IntegrityFailure as exc:
            if exc.details.get("problem") == "missing":
                problems.append(
                    (
                        "blob_missing",
                        f"The vault object holding this item's content ({sha256}) is missing. Restore "
                        "vault/objects from the most recent backup and run verify again; until then the "
                        "item cannot be presented.",
                        f"an object file at objects/{sha256[:2]}/{sha256[2:4]}/{sha256}",
                        "no file",
                    )
                )
            else:
                damage = exc.message
        except HaetaeError as exc:
            # The object's header names another master key. If the Blob row records the configured key,
            # the header was altered; otherwise the wrong key file is configured.
            if key_id == crypto.master_key().key_id:
                damage = f"{exc.message}, although the blob was recorded as sealed with {key_id}"
            else:
                unreadable = exc.message
        except OSError as exc:
            unreadable = str(exc)
        except Exception as exc:  # a malformed object must be reported, never abort the whole run
            damage = f"vault object {sha256} is malformed ({type(exc).__name__}: {exc})"
        if damage:
            problems.append(
                (
                    "blob_damaged",
                    f"The vault object holding this item's content is damaged ({damage}). Do not present "
                    "this item; restore the object from backup, run verify again, and record how the damage "
                    "happened.",
                    "every encrypted chunk authenticates",
                    damage,
                )
            )
        if unreadable:
            problems.append(
                (
                    "blob_unreadable",
                    f"The vault object could not be read ({unreadable}). Fix the configuration or "
                    "permissions named here and run verify again; the content was not checked.",
                    "a readable vault object",
                    unreadable,
                )
            )
        if found_sha and found_sha != sha256:
            problems.append(
                (
                    "blob_hash",
                    "The vault object decrypts to bytes whose SHA-256 differs from the one recorded at "
                    "acquisition. Do not present this item; restore the object from backup and run verify "
                    "again.",
                    sha256,
                    found_sha,
                )
            )
        if found_size is not None and found_size != blob_size:
            problems.append(
                (
                    "blob_size",
                    "The vault object decrypts to a different number of bytes than recorded for the blob. "
                    "Treat the record or the object as altered: compare with the acquisition records and "
                    "backups before presenting the item.",
                    blob_size,
                    found_size,
                )
            )
        for item_id, item_size in items:
            for check, message, expected, found in problems:
                self.fail(_failure(check, message, item=item_id, expected=expected, found=found))
            if item_size is not None and item_size != blob_size:
                self.fail(
                    _failure(
                        "item_size",
                        "The item's recorded size differs from its blob's size. The database record was "
                        "changed after acquisition; compare it with the acquisition records.",
                        item=item_id,
                        expected=blob_size,
                        found=item_size,
                    )
                )
        if problems:
            self.blob_found[sha256] = found_sha

    def _check_acquired_hashes(self, with_blob: QuerySet[EvidenceItem]) -> None:
        """The SHA-256 recorded in each item's `acquired` event is the address of the blob it points to."""
        mismatched = (
            CustodyEvent.objects.filter(action=CustodyAction.ACQUIRED, item__in=with_blob)
            .exclude(sha256_after=F("item__blob_id"))
            .order_by("seq")
            .values_list("item_id", "seq", "item__blob_id", "sha256_after")
        )
        # Not .iterator(): on PostgreSQL a cursor plans for the first rows (a nested loop over the ledger);
        # these queries return only the failures, normally none.
        for item_id, seq, blob_sha, recorded in mismatched:
            self.fail(
                _failure(
                    "acquired_hash",
                    "The SHA-256 recorded when this item was acquired differs from the content it points "
                    "to now. The item's record was altered; do not present it until the difference is "
                    "explained from the acquisition records.",
                    item=item_id,
                    event=seq,
                    expected=recorded,
                    found=blob_sha,
                )
            )
        unacquired = with_blob.exclude(custody_events__action=CustodyAction.ACQUIRED).order_by("id")
        for item_id in unacquired.values_list("id", flat=True):
            self.fail(
                _failure(
                    "acquired_missing",
                    "This item has no `acquired` custody event, so the hash taken at seizure cannot be "
                    "compared. The ledger was altered or the item was created outside ingest; investigate "
                    "before presenting it.",
                    item=item_id,
                    expected="an acquired event",
                    found="none",
                )
            )

    def _check_item_records(self) -> None:
        """Each item's columns (and its blob's MD5 and SHA-1) equal what its first event recorded."""
        first_events = (
            CustodyEvent.objects.filter(
                action__in=[CustodyAction.ACQUIRED, CustodyAction.REJECTED], item__in=self.items()
            )
            .select_related("item", "item__acquisition", "item__blob", "item__acquired_by")
            .order_by("seq")
        )
        seen: set[int] = set()
        for event in first_events.iterator(chunk_size=_ITEM_CHUNK):
            item = event.item
            if item is None or item.pk in seen:
                continue
            seen.add(item.pk)
            for difference in item_record_differences(item, event):
                self.fail(
                    _failure(
                        "item_record",
                        f"Item {item.pk}'s {difference.field} in the database is "
                        f"{_recorded_against(difference, event)}: the record was changed after acquisition. "
                        "The ledger's value is the one taken at seizure; restore the row from backup and "
                        "investigate before presenting the item.",
                        item=item.pk,
                        event=event.seq,
                        expected=difference.recorded,
                        found=difference.found,
                    )
                )

    def _check_item_status(self) -> None:
        """Each item's status column is the one its last status-changing custody event leaves it in
        (``ITEM_STATUS_AFTER``): a column changed without an event, or a destruction it no longer shows, is
        named."""
        last = CustodyEvent.objects.filter(
            item_id=OuterRef("pk"), action__in=list(ITEM_STATUS_AFTER)
        ).order_by("-seq")
        rows = (
            self.items()
            .annotate(
                last_action=Subquery(last.values("action")[:1]), last_seq=Subquery(last.values("seq")[:1])
            )
            .filter(last_action__isnull=False)
            .order_by("pk")
            .values_list("pk", "status", "last_action", "last_seq")
        )
        for item_id, status, action, seq in rows.iterator(chunk_size=_ITEM_CHUNK):
            expected = ITEM_STATUS_AFTER[action]
            if status == expected:
                continue
            self.fail(
                _failure(
                    "item_status",
                    f"Item {item_id}'s status in the database is {status!r}, but its last status-changing "
                    f"custody event (`{action}`, event {seq}) leaves it {expected!r}: the status was changed "
                    "without a custody event. The ledger's status is the recorded one; restore the row from "
                    "backup and investigate before presenting or relying on the item.",
                    item=item_id,
                    event=seq,
                    expected=expected,
                    found=status,
                )
            )

    def _check_acquisition_records(self) -> None:
        """Each acquisition's columns equal what its started and completed events recorded."""
        acquisitions = Acquisition.objects.all()
        events = CustodyEvent.objects.filter(
            action__in=[CustodyAction.ACQUISITION_STARTED, CustodyAction.ACQUISITION_COMPLETED],
            item__isnull=True,
        ).order_by("seq")
        if self.case is not None:
            acquisitions = acquisitions.filter(case=self.case)
            events = events.filter(case=self.case)
        recorded: dict[tuple[Any, str], CustodyEvent] = {}
        for row in events.iterator(chunk_size=_EVENT_CHUNK):
            recorded.setdefault(((row.details or {}).get("acquisition"), row.action), row)
        for acquisition in acquisitions.order_by("pk").iterator(chunk_size=_ITEM_CHUNK):
            started = recorded.get((acquisition.pk, CustodyAction.ACQUISITION_STARTED))
            completed = recorded.get((acquisition.pk, CustodyAction.ACQUISITION_COMPLETED))
            for difference in acquisition_record_differences(acquisition, started, completed):
                event = completed if difference.field in {"manifest_sha256", "finished_at"} else started
                self.fail(
                    _failure(
                        "acquisition_record",
                        f"Acquisition {acquisition.pk}'s {difference.field} in the database is "
                        f"{_recorded_against(difference, event)}: the record was changed after the "
                        "acquisition. The ledger's value is the one recorded at the scene; restore the row "
                        "from backup and investigate.",
                        event=event.seq if event else None,
                        expected=difference.recorded,
                        found=difference.found,
                    )
                )

    # -- ledger and checkpoints ---------------------------------------------------------------------------

    def check_ledger(self) -> None:
        """One pass over the ledger by sequence: numbering, leaf hashes, chains, and every checkpoint root."""
        checkpoints = list(Checkpoint.objects.order_by("created_at", "id"))
        # Read after the checkpoints: a head signed meanwhile is in the file before its row commits.
        witness = witness_read()
        witness_newest = witness.newest
        pairs = list(pairwise(checkpoints))
        ranges = [
            r
            for old, new in pairs
            if 0 < old.tree_size < new.tree_size
            for r in consistency_proof_ranges(old.tree_size, new.tree_size)
        ]
        root_sizes = {c.tree_size for c in checkpoints}
        if witness_newest is not None:
            root_sizes.add(witness_newest.tree_size)
        root_sizes.update(head.tree_size for head in self.bundle_heads)
        walk = MerkleWalk(root_sizes=root_sizes, ranges=ranges)
        case_id = self.case.pk if self.case is not None else None
        item_heads: dict[int, str] = {}
        case_heads: dict[int, str] = {}
        total = CustodyEvent.objects.count()
        self.progress("ledger", 0, total)
        expected_seq = 0
        events = CustodyEvent.objects.order_by("seq").iterator(chunk_size=_EVENT_CHUNK)
        for event in events:
            if event.seq != expected_seq:
                self.fail(
                    _failure(
                        "sequence",
                        f"Ledger sequence numbers jump from {expected_seq - 1} to {event.seq}: events were "
                        "removed (or duplicated) in the database. Restore the ledger from backup and "
                        "investigate who had database superuser access.",
                        event=event.seq,
                        expected=expected_seq,
                        found=event.seq,
                    )
                )
            expected_seq = event.seq + 1
            recomputed = event_leaf_hash(event)
            if recomputed != event.leaf_hash:
                self.fail(
                    _failure(
                        "leaf_hash",
                        f"Ledger event {event.seq} no longer hashes to its recorded leaf hash: its contents "
                        "were changed in the database after it was written. Restore the ledger from backup "
                        "and investigate who had database superuser access.",
                        item=event.item_id,
                        event=event.seq,
                        expected=event.leaf_hash,
                        found=recomputed,
                    )
                )
            walk.add(bytes.fromhex(recomputed))
            if case_id is None or event.case_id == case_id:
                heads, key = (
                    (item_heads, event.item_id) if event.item_id is not None else (case_heads, event.case_id)
                )
                previous = heads.get(key, GENESIS_HASH)
                if event.prev_hash != previous:
                    chain = f"item {event.item_id}" if event.item_id is not None else f"case {event.case_id}"
                    self.fail(
                        _failure(
                            "chain",
                            f"The custody chain of {chain} is broken at event {event.seq}: it does not "
                            "link to the previous event of the chain. An event before it was removed, "
                            "inserted or rewritten; restore the ledger from backup and investigate.",
                            item=event.item_id,
                            event=event.seq,
                            expected=previous,
                            found=event.prev_hash,
                        )
                    )
                heads[key] = event.leaf_hash
            if walk.count % 1000 == 0:
                self.progress("ledger", walk.count, total)
        self.progress("ledger", walk.count, total)
        self._check_checkpoints(checkpoints, pairs, walk)
        self._check_witness(witness, checkpoints, walk)
        self._check_bundle_heads(walk)

    def _check_checkpoints(
        self, checkpoints: list[Checkpoint], pairs: list[tuple[Checkpoint, Checkpoint]], walk: MerkleWalk
    ) -> None:
        configured = crypto.public_key_hex(crypto.ledger_signing_key().public_key())
        for checkpoint in checkpoints:
            if checkpoint.public_key != configured:
                self.fail(
                    _failure(
                        "checkpoint_key",
                        f"Checkpoint {checkpoint.pk} names a public key that is not this ledger's signing "
                        "key: it was not made by Haetae. Treat it as forged; report it and restore the "
                        "checkpoint table from backup.",
                        checkpoint=checkpoint.pk,
                        expected=configured,
                        found=checkpoint.public_key,
                    )
                )
            if not checkpoint_signature_valid(checkpoint, configured):
                self.fail(
                    _failure(
                        "checkpoint_signature",
                        f"Checkpoint {checkpoint.pk}'s signature does not verify under the ledger's "
                        "public key: its size, root or time was altered, or it was signed by another key. "
                        "Treat it as forged; report it and restore the checkpoint table from backup.",
                        checkpoint=checkpoint.pk,
                        expected=f"a valid Ed25519 signature by {configured}",
                        found=checkpoint.signature,
                    )
                )
            gap = walk.prefix_gap(checkpoint.tree_size, checkpoint.root_hash)
            if gap == "short":
                self.fail(
                    _failure(
                        "checkpoint_size",
                        f"Checkpoint {checkpoint.pk} covers {checkpoint.tree_size} ledger events but the "
                        f"ledger holds only {walk.count}: events it signed were removed. Restore the "
                        "ledger from backup and investigate.",
                        checkpoint=checkpoint.pk,
                        expected=checkpoint.tree_size,
                        found=walk.count,
                    )
                )
            elif gap == "rewritten":
                self.fail(
                    _failure(
                        "checkpoint_root",
                        f"The Merkle root of the first {checkpoint.tree_size} ledger events no longer "
                        f"matches checkpoint {checkpoint.pk}: the signed history was changed. Restore the "
                        "ledger from backup and investigate; the failures above name the events.",
                        checkpoint=checkpoint.pk,
                        expected=checkpoint.root_hash,
                        found=walk.roots[checkpoint.tree_size].hex(),
                    )
                )
        largest: Checkpoint | None = None
        for checkpoint in checkpoints:
            if largest is not None and checkpoint.tree_size < largest.tree_size:
                self.fail(
                    _failure(
                        "checkpoint_order",
                        f"Checkpoint {checkpoint.pk} was made after checkpoint {largest.pk} but covers "
                        f"fewer events ({checkpoint.tree_size} < {largest.tree_size}): the ledger cannot "
                        "shrink. Treat the checkpoint table as tampered; restore it from backup.",
                        checkpoint=checkpoint.pk,
                        expected=f"tree size ≥ {largest.tree_size}",
                        found=checkpoint.tree_size,
                    )
                )
            if largest is None or checkpoint.tree_size >= largest.tree_size:
                largest = checkpoint
        for old, new in pairs:
            self._check_consistency(old, new, walk)

    def _check_consistency(self, old: Checkpoint, new: Checkpoint, walk: MerkleWalk) -> None:
        m, n = old.tree_size, new.tree_size
        if m == 0 or m > n or n > walk.count:
            return  # an empty tree extends trivially; shrinking and oversize are reported above
        old_root, new_root = _hex32(old.root_hash), _hex32(new.root_hash)
        proof = walk.proof(m, n) if m < n else []
        if (
            old_root is None
            or new_root is None
            or not merkle.verify_consistency(m, n, old_root, new_root, proof)
        ):
            self.fail(
                _failure(
                    "checkpoint_consistency",
                    f"Checkpoint {new.pk} (size {n}) is not an append-only extension of checkpoint {old.pk} "
                    f"(size {m}): the RFC 9162 consistency proof computed from the ledger does not verify "
                    "against their signed roots. The history between them was rewritten; restore the "
                    "ledger from backup and investigate.",
                    checkpoint=new.pk,
                    expected=f"{m}:{old.root_hash} extended by {n}:{new.root_hash}",
                    found="consistency proof does not verify",
                )
            )

    # -- the witness outside the database -----------------------------------------------------------------

    def _check_witness(self, witness: WitnessRead, checkpoints: list[Checkpoint], walk: MerkleWalk) -> None:
        """The ledger still holds the witness's newest signed tree; the witness is not cut or edited."""
        where = f"the ledger witness file {witness.path}"
        newest_checkpoint = max(checkpoints, key=lambda c: (c.tree_size, c.pk), default=None)
        if not witness.exists:
            if newest_checkpoint is not None:
                self.fail(
                    _failure(
                        "witness_missing",
                        f"There is no {where}, but the ledger has {len(checkpoints)} signed checkpoint(s): "
                        "the file that keeps signed tree heads outside the database was deleted, or "
                        "HAETAE_LEDGER_WITNESS_FILE points elsewhere than before. Restore it from backup "
                        "(or set the variable back) and run verify again; an installation upgraded from a "
                        "version without a witness starts one with 'manage.py checkpoint'.",
                        checkpoint=newest_checkpoint.pk,
                        expected=str(witness.path),
                        found="no file",
                    )
                )
            return
        for line, problem in witness.malformed:
            self.fail(
                _failure(
                    "witness_malformed",
                    f"Line {line} of {where} {problem}: the file was edited or damaged. Haetae only appends "
                    "whole lines to it; compare it with its backup and treat the change as an incident.",
                    expected="one JSON signed tree head per line",
                    found=f"line {line} {problem}",
                )
            )
        largest: WitnessHead | None = None
        for head in witness.heads:
            if largest is not None and head.tree_size < largest.tree_size:
                self.fail(
                    _failure(
                        "witness_order",
                        f"{head.where} records a tree of {head.tree_size} events after one of "
                        f"{largest.tree_size} ({largest.where}): heads are appended as the ledger grows, "
                        "so the file was edited. Compare it with its backup and treat the change as an "
                        "incident.",
                        checkpoint=head.checkpoint,
                        expected=f"tree size ≥ {largest.tree_size}",
                        found=head.tree_size,
                    )
                )
            largest = head if largest is None or head.tree_size >= largest.tree_size else largest
        newest = witness.newest
        if newest is None:
            return
        public_key = crypto.public_key_hex(crypto.ledger_signing_key().public_key())
        if not _head_signature_ok(newest, public_key):
            self.fail(
                _failure(
                    "witness_signature",
                    f"The newest signed tree head in {where} ({newest.where}) does not verify under the "
                    "ledger key: the line was edited or written by someone else. Compare the file with its "
                    "backup and treat the change as an incident.",
                    checkpoint=newest.checkpoint,
                    expected=f"a valid Ed25519 signature by {public_key}",
                    found=newest.signature,
                )
            )
            return
        in_table = any(
            (c.tree_size, c.root_hash, c.signature) == (newest.tree_size, newest.root_hash, newest.signature)
            for c in checkpoints
        )
        # a head whose checkpoint row is still there had its size and root checked above
        gap = None if in_table else walk.prefix_gap(newest.tree_size, newest.root_hash)
        if gap == "short":
            gone = (
                f"event {walk.count}"
                if newest.tree_size == walk.count + 1
                else f"events {walk.count}..{newest.tree_size - 1}"
            )
            self.fail(
                _failure(
                    "witness_rollback",
                    f"The ledger witness recorded a signed tree of {newest.tree_size} events at "
                    f"{newest.created_at} ({newest.where}), but the database ledger now holds only "
                    f"{walk.count}: {gone}, and every checkpoint that signed it, vanished from the "
                    "database. Restore the ledger from backup and "
                    "investigate who had database owner access.",
                    checkpoint=newest.checkpoint,
                    expected=f"at least {newest.tree_size} events",
                    found=walk.count,
                )
            )
        elif gap == "rewritten":
            self.fail(
                _failure(
                    "witness_root",
                    f"The first {newest.tree_size} ledger events no longer hash to the root the witness "
                    f"recorded at {newest.created_at} ({newest.where}): that signed history was rewritten in "
                    "the database. Restore the ledger from backup and investigate; the failures above "
                    "name the events.",
                    checkpoint=newest.checkpoint,
                    expected=newest.root_hash,
                    found=walk.roots[newest.tree_size].hex(),
                )
            )
        if newest_checkpoint is not None and newest_checkpoint.tree_size > newest.tree_size:
            self.fail(
                _failure(
                    "witness_behind",
                    f"Checkpoint {newest_checkpoint.pk} signs {newest_checkpoint.tree_size} events, but the "
                    f"newest head in {where} covers only {newest.tree_size}: every head is written to the "
                    "witness before its checkpoint commits, so lines were removed from the end of the file. "
                    "Restore it from backup and treat the change as an incident.",
                    checkpoint=newest_checkpoint.pk,
                    expected=f"a head of ≥ {newest_checkpoint.tree_size} events",
                    found=newest.tree_size,
                )
            )

    def _check_bundle_heads(self, walk: MerkleWalk) -> None:
        """Each signed tree head an exported bundle carries is still a prefix of today's ledger."""
        public_key = crypto.public_key_hex(crypto.ledger_signing_key().public_key())
        for head in self.bundle_heads:
            if not _head_signature_ok(head, public_key):
                self.fail(
                    _failure(
                        "bundle_head_signature",
                        f"The signed tree head in {head.where} does not verify under this ledger's key: "
                        "the bundle comes from another installation, or its manifest was altered. It "
                        "witnesses nothing here; check where the bundle came from.",
                        checkpoint=head.checkpoint,
                        expected=f"a valid Ed25519 signature by {public_key}",
                        found=head.signature,
                    )
                )
                continue
            gap = walk.prefix_gap(head.tree_size, head.root_hash)
            if gap == "short":
                self.fail(
                    _failure(
                        "bundle_rollback",
                        f"The export {head.where} carries a signed tree of {head.tree_size} events made at "
                        f"{head.created_at}, but the database ledger now holds only {walk.count}: events "
                        "that existed when the bundle was exported, and the checkpoints that signed them, "
                        "vanished from the database. Restore the ledger from backup and investigate who "
                        "had database owner access.",
                        checkpoint=head.checkpoint,
                        expected=f"at least {head.tree_size} events",
                        found=walk.count,
                    )
                )
            elif gap == "rewritten":
                self.fail(
                    _failure(
                        "bundle_root",
                        f"The first {head.tree_size} ledger events no longer hash to the signed root that "
                        f"{head.where} carries (made at {head.created_at}): the history the bundle was "
                        "exported with was rewritten in the database. Restore the ledger from backup and "
                        "investigate; the failures above name the events.",
                        checkpoint=head.checkpoint,
                        expected=head.root_hash,
                        found=walk.roots[head.tree_size].hex(),
                    )
                )

    # -- trusted timestamps -------------------------------------------------------------------------------

    def check_timestamps(self) -> tuple[list[dict[str, Any]], str]:
        """Every stored token of a checkpoint (and of the scope's acquisitions) re-checked against its subject
        as it is now and the configured TSA certificate; a failed request is listed, not a failure."""
        tokens = TimestampToken.objects.select_related("checkpoint", "acquisition").order_by("id")
        if self.case is not None:
            tokens = tokens.filter(Q(checkpoint__isnull=False) | Q(acquisition__case=self.case))
        try:
            anchors = tsa_anchors()
        except KeyFileError as exc:
            anchors, note = [], str(exc)
        else:
            note = "" if tsa_configured() else f"{NO_TRUSTED_TIMESTAMP}: HAETAE_TSA_URL is not configured"
        listed = []
        for token in tokens.iterator(chunk_size=_ITEM_CHUNK):
            ok, message = timestamp_check(token, anchors=anchors)
            listed.append({**timestamp_summary(token), "ok": ok, "message": message})
            if not ok and token.status == TimestampStatus.GRANTED:
                self.fail(
                    _failure(
                        "timestamp",
                        f"Trusted timestamp {token.pk} of {token.get_subject_display()} "
                        f"{token.checkpoint_id or token.acquisition_id} does not verify: {message}",
                        checkpoint=token.checkpoint_id,
                        expected=token.message_sha256,
                        found=message,
                    )
                )
        if not listed and not note:
            note = f"{NO_TRUSTED_TIMESTAMP}: no token has been obtained yet"
        return listed, note

    # -- recording ----------------------------------------------------------------------------------------

    def record(self, actor: User | None) -> int:
        """Append a `verified` event per item (and an `incident` per item whose content failed)."""
        rows = self.items().order_by("id").values_list("id", "case_id", "blob_id", "status", "status_reason")
        total = self.items().count()
        checked = 0
        self.progress("recording", 0, total)
        with transaction.atomic():
            batch: list[EventSpec] = []
            for item_id, item_case_id, blob_id, status, status_reason in rows.iterator(
                chunk_size=_ITEM_CHUNK
            ):
                checked += 1
                expected = blob_id or ""
                problems = self.item_problems.get(item_id, [])
                base = EventSpec(
                    case_id=item_case_id,
                    item_id=item_id,
                    action=CustodyAction.VERIFIED,
                    actor=actor,
                    sha256_before=expected,
                )
                if status == ItemStatus.DESTROYED:
                    self.destroyed += 1
                    details = {"ok": not problems, "destroyed": status_reason, "problems": problems}
                    batch.append(replace(base, details={**details, "run": self.run_id}))
                    continue
                found = self.blob_found.get(expected, expected) if expected else ""
                verified = replace(
                    base,
                    sha256_after=found,
                    details={"ok": not problems, "problems": problems, "run": self.run_id},
                )
                batch.append(verified)
                if item_id in self.incident_items:
                    content_problems = [p for p in problems if p["check"] in _CONTENT_CHECKS]
                    details = {"run": self.run_id, "source": "verify", "problems": content_problems}
                    batch.append(replace(verified, action=CustodyAction.INCIDENT, details=details))
                if len(batch) >= _APPEND_BATCH:
                    custody_append_many(batch)
                    batch = []
                    self.progress("recording", checked, total)
            custody_append_many(batch)
        self.progress("recording", checked, total)
        return checked


def vault_verify(
    *,
    case: "Case | None" = None,
    actor: User | None = None,
    on_progress: ProgressCallback | None = None,
    witness_bundles: Sequence[Path] = (),
) -> VerificationReport:
    """Check every blob, leaf, chain and checkpoint (of one case's items, or all) and record the result.

    ``witness_bundles``: export bundles exported earlier; each signed tree head they carry must still be a
    prefix of the ledger (a rollback of the newest history shows). An unreadable bundle is refused before
    anything is checked or recorded.
    """
    heads = [head for path in witness_bundles for head in bundle_heads(Path(path))]
    vault_recover()
    run = _Run(case=case, on_progress=on_progress, bundle_heads=heads)
    run.check_content()
    run.check_erasures()
    run.check_ledger()
    timestamps, timestamp_note = run.check_timestamps()
    checked = run.record(actor)
    return VerificationReport(
        ok=not run.failures,
        checked=checked,
        failures=run.failures,
        run=run.run_id,
        destroyed=run.destroyed,
        timestamps=timestamps,
        timestamp_note=timestamp_note,
    )


@dataclass(frozen=True)
class EventCheck:
    """One custody event of a chain, checked: its own fields hash to its leaf, and it names the previous
    event's leaf (the genesis hash for the first)."""

    event: CustodyEvent
    leaf_ok: bool
    link_ok: bool

    @property
    def chain_ok(self) -> bool:
        return self.leaf_ok and self.link_ok


def chain_check(events: Iterable[CustodyEvent]) -> list[EventCheck]:
    """Check one chain's events, given in ledger order (what a page shows beside each event)."""
    checks = []
    previous = GENESIS_HASH
    for event in events:
        checks.append(
            EventCheck(
                event=event,
                leaf_ok=event_leaf_hash(event) == event.leaf_hash,
                link_ok=event.prev_hash == previous,
            )
        )
        previous = event.leaf_hash
    return checks
