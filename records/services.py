"""Destruction orders: request, authorise, witness, execute (crypto-erasure), refuse; each a custody event.

Three different people: the requester (a case lead) asks and later carries it out; a supervisor on the team
authorises; a third team member witnesses, before execution, that the list is the one authorised. A legal
hold blocks every step. Execution crypto-erases each item's content (``evidence.destruction``) unless
another case's live item holds the same bytes, removes derivatives and previews, marks the items destroyed,
writes a ``destroyed`` event per item, and then issues the signed certificate (``records.certificate``).
Each write takes the ledger lock first, then the rows, so it never deadlocks with other ledger writers.
"""

from collections.abc import Collection, Iterable, Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from access.choices import GlobalRole
from access.models import Case
from access.policy import Action, case_access_role, role_may
from evidence.choices import CustodyAction, ItemStatus
from evidence.custody import EventSpec, custody_append_many, item_event, ledger_lock
from evidence.destruction import blob_bytes_erase, blob_mark_destroyed
from evidence.models import Blob, Derivative, EvidenceItem
from haetae.db import ledger_transaction
from haetae.errors import AccessDenied, RejectedInput
from records.certificate import destruction_certificate_issue
from records.choices import DestructionOrderStatus, DestructionOutcome
from records.models import DestructionOrder, DestructionOrderItem, UnrelatedMark
from records.retention import retention_state
from search.services import index_forget


def _require(*, case: Case, actor: User, action: Action, doing: str) -> str:
    role = case_access_role(user=actor, case_id=case.pk)
    if not role_may(role, action):
        raise AccessDenied(
            f"your role on case {case.number} is {role or 'none'}; you may not {doing}: ask the case lead"
        )
    return str(role)


def _hold_refusal(case: Case, doing: str) -> None:
    if case.legal_hold:
        raise RejectedInput(
            f"case {case.number} is under a legal hold ({case.legal_hold_reason or 'no reason recorded'}): "
            f"nothing of it may be destroyed, so you cannot {doing}. The case lead must lift the hold first"
        )


def _locked(order: DestructionOrder) -> tuple[DestructionOrder, Case]:
    """Ledger lock first, then the case and the order rows (the one lock order every ledger writer keeps)."""
    ledger_lock()
    case = Case.objects.select_for_update().get(pk=order.case_id)
    return DestructionOrder.objects.select_for_update().get(pk=order.pk), case


def _expect(order: DestructionOrder, status: str, doing: str) -> None:
    if order.status != status:
        raise RejectedInput(
            f"destruction order {order.number} is {order.status}: you can {doing} only when it is {status}"
        )


def _case_event(order: DestructionOrder, action: str, actor: User, details: dict[str, Any]) -> EventSpec:
    return EventSpec(
        case_id=order.case_id,
        action=action,
        actor=actor,
        legal_authority=order.legal_basis[:300],
        details={"order": order.number, **details},
    )


def _step_taken(
    order: DestructionOrder, actor: User, *, step: str, status: str, action: str, **details: Any
) -> None:
    """Record a step on a locked order: its status, who took the step and when (``<step>_by``,
    ``<step>_at``), and its case event naming the step."""
    order.status = status
    setattr(order, f"{step}_by", actor)
    setattr(order, f"{step}_at", timezone.now())
    order.save(update_fields=["status", f"{step}_by", f"{step}_at"])
    custody_append_many([_case_event(order, action, actor, {"step": step, **details})])


