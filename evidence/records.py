"""What a court relies on about an item and an acquisition, as the ledger recorded it at acquisition.

The columns of ``EvidenceItem`` and ``Acquisition`` are ordinary rows that the database owner can UPDATE;
the ledger's leaves cannot change unseen. So ingest writes every fact a court relies on into the leaf data
of the item's first event (``acquired``, or ``rejected``) and of the acquisition's ``acquisition_started``
and ``acquisition_completed`` events; ``verify`` compares the columns with those leaves, and the exhibit
manifest refuses when a column disagrees.

The ledger is append-only and can never be redacted, and a file's name, path or source, or the people
present at a seizure, may name a victim. Those facts go into the leaf only as a salted commitment,
``"<field>_sha256": SHA-256(salt || canonical JSON of the value)``, one per field so that a mismatch names
the field. The salt (32 random bytes, hex in the row's ``record_salt``) is kept beside the facts: whoever
holds the row can recompute and check, an export bundle carries the salt with the facts so its recipient
can too, and erasing the salt with the facts (destruction) leaves hashes that no guess can be tested
against. Sizes, hashes, MIME types, times, user ids and the seizure reference (a warrant number, which every
custody event carries as its legal authority) stay in clear.

Leaves written before a fact was recorded there simply lack its key: that fact is then not compared; leaves
written before commitments hold the fact in clear, and it is compared in clear.
"""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from evidence.custody import canonical_json, utc_iso
from evidence.models import Acquisition, CustodyEvent, EvidenceItem

COMMITMENT_SUFFIX = "_sha256"
# Facts that may name a person (a victim's name in a file name or folder, a phone's owner in its source, the
# people present at a seizure): in the ledger only as salted commitments.
ITEM_COMMITTED = ("original_name", "original_path", "original_path_raw", "source", "link_target")
ACQUISITION_COMMITTED = ("participants", "source_description")
SALT_FIELD = "record_salt"


@dataclass(frozen=True)
class Difference:
    """One fact whose database column differs from what the ledger recorded.

    For a committed fact ``recorded`` and ``found`` are salted SHA-256 commitments, not values, so that
    reports of the difference (which verify writes into the ledger) quote nothing that may name a person.
    """

    field: str
    recorded: Any  # in the ledger
    found: Any  # in the database now
    committed: bool = False

    def describe(self) -> str:
        """The difference in words, quoting values only where they are not committed."""
        if self.field == SALT_FIELD:
            return (
                f"{SALT_FIELD} is missing or malformed, so the facts the ledger holds as salted SHA-256 "
                f"commitments ({self.recorded}) cannot be checked"
            )
        if self.committed:
            return (
                f"{self.field} is not the value recorded at acquisition (its salted SHA-256 is "
                f"{self.found}, the ledger's is {self.recorded})"
            )
        return f"{self.field} is {self.found!r}, recorded {self.recorded!r}"


def fact_commitment(salt_hex: str, value: Any) -> str:
    """SHA-256(salt || canonical JSON of value), hex: the ledger's form of a fact that may name a person."""
    return hashlib.sha256(bytes.fromhex(salt_hex) + canonical_json(value)).hexdigest()


def _salt_ok(salt_hex: str) -> bool:
    try:
        return len(bytes.fromhex(salt_hex)) >= 16
    except ValueError:
        return False


def _committed(facts: Mapping[str, Any], names: tuple[str, ...], salt_hex: str) -> dict[str, Any]:
    """``facts`` with each of ``names`` replaced by its salted commitment under ``<name>_sha256``."""
    if not _salt_ok(salt_hex):
        raise ValueError("a record needs a salt of at least 16 bytes (hex) before its facts are committed")
    return {
        (name + COMMITMENT_SUFFIX if name in names else name): (
            fact_commitment(salt_hex, value) if name in names else value
        )
        for name, value in facts.items()
    }


def _differences(
    facts: Mapping[str, Any],
    names: tuple[str, ...],
    salt_hex: str,
    details: Mapping[str, Any],
    *,
    skip: tuple[str, ...] = (),
) -> list[Difference]:
    """Each fact that differs from the leaf's details: by commitment, or in clear for older leaves."""
    differences = []
    commitments = [name + COMMITMENT_SUFFIX for name in names if name + COMMITMENT_SUFFIX in details]
    salt_ok = _salt_ok(salt_hex)
    if commitments and not salt_ok:
        differences.append(Difference(SALT_FIELD, ", ".join(commitments), salt_hex, committed=True))
    for name, value in facts.items():
        if name in skip:
            continue
        key = name + COMMITMENT_SUFFIX
        if name in names and key in details:
            if salt_ok and details[key] != (found := fact_commitment(salt_hex, value)):
                differences.append(Difference(name, details[key], found, committed=True))
        elif name in details and details[name] != value:
            differences.append(Difference(name, details[name], value))
    return differences


def _iso(moment: datetime | None) -> str | None:
    return utc_iso(moment) if moment is not None else None


def item_facts(item: EvidenceItem) -> dict[str, Any]:
    """The item's facts as JSON values (times in UTC ISO, the raw path in hex), every one in clear."""
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


def item_record(item: EvidenceItem) -> dict[str, Any]:
    """The item's facts as written into its acquisition event's details (identifying ones committed)."""
    return _committed(item_facts(item), ITEM_COMMITTED, item.record_salt)


def item_record_differences(item: EvidenceItem, event: CustodyEvent) -> list[Difference]:
    """Each fact of ``item`` (with its blob and acquisition) that differs from its acquisition event."""
    details = event.details or {}
    differences = _differences(
        item_facts(item), ITEM_COMMITTED, item.record_salt, details, skip=("acquired_by",)
    )
    # The acquirer is the event's actor; the username in the record is for people (users can be renamed).
    if item.acquired_by_id != event.actor_id:
        differences.append(Difference("acquired_by", event.actor_name, item.acquired_by.get_username()))
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


def acquisition_facts(acquisition: Acquisition) -> dict[str, Any]:
    """The acquisition's facts as JSON values, every one in clear."""
    return {
        "acquisition": acquisition.pk,
        "seizure_reference": acquisition.seizure_reference,
        "participants": list(acquisition.participants or []),
        "source_description": acquisition.source_description,
        "tool_name": acquisition.tool_name,
        "tool_version": acquisition.tool_version,
        "started_at": _iso(acquisition.started_at),
    }


def acquisition_record(acquisition: Acquisition) -> dict[str, Any]:
    """The acquisition's facts as written into its ``acquisition_started`` event's details."""
    return _committed(acquisition_facts(acquisition), ACQUISITION_COMMITTED, acquisition.record_salt)


def acquisition_record_differences(
    acquisition: Acquisition, started: CustodyEvent | None, completed: CustodyEvent | None
) -> list[Difference]:
    """Each fact of ``acquisition`` that differs from its started and completed events."""
    differences = []
    if started is not None:
        differences += _differences(
            acquisition_facts(acquisition),
            ACQUISITION_COMMITTED,
            acquisition.record_salt,
            started.details or {},
        )
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
