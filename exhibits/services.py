"""Writes on exhibits: create, edit while draft, request approval, approve (a supervisor), share, withdraw.

Each step records who and when on the exhibit and appends a case-level custody event in the same transaction;
putting an item into an exhibit (or taking it out, or withdrawing the exhibit) also appends an ``exhibited`` /
``unexhibited`` event to the item's own chain, so an item's custody history shows every exhibit it was put
forward in. Numbers (E-001…) are allocated under the case row lock and never reused: a withdrawn exhibit keeps
its row and its number.
"""

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from access.choices import GlobalRole
from access.models import Case
from access.policy import POLICY, Action, case_access_role, role_may
from evidence.choices import CustodyAction, ItemStatus
from evidence.custody import EventSpec, custody_append_many, ledger_lock
from evidence.models import EvidenceItem
from exhibits.choices import ExhibitStatus
from exhibits.models import Exhibit, ExhibitItem
from haetae.db import ledger_transaction
from haetae.errors import AccessDenied, NotFound, RejectedInput

EDITABLE_STATUSES = frozenset({ExhibitStatus.DRAFT, ExhibitStatus.PENDING})
APPROVABLE_STATUSES = frozenset({ExhibitStatus.DRAFT, ExhibitStatus.PENDING})


def exhibit_number(sequence: int) -> str:
    """E-001 for 1; more digits once past 999."""
    return f"E-{sequence:03d}"


def _require_role(*, case: Case, actor: User, action: Action, doing: str) -> str:
    role = case_access_role(user=actor, case_id=case.pk)
    if role is None:
        raise NotFound(f"no case {case.number} among your cases: ask its lead to add you to the team")
    if not role_may(role, action):
        allowed = ", ".join(sorted(str(r) for r in POLICY[action]))
        raise AccessDenied(
            f"your role on case {case.number} is {role}; only members with the role {allowed} may {doing}"
        )
    return role


def _locked_exhibit(exhibit: Exhibit) -> Exhibit:
    ledger_lock()  # before any row lock: the one lock order (docs/ledger.md)
    Case.objects.select_for_update(no_key=True).filter(pk=exhibit.case_id).first()
    return Exhibit.objects.select_for_update().select_related("case").get(pk=exhibit.pk)


def _require_status(exhibit: Exhibit, allowed: frozenset[str], why: str) -> None:
    if exhibit.status not in allowed:
        raise RejectedInput(f"exhibit {exhibit.number} is {exhibit.status}: {why}")


def _advance(exhibit: Exhibit, status: str, *, stamp: str, actor: User, **fields: Any) -> None:
    """Move a locked exhibit to ``status``, recording who (``<stamp>_by``) and when (``<stamp>_at``)."""
    exhibit.status = status
    setattr(exhibit, f"{stamp}_by", actor)
    setattr(exhibit, f"{stamp}_at", timezone.now())
    for name, value in fields.items():
        setattr(exhibit, name, value)
    exhibit.save()


def _item_ids(exhibit: Exhibit) -> list[int]:
    return list(exhibit.exhibit_items.order_by("position").values_list("item_id", flat=True))


def _resolve_items(*, case: Case, item_ids: Sequence[int]) -> list[EvidenceItem]:
    """The case's stored items in the order given; names each id that is missing, foreign or not stored."""
    if not item_ids:
        raise RejectedInput.for_field(
            "items", "an exhibit needs at least one evidence item: give the item ids"
        )
    ids = list(dict.fromkeys(int(i) for i in item_ids))
    found = {item.pk: item for item in EvidenceItem.objects.filter(case_id=case.pk, pk__in=ids)}
    missing = [i for i in ids if i not in found]
    if missing:
        raise RejectedInput.for_field(
            "items", f"no evidence item {', '.join(map(str, missing))} in case {case.number}"
        )
    unrelated = [i for i in ids if found[i].status == ItemStatus.UNRELATED]
    if unrelated:
        raise RejectedInput.for_field(
            "items",
            f"item {', '.join(map(str, unrelated))} was marked unrelated to the warrant and cannot be put "
            "forward as an exhibit (if the mark was a mistake, withdraw it first)",
        )
    unstored = [i for i in ids if found[i].status != ItemStatus.INGESTED or found[i].blob_id is None]
    if unstored:
        raise RejectedInput.for_field(
            "items",
            f"item {', '.join(map(str, unstored))} has no stored content (rejected at ingest) and cannot be "
            "put forward as an exhibit",
        )
    return [found[i] for i in ids]


