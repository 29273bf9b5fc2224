"""Victim support: reads filtered by the caller's role on the case, and writes that log custody events.

Who: members with the role victim_support read and write everything here; the case lead reads support
files, consents and takedowns but never the restricted notes; every other role gets 403 (non-members 404,
through ``case_get_for``). Nothing here ever returns media, previews or thumbnails: items appear by id and
digests only.

Every write runs in one transaction with its case-level custody event (SUPPORT_CHANGED, TAKEDOWN_CHANGED,
HASHES_EXPORTED), so a change and its record commit or roll back together.
"""

import hashlib
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from access.models import Case
from access.policy import Action, case_memberships, require
from captures.browser import url_check
from captures.models import Capture
from captures.services import capture_queue
from detection.models import Annotation
from detection.models.runs import ReviewStatus
from evidence.choices import CustodyAction, ItemStatus
from evidence.custody import EventSpec, custody_append_many, ledger_lock
from evidence.models import EvidenceItem
from haetae.errors import AccessDenied, RejectedInput
from haetae.toolkit import utc_iso
from parties.choices import LinkConfidence, PersonKind
from parties.models import Person
from support.choices import ConsentKind, SupportStatus, TakedownStatus
from support.models import SupportConsent, SupportFile, SupportNote, TakedownReappearance, TakedownRequest
from support.renderers import HashListEntry, PdqHash, content_type_of, render_csv, render_json
from support.sealing import note_open, note_seal
from support.selectors import PDQ_LABEL, TAKEDOWN_AWAITING, consent_in_force, victim_depicting_links

# Allowed status moves of a support file; a reappearance also moves a closed file to monitoring.
SUPPORT_TRANSITIONS: dict[str, frozenset[str]] = {
    SupportStatus.INTAKE: frozenset({SupportStatus.ACTIVE, SupportStatus.CLOSED}),
    SupportStatus.ACTIVE: frozenset({SupportStatus.MONITORING, SupportStatus.CLOSED}),
    SupportStatus.MONITORING: frozenset({SupportStatus.ACTIVE, SupportStatus.CLOSED}),
    SupportStatus.CLOSED: frozenset({SupportStatus.ACTIVE, SupportStatus.MONITORING}),
}
# A moment may be a few minutes ahead of the server clock (another device's clock), not more.
_CLOCK_SKEW = timedelta(minutes=5)
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
HASH_EXPORT_FORMAT = "haetae-hash-list/1"


# --- access --------------------------------------------------------------------------------------------


# --- reads (the case comes from ``support_case_get``, so the caller's role is already checked) ----------


@dataclass(frozen=True)
class NoteView:
    """A restricted note opened for a support worker."""

    note: SupportNote
    text: str


def note_list(*, case: Case, support_file: SupportFile) -> list[NoteView]:
    """The file's restricted notes, opened; only for victim_support members (the lead gets 403)."""
    require(case=case, action=Action.SUPPORT_NOTES, doing="read restricted support notes")
    _require_same_case(case=case, support_file=support_file)
    notes = SupportNote.objects.filter(support_file=support_file).select_related("written_by").order_by("id")
    return [NoteView(note=note, text=note_open(note)) for note in notes]


# --- helpers ---------------------------------------------------------------------------------------------


def _log(*, case_id: int, action: str, actor: User, details: dict[str, Any]) -> None:
    custody_append_many([EventSpec(case_id=case_id, action=action, actor=actor, details=details)])


def _moment(
    value: datetime | None, *, field_name: str, not_before: Iterable[tuple[datetime | None, str]] = ()
) -> datetime:
    """A reported time (default now): not in the future, not before the steps it follows."""
    now = timezone.now()
    if value is None:
        value = now
    if timezone.is_naive(value):
        raise RejectedInput(
            f"{field_name} needs a time zone (e.g. 2024-09-01T10:00:00+09:00)",
            details={field_name: ["give the time with its UTC offset"]},
        )
    if value > now + _CLOCK_SKEW:
        message = f"{field_name} is in the future ({value.isoformat()}): give the time it actually happened"
        raise RejectedInput(message, details={field_name: [message]})
    for earlier, label in not_before:
        if earlier is not None and value < earlier:
            message = f"{field_name} ({value.isoformat()}) is before {label} ({earlier.isoformat()})"
            raise RejectedInput(message, details={field_name: [message]})
    return value


