"""What a report says, gathered from the database and the vault, before any layout (``report_data``).

The cover and the exhibit list are small and built at once; the per-exhibit sections and the hash
certificate are generators that read ``BATCH`` exhibits at a time with a constant number of queries per
batch, so a case of 10,000 exhibits streams through the renderer without being held in memory. Each
generator can be iterated once.

Thumbnails are the vault's blurred preview derivative (``evidence.previews``), never the original, shrunk
further to ``THUMBNAIL_PX`` before they are embedded. Hash values "now" are computed by reading every
original back through ``evidence.vault.read_verified`` while the report is made; a mismatch refuses the
report (``IntegrityFailure``). What went into the report (items, derivative hashes, re-hash results) is
collected in ``ReportData.included`` for the ``report_generated`` custody event; the report writes no
per-item events itself. The one exception: an image whose blurred preview was never made gets it made,
with the usual ``derived`` event, which takes the ledger lock until the enclosing transaction ends. So run
``report_data``/``report_render`` outside the transaction that stores the finished report (as an ingest
does its reading), or the lock is held for the whole rendering.
"""

import bisect
import hashlib
import io
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Count, QuerySet
from django.utils import timezone, translation
from PIL import Image

import haetae
from access.models import Case, LegalAuthority
from accounts.models import ExaminerQualification
from accounts.selectors import qualification_as_of
from captures.selectors import capture_provenance
from detection.models import Annotation
from detection.models.runs import ReviewStatus
from detection.validation import validation_latest, validation_statement
from evidence.choices import CustodyAction, DerivativeKind
from evidence.derivatives import derivative_read, recipe_key
from evidence.models import Checkpoint, CustodyEvent, Derivative, EvidenceItem
from evidence.previews import preview_blurred_derivative, preview_recipe
from evidence.timestamps import acquisition_trusted_times
from evidence.vault import read_verified
from exhibits.models import Exhibit, ExhibitItem
from exhibits.reports.strings import STRINGS
from haetae.errors import HaetaeError, IntegrityFailure, RejectedInput
from search.timeline import EXIF_KINDS, Point, exif_point, items_timeline
from sources.selectors import SourceProvenance, item_source_provenance

BATCH = 100
THUMBNAIL_PX = 160
REHASH_TOOL = f"haetae {haetae.__version__} (evidence.vault.read_verified)"
PROVENANCE_DETECTORS = frozenset({"c2pa"})
NOT_VALIDATED = "not validated"


@dataclass(frozen=True)
class Person:
    """Someone named on the report (examiner, reviewer): name, role on the case, organisational roles and
    qualification as recorded in Haetae when the report was made (empty: none recorded, and the cover says
    so rather than invent one)."""

    name: str
    role: str
    organisation_roles: str
    qualification: str = ""


@dataclass(frozen=True)
class Cover:
    case_number: str
    case_title: str
    offences: list[str]
    unit: str
    jurisdiction: str
    examiner: Person
    reviewers: list[Person]
    generated_at: datetime  # aware, in the report's time zone
    time_zone: str
    scope: list[str]  # exhibit numbers, in order
    exhibit_count: int
    item_count: int


@dataclass(frozen=True)
class ExhibitSummary:
    number: str
    status: str
    description: str
    item_count: int
    approved_by: str
    approved_at: datetime | None


@dataclass(frozen=True)
class HashValue:
    """One digest of an item's bytes with when it was taken and by which tool and version."""

    algorithm: str
    value: str
    taken_at: datetime
    tool: str


@dataclass(frozen=True)
class Acquisition:
    acquired_by: str
    acquired_role: str
    acquired_at: datetime
    location: str
    source: str
    seizure_reference: str
    legal_authorities: list[str]
    seal_numbers: list[str]
    participants: list[str]
    tool: str
    trusted_time: str = ""  # the RFC 3161 time of the acquisition's manifest ('' when it has none)
    capture: str = ""  # for a captured web page: address asked for → reached (server), start – end


@dataclass(frozen=True)
class FindingRow:
    """A detector finding: always an investigative lead, never a conclusion."""

    detector: str
    version: str
    model_sha256: str
    threshold: str
    score: str
    error_rate: str
    label: str
    category: str
    review: str
    measured: bool = False  # error_rate cites a validation recorded in Haetae, not the authors' claim


