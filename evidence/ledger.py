"""Checkpoints and proofs over the custody ledger's Merkle log (RFC 9162), signed with the ledger key.

A checkpoint signs the tree head (size, root, time) of the first ``tree_size`` events. Inclusion proofs
show an event is a leaf under a signed root; consistency proofs show an older signed tree is a prefix of a
newer one, so no event was changed or removed in between. The bytes that are signed and the offline
checks live in ``evidence.proofcheck`` (no Django), so the server and a defence expert use the same code.
"""

import copy
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from evidence import crypto, merkle
from evidence.custody import event_leaf_hash
from evidence.models import Checkpoint, CustodyEvent
from evidence.proofcheck import checkpoint_message, checkpoint_signature_ok
from evidence.timestamps import tsa_configured
from evidence.witness import witness_path, witness_record
from haetae.db import ledger_transaction
from haetae.errors import HaetaeError, IntegrityFailure, NotFound, RejectedInput
from haetae.toolkit import task_queue_on_commit, utc_iso

__all__ = [
    "checkpoint_after_commit",
    "checkpoint_consistency_proof",
    "checkpoint_create",
    "checkpoint_get",
    "checkpoint_latest",
    "checkpoint_message",
    "checkpoint_signature_valid",
    "checkpoint_summary",
    "event_get",
    "event_inclusion_proof",
    "event_inclusion_proofs",
    "ledger_size",
]

_TREE_CACHE_SIZE = 2
_tree_cache: "OrderedDict[tuple[int, str], merkle.MerkleTree]" = OrderedDict()
_tree_cache_lock = threading.Lock()
# The newest head this process signed, as its O(log n) accumulator: the next checkpoint reads only the
# events appended since, instead of the whole ledger, so signing after every commit stays cheap.
_frontier: tuple[int, str, merkle.TreeAccumulator] | None = None
_frontier_lock = threading.Lock()
logger = logging.getLogger(__name__)


def ledger_size() -> int:
    """How many events the ledger holds."""
    return CustodyEvent.objects.count()


def _leaves_in_order(*, upto: int | None = None, start: int = 0) -> Iterator[bytes]:
    """Leaf hashes by sequence; raises IntegrityFailure at the first sequence number that is missing."""
    rows = CustodyEvent.objects.order_by("seq").values_list("seq", "leaf_hash")
    if upto is not None:
        rows = rows.filter(seq__lt=upto)
    if start:
        rows = rows.filter(seq__gte=start)
    expected = start
    for seq, leaf_hash in rows.iterator(chunk_size=10000):
        if seq != expected:
            raise IntegrityFailure(
                f"the custody ledger has a gap: event {expected} is missing (the next is {seq}); "
                "events are never removed, so run 'manage.py verify' and treat this as an incident",
                details={"missing_seq": expected, "next_seq": seq},
            )
        yield bytes.fromhex(leaf_hash)
        expected += 1
    if upto is not None and expected < upto:
        raise IntegrityFailure(
            f"the custody ledger holds {expected} of the {upto} events a checkpoint signed: events "
            f"{expected}..{upto - 1} are missing; run 'manage.py verify' and treat this as an incident",
            details={"missing_from_seq": expected, "tree_size": upto},
        )


def checkpoint_summary(checkpoint: Checkpoint) -> dict[str, Any]:
    """A checkpoint as plain data, with ``created_at`` exactly as it was signed."""
    return {
        "id": checkpoint.pk,
        "tree_size": checkpoint.tree_size,
        "root_hash": checkpoint.root_hash,
        "created_at": utc_iso(checkpoint.created_at),
        "key_id": checkpoint.key_id,
        "public_key": checkpoint.public_key,
        "signature": checkpoint.signature,
    }


def checkpoint_latest() -> Checkpoint | None:
    """The newest checkpoint (the largest tree), or None before the first."""
    return Checkpoint.objects.order_by("-tree_size", "-id").first()


