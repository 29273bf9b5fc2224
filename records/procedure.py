"""Korean procedure records that are data: the hash confirmation taken at the scene, and selective seizure.

- ``scene_confirmation_record``: the investigator enters what was hashed at the scene, the hashes, who
  computed them, who witnessed (참관인: a name and their relation), and the participant's refusal to sign with
  its reason. A ``scene_hash_recorded`` event on the case holds the hashes in clear and the rest as a salted
  SHA-256, so the stored record can be checked against the ledger without the ledger naming anyone.
- Selective seizure (선별압수; 대법원 2011모1839, 2021모1586): ``unrelated_mark`` marks items as unrelated to
  the warrant with a reason. From then on they are out of analysis, exhibits and exports (their status is
  ``unrelated``: every selector that takes ``ingested`` items leaves them out, the detection worker skips
  them, and content and previews are refused). ``unrelated_unmark`` withdraws a mistaken mark.
  ``unrelated_dispose`` records their return or deletion with the person searched's confirmation (or refusal):
  either way the vault's copy is crypto-erased through the records app's one erasure path
  (``records.services.item_content_erase``), the item is marked destroyed, and the ledger keeps every event.

Each service takes the ledger lock first, then the case row, then the rows it changes.
"""

import hashlib
import json
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from access.models import Case
from access.policy import POLICY, Action, case_access_role, role_may
from evidence.choices import CustodyAction, ItemStatus
from evidence.custody import EventSpec, custody_append_many, item_event, ledger_lock
from evidence.models import Acquisition, EvidenceItem
from exhibits.choices import ExhibitStatus
from exhibits.models import ExhibitItem
from haetae.db import ledger_transaction
from haetae.errors import AccessDenied, NotFound, RejectedInput
from haetae.toolkit import utc_iso
from records.certificate import destruction_certificate_issue
from records.choices import DestructionOrderStatus, UnrelatedDisposalKind, UnrelatedMarkStatus
from records.models import DestructionOrder, SceneConfirmation, UnrelatedDisposal, UnrelatedMark
from records.services import (
    erasures_finish,
    item_content_erase,
    item_destroyed,
    order_erasures_finish,
)

HASH_LENGTHS = {"SHA-256": 64, "SHA-1": 40, "MD5": 32, "SHA-512": 128}
_HEX = re.compile(r"^[0-9a-f]+$")


def _require(*, case: Case, actor: User, action: Action, doing: str) -> None:
    role = case_access_role(user=actor, case_id=case.pk)
    if not role_may(role, action):
        who = ", ".join(sorted(POLICY[action]))
        raise AccessDenied(
            f"your role on case {case.number} is {role or 'none'}; only {who} may {doing}: ask the case lead"
        )


def _text(value: str | None) -> str:
    return (value or "").strip()


