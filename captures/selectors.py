"""Reads of captures, filtered by who asks."""

from typing import Any

from django.db.models import QuerySet

from access.models import Case
from access.policy import Action, Caller, may
from captures.models import Capture
from evidence.models import EvidenceItem

__all__ = ["capture_items", "capture_list", "capture_result_visible"]


def capture_list(*, case: Case) -> QuerySet[Capture]:
    """The case's captures, newest first (the caller's right to list them is checked by the door)."""
    return Capture.objects.filter(case=case).select_related("requested_by").order_by("-requested_at", "-id")


def capture_result_visible(*, user: Caller, case: Case) -> bool:
    """May the caller see what captures found (items, final address, server, headers), or only status?"""
    return may(user=user, case=case, action=Action.CAPTURE_RESULT)


def capture_items(*, capture: Capture) -> list[dict[str, Any]]:
    """The capture's files as items (top level: the WACZ, screenshot, DOM, facts), in ingest order."""
    if capture.acquisition_id is None:
        return []
    rows = EvidenceItem.objects.filter(acquisition_id=capture.acquisition_id, parent__isnull=True).order_by(
        "id"
    )
    return [
        {
            "id": item.pk,
            "name": item.original_name,
            "sha256": item.blob_id,
            "size": item.size,
            "mime": item.mime,
        }
        for item in rows
    ]