def destruction_order_request(
    *,
    case: Case,
    actor: User,
    item_ids: Sequence[int] | None,
    legal_basis: str,
    reason: str = "",
    court_order: str = "",
) -> DestructionOrder:
    """A lead asks to destroy items of the case (all of them when ``item_ids`` is None).

    The case must be due under the retention schedule, or ``court_order`` must name the court's order or
    judgment that requires destruction now. A ``destruction_ordered`` event goes on each item's chain.
    """
    _require(case=case, actor=actor, action=Action.DESTRUCTION_REQUEST, doing="request a destruction order")
    legal_basis = (legal_basis or "").strip()
    if not legal_basis:
        raise RejectedInput(
            "a destruction order needs its legal basis (e.g. '형사소송법 제219조, 보존기간 경과' "
            "or the court's order): give one and try again"
        )
    now = timezone.now()
    with ledger_transaction():
        case = Case.objects.select_for_update().get(pk=case.pk)
        _hold_refusal(case, "request a destruction order")
        retention = retention_state(case=case, now=now)
        court_order = (court_order or "").strip()
        if not retention.due and not court_order:
            raise RejectedInput(
                f"{retention.explanation}: it is not due for destruction. Name the court's order that "
                "requires destruction now (court_order), or wait"
            )
        items = EvidenceItem.objects.filter(case=case).exclude(status=ItemStatus.DESTROYED)
        if item_ids is not None:
            wanted = set(item_ids)
            items = items.filter(pk__in=wanted)
            found = set(items.values_list("pk", flat=True))
            if not wanted or found != wanted:
                missing = sorted(wanted - found)
                named = ", ".join(map(str, missing[:20])) + (
                    f" and {len(missing) - 20} more" if missing[20:] else ""
                )
                raise RejectedInput(
                    f"items {named} are not live items of case {case.number} (unknown, of another case, or "
                    "already destroyed): name only the case's items that still exist"
                    if missing
                    else "name at least one item"
                )
        items_list = list(items.select_related("blob").order_by("pk"))
        if not items_list:
            raise RejectedInput(f"case {case.number} has no item left to destroy")
        pending = DestructionOrderItem.objects.filter(
            item__in=items_list,
            order__status__in=[
                DestructionOrderStatus.REQUESTED,
                DestructionOrderStatus.AUTHORISED,
                DestructionOrderStatus.WITNESSED,
            ],
        ).select_related("order")
        clash = pending.first()
        if clash is not None:
            raise RejectedInput(
                f"item {clash.item_id} is already in destruction order {clash.order.number} "
                f"({clash.order.status}): execute or withdraw that order first"
            )
        last = DestructionOrder.objects.filter(case=case).aggregate(n=Max("number"))["n"]
        number = f"D-{(int(last[2:]) if last else 0) + 1:03d}"
        order = DestructionOrder.objects.create(
            case=case,
            number=number,
            legal_basis=legal_basis,
            reason=(reason or "").strip(),
            requested_by=actor,
            requested_at=now,
        )
        DestructionOrderItem.objects.bulk_create(
            DestructionOrderItem(
                order=order,
                item=item,
                sha256=item.blob_id or "",
                md5=item.blob.md5 if item.blob else "",
                sha1=item.blob.sha1 if item.blob else "",
                size=item.size,
            )
            for item in items_list
        )
        details = {
            "order": number,
            "step": "requested",
            "retention": retention.explanation,
            "court_order": court_order,
            "reason": order.reason,
        }
        custody_append_many(
            [
                item_event(
                    item,
                    CustodyAction.DESTRUCTION_ORDERED,
                    actor,
                    legal_authority=legal_basis[:300],
                    purpose=order.reason,
                    details=details,
                )
                for item in items_list
            ]
        )
    return order


def destruction_order_authorise(*, order: DestructionOrder, actor: User, note: str = "") -> DestructionOrder:
    """A supervisor on the team, not the requester, authorises the order."""
    _require(case=order.case, actor=actor, action=Action.DESTRUCTION_AUTHORISE, doing="authorise destruction")
    if not actor.groups.filter(name=GlobalRole.SUPERVISOR).exists():
        raise AccessDenied(
            f"only a supervisor authorises destruction; {actor.get_username()} does not hold the supervisor "
            "role: ask your unit's supervisor (they need to be on the case team)"
        )
    with transaction.atomic():
        order, case = _locked(order)
        _expect(order, DestructionOrderStatus.REQUESTED, "authorise it")
        if order.requested_by_id == actor.pk:
            raise AccessDenied(
                f"you requested destruction order {order.number}; a different person must authorise it"
            )
        _hold_refusal(case, "authorise a destruction")
        _step_taken(
            order,
            actor,
            step="authorised",
            status=DestructionOrderStatus.AUTHORISED,
            action=CustodyAction.DESTRUCTION_AUTHORISED,
            note=note,
        )
    return order


def destruction_order_witness(*, order: DestructionOrder, actor: User) -> DestructionOrder:
    """A third team member, neither requester nor authoriser, confirms the list before it is carried out."""
    _require(case=order.case, actor=actor, action=Action.DESTRUCTION_WITNESS, doing="witness a destruction")
    with transaction.atomic():
        order, case = _locked(order)
        _expect(order, DestructionOrderStatus.AUTHORISED, "witness it")
        if actor.pk in (order.requested_by_id, order.authorised_by_id):
            raise AccessDenied(
                f"you requested or authorised destruction order {order.number}; the witness must be a third "
                "person"
            )
        _hold_refusal(case, "witness a destruction")
        listed = list(order.entries.values_list("item_id", "sha256"))
        _step_taken(
            order,
            actor,
            step="witnessed",
            status=DestructionOrderStatus.WITNESSED,
            action=CustodyAction.DESTRUCTION_WITNESSED,
            items=[{"item": i, "sha256": h} for i, h in listed],
        )
    return order