def _locked_support_file(support_file: SupportFile) -> SupportFile:
    ledger_lock()  # before any row lock: the one lock order (docs/ledger.md)
    return SupportFile.objects.select_for_update().select_related("person").get(pk=support_file.pk)


def _locked_takedown(takedown: TakedownRequest) -> TakedownRequest:
    ledger_lock()  # before any row lock: the one lock order (docs/ledger.md)
    return (
        TakedownRequest.objects.select_for_update().select_related("support_file__person").get(pk=takedown.pk)
    )


def _support_event(support_file: SupportFile, action: str, *, actor: User, **details: Any) -> None:
    """An event on the victim's case about their support file: which file, whose (by pseudonym), then
    ``details``."""
    person = support_file.person
    details = {"support_file": support_file.pk, "person": person.pseudonym, **details}
    _log(case_id=person.case_id, action=action, actor=actor, details=details)


def _support_logged(support_file: SupportFile, change: str, *, actor: User, **extra: Any) -> None:
    """A SUPPORT_CHANGED event: what changed on the support file."""
    _support_event(support_file, CustodyAction.SUPPORT_CHANGED, actor=actor, change=change, **extra)


def _support_status_move(locked: SupportFile, status: str, *, actor: User, reason: str) -> None:
    """Move a support file (locked by the caller) to ``status``; a SUPPORT_CHANGED event: from, to, why."""
    before = locked.status
    locked.status = status
    locked.status_changed_at = timezone.now()
    locked.status_changed_by = actor
    locked.save(update_fields=["status", "status_changed_at", "status_changed_by"])
    _support_logged(locked, "status", **{"from": before, "to": status, "reason": reason}, actor=actor)


def _takedown_logged(takedown: TakedownRequest, change: str, *, actor: User, **extra: Any) -> None:
    """A TAKEDOWN_CHANGED event on the victim's case: which request, of which file and whose, what changed,
    its status now."""
    person = takedown.support_file.person
    details = {
        "takedown": takedown.pk,
        "support_file": takedown.support_file_id,
        "person": person.pseudonym,
        "change": change,
        "status": takedown.status,
        **extra,
    }
    _log(case_id=person.case_id, action=CustodyAction.TAKEDOWN_CHANGED, actor=actor, details=details)


def _text_sha256(text: str | None) -> str:
    return hashlib.sha256((text or "").encode()).hexdigest()


# --- support files ---------------------------------------------------------------------------------------


def _require_same_case(*, case: Case, support_file: SupportFile) -> None:
    if support_file.person.case_id != case.pk:
        raise RejectedInput(
            f"support file {support_file.pk} is not a support file of case {case.number}",
            details={"support_file": [f"not a support file of case {case.number}"]},
        )


def _victim_support_member(*, case: Case, user: User, field_name: str) -> None:
    is_support = case_memberships(action=Action.SUPPORT_WRITE).filter(case=case, user=user).exists()
    if not is_support:
        message = (
            f"{user.get_username()} is not a victim_support member of case {case.number}: the case lead adds "
            "support workers to the team first"
        )
        raise RejectedInput(message, details={field_name: [message]})