@dataclass(frozen=True)
class ProvenanceRow:
    """A C2PA reading: state, validation, signer, declared source type, and what it means."""

    state: str
    validation: str
    signer: str
    digital_source_type: str
    note: str
    detector: str
    absent: bool


@dataclass(frozen=True)
class CheckpointRef:
    id: int
    tree_size: int
    root_hash: str
    signature: str
    key_id: str
    created_at: datetime


@dataclass(frozen=True)
class CustodyRow:
    seq: int
    occurred_at: datetime
    action: str
    actor: str
    role: str
    purpose: str
    event_hash: str
    prev_hash: str
    checkpoint: CheckpointRef | None


@dataclass
class ItemSection:
    item_id: int
    original_name: str
    original_path: str
    kind: str
    size: int | None
    mime: str
    file_times: list[tuple[str, datetime]]
    acquisition: Acquisition
    hashes: list[HashValue]
    thumbnail: bytes | None  # a downscaled blurred preview (JPEG), never the original
    thumbnail_sha256: str  # the blurred derivative it was made from
    thumbnail_note: str  # why there is none, when there is none
    findings: list[FindingRow]
    provenance: list[ProvenanceRow]
    custody: list[CustodyRow]
    # Where a messenger export or an extraction report places the item (sources.selectors).
    sources: list[SourceProvenance] = field(default_factory=list)


@dataclass(frozen=True)
class TimelineRow:
    """One point of an exhibit's timeline (``search.timeline``), its words in the report's language."""

    at: datetime  # in the report's time zone
    as_written: str  # the time as its source wrote it, with its offset where known
    kind: str
    item_id: int | None
    what: str
    time_source: str
    trust: str
    zone_known: bool


@dataclass
class ExhibitSection:
    number: str
    status: str
    description: str
    opinion: str
    created_by: str
    created_at: datetime
    approved_by: str
    approved_at: datetime | None
    items: list[ItemSection]
    # Every dated thing about the exhibit's items on one axis, oldest first (custody is under each item).
    timeline: list[TimelineRow] = field(default_factory=list)


@dataclass(frozen=True)
class HashCertificateRow:
    exhibit: str
    item_id: int
    name: str
    algorithm: str
    at_acquisition: str
    now: str
    matches: bool


@dataclass
class Included:
    """What a report put in, for the custody record of the report (``report_generated`` details)."""

    exhibits: list[str] = field(default_factory=list)
    items: list[int] = field(default_factory=list)
    thumbnails: dict[int, str] = field(default_factory=dict)  # item id -> blurred derivative SHA-256
    rehashed: dict[str, str] = field(default_factory=dict)  # blob SHA-256 -> "match"
    rehashed_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        """For custody details: string keys only (a JSON round trip turns integer keys into strings, which
        would change the canonical JSON the event's hash covers), no floats."""
        return {
            "exhibits": list(self.exhibits),
            "items": list(self.items),
            "thumbnails": {
                "kind": str(DerivativeKind.PREVIEW_BLURRED),
                "derivatives": {str(item): sha256 for item, sha256 in self.thumbnails.items()},
            },
            "rehashed": dict(self.rehashed),
            "rehashed_at": self.rehashed_at.isoformat() if self.rehashed_at else None,
            "originals_embedded": False,
        }


@dataclass
class ReportData:
    """Everything a report shows. ``exhibits`` and ``hash_certificate`` are one-shot generators."""

    language: str
    cover: Cover
    exhibit_list: list[ExhibitSummary]
    exhibits: Iterator[ExhibitSection]
    hash_certificate: Iterator[HashCertificateRow]
    certifier: Person
    included: Included
    latest_checkpoint: CheckpointRef | None
    detectors: list[tuple[str, str, str]]  # (name, version, validation) of every detector with findings


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE or "Asia/Seoul")


def _local(moment: datetime) -> datetime:
    return moment.astimezone(_zone())


def qualification_text(row: ExaminerQualification | None, language: str) -> str:
    """A recorded qualification in words, with the date it was recorded ("" when none is)."""
    if row is None:
        return ""
    s = STRINGS[language]
    parts = [", ".join(p for p in (row.title, row.unit) if p)]
    for key, entries in (
        ("qualification_training", row.training),
        ("qualification_certifications", row.certifications),
    ):
        if entries:
            parts.append(f"{s[key]}: " + ", ".join(f"{e['name']} ({e['date']})" for e in entries))
    if row.note:
        parts.append(row.note)
    parts.append(s["qualification_recorded"].format(date=_local(row.recorded_at).strftime("%Y-%m-%d")))
    return "; ".join(p for p in parts if p)


