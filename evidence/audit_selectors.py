"""Reads for auditors: the custody ledger, checkpoints and verification results of the cases they audit.

An auditor is a case member with the role ``auditor`` (``access.choices.CaseMemberRole.AUDITOR``); they
read the ledger of those cases only, never content. Checkpoints sign the whole ledger's tree head and name
no case, so every auditor sees all of them. Verification runs are not rows of their own: ``vault_verify``
records one ``verified`` event per item checked, carrying the run's id, so a run is the group of those
events (an auditor sees the part of a run that covers their cases).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection
from django.db.models import Count, Max, Min, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform

from access.models import CaseMember
from access.policy import POLICY, Action, user_pk
from evidence import crypto, proofcheck
from evidence.choices import CustodyAction
from evidence.custody import event_leaf_hash
from evidence.ledger import checkpoint_latest, checkpoint_signature_valid, event_inclusion_proof
from evidence.models import Checkpoint, CustodyEvent
from haetae.errors import AccessDenied, HaetaeError, NotFound

Caller = AbstractBaseUser | AnonymousUser

LEDGER_PAGE_SIZE = 50


def _signed_in(user: Caller) -> bool:
    return bool(user.is_authenticated and getattr(user, "is_active", False))


def audited_case_ids(*, user: Caller) -> QuerySet[Any]:
    """Ids of the cases on whose team the user is an auditor."""
    if not _signed_in(user):
        return CaseMember.objects.none().values("case_id")
    return CaseMember.objects.filter(user_id=user_pk(user), role__in=POLICY[Action.LEDGER_READ]).values(
        "case_id"
    )


def is_auditor(*, user: Caller) -> bool:
    """Is the user an auditor on at least one case?"""
    return bool(audited_case_ids(user=user).exists())


def audit_require(*, user: Caller) -> None:
    """AccessDenied unless the user audits some case (the auditor pages' gate)."""
    if not is_auditor(user=user):
        raise AccessDenied(
            "the audit pages are for auditors: a case lead adds you to a case team with the role auditor "
            "(manage.py add_member CASE USERNAME auditor)"
        )


def ledger_events_for(*, user: Caller) -> QuerySet[CustodyEvent]:
    """Custody events of the cases the user audits, with case and item loaded, newest first."""
    if not _signed_in(user):
        return CustodyEvent.objects.none()
    return (
        CustodyEvent.objects.filter(case_id__in=audited_case_ids(user=user))
        .select_related("case", "item")
        .order_by("-seq")
    )


@dataclass(frozen=True)
class LedgerFilter:
    """What the ledger browser narrows to; empty fields do not filter."""

    case_number: str = ""
    item_id: int | None = None
    actor: str = ""
    action: str = ""


@dataclass
class LedgerPage:
    """One page of events (newest first) and the sequence numbers that fetch the pages either side."""

    events: list[CustodyEvent]
    newer_after: int | None
    older_before: int | None


def _audited_ids(*, user: Caller, case_number: str) -> list[int]:
    ids = audited_case_ids(user=user)
    if case_number:
        ids = ids.filter(case__number=case_number)
    return sorted(set(ids.values_list("case_id", flat=True)))


def _window(events: QuerySet[CustodyEvent], case_ids: list[int], order: str, limit: int) -> list[int]:
    """Pks of the first ``limit`` events by ``order`` ("seq" or "-seq") over the cases.

    Each case is read along its (case, seq) index and the pieces are merged (UNION ALL where the database
    can order and limit inside one); a single ``case_id IN (…)`` would read every event of the cases first.
    """
    parts = [
        events.filter(case_id=case_id).order_by(order).values_list("pk", "seq")[:limit]
        for case_id in case_ids
    ]
    if not parts:
        return []
    if len(parts) == 1:
        rows = list(parts[0])
    elif connection.features.supports_slicing_ordering_in_compound:
        rows = list(parts[0].union(*parts[1:], all=True).order_by(order)[:limit])
    else:
        rows = list(events.filter(case_id__in=case_ids).order_by(order).values_list("pk", "seq")[:limit])
    return [pk for pk, _seq in rows]


def ledger_page(
    *,
    user: Caller,
    filters: LedgerFilter,
    before: int | None = None,
    after: int | None = None,
    size: int = LEDGER_PAGE_SIZE,
) -> LedgerPage:
    """A keyset page of the audited ledger: events with seq < ``before`` (older) or > ``after`` (newer).

    Keyset on ``seq`` along the (case, seq) index stays fast however deep one pages and however long the
    ledger grows.
    """
    case_ids = _audited_ids(user=user, case_number=filters.case_number)
    events = CustodyEvent.objects.all()
    if filters.item_id is not None:
        events = events.filter(item_id=filters.item_id)
    if filters.actor:
        events = events.filter(actor_name=filters.actor)
    if filters.action:
        events = events.filter(action=filters.action)
    if after is not None:
        pks = _window(events.filter(seq__gt=after), case_ids, "seq", size + 1)
        more_newer = len(pks) > size
        pks = pks[:size]
        more_older = bool(case_ids) and events.filter(case_id__in=case_ids, seq__lte=after).exists()
    else:
        older = events.filter(seq__lt=before) if before is not None else events
        pks = _window(older, case_ids, "-seq", size + 1)
        more_older = len(pks) > size
        pks = pks[:size]
        more_newer = before is not None and events.filter(case_id__in=case_ids, seq__gte=before).exists()
    rows = list(CustodyEvent.objects.filter(pk__in=pks).select_related("case", "item").order_by("-seq"))
    return LedgerPage(
        events=rows,
        newer_after=rows[0].seq if rows and more_newer else None,
        older_before=rows[-1].seq if rows and more_older else None,
    )


def ledger_actor_names(*, user: Caller) -> list[str]:
    """Suggestions for the actor filter: the usernames on the audited cases' teams (a scan of the ledger for
    its distinct actors would grow with it; other actors, e.g. an administrator, can be typed)."""
    members = CaseMember.objects.filter(case_id__in=audited_case_ids(user=user))
    return sorted(set(members.values_list("user__username", flat=True)))


def ledger_event_get(*, user: Caller, seq: int) -> CustodyEvent:
    """One event of an audited case; NotFound (the same words) whether it is elsewhere or absent."""
    event = ledger_events_for(user=user).filter(seq=seq).first()
    if event is None:
        raise NotFound(
            f"no custody event {seq} in the cases you audit: check the number, or ask the case lead to add "
            "you to the team as auditor"
        )
    return event


@dataclass
class EventCheck:
    """An event's leaf recomputed from its fields, and its inclusion proof against the newest checkpoint."""

    leaf_recomputed: str
    leaf_ok: bool
    proof: dict[str, Any] | None
    proof_problems: list[str]
    pending: bool
    error: str


def ledger_event_check(*, event: CustodyEvent) -> EventCheck:
    """Recompute the leaf and prove the event under the newest checkpoint, checked with the offline verifier.

    ``pending``: no checkpoint covers it yet. ``error``: the proof could not be made (the message says why,
    e.g. the ledger no longer matches a signed root: an integrity incident).
    """
    recomputed = event_leaf_hash(event)
    latest = checkpoint_latest()
    if latest is None or latest.tree_size <= event.seq:
        return EventCheck(recomputed, recomputed == event.leaf_hash, None, [], True, "")
    try:
        proof = event_inclusion_proof(event=event, checkpoint=latest)
    except HaetaeError as exc:
        return EventCheck(recomputed, recomputed == event.leaf_hash, None, [], False, exc.message)
    trusted = crypto.public_key_hex(crypto.ledger_signing_key().public_key())
    problems = proofcheck.inclusion_proof_problems(proof, trusted_public_key=trusted)
    return EventCheck(recomputed, recomputed == event.leaf_hash, proof, problems, False, "")


@dataclass
class CheckpointRow:
    """A checkpoint with its signature checked under the ledger's configured key."""

    checkpoint: Checkpoint
    signature_ok: bool
    key_ok: bool
    extends_previous: bool


def checkpoint_rows(*, limit: int = 100) -> list[CheckpointRow]:
    """The newest checkpoints, each with its Ed25519 signature checked and whether its size grows."""
    configured = crypto.public_key_hex(crypto.ledger_signing_key().public_key())
    checkpoints = list(Checkpoint.objects.order_by("-tree_size", "-id")[: limit + 1])
    rows = []
    for index, checkpoint in enumerate(checkpoints[:limit]):
        previous = checkpoints[index + 1] if index + 1 < len(checkpoints) else None
        rows.append(
            CheckpointRow(
                checkpoint=checkpoint,
                signature_ok=checkpoint_signature_valid(checkpoint, configured),
                key_ok=checkpoint.public_key == configured,
                extends_previous=previous is None or checkpoint.tree_size >= previous.tree_size,
            )
        )
    return rows


@dataclass
class VerificationRunRow:
    """One verification run as the auditor sees it: when, by whom, how many items, how many failed."""

    run: str
    started_at: datetime
    finished_at: datetime
    items: int
    failed: int
    incidents: int
    actor_name: str


def _run_key() -> KeyTextTransform:
    return KeyTextTransform("run", "details")


def verification_runs_for(*, user: Caller, limit: int = 50) -> list[VerificationRunRow]:
    """The newest verification runs over the audited cases (from their ``verified``/``incident`` events)."""
    # The ids as a list: the planner then reads each case along its (case, action, seq) index.
    events = CustodyEvent.objects.filter(
        case_id__in=_audited_ids(user=user, case_number=""),
        action__in=[CustodyAction.VERIFIED, CustodyAction.INCIDENT],
    ).annotate(run_id=_run_key())
    grouped = (
        events.exclude(run_id__isnull=True)
        .order_by()
        .values("run_id")
        .annotate(
            started=Min("occurred_at"),
            finished=Max("occurred_at"),
            last_seq=Max("seq"),
            items=Count("pk", filter=Q(action=CustodyAction.VERIFIED)),
            failed=Count("pk", filter=Q(action=CustodyAction.VERIFIED, details__ok=False)),
            incidents=Count("pk", filter=Q(action=CustodyAction.INCIDENT)),
            actor=Max("actor_name"),
        )
        .order_by("-last_seq")[:limit]
    )
    return [
        VerificationRunRow(
            run=row["run_id"],
            started_at=row["started"],
            finished_at=row["finished"],
            items=row["items"],
            failed=row["failed"],
            incidents=row["incidents"],
            actor_name=row["actor"] or "",
        )
        for row in grouped
    ]


def verification_results_for(*, user: Caller, run: str) -> QuerySet[CustodyEvent]:
    """A run's per-item results in the audited cases (``verified``, ``incident`` events), in ledger order."""
    events = (
        CustodyEvent.objects.filter(
            case_id__in=_audited_ids(user=user, case_number=""),
            action__in=[CustodyAction.VERIFIED, CustodyAction.INCIDENT],
        )
        .filter(details__run=run)
        .select_related("case", "item")
        .order_by("seq")
    )
    if not events.exists():
        raise NotFound(
            f"no verification run {run} over the cases you audit: pick one from the list of runs "
            "(manage.py verify --case NUMBER --actor YOU starts one)"
        )
    return events