def support_file_open(
    *, case: Case, person: Person, actor: User, assigned_worker: User | None = None
) -> SupportFile:
    """Open the support file of a victim of the case (one per victim), optionally assigning a worker."""
    if person.case_id != case.pk:
        raise RejectedInput(f"{person.pseudonym} is not a person of case {case.number}")
    if person.kind != PersonKind.VICTIM:
        message = (
            f"{person.pseudonym} is recorded as {person.kind}, not a victim: support files are for victims"
        )
        raise RejectedInput(message, details={"person": [message]})
    if assigned_worker is not None:
        _victim_support_member(case=case, user=assigned_worker, field_name="assigned_worker")
    try:
        with transaction.atomic():
            support_file = SupportFile.objects.create(
                person=person,
                assigned_worker=assigned_worker,
                opened_by=actor,
                status_changed_by=actor,
            )
            _support_logged(
                support_file,
                "opened",
                status=support_file.status,
                assigned_worker=assigned_worker.get_username() if assigned_worker else "",
                actor=actor,
            )
    except IntegrityError:
        message = f"{person.pseudonym} already has a support file: open it instead"
        raise RejectedInput(message, details={"person": [message]}) from None
    return support_file


def support_file_set_status(
    *, support_file: SupportFile, status: str, actor: User, reason: str = ""
) -> SupportFile:
    """Move a support file to another status; closing waits until no takedown is awaiting an answer."""
    with transaction.atomic():
        locked = _locked_support_file(support_file)
        allowed = SUPPORT_TRANSITIONS[locked.status]
        if status not in allowed:
            message = (
                f"a support file that is {locked.status} cannot become {status}: it may become "
                f"{', '.join(sorted(allowed))}"
            )
            raise RejectedInput(message, details={"status": [message]})
        if locked.status == SupportStatus.CLOSED and not reason.strip():
            message = "reopening a closed support file needs a reason"
            raise RejectedInput(message, details={"reason": [message]})
        if status == SupportStatus.CLOSED:
            waiting = list(
                locked.takedowns.filter(status__in=TAKEDOWN_AWAITING)
                .order_by("id")
                .values_list("pk", flat=True)
            )
            if waiting:
                message = (
                    f"takedown requests {', '.join(map(str, waiting))} still await an answer: record their "
                    "outcome (removed or refused) before closing the file"
                )
                raise RejectedInput(message, details={"status": [message]})
        _support_status_move(locked, status, actor=actor, reason=reason)
    return locked


def support_file_assign(*, support_file: SupportFile, worker: User | None, actor: User) -> SupportFile:
    """Assign the support worker (a victim_support member of the case), or unassign with None."""
    with transaction.atomic():
        locked = _locked_support_file(support_file)
        case = Case.objects.get(pk=locked.person.case_id)
        if worker is not None:
            _victim_support_member(case=case, user=worker, field_name="assigned_worker")
        before = locked.assigned_worker
        locked.assigned_worker = worker
        locked.save(update_fields=["assigned_worker"])
        _support_logged(
            locked,
            "assigned_worker",
            **{
                "from": before.get_username() if before else "",
                "to": worker.get_username() if worker else "",
            },
            actor=actor,
        )
    return locked


# --- consents --------------------------------------------------------------------------------------------


def consent_give(
    *,
    support_file: SupportFile,
    kind: str,
    actor: User,
    given_by: str,
    given_at: datetime | None = None,
    how: str = "",
) -> SupportConsent:
    """Record a consent as given (when, by whom, how). Only one of each kind is in force at a time."""
    given_at = _moment(given_at, field_name="given_at")
    try:
        with transaction.atomic():
            locked = _locked_support_file(support_file)
            consent = SupportConsent.objects.create(
                support_file=locked,
                kind=kind,
                given_by=given_by,
                given_at=given_at,
                given_recorded_by=actor,
                how=how,
            )
            _support_logged(
                locked,
                "consent_given",
                consent=consent.pk,
                kind=kind,
                given_by=given_by,
                given_at=utc_iso(given_at),
                how=how,
                actor=actor,
            )
    except IntegrityError:
        message = (
            f"a {kind} consent is already in force on this support file: withdraw it first if it is to be "
            "recorded anew"
        )
        raise RejectedInput(message, details={"kind": [message]}) from None
    return consent