def _hash_entries(hashes: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """The hashes as entered, checked: a name, a known algorithm, and a hex value of its length."""
    if not hashes:
        raise RejectedInput(
            "give at least one hash computed at the scene (name, algorithm SHA-256/SHA-1/MD5/SHA-512, value)"
        )
    entries = []
    for index, entry in enumerate(hashes, start=1):
        name = _text(entry.get("name"))
        algorithm = (
            _text(entry.get("algorithm")).upper().replace("SHA256", "SHA-256").replace("SHA1", "SHA-1")
        )
        algorithm = algorithm.replace("SHA512", "SHA-512")
        value = _text(entry.get("value")).lower().replace(" ", "").replace(":", "")
        if algorithm not in HASH_LENGTHS:
            raise RejectedInput(
                f"hash {index}: algorithm {entry.get('algorithm')!r} is not one of "
                f"{', '.join(HASH_LENGTHS)}: write it as the hashing tool showed it"
            )
        if len(value) != HASH_LENGTHS[algorithm] or not _HEX.match(value):
            raise RejectedInput(
                f"hash {index} ({name or 'unnamed'}): a {algorithm} value is {HASH_LENGTHS[algorithm]} hex "
                f"digits, this one is {len(value)} characters: copy it again from the tool's output"
            )
        if not name:
            raise RejectedInput(f"hash {index}: say what was hashed (the image file or the file's name)")
        entries.append({"name": name, "algorithm": algorithm, "value": value})
    return entries


def scene_record_sha256(confirmation: SceneConfirmation) -> str:
    """The salted SHA-256 of what a confirmation states; the ledger holds it (and ``verify`` can recompute
    it from the row)."""
    facts = {
        "salt": confirmation.record_salt,
        "number": confirmation.number,
        "acquisition": confirmation.acquisition_id,
        "subject": confirmation.subject,
        "hashes": confirmation.hashes,
        "tool": confirmation.tool,
        "computed_by": confirmation.computed_by,
        "computed_at": utc_iso(confirmation.computed_at),
        "place": confirmation.place,
        "person_searched": confirmation.person_searched,
        "witness_name": confirmation.witness_name,
        "witness_relation": confirmation.witness_relation,
        "participant_refused": confirmation.participant_refused,
        "refusal_reason": confirmation.refusal_reason,
    }
    return hashlib.sha256(json.dumps(facts, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def scene_confirmation_record(
    *,
    case: Case,
    actor: User,
    subject: str,
    hashes: Sequence[dict[str, Any]],
    computed_by: str,
    computed_at: datetime | None = None,
    acquisition_id: int | None = None,
    tool: str = "",
    place: str = "",
    person_searched: str = "",
    witness_name: str = "",
    witness_relation: str = "",
    participant_refused: bool = False,
    refusal_reason: str = "",
) -> SceneConfirmation:
    """Store a hash confirmation made at the scene, as the investigator enters it; a ``scene_hash_recorded``
    event on the case (the hashes in clear, the rest as a salted SHA-256)."""
    _require(case=case, actor=actor, action=Action.PROCEDURE_RECORD, doing="record a scene hash confirmation")
    subject, computed_by = _text(subject), _text(computed_by)
    if not subject:
        raise RejectedInput("say what was hashed at the scene (e.g. 'phone image suspect-phone.E01')")
    if not computed_by:
        raise RejectedInput("say who computed the hashes (computed_by: a name)")
    entries = _hash_entries(hashes)
    computed_at = computed_at or timezone.now()
    if timezone.is_naive(computed_at):
        raise RejectedInput(
            f"computed_at {computed_at.isoformat()} has no offset: give the zone too (e.g. +09:00), so the "
            "time means one moment"
        )
    if computed_at > timezone.now() + timedelta(minutes=5):
        raise RejectedInput(f"computed_at {utc_iso(computed_at)} is in the future: give the time it was done")
    witness_name, witness_relation = _text(witness_name), _text(witness_relation)
    if witness_name and not witness_relation:
        raise RejectedInput(
            f"say how the witness {witness_name} relates to the person searched (e.g. 변호인, 가족, 직원, "
            "이웃): the relation is printed beside the name"
        )
    refusal_reason = _text(refusal_reason)
    if participant_refused and not refusal_reason:
        raise RejectedInput(
            "the participant refused to sign: record the reason they gave (or write that they gave none)"
        )
    if not participant_refused and refusal_reason:
        raise RejectedInput(
            "a refusal reason was given but participant_refused is not set: set it, or drop it"
        )
    with ledger_transaction():
        case = Case.objects.select_for_update().get(pk=case.pk)
        acquisition = None
        if acquisition_id is not None:
            acquisition = Acquisition.objects.filter(case=case, pk=acquisition_id).first()
            if acquisition is None:
                raise RejectedInput(f"case {case.number} has no acquisition {acquisition_id}")
        last = SceneConfirmation.objects.filter(case=case).aggregate(n=Max("number"))["n"]
        confirmation = SceneConfirmation(
            case=case,
            acquisition=acquisition,
            number=f"H-{(int(last[2:]) if last else 0) + 1:03d}",
            subject=subject,
            hashes=entries,
            tool=_text(tool),
            computed_by=computed_by,
            computed_at=computed_at,
            place=_text(place),
            person_searched=_text(person_searched),
            witness_name=witness_name,
            witness_relation=witness_relation,
            participant_refused=bool(participant_refused),
            refusal_reason=refusal_reason,
            recorded_by=actor,
        )
        confirmation.record_sha256 = scene_record_sha256(confirmation)
        confirmation.save()
        custody_append_many(
            [
                EventSpec(
                    case_id=case.pk,
                    action=CustodyAction.SCENE_HASH_RECORDED,
                    actor=actor,
                    legal_authority=(acquisition.seizure_reference if acquisition else "")[:300],
                    details={
                        "confirmation": confirmation.number,
                        "acquisition": confirmation.acquisition_id,
                        "hashes": [{"algorithm": e["algorithm"], "value": e["value"]} for e in entries],
                        "computed_at": utc_iso(computed_at),
                        "participant_refused": confirmation.participant_refused,
                        "witnessed": bool(witness_name),
                        "record_sha256": confirmation.record_sha256,
                    },
                )
            ]
        )
    return confirmation


# -- selective seizure --------------------------------------------------------------------------------------


def _items_named(case: Case, item_ids: Sequence[int]) -> list[EvidenceItem]:
    wanted = set(item_ids)
    if not wanted:
        raise RejectedInput("name at least one item")
    items = list(
        EvidenceItem.objects.select_for_update(of=("self",))
        .filter(case=case, pk__in=wanted)
        .select_related("blob")
        .order_by("pk")
    )
    missing = sorted(wanted - {i.pk for i in items})
    if missing:
        raise RejectedInput(f"case {case.number} has no items {missing}: name only the case's items")
    return items


def unrelated_mark(*, case: Case, actor: User, item_ids: Sequence[int], reason: str) -> list[UnrelatedMark]:
    """Mark stored items as unrelated to the warrant, with the reason; a ``marked_unrelated`` event each.

    Items in an exhibit that is not withdrawn are refused: an exhibit the court may see does not lose items
    silently, so they are taken out of it first.
    """
    _require(
        case=case, actor=actor, action=Action.UNRELATED_MARK, doing="mark items unrelated to the warrant"
    )
    reason = _text(reason)
    if not reason:
        raise RejectedInput(
            "say why the items are unrelated to the warrant (e.g. '영장 기재 범죄사실과 무관한 가족 사진')"
        )
    now = timezone.now()
    with ledger_transaction():
        case = Case.objects.select_for_update().get(pk=case.pk)
        items = _items_named(case, item_ids)
        wrong = [
            f"{i.pk} ({i.status})" for i in items if i.status != ItemStatus.INGESTED or i.blob_id is None
        ]
        if wrong:
            raise RejectedInput(
                f"items {', '.join(wrong)} are not stored items of the case: only stored items (status "
                "ingested) are marked unrelated"
            )
        exhibited = (
            ExhibitItem.objects.filter(item__in=items)
            .exclude(exhibit__status=ExhibitStatus.WITHDRAWN)
            .select_related("exhibit")
            .order_by("item_id")
        )
        clash = exhibited.first()
        if clash is not None:
            raise RejectedInput(
                f"item {clash.item_id} is in exhibit {clash.exhibit.number} ({clash.exhibit.status}): take "
                "it out of the exhibit (or withdraw the exhibit) before marking it unrelated to the warrant"
            )
        marks = []
        specs = []
        for item in items:
            marks.append(
                UnrelatedMark.objects.create(
                    case=case,
                    item=item,
                    reason=reason,
                    marked_by=actor,
                    marked_at=now,
                    sha256=item.blob_id or "",
                )
            )
            item.status = ItemStatus.UNRELATED
            item.status_reason = f"marked unrelated to the warrant on {now:%Y-%m-%d %H:%M} UTC: {reason}"
            item.save(update_fields=["status", "status_reason"])
            specs.append(
                item_event(
                    item,
                    CustodyAction.MARKED_UNRELATED,
                    actor,
                    purpose=reason,
                    details={"mark": marks[-1].pk},
                )
            )
        custody_append_many(specs)
    return marks


def unrelated_unmark(*, mark: UnrelatedMark, actor: User, reason: str) -> UnrelatedMark:
    """Withdraw a mark made by mistake, before the item is returned or deleted: the item is back in the
    case."""
    _require(case=mark.case, actor=actor, action=Action.UNRELATED_MARK, doing="withdraw a mark as unrelated")
    reason = _text(reason)
    if not reason:
        raise RejectedInput("say why the mark is withdrawn (e.g. the item is within the warrant after all)")
    with ledger_transaction():
        Case.objects.select_for_update().filter(pk=mark.case_id).first()
        mark = UnrelatedMark.objects.select_for_update().get(pk=mark.pk)
        if mark.status != UnrelatedMarkStatus.MARKED:
            raise RejectedInput(
                f"the mark on item {mark.item_id} is {mark.status}: only an open mark can be withdrawn"
            )
        item = EvidenceItem.objects.select_for_update().get(pk=mark.item_id)
        mark.status, mark.withdrawn_by, mark.withdrawn_at, mark.withdrawn_reason = (
            UnrelatedMarkStatus.WITHDRAWN,
            actor,
            timezone.now(),
            reason,
        )
        mark.save(update_fields=["status", "withdrawn_by", "withdrawn_at", "withdrawn_reason"])
        item.status, item.status_reason = ItemStatus.INGESTED, ""
        item.save(update_fields=["status", "status_reason"])
        custody_append_many(
            [
                item_event(
                    item, CustodyAction.UNRELATED_UNMARKED, actor, purpose=reason, details={"mark": mark.pk}
                )
            ]
        )
    return mark


def unrelated_dispose(
    *,
    case: Case,
    actor: User,
    item_ids: Sequence[int],
    kind: str,
    person_searched: str,
    confirmation: str = "",
    person_refused: bool = False,
    refusal_reason: str = "",
    handover: str = "",
) -> UnrelatedDisposal:
    """Record the return or deletion of items marked unrelated, with the person searched's confirmation.

    Either way the vault's copy is crypto-erased (unrelated information is not kept) unless another live
    item still needs the same bytes; the item is marked destroyed and gets an ``unrelated_returned`` or
    ``unrelated_deleted`` event with what the erasure did.
    """
    _require(
        case=case,
        actor=actor,
        action=Action.UNRELATED_DISPOSE,
        doing="record the return or deletion of unrelated items",
    )
    if kind not in UnrelatedDisposalKind.values:
        raise RejectedInput(f"kind must be one of {', '.join(UnrelatedDisposalKind.values)}, not {kind!r}")
    person_searched, confirmation = _text(person_searched), _text(confirmation)
    refusal_reason, handover = _text(refusal_reason), _text(handover)
    if not person_searched:
        raise RejectedInput("name the person searched, who confirms the return or deletion")
    if person_refused and not refusal_reason:
        raise RejectedInput("the person searched refused to confirm: record the reason they gave")
    if not person_refused and not confirmation:
        raise RejectedInput(
            "record how the person searched confirmed it (e.g. 'signed the return receipt'), or that they "
            "refused (person_refused, with the reason)"
        )
    if kind == UnrelatedDisposalKind.RETURNED and not handover:
        raise RejectedInput("say what was handed back, on what medium and to whom (handover)")
    now = timezone.now()
    with transaction.atomic(durable=True):  # phase one commits before any byte is erased
        ledger_lock()
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.legal_hold:
            raise RejectedInput(
                f"case {case.number} is under a legal hold "
                f"({case.legal_hold_reason or 'no reason recorded'}): nothing of it may be erased; the case "
                "lead lifts the hold first"
            )
        items = _items_named(case, item_ids)
        marks = {
            m.item_id: m
            for m in UnrelatedMark.objects.select_for_update().filter(
                case=case, item__in=items, status=UnrelatedMarkStatus.MARKED
            )
        }
        unmarked = [i.pk for i in items if i.pk not in marks]
        if unmarked:
            raise RejectedInput(
                f"items {unmarked} are not marked unrelated to the warrant: mark them first (with the reason)"
            )
        last = UnrelatedDisposal.objects.filter(case=case).aggregate(n=Max("number"))["n"]
        disposal = UnrelatedDisposal.objects.create(
            case=case,
            number=f"U-{(int(last[2:]) if last else 0) + 1:03d}",
            kind=kind,
            done_by=actor,
            done_at=now,
            person_searched=person_searched,
            confirmation=confirmation,
            person_refused=bool(person_refused),
            refusal_reason=refusal_reason,
            handover=handover,
        )
        reference = f"{case.number} {disposal.number}"
        leaving = {i.pk for i in items}
        words = "returned to the person searched" if kind == UnrelatedDisposalKind.RETURNED else "deleted"
        action = (
            CustodyAction.UNRELATED_RETURNED
            if kind == UnrelatedDisposalKind.RETURNED
            else CustodyAction.UNRELATED_DELETED
        )
        specs = []
        for item in items:
            mark = marks[item.pk]
            outcome, done = item_content_erase(item=item, reference=reference, leaving=leaving)
            mark.status, mark.disposal, mark.outcome, mark.details = kind, disposal, outcome, done
            mark.save(update_fields=["status", "disposal", "outcome", "details"])
            specs.append(
                item_destroyed(
                    item,
                    action,
                    actor,
                    sha256=mark.sha256,
                    status_reason=(
                        f"{words} as unrelated to the warrant on {now:%Y-%m-%d %H:%M} UTC "
                        f"({disposal.number} of case {case.number}); the vault's copy erased"
                    ),
                    purpose=mark.reason,
                    to_custodian="person searched" if kind == UnrelatedDisposalKind.RETURNED else "",
                    details={
                        "disposal": disposal.number,
                        "mark": mark.pk,
                        "outcome": outcome,
                        "confirmed": not disposal.person_refused,
                        "person_refused": disposal.person_refused,
                        **done,
                    },
                )
            )
        custody_append_many(specs)
    unrelated_erasures_finish(disposal=disposal, actor=actor)
    return disposal


def unrelated_erasures_finish(
    *, disposal: UnrelatedDisposal, actor: User | None
) -> dict[str, dict[str, str]]:
    """The second phase of a disposal: erase the bytes it marked, and note the times on its marks.

    Idempotent (``records.services.erasures_finish``): run again after a crash, it finishes what is left.
    """
    return erasures_finish(
        case_id=disposal.case_id,
        reference=f"{disposal.case.number} {disposal.number}",
        rows=list(UnrelatedMark.objects.filter(disposal=disposal).order_by("item_id")),
        actor=actor,
    )


def erasure_finish(*, case: Case, number: str, actor: User) -> dict[str, dict[str, str]]:
    """Finish the erasure an interrupted destruction order (``D-…``) or disposal (``U-…``) left pending;
    returns what was erased now (nothing when nothing was pending)."""
    if number.startswith("D-"):
        order = DestructionOrder.objects.filter(case=case, number=number).first()
        if order is None:
            raise NotFound(f"case {case.number} has no destruction order {number}")
        _require(case=case, actor=actor, action=Action.DESTRUCTION_REQUEST, doing="finish a destruction")
        if order.status != DestructionOrderStatus.EXECUTED:
            raise RejectedInput(f"destruction order {number} is {order.status}: nothing of it was erased yet")
        done = order_erasures_finish(order=order, actor=actor)
        if done or order.certificate_id is None:
            destruction_certificate_issue(order=order, actor=actor)
        return done
    disposal = UnrelatedDisposal.objects.filter(case=case, number=number).first()
    if disposal is None:
        raise NotFound(f"case {case.number} has no destruction order or disposal {number} (D-… or U-…)")
    _require(case=case, actor=actor, action=Action.UNRELATED_DISPOSE, doing="finish a disposal's erasure")
    return unrelated_erasures_finish(disposal=disposal, actor=actor)
