"""Reads on the vault, filtered by who asks: items and custody of the cases the user may see.

Which cases a user may see, and with what role, is the access app's (``access.selectors``); this module
applies it to the vault's items and custody. A prosecutor member of a case sees only the items of its shared
exhibits (``access.hooks.shared_item_ids``, which the exhibits app provides); every other item of the case
is "not found" to them, exactly like an item of another case.
"""

from datetime import timedelta
from typing import Any

from django.db.models import (
    Count,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from access import hooks
from access.policy import Caller, _signed_in, access_role_expression
from access.selectors import prosecuted_case_ids, shared_exhibit_item_ids, visible_case_ids
from evidence.models import CustodyEvent, EvidenceItem
from haetae.errors import NotFound


def evidence_visible_to(*, user: Caller) -> QuerySet[EvidenceItem]:
    """Items of the cases the user may see (team or live grant), each once; on a case where the user is the
    prosecutor, only the items of its shared exhibits."""
    if not _signed_in(user):
        return EvidenceItem.objects.none()
    whole_cases = visible_case_ids(user=user).exclude(pk__in=prosecuted_case_ids(user=user))
    return EvidenceItem.objects.filter(
        Q(case_id__in=whole_cases) | Q(pk__in=shared_exhibit_item_ids(user=user))
    )


def evidence_get_for(*, user: Caller, item_id: int) -> EvidenceItem:
    """One visible item with its blob, acquisition, case, ``children_count`` and ``caller_role``.

    NotFound otherwise, with the same message whether the item exists in another case or not at all.
    """
    children = (
        EvidenceItem.objects.filter(parent_id=OuterRef("pk"))
        .order_by()
        .values("parent_id")
        .annotate(total=Count("pk"))
        .values("total")
    )
    item = None
    if _signed_in(user):
        item = (
            evidence_visible_to(user=user)
            .select_related("blob", "case", "acquisition", "acquisition__actor")
            .annotate(
                children_count=Coalesce(Subquery(children, output_field=IntegerField()), Value(0)),
                caller_role=access_role_expression(user=user, case_ref="case_id"),
            )
            .filter(pk=item_id)
            .first()
        )
    if item is None:
        raise NotFound(
            f"no evidence item {item_id} in your cases: check the id, or ask the case lead to add you to "
            "the team"
        )
    return item


def custody_events_for(*, user: Caller, item: EvidenceItem) -> QuerySet[CustodyEvent]:
    """The item's custody events in ledger order, empty unless the user may see the item."""
    if not _signed_in(user):
        return CustodyEvent.objects.none()
    return CustodyEvent.objects.filter(
        item_id=item.pk, item_id__in=evidence_visible_to(user=user).values("pk")
    ).order_by("seq")


def exposure_for(*, user: Caller, days: int = 7) -> dict[str, int]:
    """The user's own content views in the last ``days`` days: ``viewed`` events and distinct items.

    Only the caller's own record (their exposure to harmful material), so no case filter is needed.
    """
    if not _signed_in(user):
        return {"views": 0, "items": 0}
    since = timezone.now() - timedelta(days=days)
    views = CustodyEvent.objects.filter(actor_id=user.pk, action="viewed", occurred_at__gte=since)
    counts = views.aggregate(views=Count("pk"), items=Count("item_id", distinct=True))
    return {"views": int(counts["views"] or 0), "items": int(counts["items"] or 0)}


def case_custody_for(*, user: Caller, case_id: int) -> QuerySet[CustodyEvent]:
    """The case-level custody events (no item) of a case the user may see, in ledger order.

    A prosecutor sees only the events of the case's shared exhibits (the other case-level events name
    items and steps of the investigation that are not theirs to see)."""
    if not _signed_in(user):
        return CustodyEvent.objects.none()
    events = CustodyEvent.objects.filter(
        case_id=case_id, item__isnull=True, case_id__in=visible_case_ids(user=user)
    )
    if prosecuted_case_ids(user=user).filter(case_id=case_id).exists():
        shared = hooks.shared_exhibit_numbers(case_id)
        events = events.filter(action__startswith="exhibit_", details__exhibit__in=shared)
    return events.order_by("seq")


def case_list_item_counts(cases: QuerySet[Any], user: Caller) -> QuerySet[Any]:
    """The caller's cases with ``item_count``: the items of each that the caller may see (a prosecutor only
    the items of shared exhibits). Provided to ``access.hooks`` for the case list."""
    item_count = (
        evidence_visible_to(user=user)
        .filter(case_id=OuterRef("pk"))
        .order_by()
        .values("case_id")
        .annotate(total=Count("pk"))
        .values("total")
    )
    return cases.annotate(item_count=Coalesce(Subquery(item_count, output_field=IntegerField()), Value(0)))