def consent_withdraw(
    *, consent: SupportConsent, actor: User, withdrawn_at: datetime | None = None, how: str = ""
) -> SupportConsent:
    """Record that a consent was withdrawn; from then on it gates nothing (hash exports stop)."""
    with transaction.atomic():
        # The ledger lock, then the file row, as hash_export takes them: an export and a withdrawal never
        # interleave.
        ledger_lock()
        SupportFile.objects.select_for_update().filter(pk=consent.support_file_id).first()
        locked = (
            SupportConsent.objects.select_for_update()
            .select_related("support_file__person")
            .get(pk=consent.pk)
        )
        if locked.withdrawn_at is not None:
            raise RejectedInput(
                f"consent {locked.pk} was already withdrawn at {locked.withdrawn_at.isoformat()}",
                details={"consent": ["already withdrawn"]},
            )
        locked.withdrawn_at = _moment(
            withdrawn_at, field_name="withdrawn_at", not_before=[(locked.given_at, "the consent was given")]
        )
        locked.withdrawn_recorded_by = actor
        locked.withdrawn_recorded_at = timezone.now()
        locked.withdrawn_how = how
        locked.save(
            update_fields=["withdrawn_at", "withdrawn_recorded_by", "withdrawn_recorded_at", "withdrawn_how"]
        )
        _support_logged(
            locked.support_file,
            "consent_withdrawn",
            consent=locked.pk,
            kind=locked.kind,
            withdrawn_at=utc_iso(locked.withdrawn_at),
            how=how,
            actor=actor,
        )
    return locked


# --- restricted notes ------------------------------------------------------------------------------------


def note_add(*, case: Case, support_file: SupportFile, text: str, actor: User) -> NoteView:
    """Seal and store a restricted note; the custody event records that a note was added, never its text."""
    require(case=case, action=Action.SUPPORT_NOTES, doing="write restricted support notes")
    _require_same_case(case=case, support_file=support_file)
    if not text.strip():
        raise RejectedInput("a note needs some text", details={"text": ["This field may not be blank."]})
    sealed, key_id = note_seal(support_file_id=support_file.pk, text=text)
    with transaction.atomic():
        note = SupportNote.objects.create(
            support_file=support_file, sealed=sealed, key_id=key_id, written_by=actor
        )
        _support_logged(support_file, "note_added", note=note.pk, actor=actor)
    return NoteView(note=note, text=text)


# --- takedown requests -----------------------------------------------------------------------------------


def _case_items(*, case: Case, item_ids: Iterable[int]) -> list[EvidenceItem]:
    wanted = sorted(set(item_ids))
    items = list(
        EvidenceItem.objects.filter(case=case, pk__in=wanted, status=ItemStatus.INGESTED, blob__isnull=False)
        .only("id", "blob_id")
        .order_by("id")
    )
    missing = sorted(set(wanted) - {item.pk for item in items})
    if missing:
        message = (
            f"items {', '.join(map(str, missing))} are not stored items of case {case.number}: "
            "reference items of this case by their id"
        )
        raise RejectedInput(message, details={"items": [message]})
    return items


def _item_refs(items: Iterable[EvidenceItem]) -> list[dict[str, Any]]:
    return [{"id": item.pk, "sha256": item.blob_id} for item in items]


def takedown_create(
    *,
    case: Case,
    support_file: SupportFile,
    actor: User,
    addressee: str,
    platform: str,
    target_url: str,
    item_ids: Iterable[int] = (),
    channel_reference: str | None = "",
    addressee_contact: str = "",
    description: str = "",
    follows_up: TakedownReappearance | None = None,
) -> TakedownRequest:
    """Draft a takedown request for one of the case's support files."""
    _require_same_case(case=case, support_file=support_file)
    items = _case_items(case=case, item_ids=item_ids)
    with transaction.atomic():
        takedown = TakedownRequest.objects.create(
            support_file=support_file,
            addressee=addressee,
            platform=platform,
            target_url=target_url,
            channel_reference=channel_reference or "",
            addressee_contact=addressee_contact,
            description=description,
            created_by=actor,
            follows_up=follows_up,
        )
        takedown.items.set(items)
        _takedown_logged(
            takedown,
            "drafted",
            addressee=addressee,
            platform=platform,
            target_url=target_url,
            channel_reference=channel_reference or "",
            description_sha256=_text_sha256(description),
            items=_item_refs(items),
            follows_up_reappearance=follows_up.pk if follows_up else None,
            actor=actor,
        )
    return takedown


