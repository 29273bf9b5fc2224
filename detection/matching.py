"""Matching: each new PDQ hash and file digest against the hash banks and against items in other cases.

Lookups run inside the detector run's transaction (``after_store``), so the matches, their custody events
and alerts commit with the annotations or not at all. Every lookup that matches is recorded as ``Match``
rows and a ``matched`` custody event on the item. An allow-list hit keeps the other matches of the item
(recorded, ``suppressed_by`` set) but raises no alert. A match with an item in another case, or with a
victim's bank that belongs to another case, alerts the leads of both cases (``MatchAlert``); what each may
learn about the other case is decided when the alert is shown (``detection.match_selectors``).

The PDQ indexes are per process (``detection.hashindex``): built from the database on first use and kept
current before every lookup by reading rows added since (a high-water mark on the primary key, plus the
ids skipped by transactions that had not committed yet, re-read until they appear or are abandoned).
"""

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q

from access.policy import Action, case_memberships
from detection.hashindex import MAX_THRESHOLD, PdqIndex, pack_hex
from detection.models import Annotation, BankEntry, DetectionRun, Match, MatchAlert
from detection.models.banks import HashBankKind, MatchKind
from detection.models.runs import RunStatus
from detection.pdq import DEFAULT_THRESHOLD, ORIENTATIONS
from evidence.choices import CustodyAction, ItemStatus
from evidence.custody import custody_append_many, item_event
from evidence.models import EvidenceItem

PDQ_LABEL = "pdq"
PDQ_CATEGORY = "perceptual_hash"
FILE_HASHES_DETECTOR = "file-hashes"
INDEX_FORMAT = "mih16x16-v1"
# Ids seen missing below the high-water mark are re-read this long (seconds) before being given up.
_GAP_PATIENCE_S = 600


def item_match_threshold() -> int:
    """PDQ distance at or below which items in two cases match (env HAETAE_PDQ_ITEM_THRESHOLD)."""
    return int(getattr(settings, "PDQ_ITEM_THRESHOLD", DEFAULT_THRESHOLD))


class LiveIndex:
    """A ``PdqIndex`` over one table, caught up with the database before each lookup."""

    def __init__(
        self,
        name: str,
        rows_after: Callable[[int, list[int]], Iterable[tuple[int, str]]],
        top: Callable[[], int | None],
    ) -> None:
        self.name = name
        self._rows_after = rows_after
        self._top = top
        self.index = PdqIndex()
        self.high_water = 0
        self._gaps: dict[int, float] = {}  # id → when first missed
        self._lock = threading.Lock()

    def sync(self, *, pending: Iterable[int] = ()) -> None:
        """Add rows committed since the last sync. ``pending``: ids written by the caller's own open
        transaction; they are re-read later (they may still roll back, and SQLite would reuse the ids)."""
        with self._lock:
            top = self._top()
            if top is not None and top < self.high_water:  # the table went back (a restored database)
                self.index, self.high_water, self._gaps = PdqIndex(), 0, {}
            own = set(pending)
            now = time.monotonic()
            rows = sorted(self._rows_after(self.high_water, list(self._gaps)))
            fresh = [(pk, h) for pk, h in rows if h and pk not in own]
            if fresh:
                self.index.add(pack_hex([h for _, h in fresh]), [pk for pk, _ in fresh])
            seen = {pk for pk, _ in rows}
            for pk in seen - own:
                self._gaps.pop(pk, None)
            new_top = max((pk for pk in seen if pk > self.high_water), default=self.high_water)
            new_ids = {pk for pk in seen if pk > self.high_water} - own
            if len(new_ids) < new_top - self.high_water:  # ids of transactions not committed yet
                for missing in set(range(self.high_water + 1, new_top + 1)) - new_ids:
                    self._gaps.setdefault(missing, now)
            self._gaps = {pk: t for pk, t in self._gaps.items() if now - t < _GAP_PATIENCE_S}
            self.high_water = new_top

    @property
    def version(self) -> str:
        return f"{self.name}@{self.high_water}"


def _bank_rows(after: int, gaps: list[int]) -> Iterable[tuple[int, str]]:
    """Every entry added since (PDQ or not, so that digest-only ids are not taken for gaps)."""
    rows = BankEntry.objects.filter(Q(pk__gt=after) | Q(pk__in=gaps))
    return rows.order_by("pk").values_list("pk", "pdq")


def _item_rows(after: int, gaps: list[int]) -> Iterable[tuple[int, str]]:
    """Every annotation added since, with its hash when it is a PDQ annotation ("" otherwise)."""
    rows = Annotation.objects.filter(Q(pk__gt=after) | Q(pk__in=gaps)).order_by("pk")
    return [
        (pk, str(h or "") if (label, category) == (PDQ_LABEL, PDQ_CATEGORY) else "")
        for pk, label, category, h in rows.values_list("pk", "label", "category", "details__hash")
    ]


