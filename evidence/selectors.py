"""Reads on the vault, filtered by who asks: items and custody of cases whose team the user is on.

Cases are named by lookups (``case__members__user``), not imported: evidence does not depend on casefile.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from evidence.models import CustodyEvent, EvidenceItem
from haetae.errors import NotFound


def evidence_visible_to(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[EvidenceItem]:
    """Items of the cases the user is a member of (membership is unique per case, so no duplicates)."""
    if not user.is_authenticated:
        return EvidenceItem.objects.none()
    return EvidenceItem.objects.filter(case__members__user_id=user.pk)


def evidence_get_for(*, user: AbstractBaseUser | AnonymousUser, item_id: int) -> EvidenceItem:
    """One visible item with its blob, acquisition, case and ``children_count``; NotFound otherwise."""
    children = (
        EvidenceItem.objects.filter(parent_id=OuterRef("pk"))
        .order_by()
        .values("parent_id")
        .annotate(total=Count("pk"))
        .values("total")
    )
    item = (
        evidence_visible_to(user=user)
        .select_related("blob", "case", "acquisition", "acquisition__actor")
        .annotate(children_count=Coalesce(Subquery(children, output_field=IntegerField()), Value(0)))
        .filter(pk=item_id)
        .first()
    )
    if item is None:
        raise NotFound(
            f"no evidence item {item_id} in your cases: check the id, or ask the case lead to add you to "
            "the team"
        )
    return item


def custody_events_for(
    *, user: AbstractBaseUser | AnonymousUser, item: EvidenceItem
) -> QuerySet[CustodyEvent]:
    """The item's custody events in ledger order, empty unless the user is on the item's case team."""
    if not user.is_authenticated:
        return CustodyEvent.objects.none()
    return CustodyEvent.objects.filter(item_id=item.pk, case__members__user_id=user.pk).order_by("seq")