DRAFT_FIELDS = (
    "addressee",
    "platform",
    "target_url",
    "channel_reference",
    "addressee_contact",
    "description",
)


def takedown_update_draft(
    *, case: Case, takedown: TakedownRequest, actor: User, changes: dict[str, Any]
) -> TakedownRequest:
    """Change a draft (fields and item references); once sent, a request is changed only by its steps."""
    unknown = sorted(set(changes) - set(DRAFT_FIELDS) - {"items"})
    if unknown:
        raise RejectedInput(f"cannot change {', '.join(unknown)} of a takedown request")
    items = _case_items(case=case, item_ids=changes["items"]) if "items" in changes else None
    with transaction.atomic():
        locked = _locked_takedown(takedown)
        if locked.status != TakedownStatus.DRAFT:
            message = (
                f"takedown request {locked.pk} is {locked.status}, no longer a draft: only drafts can be "
                "edited; record its next step instead"
            )
            raise RejectedInput(message, details={"status": [message]})
        changed: dict[str, Any] = {}
        for name in DRAFT_FIELDS:
            if name in changes:
                value = changes[name]
                if name == "channel_reference":
                    value = value or ""
                before = getattr(locked, name)
                if before != value:
                    if name == "description":
                        # Free text stays out of the append-only ledger (it could name someone); its hash
                        # still proves which text was there.
                        changed[name] = {
                            "from_sha256": _text_sha256(before),
                            "to_sha256": _text_sha256(value),
                        }
                    else:
                        changed[name] = {"from": before or "", "to": value or ""}
                    setattr(locked, name, value)
        if changed:
            locked.save(update_fields=list(changed))
        if items is not None:
            before = sorted(locked.items.values_list("pk", flat=True))
            if before != [item.pk for item in items]:
                locked.items.set(items)
                changed["items"] = {"from": before, "to": _item_refs(items)}
        if changed:
            _takedown_logged(locked, "draft_edited", changes=changed, actor=actor)
    return locked


def _require_status(takedown: TakedownRequest, allowed: Collection[str], step: str) -> None:
    if takedown.status not in allowed:
        message = (
            f"takedown request {takedown.pk} is {takedown.status}: it can be {step} only when it is "
            f"{' or '.join(sorted(allowed))}"
        )
        raise RejectedInput(message, details={"status": [message]})


def _reference_change(takedown: TakedownRequest, reference_number: str) -> dict[str, Any]:
    reference_number = reference_number.strip()
    if not reference_number or reference_number == takedown.reference_number:
        return {}
    change = {"reference_number": {"from": takedown.reference_number, "to": reference_number}}
    takedown.reference_number = reference_number
    return change


# each step after the draft: the states it may start from, and how a refusal message names it
_TAKEDOWN_STEPS: dict[str, tuple[Collection[str], str]] = {
    "sent": ({TakedownStatus.DRAFT}, "sent"),
    "acknowledged": ({TakedownStatus.SENT}, "acknowledged"),
    "removed": ({TakedownStatus.SENT, TakedownStatus.ACKNOWLEDGED}, "marked removed"),
    "refused": ({TakedownStatus.SENT, TakedownStatus.ACKNOWLEDGED}, "refused"),
}


def _takedown_step(
    takedown: TakedownRequest,
    actor: User,
    change: str,
    reference_number: str,
    apply: Callable[[TakedownRequest], dict[str, Any]],
) -> TakedownRequest:
    """One step of a request's life: lock, check the state, ``apply`` the step's fields, log the step.

    ``apply`` sets the step's fields on the locked row and returns what the ledger records of them.
    """
    allowed, step = _TAKEDOWN_STEPS[change]
    with transaction.atomic():
        locked = _locked_takedown(takedown)
        _require_status(locked, allowed, step)
        recorded = apply(locked)
        extra = _reference_change(locked, reference_number)
        locked.save()
        _takedown_logged(locked, change, **recorded, **extra, actor=actor)
    return locked


