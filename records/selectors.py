"""Reads of the destruction orders and the Korean procedure records of one case (the caller's case comes
from ``access.selectors``)."""

from django.db.models import Prefetch, QuerySet

from access.models import Case
from haetae.errors import NotFound
from records.models import (
    DestructionOrder,
    DestructionOrderItem,
    ProcedureDocument,
    SceneConfirmation,
    UnrelatedDisposal,
    UnrelatedMark,
)


def destruction_orders(*, case: Case) -> QuerySet[DestructionOrder]:
    """The case's destruction orders, D-001 first, with the people of each step and the items named."""
    return (
        DestructionOrder.objects.filter(case=case)
        .select_related("case", "requested_by", "authorised_by", "witnessed_by", "executed_by", "refused_by")
        .prefetch_related(
            Prefetch("entries", queryset=DestructionOrderItem.objects.order_by("item_id"), to_attr="items")
        )
        .order_by("number")
    )


def destruction_order_get(*, case: Case, number: str) -> DestructionOrder:
    """One destruction order by its number (D-001)."""
    found = destruction_orders(case=case).filter(number=number.upper()).first()
    if found is None:
        raise NotFound(f"case {case.number} has no destruction order {number}")
    return found


def procedure_documents(*, case: Case) -> QuerySet[ProcedureDocument]:
    """The documents issued on the case, oldest first."""
    return ProcedureDocument.objects.filter(case=case).select_related("issued_by").order_by("issued_at", "pk")


def procedure_document_get(*, case: Case, number: str) -> ProcedureDocument:
    """One issued document by its number (L-001, C-001, X-001)."""
    found = procedure_documents(case=case).filter(number=number.upper()).first()
    if found is None:
        raise NotFound(f"case {case.number} has no procedure document {number}")
    return found


def scene_confirmations(*, case: Case) -> QuerySet[SceneConfirmation]:
    """The scene hash confirmations recorded on the case."""
    return SceneConfirmation.objects.filter(case=case).select_related("recorded_by").order_by("number")


def scene_confirmation_get(*, case: Case, number: str) -> SceneConfirmation:
    found = scene_confirmations(case=case).filter(number=number.upper()).first()
    if found is None:
        raise NotFound(f"case {case.number} has no scene confirmation {number}")
    return found


def unrelated_marks(*, case: Case) -> QuerySet[UnrelatedMark]:
    """Every mark of an item as unrelated to the warrant, open or closed."""
    return (
        UnrelatedMark.objects.filter(case=case)
        .select_related("marked_by", "withdrawn_by", "disposal")
        .order_by("item_id", "pk")
    )


def unrelated_mark_get(*, case: Case, mark_id: int) -> UnrelatedMark:
    found = unrelated_marks(case=case).filter(pk=mark_id).first()
    if found is None:
        raise NotFound(f"case {case.number} has no mark {mark_id} of an item as unrelated")
    return found


def unrelated_disposals(*, case: Case) -> QuerySet[UnrelatedDisposal]:
    """The returns and deletions of unrelated items, with their marks."""
    return (
        UnrelatedDisposal.objects.filter(case=case)
        .select_related("done_by")
        .prefetch_related("marks")
        .order_by("number")
    )
