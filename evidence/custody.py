"""The custody ledger: append-only events, chained per item (or per case) and leaves of one Merkle log.

Every service that changes evidence state or touches content calls ``custody_append`` (or
``custody_append_many``) inside its own transaction, so the event commits or rolls back with the change.
Appends serialise on one ledger lock (a PostgreSQL advisory lock; SQLite's IMMEDIATE transactions already
serialise writers), which keeps the sequence gap-free and each chain unforked under concurrent ingests.
The lock lives in ``haetae.db`` so that lower apps can take it first: a service takes it at the start of
its transaction, before any row lock, or two services can deadlock (the order is in docs/ledger.md).
"""

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from access.hooks import CaseEvent
from access.models import CaseMember
from evidence import merkle
from evidence.choices import CustodyAction
from evidence.models import CustodyEvent, EvidenceItem
from haetae.db import bulk_insert, retry_on_conflict
from haetae.db import ledger_lock as ledger_lock  # re-exported: the ledger's writers take it from here
from haetae.toolkit import utc_iso

GENESIS_HASH = "0" * 64
LEAF_VERSION = 1
_IN_CHUNK = 2000


def _refuse_floats(value: Any) -> None:
    if isinstance(value, float):
        raise TypeError("custody details must not contain floats; use strings or integers")
    if isinstance(value, dict):
        for inner in value.values():
            _refuse_floats(inner)
    elif isinstance(value, list | tuple):
        for inner in value:
            _refuse_floats(inner)