def _person(user: User | None, role: str, *, at: datetime, language: str) -> Person:
    if user is None:
        return Person(name="", role=role, organisation_roles="")
    name = user.get_full_name() or user.get_username()
    groups = ", ".join(sorted(user.groups.values_list("name", flat=True)))
    qualification = qualification_text(qualification_as_of(user_id=user.pk, at=at), language)
    return Person(name=name, role=role, organisation_roles=groups, qualification=qualification)


def _exhibit_ids(case: Case, exhibits: Iterable[Exhibit] | QuerySet[Exhibit]) -> list[int]:
    if isinstance(exhibits, QuerySet):
        ids = list(exhibits.order_by("sequence").values_list("pk", flat=True))
    else:
        ids = [e.pk for e in exhibits]
    foreign = Exhibit.objects.filter(pk__in=ids).exclude(case_id=case.pk).values_list("number", flat=True)
    if foreign:
        raise RejectedInput(f"exhibit {', '.join(foreign)} is not in case {case.number}")
    if not ids:
        raise RejectedInput(f"case {case.number} has no exhibits to report on: draft one first")
    return ids


def _threshold(parameters: dict[str, Any]) -> str:
    found = [f"{key}={value}" for key, value in sorted(parameters.items()) if "threshold" in key.lower()]
    return "; ".join(found)


def _score(score: float | None) -> str:
    return "" if score is None else f"{score:.4f}"


def _thumbnail(item: EvidenceItem, derivative: Derivative | None) -> tuple[bytes | None, str, str]:
    """(JPEG bytes at most THUMBNAIL_PX, the blurred derivative's SHA-256, why none) — never the original."""
    if not (item.mime or "").startswith("image/"):
        return None, "", f"no still preview for {item.mime or 'this type'}"
    try:
        derivative = derivative or preview_blurred_derivative(item=item)
        data = derivative_read(derivative)
    except RejectedInput as exc:
        return None, "", exc.message
    with Image.open(io.BytesIO(data)) as picture:
        small = picture.convert("RGB")
        small.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX), Image.Resampling.BOX)
        buffer = io.BytesIO()
        small.save(buffer, format="JPEG", quality=70)
    return buffer.getvalue(), derivative.blob_id, ""


class _Checkpoints:
    """Every checkpoint's tree size, once, so each event finds the first signed head that includes it."""

    def __init__(self) -> None:
        self.rows = list(
            Checkpoint.objects.order_by("tree_size", "id").values_list(
                "id", "tree_size", "root_hash", "signature", "key_id", "created_at"
            )
        )
        self.sizes = [row[1] for row in self.rows]

    def including(self, seq: int) -> CheckpointRef | None:
        index = bisect.bisect_right(self.sizes, seq)  # first checkpoint with tree_size > seq
        if index >= len(self.rows):
            return None
        pk, size, root, signature, key_id, created_at = self.rows[index]
        return CheckpointRef(pk, size, root, signature, key_id, _local(created_at))

    def latest(self) -> CheckpointRef | None:
        return self.including(self.sizes[-1] - 1) if self.rows else None


def _capture_line(facts: dict[str, Any] | None) -> str:
    if not facts:
        return ""
    reached = f" → {facts['final_url']}" if facts["final_url"] and facts["final_url"] != facts["url"] else ""
    server = f" ({facts['resolved_ip']})" if facts["resolved_ip"] else ""
    return f"{facts['url']}{reached}{server}, {facts['started_at']} – {facts['finished_at']}"


def _acquisition(item: EvidenceItem, authorities: list[str], facts: dict[str, Any] | None) -> Acquisition:
    acquisition = item.acquisition
    return Acquisition(
        acquired_by=item.acquired_by.get_full_name() or item.acquired_by.get_username(),
        acquired_role=acquisition.actor_role,
        acquired_at=_local(item.acquired_at),
        location=acquisition.location,
        source=item.source or acquisition.source_description,
        seizure_reference=acquisition.seizure_reference,
        legal_authorities=authorities,
        seal_numbers=[str(s) for s in acquisition.seal_numbers or []],
        participants=[str(p) for p in acquisition.participants or []],
        tool=f"{acquisition.tool_name} {acquisition.tool_version}",
        trusted_time=(facts or {}).get("trusted_time") or "",
        capture=_capture_line(facts),
    )