def destruction_order_refuse(*, order: DestructionOrder, actor: User, reason: str) -> DestructionOrder:
    """The requester withdraws, or a supervisor refuses, an order not yet executed; the items stay."""
    role = case_access_role(user=actor, case_id=order.case_id)
    if not (
        (actor.pk == order.requested_by_id and role_may(role, Action.DESTRUCTION_REQUEST))
        or (
            role_may(role, Action.DESTRUCTION_AUTHORISE)
            and actor.groups.filter(name=GlobalRole.SUPERVISOR).exists()
        )
    ):
        raise AccessDenied("only the requester or a supervisor on the team may withdraw or refuse an order")
    return _close(order=order, actor=actor, reason=reason, step="refused")


def destruction_order_withdraw(*, order: DestructionOrder, actor: User, reason: str) -> DestructionOrder:
    """The requester withdraws their own order not yet executed; the items stay."""
    role = case_access_role(user=actor, case_id=order.case_id)
    if actor.pk != order.requested_by_id or not role_may(role, Action.DESTRUCTION_REQUEST):
        raise AccessDenied(
            f"only the requester of destruction order {order.number} (a case lead) withdraws it; a "
            "supervisor on the team refuses it instead"
        )
    return _close(order=order, actor=actor, reason=reason, step="withdrawn")


def _close(*, order: DestructionOrder, actor: User, reason: str, step: str) -> DestructionOrder:
    """Refuse or withdraw an order not yet executed: a ``destruction_refused`` event naming the step."""
    if not (reason or "").strip():
        raise RejectedInput("say why the order is refused or withdrawn (reason)")
    with transaction.atomic():
        order, _case = _locked(order)
        if order.status in (DestructionOrderStatus.EXECUTED, DestructionOrderStatus.REFUSED):
            raise RejectedInput(f"destruction order {order.number} is already {order.status}")
        order.status, order.refused_by, order.refused_reason = (
            DestructionOrderStatus.REFUSED,
            actor,
            reason.strip(),
        )
        order.save(update_fields=["status", "refused_by", "refused_reason"])
        custody_append_many(
            [_case_event(order, CustodyAction.DESTRUCTION_REFUSED, actor, {"step": step, "reason": reason})]
        )
    return order


def _needed_elsewhere(sha256: str, leaving: Collection[int]) -> bool:
    """Whether a live item not among ``leaving`` (another case's, or one left behind) holds the bytes."""
    others = EvidenceItem.objects.filter(blob_id=sha256).exclude(status=ItemStatus.DESTROYED)
    return others.exclude(pk__in=list(leaving)).exists()


def _erase_derivatives(sha256: str, reference: str) -> list[dict[str, str]]:
    """Remove every derivative made from the bytes (previews, frames, maps): rows now, and their own blobs
    marked for erasure after the commit unless something else still uses them."""
    removed = []
    for derivative in Derivative.objects.filter(source_id=sha256).select_related("blob").order_by("pk"):
        blob = derivative.blob
        entry = {"kind": derivative.kind, "sha256": blob.sha256}
        derivative.delete()
        still_used = (
            Derivative.objects.filter(blob=blob).exists()
            or EvidenceItem.objects.filter(blob=blob).exclude(status=ItemStatus.DESTROYED).exists()
        )
        if not still_used and blob.destroyed_at is None:
            blob_mark_destroyed(blob=blob, reference=reference)
            entry["erasure"] = "after commit"
        removed.append(entry)
    return removed


def item_content_erase(
    *, item: EvidenceItem, reference: str, leaving: Collection[int]
) -> tuple[str, dict[str, Any]]:
    """Phase one of erasing one item's content and every derivative of it, unless a live item not among
    ``leaving`` (the items going with it) still needs the same bytes. Returns the outcome and what is done.

    The one erasure path of the records app: destruction orders and the deletion of items found unrelated to
    the warrant (``records.procedure``) both call it, inside the transaction that records it, after taking
    the ledger lock. It removes derivative rows and marks the blobs destroyed; ``done["erase"]`` lists the
    blobs whose key and ciphertext the caller erases once that transaction has committed
    (``erasures_finish``), so a transaction that fails leaves rows and bytes as they were.
    """
    if item.blob is None:
        return DestructionOutcome.NO_CONTENT, {}
    if _needed_elsewhere(item.blob.sha256, leaving):
        return DestructionOutcome.KEPT_SHARED, {}
    Blob.objects.select_for_update().filter(pk=item.blob.sha256).first()
    derivatives = _erase_derivatives(item.blob.sha256, reference)
    blob_mark_destroyed(blob=item.blob, reference=reference)
    erase = [item.blob.sha256] + [d["sha256"] for d in derivatives if d.get("erasure")]
    return DestructionOutcome.ERASED, {"derivatives": derivatives, "erasure": "after commit", "erase": erase}