def checkpoint_get(*, checkpoint_id: int) -> Checkpoint:
    """The checkpoint with this id, or NotFound saying how to list them."""
    try:
        return Checkpoint.objects.get(pk=checkpoint_id)
    except Checkpoint.DoesNotExist:
        raise NotFound(
            f"no checkpoint {checkpoint_id}: make one with 'manage.py checkpoint' (it prints the id)"
        ) from None


def event_get(*, seq: int) -> CustodyEvent:
    """The ledger event with this sequence number, or NotFound naming the valid range."""
    try:
        return CustodyEvent.objects.get(seq=seq)
    except CustodyEvent.DoesNotExist:
        size = ledger_size()
        raise NotFound(
            f"no custody event {seq}: the ledger holds events 0..{size - 1}"
            if size
            else f"no custody event {seq}: the ledger is empty"
        ) from None


def _accumulate(previous: Checkpoint | None, *, reread: bool) -> merkle.TreeAccumulator:
    """The tree of the whole ledger, extending the previous checkpoint's tree (checked against its root).

    Without ``reread``, a tree this process built for the previous head is extended by the events appended
    since: the new head then extends exactly what the previous one signed, and a row altered since shows in
    `verify` (and in the next full re-read) against both checkpoints.
    """
    with _frontier_lock:
        cached = None if reread else _frontier
    if previous is not None and cached is not None and cached[:2] == (previous.tree_size, previous.root_hash):
        accumulator = copy.deepcopy(cached[2])
        for leaf in _leaves_in_order(start=previous.tree_size):
            accumulator.append(leaf)
        return accumulator
    accumulator = merkle.TreeAccumulator()
    for leaf in _leaves_in_order():
        accumulator.append(leaf)
        if previous is not None and accumulator.size == previous.tree_size:
            prefix_root = accumulator.root().hex()
            if prefix_root != previous.root_hash:
                raise IntegrityFailure(
                    f"the first {previous.tree_size} ledger events now hash to {prefix_root}, but "
                    f"checkpoint {previous.pk} signed {previous.root_hash}: the ledger was altered "
                    "after it was signed; not signing a fork — run 'manage.py verify'",
                    details={"checkpoint": previous.pk, "expected": previous.root_hash},
                )
    return accumulator


def checkpoint_create(*, reread: bool = True) -> Checkpoint:
    """Sign the current tree head; returns the newest checkpoint unchanged if nothing was appended since.

    Refuses (IntegrityFailure) to sign a tree that has a gap or that does not extend the previous
    checkpoint: a signed head inconsistent with an earlier one would be a fork of the ledger. ``reread``
    (the default; `manage.py checkpoint`, Celery beat, exports) re-reads every leaf and refuses when the
    signed prefix was altered; the checkpoint after each commit reads only the new events. Each new head
    is appended to the witness file (``evidence.witness``) before it commits.
    """
    global _frontier
    # Appends wait: the head we sign is the whole ledger at this moment
    with ledger_transaction():
        previous = checkpoint_latest()
        size = ledger_size()
        if size == 0:
            raise RejectedInput("the custody ledger is empty: there is nothing to checkpoint yet")
        if previous is not None and size == previous.tree_size:
            if not witness_path().exists():
                witness_record(previous)  # a new (or newly configured) witness file starts from this head
            return previous
        if previous is not None and size < previous.tree_size:
            raise IntegrityFailure(
                f"the custody ledger holds {size} events but checkpoint {previous.pk} signed "
                f"{previous.tree_size}: events were removed; run 'manage.py verify'",
                details={"checkpoint": previous.pk, "tree_size": previous.tree_size, "events": size},
            )
        accumulator = _accumulate(previous, reread=reread)
        size, root_hex = accumulator.size, accumulator.root().hex()
        created_at = timezone.now()
        signing_key = crypto.ledger_signing_key()
        public_key = crypto.public_key_hex(signing_key.public_key())
        signature = signing_key.sign(checkpoint_message(size, root_hex, utc_iso(created_at)))
        checkpoint = Checkpoint.objects.create(
            tree_size=size,
            root_hash=root_hex,
            created_at=created_at,
            key_id=crypto.public_key_id(public_key),
            public_key=public_key,
            signature=signature.hex(),
        )
        witness_record(checkpoint)
        if tsa_configured():  # after commit: the network never holds the ledger lock
            task_queue_on_commit("evidence.tasks.checkpoint_timestamp_task", checkpoint.pk)
    with _frontier_lock:
        _frontier = (size, root_hex, accumulator)
    return checkpoint