def _hashes(item: EvidenceItem, acquired: CustodyEvent | None, tool: str) -> list[HashValue]:
    blob = item.blob
    if blob is None:
        return []
    taken = _local(acquired.occurred_at if acquired else item.acquired_at)
    return [
        HashValue("SHA-256", blob.sha256, taken, tool),
        HashValue("MD5", blob.md5, taken, tool),
        HashValue("SHA-1", blob.sha1, taken, tool),
    ]


def _provenance(annotations: list[Annotation]) -> list[ProvenanceRow]:
    rows = []
    for annotation in annotations:
        details = annotation.details or {}
        source_types = details.get("digital_source_types") or []
        described = ", ".join(
            str(t.get("label") or t.get("uri") or t) if isinstance(t, dict) else str(t) for t in source_types
        )
        signer = details.get("signer") or ""
        if isinstance(signer, dict):
            signer = ", ".join(f"{k}: {v}" for k, v in sorted(signer.items()) if v)
        rows.append(
            ProvenanceRow(
                state=str(details.get("state") or annotation.label),
                validation=str(
                    details.get("validation_state") or ", ".join(details.get("failure_codes") or [])
                ),
                signer=str(signer),
                digital_source_type=described,
                note=str(details.get("note") or details.get("reason") or ""),
                detector=f"{annotation.detector_name} {annotation.detector_version}",
                absent=annotation.label == "c2pa_none",
            )
        )
    return rows