def canonical_json(value: Any, *, floats_checked: bool = False) -> bytes:
    """Deterministic JSON (sorted keys, no spaces, UTF-8). Floats are refused: they do not round-trip."""
    if not floats_checked:
        _refuse_floats(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_leaf_payload(event: CustodyEvent) -> dict[str, Any]:
    """Every field of an event that the leaf hash commits to."""
    return {
        "v": LEAF_VERSION,
        "seq": event.seq,
        "case": event.case_id,
        "item": event.item_id,
        "action": event.action,
        "actor": event.actor_id,
        "actor_name": event.actor_name,
        "actor_role": event.actor_role,
        "occurred_at": utc_iso(event.occurred_at),
        "location": event.location,
        "purpose": event.purpose,
        "legal_authority": event.legal_authority,
        "from_custodian": event.from_custodian,
        "to_custodian": event.to_custodian,
        "seal_numbers": list(event.seal_numbers or []),
        "sha256_before": event.sha256_before,
        "sha256_after": event.sha256_after,
        "details": event.details or {},
        "prev_hash": event.prev_hash,
    }


def event_leaf_data(event: CustodyEvent) -> bytes:
    # Every field but the free-form ones is a typed column (text, integer, time): only those can hold floats.
    _refuse_floats(event.details)
    _refuse_floats(event.seal_numbers)
    return canonical_json(event_leaf_payload(event), floats_checked=True)


def event_leaf_hash(event: CustodyEvent) -> str:
    return merkle.leaf_hash(event_leaf_data(event)).hex()


def actor_role(actor: User | AnonymousUser | None, case_id: int) -> str:
    """The actor's role on the case (their team role), 'admin' for superusers off the team, else ''."""
    if actor is None or not actor.is_authenticated:
        return "system"
    role = CaseMember.objects.filter(case_id=case_id, user_id=actor.pk).values_list("role", flat=True).first()
    if role:
        return str(role)
    return "admin" if getattr(actor, "is_superuser", False) else ""


@dataclass
class EventSpec:
    """An event to append; item and case chains and the sequence are filled in by the ledger."""

    case_id: int
    action: str
    actor: User | None
    item_id: int | None = None
    actor_role: str | None = None
    occurred_at: datetime | None = None
    location: str = ""
    purpose: str = ""
    legal_authority: str = ""
    from_custodian: str = ""
    to_custodian: str = ""
    seal_numbers: list[str] = field(default_factory=list)
    sha256_before: str = ""
    sha256_after: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    new_item: bool = False  # the item was created in this transaction: its chain starts at genesis


def item_event(item: EvidenceItem, action: str, actor: User | None, **fields: Any) -> EventSpec:
    """An event on ``item``'s chain that leaves its content as it was (read, served, listed, matched, marked):
    the content's SHA-256 stands before and after, so the event itself says nothing changed."""
    content = item.blob_id or ""
    return EventSpec(
        case_id=item.case_id,
        item_id=item.pk,
        action=action,
        actor=actor,
        sha256_before=content,
        sha256_after=content,
        **fields,
    )


def _chain_heads(
    *, item_ids: Iterable[int], case_ids: Iterable[int]
) -> tuple[dict[int, str], dict[int, str]]:
    """The newest leaf hash of each item's chain and of each case's case-level chain."""
    item_heads: dict[int, str] = {}
    case_heads: dict[int, str] = {}
    item_list = sorted(set(item_ids))
    for start in range(0, len(item_list), _IN_CHUNK):
        chunk = item_list[start : start + _IN_CHUNK]
        newest = CustodyEvent.objects.filter(item_id__in=chunk).values("item_id").annotate(last=Max("seq"))
        seqs = [row["last"] for row in newest]
        item_heads.update(CustodyEvent.objects.filter(seq__in=seqs).values_list("item_id", "leaf_hash"))
    for case_id in set(case_ids):
        head = (
            CustodyEvent.objects.filter(case_id=case_id, item__isnull=True)
            .order_by("-seq")
            .values_list("leaf_hash", flat=True)
            .first()
        )
        if head:
            case_heads[case_id] = head
    return item_heads, case_heads


def custody_append_many(specs: Sequence[EventSpec]) -> list[CustodyEvent]:
    """Append events in order, in the caller's transaction; returns them with seq and hashes set."""
    if not specs:
        return []
    ledger_lock()
    last_seq = CustodyEvent.objects.aggregate(last=Max("seq"))["last"]
    next_seq = 0 if last_seq is None else last_seq + 1
    item_heads, case_heads = _chain_heads(
        item_ids=[s.item_id for s in specs if s.item_id is not None and not s.new_item],
        case_ids=[s.case_id for s in specs if s.item_id is None],
    )
    now = timezone.now()
    role_cache: dict[tuple[int | None, int], str] = {}
    events = []
    for spec in specs:
        if spec.item_id is not None:
            prev = item_heads.get(spec.item_id, GENESIS_HASH)
        else:
            prev = case_heads.get(spec.case_id, GENESIS_HASH)
        role = spec.actor_role
        if role is None:
            key = (spec.actor.pk if spec.actor else None, spec.case_id)
            if key not in role_cache:
                role_cache[key] = actor_role(spec.actor, spec.case_id)
            role = role_cache[key]
        event = CustodyEvent(
            seq=next_seq,
            case_id=spec.case_id,
            item_id=spec.item_id,
            action=spec.action,
            actor=spec.actor if spec.actor is not None else None,
            actor_name=spec.actor.get_username() if spec.actor is not None else "system",
            actor_role=role,
            occurred_at=(spec.occurred_at or now).astimezone(UTC),
            location=spec.location,
            purpose=spec.purpose,
            legal_authority=spec.legal_authority,
            from_custodian=spec.from_custodian,
            to_custodian=spec.to_custodian,
            seal_numbers=list(spec.seal_numbers),
            sha256_before=spec.sha256_before,
            sha256_after=spec.sha256_after,
            details=spec.details,
            prev_hash=prev,
        )
        event.leaf_hash = event_leaf_hash(event)
        if spec.item_id is not None:
            item_heads[spec.item_id] = event.leaf_hash
        else:
            case_heads[spec.case_id] = event.leaf_hash
        events.append(event)
        next_seq += 1
    bulk_insert(CustodyEvent, events)
    # Signed promptly, so that even the newest events have a head outside the database (evidence.witness).
    from evidence.ledger import checkpoint_after_commit  # the ledger module builds on this one

    checkpoint_after_commit()
    return events


@retry_on_conflict
def custody_append(
    *, case_id: int, action: str, actor: User | None, item_id: int | None = None, **fields: Any
) -> CustodyEvent:
    """Append one event (opening a transaction if the caller has none)."""
    with transaction.atomic():
        return custody_append_many(
            [EventSpec(case_id=case_id, action=action, actor=actor, item_id=item_id, **fields)]
        )[0]


def leaf_hashes_in_order(*, upto: int | None = None) -> list[bytes]:
    """The ledger's leaf hashes by sequence (raw bytes), optionally only the first ``upto``."""
    rows = CustodyEvent.objects.order_by("seq")
    if upto is not None:
        rows = rows.filter(seq__lt=upto)
    return [bytes.fromhex(h) for h in rows.values_list("leaf_hash", flat=True).iterator(chunk_size=10000)]


def case_events_append(events: Sequence[CaseEvent]) -> None:
    """Append the access app's case-level events (``access.hooks.case_events_write``) to the ledger."""
    for event in events:
        if event.action not in CustodyAction.values:
            raise ValueError(f"{event.action!r} is not a custody action (evidence.choices.CustodyAction)")
    with transaction.atomic():
        custody_append_many(
            [
                EventSpec(
                    case_id=event.case_id,
                    action=event.action,
                    actor=event.actor,
                    actor_role=event.actor_role,
                    purpose=event.purpose,
                    details=event.details,
                )
                for event in events
            ]
        )