def _checkpoint_committed_appends() -> None:
    """Sign the head after a transaction that appended has committed; a failure is logged, never raised.

    The appending transaction has already committed, so raising would only turn a recorded action into an
    error page; an unsigned tail is signed by the next commit, by Celery beat, and reported by `verify`.
    """
    try:
        checkpoint_create(reread=False)
    except Exception:
        logger.exception("could not sign a ledger checkpoint after a commit; 'manage.py checkpoint' retries")


def checkpoint_after_commit() -> None:
    """Ask for one checkpoint when the current transaction commits (once, however often it is called)."""
    if not getattr(settings, "HAETAE_CHECKPOINT_ON_COMMIT", True):
        return
    if any(entry[1] is _checkpoint_committed_appends for entry in connection.run_on_commit):
        return
    transaction.on_commit(_checkpoint_committed_appends)


def checkpoint_signature_valid(checkpoint: Checkpoint, public_key_hex: str) -> bool:
    """Does the checkpoint's signature verify, for its size, root and time, with this Ed25519 key?"""
    return checkpoint_signature_ok(
        tree_size=checkpoint.tree_size,
        root_hash=checkpoint.root_hash,
        created_at=utc_iso(checkpoint.created_at),
        signature=checkpoint.signature,
        public_key=public_key_hex,
    )


def _tree_for(checkpoint: Checkpoint) -> merkle.MerkleTree:
    """The Merkle tree of the checkpoint's events, checked against its signed root (cached by root).

    The ledger is append-only and a root fixes its leaves, so a tree built for (size, root) stays right;
    proofs still compare each event's own leaf with the tree, so later tampering with a row shows.
    """
    key = (checkpoint.tree_size, checkpoint.root_hash)
    with _tree_cache_lock:
        tree = _tree_cache.get(key)
        if tree is not None:
            _tree_cache.move_to_end(key)
            return tree
    tree = merkle.MerkleTree(_leaves_in_order(upto=checkpoint.tree_size))
    if tree.root().hex() != checkpoint.root_hash:
        raise IntegrityFailure(
            f"the first {checkpoint.tree_size} ledger events hash to {tree.root().hex()}, but checkpoint "
            f"{checkpoint.pk} signed {checkpoint.root_hash}: the ledger was altered after it was signed; "
            "run 'manage.py verify'",
            details={"checkpoint": checkpoint.pk, "expected": checkpoint.root_hash},
        )
    with _tree_cache_lock:
        _tree_cache[key] = tree
        while len(_tree_cache) > _TREE_CACHE_SIZE:
            _tree_cache.popitem(last=False)
    return tree


def _checked_leaf(event: CustodyEvent, tree: merkle.MerkleTree) -> str:
    """The event's leaf hash, after checking it against its own fields and against the tree."""
    recomputed = event_leaf_hash(event)
    if recomputed != event.leaf_hash:
        raise IntegrityFailure(
            f"custody event {event.seq} was altered: its fields hash to {recomputed}, its recorded leaf "
            f"is {event.leaf_hash}; run 'manage.py verify'",
            details={"seq": event.seq, "expected": event.leaf_hash, "found": recomputed},
        )
    if tree.leaf(event.seq).hex() != event.leaf_hash:
        raise IntegrityFailure(
            f"custody event {event.seq}'s leaf {event.leaf_hash} is not the leaf the signed tree holds at "
            f"{event.seq} ({tree.leaf(event.seq).hex()}); run 'manage.py verify'",
            details={"seq": event.seq},
        )
    return event.leaf_hash