class _Sections:
    """The per-exhibit generator: BATCH exhibits at a time, a fixed number of queries per batch."""

    def __init__(
        self,
        *,
        case: Case,
        exhibit_ids: list[int],
        checkpoints: _Checkpoints,
        included: Included,
        language: str,
    ):
        self.case = case
        self.language = language
        self.exhibit_ids = exhibit_ids
        self.checkpoints = checkpoints
        self.included = included
        self.authorities = [
            f"{a.get_kind_display()} {a.number}" + (f" ({a.court})" if a.court else "")
            for a in LegalAuthority.objects.filter(case_id=case.pk)
        ]
        self.detectors: dict[tuple[str, str], str] = {}
        self.validations: dict[tuple[str, str, str], tuple[str, bool]] = {}
        self.recipe_key = recipe_key(preview_recipe(blur=True, grey=False))
        self.acquisition_facts: dict[int, dict[str, Any]] = {}

    def __iter__(self) -> Iterator[ExhibitSection]:
        for start in range(0, len(self.exhibit_ids), BATCH):
            yield from self._batch(self.exhibit_ids[start : start + BATCH])

    def _batch(self, ids: list[int]) -> Iterator[ExhibitSection]:
        exhibits = {
            e.pk: e for e in Exhibit.objects.filter(pk__in=ids).select_related("created_by", "approved_by")
        }
        links = list(
            ExhibitItem.objects.filter(exhibit_id__in=ids)
            .select_related("item__blob", "item__acquisition", "item__acquired_by")
            .order_by("exhibit_id", "position")
        )
        item_ids = sorted({link.item_id for link in links})
        self.acquisition_facts = self._acquisition_facts({link.item.acquisition_id for link in links})
        derivatives = self._derivatives(links)  # made first, so their ``derived`` events are listed below
        custody: dict[int, list[CustodyEvent]] = defaultdict(list)
        for event in CustodyEvent.objects.filter(item_id__in=item_ids).order_by("item_id", "seq"):
            custody[event.item_id or 0].append(event)
        findings: dict[int, list[Annotation]] = defaultdict(list)
        annotations = Annotation.objects.filter(item_id__in=item_ids).select_related("run__detector")
        for annotation in annotations.order_by("item_id", "id"):
            findings[annotation.item_id].append(annotation)
        sources = item_source_provenance(item_ids)
        timeline = self._timeline(item_ids)
        by_exhibit: dict[int, list[ExhibitItem]] = defaultdict(list)
        for link in links:
            by_exhibit[link.exhibit_id].append(link)
        for pk in ids:
            exhibit = exhibits[pk]
            self.included.exhibits.append(exhibit.number)
            members = {link.item_id for link in by_exhibit[pk]}
            items = [
                self._item(
                    link.item,
                    custody[link.item_id],
                    findings[link.item_id],
                    derivatives,
                    sources.get(link.item_id),
                )
                for link in by_exhibit[pk]
            ]
            yield ExhibitSection(
                number=exhibit.number,
                status=exhibit.status,
                description=exhibit.description,
                opinion=exhibit.opinion,
                created_by=exhibit.created_by.get_full_name() or exhibit.created_by.get_username(),
                created_at=_local(exhibit.created_at),
                approved_by=(
                    exhibit.approved_by.get_full_name() or exhibit.approved_by.get_username()
                    if exhibit.approved_by
                    else ""
                ),
                approved_at=_local(exhibit.approved_at) if exhibit.approved_at else None,
                items=items,
                timeline=[row for row in timeline if row.item_id in members],
            )

    def _timeline(self, item_ids: list[int]) -> list[TimelineRow]:
        """The batch's items' timeline (one set of queries for the batch), in the report's language."""
        with translation.override(self.language):
            points = items_timeline(case=self.case, item_ids=item_ids)
            return [_timeline_row(point) for point in points]

    @staticmethod
    def _acquisition_facts(acquisition_ids: set[int]) -> dict[int, dict[str, Any]]:
        """Per acquisition: its trusted time and, for a captured page, the capture (two queries a batch)."""
        times = acquisition_trusted_times(acquisition_ids=acquisition_ids)
        facts: dict[int, dict[str, Any]] = {
            acquisition_id: {"trusted_time": time} for acquisition_id, time in times.items()
        }
        for acquisition_id, capture in capture_provenance(
            acquisition_ids=acquisition_ids, times=times
        ).items():
            facts[acquisition_id] = capture
        return facts

    def _derivatives(self, links: list[ExhibitItem]) -> dict[str, Derivative]:
        """The blurred preview of each image in the batch, made now where it was never made."""
        sources = {link.item.blob_id for link in links if link.item.blob_id}
        found = {
            d.source_id: d
            for d in Derivative.objects.filter(
                source_id__in=sources, kind=DerivativeKind.PREVIEW_BLURRED, recipe_key=self.recipe_key
            )
        }
        for link in links:
            item = link.item
            if item.blob_id and item.blob_id not in found and (item.mime or "").startswith("image/"):
                try:
                    found[item.blob_id] = preview_blurred_derivative(item=item)
                except RejectedInput:
                    continue  # undecodable: the section says why there is no preview
        return found

    def _validation(self, detector: Any, model_sha256: str) -> tuple[str, bool]:
        """The newest measured validation of this detector version and model, once per report; "" if none.
        The authors' own statement follows it, so the reader sees both."""
        key = (detector.name, detector.version, model_sha256)
        if key not in self.validations:
            latest = validation_latest(
                name=detector.name, version=detector.version, model_sha256=model_sha256
            )
            if latest is None:
                self.validations[key] = ("", False)
            else:
                stated = detector.validation if detector.validation not in ("", NOT_VALIDATED) else ""
                also = f". Its authors state: {stated}" if stated else ""
                self.validations[key] = (validation_statement(latest) + also, True)
        return self.validations[key]

    def _item(
        self,
        item: EvidenceItem,
        events: list[CustodyEvent],
        annotations: list[Annotation],
        derivatives: dict[str, Derivative],
        sources: list[SourceProvenance] | None = None,
    ) -> ItemSection:
        acquired = next((e for e in events if e.action == CustodyAction.ACQUIRED), None)
        tool = str((acquired.details or {}).get("tool") or "") if acquired else ""
        tool = tool or f"{item.acquisition.tool_name} {item.acquisition.tool_version}"
        thumbnail, thumbnail_sha256, note = _thumbnail(item, derivatives.get(item.blob_id or ""))
        if thumbnail_sha256:
            self.included.thumbnails[item.pk] = thumbnail_sha256
        self.included.items.append(item.pk)
        rows, provenance = [], []
        for annotation in annotations:
            if annotation.detector_name in PROVENANCE_DETECTORS:
                provenance.append(annotation)
                continue
            detector = annotation.run.detector
            validation, measured = self._validation(detector, annotation.model_sha256)
            validation = validation or detector.validation or NOT_VALIDATED
            self.detectors[(detector.name, detector.version)] = validation
            rows.append(
                FindingRow(
                    detector=annotation.detector_name,
                    version=annotation.detector_version,
                    model_sha256=annotation.model_sha256,
                    threshold=_threshold(annotation.parameters or {}),
                    score=_score(annotation.score),
                    error_rate=validation,
                    label=annotation.label,
                    category=annotation.category,
                    review=annotation.review_status,
                    measured=measured,
                )
            )
        times = [
            (name, _local(moment))
            for name, moment in (
                ("modified", item.file_modified_at),
                ("accessed", item.file_accessed_at),
                ("changed", item.file_changed_at),
                ("created", item.file_created_at),
            )
            if moment is not None
        ]
        times += _exif_times(item.pk, annotations)
        return ItemSection(
            item_id=item.pk,
            original_name=item.original_name,
            original_path=item.original_path,
            kind=item.kind,
            size=item.size,
            mime=item.mime,
            file_times=times,
            acquisition=_acquisition(item, self.authorities, self.acquisition_facts.get(item.acquisition_id)),
            hashes=_hashes(item, acquired, tool),
            thumbnail=thumbnail,
            thumbnail_sha256=thumbnail_sha256,
            thumbnail_note=note,
            findings=rows,
            provenance=_provenance(provenance),
            custody=[
                CustodyRow(
                    seq=e.seq,
                    occurred_at=_local(e.occurred_at),
                    action=e.action,
                    actor=e.actor_name,
                    role=e.actor_role,
                    purpose=e.purpose,
                    event_hash=e.leaf_hash,
                    prev_hash=e.prev_hash,
                    checkpoint=self.checkpoints.including(e.seq),
                )
                for e in events
            ],
            sources=[
                replace(row, sent_at=_local(row.sent_at) if row.sent_at else None) for row in sources or []
            ],
        )


