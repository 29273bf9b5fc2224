"""The machine-readable exhibit manifest: items, hashes, custody events with their proofs, signed checkpoints.

Embedded in the signed report PDF and placed in every export bundle, it lets anyone check an exhibit's
integrity and custody without trusting the server (``evidence/bundle.py`` is the offline verifier; the
format is documented in docs/export-bundle.md). Each event carries its leaf data exactly as the ledger
hashed it, an inclusion proof against the newest checkpoint, and the first checkpoint that signed it; a
consistency proof from each such earlier checkpoint to the newest shows the event was in the log (and
unchanged) since that earlier signed time. Victims appear only by pseudonym.
"""

import bisect
from collections.abc import Sequence
from typing import Any

from django.db.models import Q
from django.utils import timezone

from access.models import Case
from captures.selectors import capture_provenance
from evidence import crypto
from evidence.choices import CustodyAction, ItemStatus
from evidence.custody import event_leaf_data
from evidence.ledger import (
    checkpoint_consistency_proof,
    checkpoint_create,
    checkpoint_latest,
    checkpoint_summary,
    event_inclusion_proofs,
)
from evidence.models import Checkpoint, CustodyEvent, EvidenceItem
from evidence.records import item_facts, item_record_differences
from evidence.timestamps import timestamp_manifest_entries
from exhibits.models import Exhibit, ExhibitItem
from haetae.errors import IntegrityFailure, RejectedInput
from haetae.toolkit import utc_iso
from parties.models import ItemPersonLink

MANIFEST_FORMAT = "haetae-exhibit-manifest"
MANIFEST_VERSION = 1


def consistency_entry(*, old: Checkpoint, new: Checkpoint) -> dict[str, Any]:
    """The manifest's record of one consistency proof: checkpoint ``old``'s tree is a prefix of ``new``'s."""
    proof = checkpoint_consistency_proof(old=old, new=new)
    return {
        "old_checkpoint": old.pk,
        "new_checkpoint": new.pk,
        "old_size": proof["old_size"],
        "new_size": proof["new_size"],
        "old_root": proof["old_root"],
        "new_root": proof["new_root"],
        "proof": proof["proof"],
    }


def _offences(case: Case) -> list[dict[str, Any]]:
    return [
        {
            "code": offence.code,
            "article": offence.article,
            "statute_ko": offence.statute_ko,
            "statute_en": offence.statute_en,
            "label_ko": offence.label_ko,
            "label_en": offence.label_en,
        }
        for offence in case.offences.order_by("sort_order", "code")
    ]


def _item_entry(item: EvidenceItem, acquired: CustodyEvent | None) -> dict[str, Any]:
    """The item as its `acquired` event recorded it, refused if a database column now says otherwise."""
    blob = item.blob
    if blob is None:  # exhibits hold stored items only (exhibits.services refuses others)
        raise RejectedInput(f"item {item.pk} has no stored content and cannot be in a manifest")
    if acquired is None:
        raise IntegrityFailure(
            f"item {item.pk} has no `acquired` custody event, so what was seized cannot be shown: run "
            "'manage.py verify' and investigate; nothing was exported",
            details={"item": item.pk},
        )
    differences = item_record_differences(item, acquired)
    if differences:
        named = "; ".join(d.describe() for d in differences)
        raise IntegrityFailure(
            f"item {item.pk}'s database record no longer matches its `acquired` custody event "
            f"(event {acquired.seq}): {named}. The record was changed after acquisition; run "
            "'manage.py verify' and restore it before exporting or reporting; nothing was made",
            details={"item": item.pk, "fields": [d.field for d in differences]},
        )
    # The leaf holds the identifying facts only as salted hashes, which the columns were just checked
    # against; rows written before the ledger recorded a fact fall back to the column (checked by nothing).
    recorded = {**item_facts(item), **(acquired.details or {})}
    return {
        "id": item.pk,
        "sha256": blob.sha256,
        "md5": blob.md5,
        "sha1": blob.sha1,
        "size": blob.size,
        "mime": recorded["mime"],
        "name": recorded["original_name"],
        "path": recorded["original_path"],
        "path_raw": recorded["original_path_raw"],
        "source": recorded["source"],
        # With the facts above, the recipient recomputes the commitments in the `acquired` leaf.
        "record_salt": item.record_salt,
        "acquired_at": recorded["acquired_at"],
        "acquired_by": acquired.actor_name,
        "acquisition": recorded["acquisition"],
        "seizure_reference": acquired.legal_authority,
    }


def _covering_checkpoint(event_seqs: Sequence[int]) -> Checkpoint:
    """The newest checkpoint, made now if it does not yet cover the newest of these events."""
    newest = checkpoint_latest()
    if newest is None or newest.tree_size <= max(event_seqs):
        # Signs the whole ledger as it stands (manage.py checkpoint does the same): covers every event here.
        newest = checkpoint_create()
    return newest


def _first_signers(seqs: Sequence[int], newest: Checkpoint) -> dict[int, Checkpoint]:
    """For each event, the oldest checkpoint whose tree contains it (the earliest signed time it existed)."""
    rows = list(
        Checkpoint.objects.filter(tree_size__gt=min(seqs), tree_size__lte=newest.tree_size)
        .order_by("tree_size", "id")
        .only("id", "tree_size", "root_hash", "created_at", "key_id", "public_key", "signature")
    )
    sizes = [row.tree_size for row in rows]
    return {seq: rows[bisect.bisect_right(sizes, seq)] for seq in seqs}