def _top_pk(model: Any) -> int | None:
    top = model.objects.order_by("-pk").values_list("pk", flat=True).first()
    return int(top) if top is not None else None


_indexes: dict[str, LiveIndex] = {}
_indexes_lock = threading.Lock()


def live_index(name: str) -> LiveIndex:
    """This process's index of bank entries ("banks") or of items' PDQ annotations ("items")."""
    with _indexes_lock:
        if name not in _indexes:
            if name == "banks":
                _indexes[name] = LiveIndex(name, _bank_rows, lambda: _top_pk(BankEntry))
            else:
                _indexes[name] = LiveIndex(name, _item_rows, lambda: _top_pk(Annotation))
        return _indexes[name]


def reset_indexes() -> None:
    """Forget the in-memory indexes (tests; they rebuild from the database on next use)."""
    with _indexes_lock:
        _indexes.clear()


@dataclass
class _Found:
    kind: str
    distance: int = 0
    orientation: str = ""
    threshold: int = 0
    entry: BankEntry | None = None
    other_item: EvidenceItem | None = None
    other_annotation_id: int | None = None


def _nearest(variants: dict[str, str], stored: str) -> tuple[int, str]:
    """Distance and orientation of the variant nearest to ``stored``, recomputed from the database's hash
    (the index only proposes: a hit always stands on the stored values)."""
    target = int(stored, 16)
    distance, _, orientation = min(
        ((int(h, 16) ^ target).bit_count(), ORIENTATIONS.index(o), o) for o, h in variants.items()
    )
    return distance, orientation


def pdq_lookup(*, item: EvidenceItem, annotation: Annotation, actor: Any = None) -> list[Match]:
    """Look up one PDQ annotation (all eight orientations) in the banks and in other cases' items."""
    variants = annotation.details.get("dihedral") or {"original": annotation.details["hash"]}
    names = [o for o in ORIENTATIONS if o in variants]
    queries = pack_hex([variants[o] for o in names])
    banks, items = live_index("banks"), live_index("items")
    banks.sync()
    items.sync(pending=[annotation.pk])
    found: list[_Found] = []

    entry_ids = {hit.id for hit in banks.index.search(queries, MAX_THRESHOLD)}
    entries = (
        BankEntry.objects.filter(pk__in=entry_ids, bank__active=True).exclude(pdq="").select_related("bank")
    )
    for entry in entries:
        distance, orientation = _nearest(variants, entry.pdq)
        if distance <= entry.bank.pdq_threshold:
            found.append(_Found(MatchKind.PDQ, distance, orientation, entry.bank.pdq_threshold, entry=entry))

    threshold = item_match_threshold()
    annotation_ids = {hit.id for hit in items.index.search(queries, threshold)} - {annotation.pk}
    others = (
        Annotation.objects.filter(pk__in=annotation_ids, label=PDQ_LABEL, category=PDQ_CATEGORY)
        .exclude(item__case_id=item.case_id)
        .exclude(item__status=ItemStatus.UNRELATED)
        .select_related("item", "item__case")
    )
    per_item: dict[int, _Found] = {}
    for other in others:
        stored = str(other.details.get("hash") or "")
        if len(stored) != 64:
            continue
        distance, orientation = _nearest(variants, stored)
        current = per_item.get(other.item_id)
        if distance <= threshold and (current is None or distance < current.distance):
            per_item[other.item_id] = _Found(
                MatchKind.PDQ,
                distance,
                orientation,
                threshold,
                other_item=other.item,
                other_annotation_id=other.pk,
            )
    found.extend(per_item.values())
    version = f"{INDEX_FORMAT} {banks.version} {items.version}"
    return _record(item=item, found=found, annotation=annotation, index_version=version, actor=actor)


def digest_lookup(*, item: EvidenceItem, actor: Any = None) -> list[Match]:
    """Look up the item's MD5, SHA-1 and SHA-256 (from its blob) in the banks and in other cases."""
    blob = item.blob
    if blob is None:
        return []
    found: list[_Found] = []
    entries = (
        BankEntry.objects.filter(
            Q(sha256=blob.sha256) | Q(md5=blob.md5) | Q(sha1=blob.sha1), bank__active=True
        )
        .select_related("bank")
        .order_by("pk")
    )
    for entry in entries:
        if entry.sha256 == blob.sha256:
            kind = MatchKind.SHA256
        elif entry.md5 == blob.md5:
            kind = MatchKind.MD5
        else:
            kind = MatchKind.SHA1
        found.append(_Found(kind, entry=entry))
    same_bytes = (
        EvidenceItem.objects.filter(blob_id=blob.sha256)
        .exclude(case_id=item.case_id)
        .exclude(status=ItemStatus.UNRELATED)  # outside its warrant: not matched against
        .select_related("case")
        .order_by("pk")
    )
    found.extend(_Found(MatchKind.SHA256, other_item=other) for other in same_bytes)
    return _record(item=item, found=found, annotation=None, index_version="database", actor=actor)