def _exif_times(item_id: int, annotations: list[Annotation]) -> list[tuple[str, datetime]]:
    """The capture and digitised times the item's metadata findings read from EXIF (the case timeline's
    points of the item, ``search.timeline``), a rejected finding left out."""
    times = []
    for annotation in annotations:
        if annotation.detector_name != "metadata" or annotation.label not in EXIF_KINDS:
            continue
        if annotation.review_status == ReviewStatus.REJECTED:
            continue
        point = exif_point(item_id, annotation.label, annotation.details or {})
        if point is not None:
            times.append((point.kind + ("" if point.zone_known else "_zone_unknown"), _local(point.at)))
    return times


def _timeline_row(point: Point) -> TimelineRow:
    data = point.as_json()
    return TimelineRow(
        at=_local(point.at),
        as_written=point.local,
        kind=data["kind_label"],
        item_id=point.item,
        what=point.what,
        time_source=point.time_source,
        trust=data["trust_label"],
        zone_known=point.zone_known,
    )


def _rehash(sha256: str) -> dict[str, str]:
    """SHA-256, MD5 and SHA-1 of a blob read back from the vault now (authenticated chunk by chunk)."""
    digests = {"SHA-256": hashlib.sha256(), "MD5": hashlib.md5(), "SHA-1": hashlib.sha1()}  # noqa: S324
    for chunk in read_verified(sha256):
        for digest in digests.values():
            digest.update(chunk)
    return {name: digest.hexdigest() for name, digest in digests.items()}


def _certificate(*, case: Case, exhibit_ids: list[int], included: Included) -> Iterator[HashCertificateRow]:
    """Each item's hashes at acquisition against the vault's bytes now; a mismatch refuses the report."""
    included.rehashed_at = _local(timezone.now())
    for start in range(0, len(exhibit_ids), BATCH):
        ids = exhibit_ids[start : start + BATCH]
        numbers = dict(Exhibit.objects.filter(pk__in=ids).values_list("pk", "number"))
        links = (
            ExhibitItem.objects.filter(exhibit_id__in=ids)
            .select_related("item__blob")
            .order_by("exhibit_id", "position")
        )
        by_exhibit: dict[int, list[ExhibitItem]] = defaultdict(list)
        for link in links:
            by_exhibit[link.exhibit_id].append(link)
        for pk in ids:
            for link in by_exhibit[pk]:
                blob = link.item.blob
                if blob is None:
                    continue
                try:
                    now = _rehash(blob.sha256)
                except HaetaeError as exc:
                    raise IntegrityFailure(
                        f"item {link.item_id} of exhibit {numbers[pk]} in case {case.number} cannot be read "
                        f"back intact from the vault ({exc.message}); no report can certify it: run "
                        "'manage.py verify' and treat this as an incident",
                        details={"item": link.item_id, "exhibit": numbers[pk]},
                    ) from None
                then = {"SHA-256": blob.sha256, "MD5": blob.md5, "SHA-1": blob.sha1}
                for algorithm in ("SHA-256", "MD5", "SHA-1"):
                    yield HashCertificateRow(
                        exhibit=numbers[pk],
                        item_id=link.item_id,
                        name=link.item.original_name,
                        algorithm=algorithm,
                        at_acquisition=then[algorithm],
                        now=now[algorithm],
                        matches=then[algorithm] == now[algorithm],
                    )
                included.rehashed[blob.sha256] = "match"