def item_destroyed(
    item: EvidenceItem, action: str, actor: User, *, sha256: str, status_reason: str, **fields: Any
) -> EventSpec:
    """Mark an item whose content is erased (``item_content_erase``) destroyed, saying why; returns its event
    for the caller to append: the content's SHA-256 before, nothing after."""
    item.status = ItemStatus.DESTROYED
    item.status_reason = status_reason
    item.save(update_fields=["status", "status_reason"])
    return EventSpec(
        case_id=item.case_id,
        item_id=item.pk,
        action=action,
        actor=actor,
        sha256_before=sha256,
        sha256_after="",
        **fields,
    )


def erasures_finish(
    *,
    case_id: int,
    reference: str,
    rows: Sequence[DestructionOrderItem | UnrelatedMark],
    actor: User | None,
) -> dict[str, dict[str, str]]:
    """Phase two: erase the key and ciphertext of each blob the rows (an order's entries, a disposal's marks)
    list whose erasure is not yet recorded (marked destroyed in phase one), then record what was done (a
    ``destroyed`` event, step ``erased``, on the case chain; the rows' details note it in the same
    transaction). Returns what was done, by SHA-256.
    A blob a crash erased before its erasure was recorded is recorded now as found absent.

    Call after the transaction that marked the blobs committed (callers open it ``durable``, so it cannot be
    nested in a transaction of their caller that might still roll back). Idempotent: a blob already
    erased is skipped, so re-running after a crash finishes what is left and erases nothing twice.
    """
    results = {sha256: blob_bytes_erase(sha256) for sha256 in _erasures_due(rows)}
    if not results:
        return results
    with ledger_transaction():
        for row in rows:
            details = erasure_details(sha256=row.sha256, details=row.details or {}, results=results)
            if details != row.details:
                row.details = details
                row.save(update_fields=["details"])
        custody_append_many(
            [
                EventSpec(
                    case_id=case_id,
                    action=CustodyAction.DESTROYED,
                    actor=actor,
                    details={
                        "reference": reference,
                        "step": "erased",
                        "blobs": [{"sha256": sha256, **done} for sha256, done in sorted(results.items())],
                    },
                )
            ]
        )
    return results


_ERASURE_RECORDED = ("key_destroyed_at", "object_absent_at")


def erasures_unrecorded(*, sha256: str, details: dict[str, Any]) -> list[str]:
    """The blobs of one item's erasure (``details`` as ``item_content_erase`` returned them, ``sha256`` its
    content's) whose erasure has not been recorded yet: phase two is due for them."""
    recorded = set()
    if any(key in details for key in _ERASURE_RECORDED):
        recorded.add(sha256)
    for derivative in details.get("derivatives", []):
        if any(key in derivative for key in _ERASURE_RECORDED):
            recorded.add(derivative["sha256"])
    return [blob for blob in details.get("erase", []) if blob not in recorded]


def erasure_details(
    *, sha256: str, details: dict[str, Any], results: dict[str, dict[str, str]]
) -> dict[str, Any]:
    """One item's erasure ``details`` with what phase two did (``results``, by SHA-256) merged in; its
    ``erasure`` becomes ``done`` once every blob it listed is recorded."""
    merged = dict(details)
    if sha256 in results:
        merged.update(results[sha256])
    if "derivatives" in merged:
        merged["derivatives"] = [{**d, **results.get(d["sha256"], {})} for d in merged["derivatives"]]
    if "erase" in merged and not erasures_unrecorded(sha256=sha256, details=merged):
        merged["erasure"] = "done"
    return merged


def _erasures_due(rows: Iterable[DestructionOrderItem | UnrelatedMark]) -> list[str]:
    """The blobs the rows list for erasure whose erasure is not recorded yet, each once, in order."""
    return sorted(
        {blob for row in rows for blob in erasures_unrecorded(sha256=row.sha256, details=row.details or {})}
    )