def _case_event(
    exhibit: Exhibit, action: str, actor: User, details: dict[str, Any], purpose: str = ""
) -> EventSpec:
    return EventSpec(
        case_id=exhibit.case_id,
        action=action,
        actor=actor,
        purpose=purpose,
        details={"exhibit": exhibit.number, **details},
    )


def _item_events(exhibit: Exhibit, action: str, actor: User, item_ids: Sequence[int]) -> list[EventSpec]:
    return [
        EventSpec(
            case_id=exhibit.case_id,
            item_id=item_id,
            action=action,
            actor=actor,
            details={"exhibit": exhibit.number},
        )
        for item_id in item_ids
    ]


def exhibit_create(
    *, case: Case, item_ids: Sequence[int], description: str, actor: User, opinion: str = ""
) -> Exhibit:
    """Draft a new exhibit of the given items with the next number of the case (E-001, E-002, …)."""
    _require_role(case=case, actor=actor, action=Action.EXHIBIT_DRAFT, doing="draft exhibits")
    description = (description or "").strip()
    if not description:
        raise RejectedInput.for_field(
            "description", "describe the exhibit (what the items are and why they matter)"
        )
    with ledger_transaction():
        Case.objects.select_for_update(no_key=True).filter(pk=case.pk).first()
        items = _resolve_items(case=case, item_ids=item_ids)
        last = Exhibit.objects.filter(case_id=case.pk).aggregate(last=Max("sequence"))["last"] or 0
        exhibit = Exhibit.objects.create(
            case=case,
            sequence=last + 1,
            number=exhibit_number(last + 1),
            description=description,
            opinion=(opinion or "").strip(),
            created_by=actor,
        )
        ExhibitItem.objects.bulk_create(
            [ExhibitItem(exhibit=exhibit, item=item, position=n) for n, item in enumerate(items)]
        )
        ids = [item.pk for item in items]
        custody_append_many(
            [
                _case_event(exhibit, CustodyAction.EXHIBIT_CREATED, actor, {"items": ids}),
                *_item_events(exhibit, CustodyAction.EXHIBITED, actor, ids),
            ]
        )
    return exhibit


def exhibit_update(
    *,
    exhibit: Exhibit,
    actor: User,
    description: str | None = None,
    opinion: str | None = None,
    item_ids: Sequence[int] | None = None,
) -> Exhibit:
    """Edit a draft (or an exhibit awaiting approval, which goes back to draft); approved ones are final."""
    _require_role(case=exhibit.case, actor=actor, action=Action.EXHIBIT_DRAFT, doing="edit exhibits")
    with transaction.atomic():
        locked = _locked_exhibit(exhibit)
        if locked.status not in EDITABLE_STATUSES:
            raise RejectedInput(
                f"exhibit {locked.number} is {locked.status} and can no longer be edited: withdraw it "
                "(with a reason) and draft a new exhibit; its number is not reused"
            )
        changed: dict[str, Any] = {}
        specs: list[EventSpec] = []
        if description is not None:
            description = description.strip()
            if not description:
                raise RejectedInput.for_field("description", "an exhibit's description cannot be empty")
            if description != locked.description:
                locked.description = description
                changed["description"] = True
        if opinion is not None and opinion.strip() != locked.opinion:
            locked.opinion = opinion.strip()
            changed["opinion"] = True
        if item_ids is not None:
            before = _item_ids(locked)
            items = _resolve_items(case=locked.case, item_ids=item_ids)
            after = [item.pk for item in items]
            if after != before:
                locked.exhibit_items.all().delete()
                ExhibitItem.objects.bulk_create(
                    [ExhibitItem(exhibit=locked, item=item, position=n) for n, item in enumerate(items)]
                )
                added = [i for i in after if i not in before]
                removed = [i for i in before if i not in after]
                changed["items"] = {"before": before, "after": after}
                specs += _item_events(locked, CustodyAction.EXHIBITED, actor, added)
                specs += _item_events(locked, CustodyAction.UNEXHIBITED, actor, removed)
        if not changed:
            return locked
        if locked.status == ExhibitStatus.PENDING:
            locked.status = ExhibitStatus.DRAFT
            changed["returned_to_draft"] = True
        locked.save()
        custody_append_many([_case_event(locked, CustodyAction.EXHIBIT_CHANGED, actor, changed), *specs])
    return locked