class _DetectorList(list[tuple[str, str, str]]):
    """Filled as the sections are read: the detectors whose findings the report shows."""


def report_data(
    *,
    case: Case,
    exhibits: Sequence[Exhibit] | QuerySet[Exhibit],
    language: str,
    examiner: User | None = None,
) -> ReportData:
    """The report's content for ``exhibits`` of ``case`` in ``language`` ("ko" or "en").

    ``examiner`` is who the cover names as examiner (default: the case's lead investigator); reviewers are
    the supervisors who approved the exhibits. No access check here: the caller (``report_request``)
    decides who may have a report made.
    """
    if language not in ("ko", "en"):
        raise RejectedInput(f"language: {language!r} is not a report language; use ko or en")
    exhibit_ids = _exhibit_ids(case, exhibits)
    summaries = []
    reviewer_ids: list[int] = []
    rows = Exhibit.objects.filter(pk__in=exhibit_ids).values_list(
        "pk", "number", "status", "description", "approved_by_id", "approved_at"
    )
    by_pk = {row[0]: row for row in rows.iterator(chunk_size=2000)}
    counts = dict(
        ExhibitItem.objects.filter(exhibit_id__in=exhibit_ids)
        .values("exhibit_id")
        .annotate(n=Count("id"))
        .values_list("exhibit_id", "n")
    )
    users = {u.pk: u for u in User.objects.filter(pk__in={r[4] for r in by_pk.values() if r[4]})}
    for pk in exhibit_ids:
        _, number, status, description, approver_id, approved_at = by_pk[pk]
        if approver_id and approver_id not in reviewer_ids:
            reviewer_ids.append(approver_id)
        approver = users.get(approver_id) if approver_id else None
        summaries.append(
            ExhibitSummary(
                number=number,
                status=status,
                description=description,
                item_count=counts.get(pk, 0),
                approved_by=(approver.get_full_name() or approver.get_username()) if approver else "",
                approved_at=_local(approved_at) if approved_at else None,
            )
        )
    examiner = examiner or case.lead_investigator
    # Everyone named is shown with the qualification in force now, the moment the report is made.
    now = timezone.now()
    checkpoints = _Checkpoints()
    included = Included()
    sections = _Sections(
        case=case, exhibit_ids=exhibit_ids, checkpoints=checkpoints, included=included, language=language
    )
    detectors = _DetectorList()

    def exhibit_stream() -> Iterator[ExhibitSection]:
        yield from sections
        detectors.extend((name, version, v) for (name, version), v in sorted(sections.detectors.items()))

    cover = Cover(
        case_number=case.number,
        case_title=case.title,
        offences=[
            (f"{o.statute_ko} 제{o.article}조 {o.label_ko}" if language == "ko" else str(o))
            for o in case.offences.all()
        ],
        unit=case.unit.name if case.unit else "",
        jurisdiction=case.jurisdiction,
        examiner=_person(examiner, "lead investigator", at=now, language=language),
        reviewers=[_person(users[pk], "supervisor", at=now, language=language) for pk in reviewer_ids],
        generated_at=_local(now),
        time_zone=str(_zone()),
        scope=[s.number for s in summaries],
        exhibit_count=len(summaries),
        item_count=sum(s.item_count for s in summaries),
    )
    return ReportData(
        language=language,
        cover=cover,
        exhibit_list=summaries,
        exhibits=exhibit_stream(),
        hash_certificate=_certificate(case=case, exhibit_ids=exhibit_ids, included=included),
        certifier=_person(examiner, "lead investigator", at=now, language=language),
        included=included,
        latest_checkpoint=checkpoints.latest(),
        detectors=detectors,
    )