def order_erasures_finish(*, order: DestructionOrder, actor: User) -> dict[str, dict[str, str]]:
    """The second phase of an executed order: erase what it marked, and note the times on its entries."""
    return erasures_finish(
        case_id=order.case_id,
        reference=f"{order.case.number} {order.number}",
        rows=list(order.entries.order_by("item_id")),
        actor=actor,
    )


def destruction_order_execute(*, order: DestructionOrder, actor: User) -> DestructionOrder:
    """The requester carries out a witnessed order, then the signed certificate is issued."""
    _require(case=order.case, actor=actor, action=Action.DESTRUCTION_REQUEST, doing="carry out a destruction")
    if order.status == DestructionOrderStatus.EXECUTED:
        # Re-running an executed order finishes an erasure a crash interrupted, and nothing else.
        order.refresh_from_db()
        if order_erasures_finish(order=order, actor=actor) or order.certificate_id is None:
            return destruction_certificate_issue(order=order, actor=actor)
    with transaction.atomic(durable=True):  # phase one commits before any byte is erased
        order, case = _locked(order)
        if order.status == DestructionOrderStatus.EXECUTED:
            raise RejectedInput(
                f"destruction order {order.number} was already executed on "
                f"{order.executed_at:%Y-%m-%d %H:%M} UTC: nothing is destroyed twice"
            )
        _expect(order, DestructionOrderStatus.WITNESSED, "carry it out (requested, authorised, witnessed)")
        if actor.pk != order.requested_by_id:
            raise AccessDenied(f"destruction order {order.number} is carried out by its requester")
        _hold_refusal(case, "carry out a destruction")
        reference = f"{case.number} {order.number}"
        now = timezone.now()
        specs = []
        leaving = set(order.entries.values_list("item_id", flat=True))
        for entry in order.entries.select_related("item", "item__blob").order_by("item_id"):
            item = entry.item
            done: dict[str, Any] = {"derivatives": []}
            if item.status == ItemStatus.DESTROYED:
                raise RejectedInput(
                    f"item {item.pk} was destroyed by another order meanwhile: withdraw this one"
                )
            entry.outcome, erased = item_content_erase(item=item, reference=reference, leaving=leaving)
            done.update(erased)
            entry.details = done
            entry.save(update_fields=["outcome", "details"])
            specs.append(
                item_destroyed(
                    item,
                    CustodyAction.DESTROYED,
                    actor,
                    sha256=entry.sha256,
                    status_reason=(
                        f"destroyed on {now:%Y-%m-%d %H:%M} UTC under destruction order {order.number} "
                        f"of case {case.number} ({order.legal_basis})"
                    ),
                    legal_authority=order.legal_basis[:300],
                    details={
                        "order": order.number,
                        "outcome": entry.outcome,
                        "authorised_by": order.authorised_by.get_username() if order.authorised_by else "",
                        "witnessed_by": order.witnessed_by.get_username() if order.witnessed_by else "",
                        **done,
                    },
                )
            )
        order.status, order.executed_by, order.executed_at = DestructionOrderStatus.EXECUTED, actor, now
        order.save(update_fields=["status", "executed_by", "executed_at"])
        custody_append_many(specs)
        # Destroyed items' text (names, OCR, documents) is no longer searchable.
        index_forget(kind="item", object_ids=[spec.item_id for spec in specs if spec.item_id is not None])
    order_erasures_finish(order=order, actor=actor)
    return destruction_certificate_issue(order=order, actor=actor)


def destruction_certificate_reissue(*, order: DestructionOrder, actor: User) -> DestructionOrder:
    """Sign and store an executed order's certificate again (signing failed at execution, or the signer was
    replaced); a ``destroyed`` event, step ``certified``, records the new certificate's SHA-256."""
    case = order.case
    _require(
        case=case,
        actor=actor,
        action=Action.DESTRUCTION_CERTIFICATE_ISSUE,
        doing="issue a destruction certificate again",
    )
    order.refresh_from_db()
    if order.executed_at is None:
        raise RejectedInput(
            f"destruction order {order.number} has not been executed (status {order.status}): its "
            "certificate is issued when it is carried out"
        )
    if _erasures_due(order.entries.all()):
        raise RejectedInput(
            f"destruction order {order.number} still has an erasure pending: its requester finishes it first "
            f"(manage.py destruction finish {case.number} {order.number} --actor "
            f"{order.requested_by.get_username()}), which issues the certificate"
        )
    return destruction_certificate_issue(order=order, actor=actor)