def exhibit_manifest(*, case: Case, exhibits: Sequence[Exhibit]) -> dict[str, Any]:
    """The JSON-able manifest of these exhibits of ``case`` (see the module docstring and docs)."""
    exhibits = list(exhibits)
    if not exhibits:
        raise RejectedInput("a manifest needs at least one exhibit: name the exhibits (E-001, …)")
    foreign = [e.number for e in exhibits if e.case_id != case.pk]
    if foreign:
        raise RejectedInput(f"exhibit {', '.join(foreign)} is not an exhibit of case {case.number}")
    exhibit_ids = [e.pk for e in exhibits]
    links = ExhibitItem.objects.filter(exhibit_id__in=exhibit_ids).order_by("exhibit__sequence", "position")
    # A subquery, not a list of ids, so thousands of items stay within SQLite's parameter limit.
    item_ids = ExhibitItem.objects.filter(exhibit_id__in=exhibit_ids).values("item_id")
    items = (
        EvidenceItem.objects.filter(pk__in=item_ids)
        .select_related("blob", "acquired_by", "acquisition")
        .order_by("pk")
    )
    # Items marked unrelated to the warrant never leave in a report or bundle (records.procedure refuses to
    # mark an exhibited item; this holds whatever path the row took).
    unrelated = sorted(items.filter(status=ItemStatus.UNRELATED).values_list("pk", flat=True))
    if unrelated:
        raise RejectedInput(
            f"items {unrelated} were marked unrelated to the warrant: take them out of the exhibits (or "
            "withdraw the mark) before a report or bundle is made"
        )
    by_exhibit: dict[int, list[int]] = {}
    for exhibit_id, item_id in links.values_list("exhibit_id", "item_id"):
        by_exhibit.setdefault(exhibit_id, []).append(item_id)

    numbers = [e.number for e in exhibits]
    if not by_exhibit:
        raise RejectedInput(f"exhibit {', '.join(numbers)} holds no items: nothing to put in a manifest")
    events = list(
        CustodyEvent.objects.filter(
            Q(item_id__in=item_ids) | Q(case_id=case.pk, item__isnull=True, details__exhibit__in=numbers)
        ).order_by("seq")
    )
    seqs = [event.seq for event in events]
    acquired: dict[int, CustodyEvent] = {}
    for event in events:
        if event.action == CustodyAction.ACQUIRED and event.item_id is not None:
            acquired.setdefault(event.item_id, event)
    newest = _covering_checkpoint(seqs)
    proofs = event_inclusion_proofs(events=events, checkpoint=newest)
    first = _first_signers(seqs, newest)
    used: dict[int, Checkpoint] = {newest.pk: newest}
    for checkpoint in first.values():
        used.setdefault(checkpoint.pk, checkpoint)

    event_entries = []
    for event in events:
        proof = proofs[event.seq]
        if proof is None:  # cannot happen: the checkpoint was made to cover them all
            raise RejectedInput(f"custody event {event.seq} is not covered by checkpoint {newest.pk}")
        event_entries.append(
            {
                "seq": event.seq,
                "item": event.item_id,
                "action": event.action,
                "occurred_at": utc_iso(event.occurred_at),
                "leaf_data": event_leaf_data(event).decode("utf-8"),
                "leaf_hash": proof["leaf_hash"],
                "inclusion": {
                    "checkpoint": newest.pk,
                    "leaf_index": proof["leaf_index"],
                    "tree_size": proof["tree_size"],
                    "root_hash": proof["root_hash"],
                    "proof": proof["proof"],
                },
                "first_signed_by": first[event.seq].pk,
            }
        )
    consistency = []
    for checkpoint in sorted(used.values(), key=lambda c: (c.tree_size, c.pk)):
        if checkpoint.pk == newest.pk:
            continue
        consistency.append(consistency_entry(old=checkpoint, new=newest))
    victims = (
        ItemPersonLink.objects.filter(item_id__in=item_ids, person__kind="victim", withdrawn_at__isnull=True)
        .values_list("person__pseudonym", "person__is_minor")
        .distinct()
        .order_by("person__pseudonym")
    )
    public_key = crypto.public_key_hex(crypto.ledger_signing_key().public_key())
    return {
        "format": MANIFEST_FORMAT,
        "format_version": MANIFEST_VERSION,
        "generated_at": utc_iso(timezone.now()),
        "case": {"number": case.number, "offences": _offences(case)},
        "exhibits": [
            {
                "number": exhibit.number,
                "status": exhibit.status,
                "description": exhibit.description,
                "opinion": exhibit.opinion,
                "items": by_exhibit.get(exhibit.pk, []),
            }
            for exhibit in exhibits
        ],
        "items": [_item_entry(item, acquired.get(item.pk)) for item in items],
        "victims": [{"pseudonym": pseudonym, "minor": minor} for pseudonym, minor in victims],
        "events": event_entries,
        "checkpoints": [
            checkpoint_summary(c) for c in sorted(used.values(), key=lambda c: (c.tree_size, c.pk))
        ],
        "consistency": consistency,
        "ledger_public_key": public_key,
        "ledger_key_id": crypto.public_key_id(public_key),
        # Captured web pages among the items' acquisitions: who, what address, which server, when.
        "captures": list(
            capture_provenance(acquisition_ids={item.acquisition_id for item in items}).values()
        ),
        # RFC 3161 tokens of the checkpoints above and of the items' acquisition manifests (or a note).
        **timestamp_manifest_entries(
            checkpoint_ids=list(used), acquisition_ids={item.acquisition_id for item in items}
        ),
    }