def _inclusion(event: CustodyEvent, tree: merkle.MerkleTree, summary: dict[str, Any]) -> dict[str, Any]:
    return {
        "leaf_index": event.seq,
        "leaf_hash": _checked_leaf(event, tree),
        "tree_size": tree.size,
        "root_hash": summary["root_hash"],
        "proof": [node.hex() for node in tree.inclusion_proof(event.seq)],
        "checkpoint": summary,
    }


def event_inclusion_proof(*, event: CustodyEvent, checkpoint: Checkpoint | None = None) -> dict[str, Any]:
    """Proof that ``event`` is a leaf under a signed root (by default the newest checkpoint covering it)."""
    if checkpoint is None:
        checkpoint = Checkpoint.objects.filter(tree_size__gt=event.seq).order_by("-tree_size", "-id").first()
        if checkpoint is None:
            raise HaetaeError(
                f"no checkpoint covers custody event {event.seq} yet: run 'manage.py checkpoint' "
                "(Celery beat makes one every few minutes in production)",
                details={"seq": event.seq},
            )
    elif checkpoint.tree_size <= event.seq:
        raise RejectedInput(
            f"checkpoint {checkpoint.pk} covers events 0..{checkpoint.tree_size - 1}, not event {event.seq}: "
            "use a newer checkpoint, or run 'manage.py checkpoint'"
        )
    return _inclusion(event, _tree_for(checkpoint), checkpoint_summary(checkpoint))


def event_inclusion_proofs(
    *, events: Iterable[CustodyEvent], checkpoint: Checkpoint | None = None
) -> dict[int, dict[str, Any] | None]:
    """Inclusion proofs for many events against one checkpoint (the newest by default), keyed by seq.

    The tree is built once. An event newer than the checkpoint maps to None: it is not signed yet.
    """
    events = list(events)
    checkpoint = checkpoint or checkpoint_latest()
    if checkpoint is None:
        return {event.seq: None for event in events}
    covered = [event for event in events if event.seq < checkpoint.tree_size]
    proofs: dict[int, dict[str, Any] | None] = {event.seq: None for event in events}
    if covered:
        tree = _tree_for(checkpoint)
        summary = checkpoint_summary(checkpoint)
        for event in covered:
            proofs[event.seq] = _inclusion(event, tree, summary)
    return proofs


def checkpoint_consistency_proof(*, old: Checkpoint, new: Checkpoint) -> dict[str, Any]:
    """Proof that the tree ``old`` signed is a prefix of the tree ``new`` signed."""
    if old.tree_size > new.tree_size:
        raise RejectedInput(
            f"checkpoint {old.pk} (size {old.tree_size}) is newer than checkpoint {new.pk} "
            f"(size {new.tree_size}): give the older checkpoint first"
        )
    tree = _tree_for(new)
    if tree.root(old.tree_size).hex() != old.root_hash:
        raise IntegrityFailure(
            f"the first {old.tree_size} ledger events hash to {tree.root(old.tree_size).hex()}, but "
            f"checkpoint {old.pk} signed {old.root_hash}: the two checkpoints disagree about the ledger's "
            "history; run 'manage.py verify'",
            details={"checkpoint": old.pk, "expected": old.root_hash},
        )
    return {
        "old_size": old.tree_size,
        "new_size": new.tree_size,
        "old_root": old.root_hash,
        "new_root": new.root_hash,
        "proof": [node.hex() for node in tree.consistency_proof(old.tree_size)],
        "old_checkpoint": checkpoint_summary(old),
        "new_checkpoint": checkpoint_summary(new),
    }
