"""What a court relies on about an item and an acquisition, as the ledger recorded it at acquisition.

The columns of ``EvidenceItem`` and ``Acquisition`` are ordinary rows that the database owner can UPDATE;
the ledger's leaves cannot change unseen. So ingest writes every fact a court relies on into the leaf data
of the item's first event (``acquired``, or ``rejected``) and of the acquisition's ``acquisition_started``
and ``acquisition_completed`` events; ``verify`` compares the columns with those leaves, and the exhibit
manifest takes its values from the leaves and refuses when a column disagrees. Leaves written before a fact
was recorded there simply lack its key: that fact is then not compared (and the manifest uses the column).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from evidence.custody import utc_iso
from evidence.models import Acquisition, CustodyEvent, EvidenceItem


@dataclass(frozen=True)
class Difference:
    """One fact whose database column differs from what the ledger recorded."""

    field: str
    recorded: Any  # in the ledger
    found: Any  # in the database now


def _iso(moment: datetime | None) -> str | None:
    return utc_iso(moment) if moment is not None else None


def item_record(item: EvidenceItem) -> dict[str, Any]:
    """The item's facts as written into its acquisition event's details (JSON values, times in UTC ISO)."""
    return {
        "acquisition": item.acquisition_id,
        "original_name": item.original_name,
        "original_path": item.original_path,
        "original_path_raw": bytes(item.original_path_raw).hex(),
        "source": item.source,
        "kind": item.kind,
        "parent": item.parent_id,
        "member_index": item.member_index,
        "mime": item.mime,
        "size": item.size,
        "link_target": item.link_target,
        "file_modified_at": _iso(item.file_modified_at),
        "file_accessed_at": _iso(item.file_accessed_at),
        "file_changed_at": _iso(item.file_changed_at),
        "file_created_at": _iso(item.file_created_at),
        "acquired_at": _iso(item.acquired_at),
        "acquired_by": item.acquired_by.get_username(),
    }


def item_record_differences(item: EvidenceItem, event: CustodyEvent) -> list[Difference]:
    """Each fact of ``item`` (with its blob and acquisition) that differs from its acquisition event."""
    details = event.details or {}
    now = item_record(item)
    differences = [
        Difference(name, details[name], now[name])
        for name in now
        if name in details and name != "acquired_by" and details[name] != now[name]
    ]
    # The acquirer is the event's actor; the username in the record is for people (users can be renamed).
    if item.acquired_by_id != event.actor_id:
        differences.append(Difference("acquired_by", event.actor_name, now["acquired_by"]))
    if item.case_id != event.case_id:
        differences.append(Difference("case", event.case_id, item.case_id))
    seizure_reference = item.acquisition.seizure_reference
    if event.legal_authority != seizure_reference:
        differences.append(Difference("seizure_reference", event.legal_authority, seizure_reference))
    blob = item.blob
    if blob is not None:
        for name in ("md5", "sha1"):
            if name in details and details[name] != getattr(blob, name):
                differences.append(Difference(name, details[name], getattr(blob, name)))
    return differences


def acquisition_record(acquisition: Acquisition) -> dict[str, Any]:
    """The acquisition's facts as written into its ``acquisition_started`` event's details."""
    return {
        "acquisition": acquisition.pk,
        "seizure_reference": acquisition.seizure_reference,
        "participants": list(acquisition.participants or []),
        "source_description": acquisition.source_description,
        "tool_name": acquisition.tool_name,
        "tool_version": acquisition.tool_version,
        "started_at": _iso(acquisition.started_at),
    }


def acquisition_record_differences(
    acquisition: Acquisition, started: CustodyEvent | None, completed: CustodyEvent | None
) -> list[Difference]:
    """Each fact of ``acquisition`` that differs from its started and completed events."""
    differences = []
    if started is not None:
        details = started.details or {}
        now = acquisition_record(acquisition)
        differences += [
            Difference(name, details[name], now[name])
            for name in now
            if name in details and details[name] != now[name]
        ]
        for name, recorded, found in (
            ("location", started.location, acquisition.location),
            ("seal_numbers", list(started.seal_numbers or []), list(acquisition.seal_numbers or [])),
            ("actor", started.actor_id, acquisition.actor_id),
            ("case", started.case_id, acquisition.case_id),
        ):
            if recorded != found:
                differences.append(Difference(name, recorded, found))
    if completed is not None:
        details = completed.details or {}
        closing: tuple[tuple[str, str | None], ...] = (
            ("manifest_sha256", acquisition.manifest_sha256),
            ("finished_at", _iso(acquisition.finished_at)),
        )
        for name, closed in closing:
            if name in details and details[name] != closed:
                differences.append(Difference(name, details[name], closed))
    return differences