def takedown_send(
    *,
    takedown: TakedownRequest,
    actor: User,
    sent_at: datetime | None = None,
    reference_number: str = "",
    addressee_contact: str = "",
) -> TakedownRequest:
    """Record that a draft was sent to its addressee (when, under which reference)."""

    def apply(locked: TakedownRequest) -> dict[str, Any]:
        locked.sent_at = _moment(sent_at, field_name="sent_at")
        locked.sent_by = actor
        locked.status = TakedownStatus.SENT
        if addressee_contact.strip():
            locked.addressee_contact = addressee_contact.strip()
        return {
            "sent_at": utc_iso(locked.sent_at),
            "addressee": locked.addressee,
            "addressee_contact": locked.addressee_contact,
            "target_url": locked.target_url,
        }

    return _takedown_step(takedown, actor, "sent", reference_number, apply)


def takedown_acknowledge(
    *,
    takedown: TakedownRequest,
    actor: User,
    acknowledged_at: datetime | None = None,
    reference_number: str = "",
) -> TakedownRequest:
    """Record the addressee's acknowledgement (often with their ticket or receipt number)."""

    def apply(locked: TakedownRequest) -> dict[str, Any]:
        locked.acknowledged_at = _moment(
            acknowledged_at, field_name="acknowledged_at", not_before=[(locked.sent_at, "it was sent")]
        )
        locked.acknowledged_by = actor
        locked.status = TakedownStatus.ACKNOWLEDGED
        return {"acknowledged_at": utc_iso(locked.acknowledged_at)}

    return _takedown_step(takedown, actor, "acknowledged", reference_number, apply)


def _after_sent_or_acknowledged(locked: TakedownRequest, given: datetime | None, field_name: str) -> datetime:
    """The moment of a removal or refusal: given or now, never before the request was sent or acknowledged."""
    return _moment(
        given,
        field_name=field_name,
        not_before=[(locked.sent_at, "it was sent"), (locked.acknowledged_at, "it was acknowledged")],
    )


def takedown_mark_removed(
    *, takedown: TakedownRequest, actor: User, removed_at: datetime | None = None, reference_number: str = ""
) -> TakedownRequest:
    """Record that the target was taken down (seen gone, or confirmed by the addressee)."""

    def apply(locked: TakedownRequest) -> dict[str, Any]:
        locked.removed_at = _after_sent_or_acknowledged(locked, removed_at, "removed_at")
        locked.removed_recorded_by = actor
        locked.status = TakedownStatus.REMOVED
        return {"removed_at": utc_iso(locked.removed_at)}

    return _takedown_step(takedown, actor, "removed", reference_number, apply)


def takedown_refuse(
    *,
    takedown: TakedownRequest,
    actor: User,
    reason: str,
    refused_at: datetime | None = None,
    reference_number: str = "",
) -> TakedownRequest:
    """Record that the addressee refused, with the reason they gave."""
    if not reason.strip():
        raise RejectedInput("a refusal needs the reason the addressee gave", details={"reason": ["required"]})

    def apply(locked: TakedownRequest) -> dict[str, Any]:
        locked.refused_at = _after_sent_or_acknowledged(locked, refused_at, "refused_at")
        locked.refused_recorded_by = actor
        locked.refusal_reason = reason.strip()
        locked.status = TakedownStatus.REFUSED
        return {"refused_at": utc_iso(locked.refused_at), "reason": locked.refusal_reason}

    return _takedown_step(takedown, actor, "refused", reference_number, apply)


@dataclass(frozen=True)
class ReappearanceResult:
    reappearance: TakedownReappearance
    support_file_reopened: bool
    follow_up: TakedownRequest | None
    capture: Capture | None = None


