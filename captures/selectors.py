"""Reads of captures, filtered by who asks."""

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from access.models import Case
from access.policy import Action, Caller, may
from captures.models import Capture
from evidence.models import EvidenceItem
from evidence.timestamps import acquisition_trusted_times
from haetae.toolkit import username_of

__all__ = ["capture_items", "capture_list", "capture_provenance", "capture_result_visible"]


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


def capture_provenance(
    *, acquisition_ids: Iterable[int], times: dict[int, str] | None = None
) -> dict[int, dict[str, Any]]:
    """For reports and bundles: the capture behind each of these acquisitions (by acquisition id), with its
    trusted time: who asked, the address asked for and reached, the server's address, when (two queries)."""
    ids = sorted(set(acquisition_ids))
    times = acquisition_trusted_times(acquisition_ids=ids) if times is None else times
    found: dict[int, dict[str, Any]] = {}
    for capture in Capture.objects.filter(acquisition_id__in=ids).select_related("requested_by"):
        acquisition_id = capture.acquisition_id or 0
        found[acquisition_id] = {
            "capture": capture.pk,
            "acquisition": acquisition_id,
            "url": capture.url,
            "final_url": capture.final_url,
            "resolved_ip": capture.resolved_ip,
            "requested_by": username_of(capture.requested_by),
            "started_at": capture.facts.get("started_at"),
            "finished_at": capture.facts.get("finished_at"),
            "trusted_time": times.get(acquisition_id),
        }
    return found