def _allow_listed_by_digest(item: EvidenceItem) -> BankEntry | None:
    blob = item.blob
    if blob is None:
        return None
    return (
        BankEntry.objects.filter(
            Q(sha256=blob.sha256) | Q(md5=blob.md5) | Q(sha1=blob.sha1),
            bank__kind=HashBankKind.ALLOW_LIST,
            bank__active=True,
        )
        .order_by("pk")
        .first()
    )


def _allow_listed_before(item: EvidenceItem) -> BankEntry | None:
    earlier = (
        Match.objects.filter(item=item, entry__bank__kind=HashBankKind.ALLOW_LIST, entry__bank__active=True)
        .select_related("entry")
        .order_by("pk")
        .first()
    )
    return earlier.entry if earlier else None


def _record(
    *,
    item: EvidenceItem,
    found: list[_Found],
    annotation: Annotation | None,
    index_version: str,
    actor: Any,
) -> list[Match]:
    if not found:
        return []
    allowing = [
        f.entry for f in found if f.entry is not None and f.entry.bank.kind == HashBankKind.ALLOW_LIST
    ]
    suppressor = allowing[0] if allowing else (_allow_listed_by_digest(item) or _allow_listed_before(item))
    rows = [
        Match(
            item=item,
            entry=f.entry,
            other_item=f.other_item,
            kind=f.kind,
            distance=f.distance,
            orientation=f.orientation,
            threshold=f.threshold,
            index_version=index_version,
            annotation=annotation,
            other_annotation_id=f.other_annotation_id,
            suppressed_by=(
                None
                if suppressor is None or (f.entry is not None and f.entry.pk == suppressor.pk)
                else suppressor
            ),
        )
        for f in found
    ]
    # A row at a time: primary keys are needed for the alerts and events on every database.
    for row in rows:
        row.save()
    events = [
        item_event(
            item,
            CustodyAction.MATCHED,
            actor,
            details={
                "matches": [m.pk for m in rows],
                "kinds": sorted({m.kind for m in rows}),
                "banks": sorted({m.entry.bank.name for m in rows if m.entry is not None}),
                "other_items": len([m for m in rows if m.other_item_id]),
                "suppressed": len([m for m in rows if m.suppressed_by_id]),
                "index_version": index_version,
            },
        )
    ]
    for match in rows:
        if match.other_item is not None:
            other = match.other_item
            # The other item's chain records the fact, without naming this item's case.
            events.append(
                item_event(
                    other,
                    CustodyAction.MATCHED,
                    actor,
                    details={
                        "match": match.pk,
                        "kind": match.kind,
                        "distance": match.distance,
                        "cross_case": 1,
                    },
                )
            )
    custody_append_many(events)
    _alert(item=item, matches=[m for m in rows if m.suppressed_by_id is None])
    return rows


def _cross_case_id(match: Match) -> int | None:
    """The other case of a cross-case match (another case's item, or a victim's bank of another case)."""
    if match.other_item is not None:
        return match.other_item.case_id
    if (
        match.entry is not None
        and match.entry.bank.case_id
        and match.entry.bank.case_id != match.item.case_id
    ):
        return match.entry.bank.case_id
    return None


def _alert(*, item: EvidenceItem, matches: list[Match]) -> None:
    alerts: list[MatchAlert] = []
    for match in matches:
        if match.entry is not None and match.entry.bank.kind == HashBankKind.ALLOW_LIST:
            continue
        other_case = _cross_case_id(match)
        if other_case is None:
            continue
        # Alert once per pair: a later lookup (a new detector version) of the same pair stays quiet.
        earlier = Match.objects.filter(item=item, suppressed_by__isnull=True).exclude(pk=match.pk)
        earlier = (
            earlier.filter(other_item=match.other_item)
            if match.other_item
            else earlier.filter(entry=match.entry)
        )
        if earlier.filter(alerts__isnull=False).exists():
            continue
        leads = (
            case_memberships(action=Action.MATCH_ALERTS)
            .filter(case_id__in=[item.case_id, other_case])
            .values_list("user_id", "case_id")
        )
        alerts.extend(
            MatchAlert(match=match, recipient_id=user_id, case_id=case_id) for user_id, case_id in leads
        )
    MatchAlert.objects.bulk_create(alerts, ignore_conflicts=True)