def exhibit_request_approval(*, exhibit: Exhibit, actor: User) -> Exhibit:
    """Ask a supervisor to approve a draft."""
    _require_role(case=exhibit.case, actor=actor, action=Action.EXHIBIT_DRAFT, doing="ask for approval")
    with transaction.atomic():
        locked = _locked_exhibit(exhibit)
        _require_status(locked, frozenset({ExhibitStatus.DRAFT}), "only a draft can be sent for approval")
        _advance(locked, ExhibitStatus.PENDING, stamp="approval_requested", actor=actor)
        custody_append_many([_case_event(locked, CustodyAction.EXHIBIT_APPROVAL_REQUESTED, actor, {})])
    return locked


def is_supervisor(user: User) -> bool:
    """Whether the user holds the supervisor global role (a Django group)."""
    return user.groups.filter(name=GlobalRole.SUPERVISOR).exists()


def exhibit_approve(*, exhibit: Exhibit, actor: User, note: str = "") -> Exhibit:
    """A supervisor on the team approves a draft or pending exhibit; nobody approves their own."""
    _require_role(case=exhibit.case, actor=actor, action=Action.EXHIBIT_APPROVE, doing="approve exhibits")
    if not is_supervisor(actor):
        raise AccessDenied(
            f"only a supervisor approves exhibits; {actor.get_username()} does not hold the supervisor role: "
            "ask your unit's supervisor (they need to be on the case team)"
        )
    with transaction.atomic():
        locked = _locked_exhibit(exhibit)
        _require_status(locked, APPROVABLE_STATUSES, "only drafts and pending exhibits are approved")
        if locked.created_by_id == actor.pk:
            raise AccessDenied(
                f"you drafted exhibit {locked.number}; a different supervisor must approve it (four eyes)"
            )
        _advance(locked, ExhibitStatus.APPROVED, stamp="approved", actor=actor)
        custody_append_many(
            [
                _case_event(
                    locked, CustodyAction.EXHIBIT_APPROVED, actor, {"items": _item_ids(locked)}, purpose=note
                )
            ]
        )
    return locked


def exhibit_share(*, exhibit: Exhibit, actor: User) -> Exhibit:
    """The lead shares an approved exhibit with the case's prosecutors (who see its items, and only those)."""
    _require_role(case=exhibit.case, actor=actor, action=Action.EXHIBIT_SHARE, doing="share exhibits")
    with transaction.atomic():
        locked = _locked_exhibit(exhibit)
        _require_status(
            locked,
            frozenset({ExhibitStatus.APPROVED}),
            "a supervisor approves an exhibit before it is shared",
        )
        _advance(locked, ExhibitStatus.SHARED, stamp="shared", actor=actor)
        custody_append_many(
            [_case_event(locked, CustodyAction.EXHIBIT_SHARED, actor, {"items": _item_ids(locked)})]
        )
    return locked


def exhibit_withdraw(*, exhibit: Exhibit, actor: User, reason: str) -> Exhibit:
    """Withdraw an exhibit (its number stays taken); a shared one stops being visible to the prosecutor."""
    _require_role(case=exhibit.case, actor=actor, action=Action.EXHIBIT_SHARE, doing="withdraw exhibits")
    reason = (reason or "").strip()
    if not reason:
        raise RejectedInput.for_field(
            "reason", "say why the exhibit is withdrawn; it goes into the case's custody record"
        )
    with transaction.atomic():
        locked = _locked_exhibit(exhibit)
        if locked.status == ExhibitStatus.WITHDRAWN:
            raise RejectedInput(f"exhibit {locked.number} is already withdrawn")
        before = locked.status
        _advance(locked, ExhibitStatus.WITHDRAWN, stamp="withdrawn", actor=actor, withdrawn_reason=reason)
        # The items leave the exhibit as put forward: each item's own chain says so, with the reason.
        item_specs = [
            EventSpec(
                case_id=locked.case_id,
                item_id=item_id,
                action=CustodyAction.UNEXHIBITED,
                actor=actor,
                purpose=reason,
                details={"exhibit": locked.number, "withdrawn": True},
            )
            for item_id in _item_ids(locked)
        ]
        custody_append_many(
            [
                _case_event(locked, CustodyAction.EXHIBIT_WITHDRAWN, actor, {"from": before}, purpose=reason),
                *item_specs,
            ]
        )
    return locked