def takedown_capture(*, case: Case, takedown: TakedownRequest, actor: User) -> Capture:
    """Ask for the takedown's target URL to be captured as evidence (the run is queued on commit)."""
    with transaction.atomic():
        capture = capture_queue(case=case, url=takedown.target_url, actor=actor)
        _takedown_logged(takedown, "capture requested", capture=capture.pk, actor=actor)
    return capture


def takedown_record_reappearance(
    *,
    case: Case,
    takedown: TakedownRequest,
    actor: User,
    url: str,
    seen_at: datetime | None = None,
    note: str = "",
    draft_follow_up: bool = False,
) -> ReappearanceResult:
    """Record a removed target seen again; a closed support file goes back to monitoring.

    The new URL is captured (queued on commit), so the reappearance is evidence, not only a note. With
    ``draft_follow_up`` a new draft request to the same addressee and platform is made for the new URL,
    linked to this reappearance.
    """
    with transaction.atomic():
        locked = _locked_takedown(takedown)
        _require_status(locked, {TakedownStatus.REMOVED}, "recorded as reappeared")
        seen_at = _moment(seen_at, field_name="seen_at", not_before=[(locked.removed_at, "it was removed")])
        reappearance = TakedownReappearance.objects.create(
            takedown=locked, seen_at=seen_at, url=url, note=note, recorded_by=actor
        )
        support_file = _locked_support_file(locked.support_file)
        reopened = support_file.status == SupportStatus.CLOSED
        capture = capture_queue(case=case, url=url, actor=actor) if not url_check(url) else None
        _takedown_logged(
            locked,
            "reappeared",
            reappearance=reappearance.pk,
            seen_at=utc_iso(seen_at),
            url=url,
            capture=capture.pk if capture else None,
            actor=actor,
        )
        if reopened:
            _support_status_move(
                support_file,
                SupportStatus.MONITORING,
                actor=actor,
                reason=f"takedown {locked.pk}: target seen again (reappearance {reappearance.pk})",
            )
        follow_up = None
        if draft_follow_up:
            follow_up = takedown_create(
                case=case,
                support_file=support_file,
                actor=actor,
                addressee=locked.addressee,
                platform=locked.platform,
                target_url=url,
                item_ids=locked.items.values_list("pk", flat=True),
                channel_reference=locked.channel_reference,
                addressee_contact=locked.addressee_contact,
                description=locked.description,
                follows_up=reappearance,
            )
    return ReappearanceResult(
        reappearance=reappearance, support_file_reopened=reopened, follow_up=follow_up, capture=capture
    )


# --- hash export for blocking ----------------------------------------------------------------------------


@dataclass(frozen=True)
class HashExport:
    body: bytes
    content_type: str
    filename: str
    entries: list[HashListEntry]
    sha256: str


def hash_list_entries(*, support_file: SupportFile) -> list[HashListEntry]:
    """Confirmed, not withdrawn 'depicts' links of the victim to stored items: one entry per distinct file.

    Suspected links (a detector's face match, an investigator's guess) are left out: a wrong hash shared
    under the victim's consent would block someone else's content or nothing, and consent covers the
    material that depicts the victim, which a suspicion does not establish.
    """
    links = (
        victim_depicting_links(support_file=support_file)
        .filter(confidence=LinkConfidence.CONFIRMED)
        .values_list("item_id", "item__blob_id", "item__blob__md5", "item__blob__size", "item__mime")
        .order_by("item__blob_id", "item_id")
    )
    entries: dict[str, HashListEntry] = {}
    item_to_sha: dict[int, str] = {}
    for item_id, sha256, md5, size, mime in links:
        item_to_sha[item_id] = sha256
        if sha256 not in entries:
            entries[sha256] = HashListEntry(
                sha256=sha256, md5=md5, size=size, content_type=content_type_of(mime)
            )
    pdq_rows = (
        Annotation.objects.filter(item_id__in=list(item_to_sha), label=PDQ_LABEL)
        .exclude(review_status=ReviewStatus.REJECTED)
        .values_list("item_id", "details", "time_start_ms")
        .order_by("item_id", "time_start_ms", "id")
    )
    seen: dict[str, dict[str, PdqHash]] = {}
    for item_id, details, time_start_ms in pdq_rows:
        pdq = str((details or {}).get("hash", "")).lower()
        quality = (details or {}).get("quality")
        if not _HEX64.match(pdq) or not isinstance(quality, int):
            continue  # not the agreed shape: never export something a platform cannot read
        sha256 = item_to_sha[item_id]
        known = seen.setdefault(sha256, {})
        if pdq not in known or quality > known[pdq].quality:
            known[pdq] = PdqHash(hash=pdq, quality=quality, frame_ms=time_start_ms)
    for sha256, hashes in seen.items():
        entries[sha256].pdq = list(hashes.values())
    return list(entries.values())