def bank_entries_lookup(*, entries: list[BankEntry], actor: Any = None, batch: int = 2000) -> list[Match]:
    """Look newly added bank entries up against the items already in the vault, in every case.

    A victim's originals or an imported list usually arrive after the evidence: without this they would
    only catch items ingested later. Only items whose own lookup already ran are looked up (a PDQ
    annotation exists only after its lookup; digests after the ``file-hashes`` run), so no lookup is
    recorded twice. Call in the transaction that adds the entries. Allow-list entries
    find nothing here (they only suppress). Each item gets its matches recorded once per entry, at the
    nearest of its PDQ annotations and orientations, exactly as a lookup at ingest would record them.
    """
    active = [e for e in entries if e.bank.active and e.bank.kind != HashBankKind.ALLOW_LIST]
    found: dict[int, dict[int, _Found]] = {}  # item id → entry id → the best finding
    annotation_of: dict[int, Annotation] = {}
    items: dict[int, EvidenceItem] = {}

    by_digest = {
        field: {getattr(e, field): e for e in active if getattr(e, field)}
        for field in ("sha256", "md5", "sha1")
    }
    if any(by_digest.values()):
        # Only items whose own digest lookup already ran: the others will find the entries when it runs.
        looked_up = DetectionRun.objects.filter(
            detector__name=FILE_HASHES_DETECTOR, status=RunStatus.DONE
        ).values("item_id")
        candidates = (
            EvidenceItem.objects.filter(
                Q(blob__sha256__in=list(by_digest["sha256"]))
                | Q(blob__md5__in=list(by_digest["md5"]))
                | Q(blob__sha1__in=list(by_digest["sha1"])),
                pk__in=looked_up,
            )
            .exclude(status=ItemStatus.UNRELATED)
            .select_related("blob", "case")
        )
        kinds = {"sha256": MatchKind.SHA256, "md5": MatchKind.MD5, "sha1": MatchKind.SHA1}
        for item in candidates.order_by("pk"):
            items[item.pk] = item
            for field, kind in kinds.items():
                entry = by_digest[field].get(getattr(item.blob, field))
                if entry is not None and entry.pk not in found.setdefault(item.pk, {}):
                    found[item.pk][entry.pk] = _Found(kind, entry=entry)

    pdq_entries = [e for e in active if e.pdq]
    if pdq_entries:
        index = PdqIndex()
        index.build(pack_hex([e.pdq for e in pdq_entries]), list(range(len(pdq_entries))))
        annotations = (
            Annotation.objects.filter(label=PDQ_LABEL, category=PDQ_CATEGORY)
            .exclude(item__status=ItemStatus.UNRELATED)
            .select_related("item", "item__case")
            .order_by("pk")
        )
        chunk: list[Annotation] = []
        for annotation in annotations.iterator(chunk_size=batch):
            chunk.append(annotation)
            if len(chunk) == batch:
                _entries_against(chunk, pdq_entries, index, found, annotation_of, items)
                chunk = []
        if chunk:
            _entries_against(chunk, pdq_entries, index, found, annotation_of, items)

    matches: list[Match] = []
    for item_id, per_entry in found.items():
        if per_entry:
            matches += _record(
                item=items[item_id],
                found=list(per_entry.values()),
                annotation=annotation_of.get(item_id),
                index_version=f"{INDEX_FORMAT} new bank entries",
                actor=actor,
            )
    return matches


def _entries_against(
    annotations: list[Annotation],
    entries: list[BankEntry],
    index: PdqIndex,
    found: dict[int, dict[int, _Found]],
    annotation_of: dict[int, Annotation],
    items: dict[int, EvidenceItem],
) -> None:
    variants_of: list[dict[str, str]] = []
    rows: list[str] = []
    owner: list[int] = []  # query row → position in ``annotations``
    for position, annotation in enumerate(annotations):
        variants = annotation.details.get("dihedral") or {"original": annotation.details.get("hash", "")}
        variants = {o: h for o, h in variants.items() if isinstance(h, str) and len(h) == 64}
        variants_of.append(variants)
        for value in variants.values():
            rows.append(value)
            owner.append(position)
    if not rows:
        return
    for hit in index.search(pack_hex(rows), MAX_THRESHOLD):
        annotation = annotations[owner[hit.query]]
        entry = entries[hit.id]
        distance, orientation = _nearest(variants_of[owner[hit.query]], entry.pdq)
        if distance > entry.bank.pdq_threshold:
            continue
        per_entry = found.setdefault(annotation.item_id, {})
        current = per_entry.get(entry.pk)
        if current is None or (current.kind == MatchKind.PDQ and distance < current.distance):
            per_entry[entry.pk] = _Found(
                MatchKind.PDQ, distance, orientation, entry.bank.pdq_threshold, entry=entry
            )
            annotation_of[annotation.item_id] = annotation
        items.setdefault(annotation.item_id, annotation.item)