def hash_export(
    *,
    case: Case,
    support_file: SupportFile,
    actor: User,
    export_format: str,
    recipient: str,
    include_pseudonym: bool = False,
) -> HashExport:
    """The victim's hash list for platform blocking, as JSON or CSV; each export a custody event.

    Needs the victim's share_hashes consent in force. Holds hashes only: no image, no identity, at most the
    pseudonym.
    """
    _require_same_case(case=case, support_file=support_file)
    if export_format not in ("json", "csv"):
        message = f"format must be json or csv, not {export_format!r}"
        raise RejectedInput(message, details={"format": [message]})
    if not recipient.strip():
        message = "name who the hashes go to (e.g. 'StopNCII', 'KCSC', a platform's trust and safety team)"
        raise RejectedInput(message, details={"recipient": [message]})
    with transaction.atomic():
        locked = _locked_support_file(support_file)
        consent = consent_in_force(support_file=locked, kind=ConsentKind.SHARE_HASHES)
        if consent is None:
            raise AccessDenied(
                f"{locked.person.pseudonym} has not consented (or has withdrawn consent) to sharing hashes "
                "of the material with platforms: once the victim (or their guardian) agrees, record it with "
                f"POST /api/v1/cases/{case.number}/support-files/{locked.pk}/consents/ "
                '{"kind": "share_hashes", "given_by": "victim", "how": "signed form"} and export again'
            )
        entries = hash_list_entries(support_file=locked)
        if not entries:
            raise RejectedInput(
                f"no stored item is linked to {locked.person.pseudonym} as 'depicts' with confidence "
                "confirmed: ask the investigator to confirm the links, then export again",
                details={"items": ["no confirmed depicts links"]},
            )
        generated_at = timezone.now()
        meta: dict[str, Any] = {
            "format": HASH_EXPORT_FORMAT,
            "generated_at": utc_iso(generated_at),
            "subject": locked.person.pseudonym if include_pseudonym else None,
            "signal_types": ["sha256", "md5", "pdq"],
            "confirmed_links_only": True,
            "file_count": len(entries),
        }
        if export_format == "json":
            body, content_type = render_json(entries, meta), "application/json"
        else:
            body, content_type = render_csv(entries), "text/csv; charset=utf-8"
        digest = hashlib.sha256(body).hexdigest()
        stem = f"hashes-{locked.person.pseudonym}" if include_pseudonym else "hashes"
        filename = f"{stem}-{generated_at.strftime('%Y%m%dT%H%M%SZ')}.{export_format}"
        _support_event(
            locked,
            CustodyAction.HASHES_EXPORTED,
            actor=actor,
            format=export_format,
            recipient=recipient.strip(),
            consent=consent.pk,
            files=len(entries),
            pdq_hashes=sum(len(e.pdq) for e in entries),
            include_pseudonym=include_pseudonym,
            export_sha256=digest,
            file_sha256s=[e.sha256 for e in entries],
        )
    return HashExport(body=body, content_type=content_type, filename=filename, entries=entries, sha256=digest)
