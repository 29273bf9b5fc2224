"""Interchange: a case's items for other tools, as VICS-style JSON and as CASE/UCO JSON-LD.

- VICS (the Project VIC / CAID "Video and Image Classification Standard", OData JSON 2.0): one ``Media``
  per distinct content (MD5, SHA-1, size, a category) with its ``MediaFiles`` (where each copy was found,
  with its file times). Categories follow Haetae's scheme for adult non-consensual and synthetic imagery
  (``CATEGORIES``; docs/interchange.md), taken only from what an investigator confirmed or a supervisor
  approved: unreviewed detector output never makes a category.
- CASE/UCO JSON-LD (CASE 1.x, UCO 1.x): each item as an ``observable:File`` with a file facet and a
  content-data facet (hashes), each custody event as a ``case-investigation:InvestigativeAction`` with
  its performer, time and ledger leaf hash, and per item a ``case-investigation:ProvenanceRecord``.

Need-to-know: the case lead and investigators export (``Action.INTERCHANGE_EXPORT`` in ``access.policy``);
victim support gets only the consent-gated platform hash list (``support.services.hash_export``). Every
export writes one ``exported`` custody event per item it contains, with the SHA-256 of the exported
document, in the transaction that builds it: a document never leaves without its record.
"""

import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from access.models import Case
from access.policy import Action, require
from access.selectors import case_get_for
from detection.models import Annotation
from detection.models.runs import ReviewStatus
from evidence.choices import CustodyAction, ItemKind, ItemStatus
from evidence.custody import custody_append_many, item_event
from evidence.models import CustodyEvent, EvidenceItem
from exhibits.choices import ExhibitStatus
from exhibits.models import Exhibit
from haetae.errors import HaetaeError, NotFound, RejectedInput
from haetae.toolkit import utc_iso
from parties.choices import ItemPersonRelation, LinkConfidence, PersonKind
from parties.models import ItemChannelLink, ItemPersonLink

VICS_FORMAT = "vics-json/2.0"
CASE_UCO_FORMAT = "case-uco-jsonld/1"
VICS_ODATA_CONTEXT = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media"
# A fixed namespace so that the same case, item or event gets the same @id in every export.
_IN_CHUNK = 2000
_ID_NAMESPACE = uuid.UUID("6b1c0e52-3f0a-5d8e-9a41-68a3e7a7d001")

# --- the category scheme ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Category:
    """One category of Haetae's scheme: the integer VICS carries in ``Category`` and a stable name."""

    code: int
    name: str
    meaning: str


# Codes 0 and 10-39: VICS readers show the integer; the name travels in MediaMetadata. Codes 1-9 are left
# free because national CSAM schemes (e.g. the UK's CAID A/B/C as 1-3) use them; Haetae never assigns those.
CATEGORIES: dict[str, Category] = {
    c.name: c
    for c in (
        Category(0, "uncategorised", "no confirmed basis for a category: not reviewed, or nothing confirmed"),
        Category(10, "ncii_identified_victim", "intimate image of an identified adult victim"),
        Category(
            11,
            "synthetic_ncii_identified_victim",
            "synthetic (AI-generated or manipulated) intimate image of an identified adult victim",
        ),
        Category(12, "synthetic_intimate", "synthetic intimate image, the person depicted not identified"),
        Category(13, "intimate_unidentified", "intimate image, the person depicted not identified"),
        Category(
            20,
            "exhibited_pertinent",
            "in an exhibit a supervisor approved: pertinent to the offence, content category not confirmed",
        ),
        Category(
            30,
            "minor_depicted_refer",
            "depicts a person recorded as a minor: refer to the national CSAM categorisation instead",
        ),
    )
}
# NudeNet labels (detection.detectors.nudity) that make an image intimate once an investigator confirms one.
INTIMATE_LABELS = frozenset(
    {
        "FEMALE_GENITALIA_EXPOSED",
        "FEMALE_BREAST_EXPOSED",
        "MALE_GENITALIA_EXPOSED",
        "BUTTOCKS_EXPOSED",
        "ANUS_EXPOSED",
    }
)
# Labels of AI-provenance findings that say "made or changed by a generator" once confirmed; model packs
# (category model_pack) are deepfake classifiers, so a confirmed pack finding counts too.
SYNTHETIC_LABELS = frozenset({"c2pa_declares_generative_ai", "declared_generative_ai", "generator_watermark"})
SYNTHETIC_CATEGORIES = frozenset({"model_pack"})
EXHIBIT_APPROVED = frozenset({ExhibitStatus.APPROVED, ExhibitStatus.SHARED})


@dataclass
class CategoryBasis:
    """Why an item got its category: the confirmed findings, links and exhibits it rests on."""

    intimate: list[str] = field(default_factory=list)
    synthetic: list[str] = field(default_factory=list)
    victims: list[str] = field(default_factory=list)
    minors: list[str] = field(default_factory=list)
    suspects: list[str] = field(default_factory=list)
    exhibits: list[str] = field(default_factory=list)
    distributed: list[str] = field(default_factory=list)

    def category(self) -> Category:
        if self.minors:
            name = "minor_depicted_refer"
        elif self.intimate and self.synthetic:
            name = "synthetic_ncii_identified_victim" if self.victims else "synthetic_intimate"
        elif self.intimate:
            name = "ncii_identified_victim" if self.victims else "intimate_unidentified"
        elif self.exhibits:
            name = "exhibited_pertinent"
        else:
            name = "uncategorised"
        return CATEGORIES[name]

    def sources(self) -> list[str]:
        return [*self.intimate, *self.synthetic, *self.victims, *self.minors, *self.exhibits]


# --- access and selection ----------------------------------------------------------------------------------


def interchange_case_get(*, user: AbstractBaseUser | AnonymousUser, number: str) -> Case:
    """The caller's case (404 for non-members) once their role may export items (lead, investigator)."""
    case = case_get_for(user=user, number=number)
    require(case=case, action=Action.INTERCHANGE_EXPORT, doing="export items for other tools")
    return case


def interchange_items(
    *, case: Case, exhibit_numbers: Collection[str] | None = None
) -> QuerySet[EvidenceItem]:
    """The stored items of the case, or of the named exhibits (withdrawn exhibits refused), by id."""
    items = EvidenceItem.objects.filter(case=case, status=ItemStatus.INGESTED, blob__isnull=False)
    if exhibit_numbers:
        wanted = sorted(set(exhibit_numbers))
        exhibits = list(Exhibit.objects.filter(case=case, number__in=wanted))
        missing = sorted(set(wanted) - {e.number for e in exhibits})
        if missing:
            message = (
                f"no exhibit {', '.join(missing)} in case {case.number}: numbers look like E-001; list "
                f"them with GET /api/v1/cases/{case.number}/exhibits/"
            )
            raise NotFound(message, details={"exhibits": [message]})
        withdrawn = sorted(e.number for e in exhibits if e.status == ExhibitStatus.WITHDRAWN)
        if withdrawn:
            message = f"exhibits {', '.join(withdrawn)} were withdrawn: export the exhibits in force"
            raise RejectedInput(message, details={"exhibits": [message]})
        items = items.filter(exhibit_items__exhibit__in=exhibits).distinct()
    return items.select_related("blob", "acquisition", "parent__blob").order_by("id")


def _finding_ref(annotation: Any) -> str:
    reviewer = annotation.reviewed_by.get_username() if annotation.reviewed_by_id else "?"
    return (
        f"finding {annotation.pk} {annotation.label} ({annotation.detector_name} "
        f"{annotation.detector_version}) confirmed by {reviewer}"
    )


def item_category_bases(*, item_ids: Sequence[int]) -> dict[int, CategoryBasis]:
    """Each item's category basis from confirmed findings, confirmed links and approved exhibits only.

    Unreviewed findings (review status "lead") and rejected ones are never read here: a detector's guess
    does not classify material that others will act on. Four queries per chunk of items.
    """
    bases: dict[int, CategoryBasis] = defaultdict(CategoryBasis)
    ids = list(item_ids)
    for chunk in _chunks(ids):
        _category_chunk(chunk, bases)
    return {item_id: bases[item_id] for item_id in ids}


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    """Ids in slices small enough for any database's limit on query parameters."""
    for start in range(0, len(ids), _IN_CHUNK):
        yield list(ids[start : start + _IN_CHUNK])


def _category_chunk(ids: list[int], bases: dict[int, CategoryBasis]) -> None:
    confirmed = (
        Annotation.objects.filter(item_id__in=ids, review_status=ReviewStatus.CONFIRMED)
        .select_related("reviewed_by")
        .order_by("item_id", "id")
    )
    for annotation in confirmed:
        if annotation.label in INTIMATE_LABELS:
            bases[annotation.item_id].intimate.append(_finding_ref(annotation))
        if annotation.label in SYNTHETIC_LABELS or annotation.category in SYNTHETIC_CATEGORIES:
            bases[annotation.item_id].synthetic.append(_finding_ref(annotation))
    person_links = ItemPersonLink.objects.filter(
        item_id__in=ids, confidence=LinkConfidence.CONFIRMED, withdrawn_at__isnull=True
    ).select_related("person")
    for link in person_links.order_by("item_id", "id"):
        person = link.person
        if link.relation == ItemPersonRelation.DEPICTS and person.kind == PersonKind.VICTIM:
            target = bases[link.item_id].minors if person.is_minor else bases[link.item_id].victims
            target.append(f"link {link.pk}: depicts {person.pseudonym} (confirmed)")
        elif person.kind == PersonKind.SUSPECT and link.relation != ItemPersonRelation.DEPICTS:
            bases[link.item_id].suspects.append(f"link {link.pk}: {link.relation} {person.pseudonym}")
    channel_links = ItemChannelLink.objects.filter(
        item_id__in=ids, confidence=LinkConfidence.CONFIRMED, withdrawn_at__isnull=True
    )
    for item_id, link_id in channel_links.order_by("item_id", "id").values_list("item_id", "pk"):
        bases[item_id].distributed.append(f"link {link_id}: posted in a channel (confirmed)")
    exhibited = (
        Exhibit.objects.filter(exhibit_items__item_id__in=ids, status__in=EXHIBIT_APPROVED)
        .values_list("exhibit_items__item_id", "number", "status")
        .order_by("exhibit_items__item_id", "number")
    )
    wanted = set(ids)
    for item_id, number, status in exhibited:
        if item_id in wanted:  # the filter's join may also yield the exhibit's other items
            bases[item_id].exhibits.append(f"exhibit {number} ({status})")


# --- VICS --------------------------------------------------------------------------------------------------

# The VICS 2.0 fields Haetae writes (docs/interchange.md), with their JSON types; the validator holds the
# export to exactly these.
VICS_MEDIA_FIELDS: dict[str, type | tuple[type, ...]] = {
    "MediaID": int,
    "Category": int,
    "MD5": str,
    "SHA1": str,
    "MediaSize": int,
    "MimeType": str,
    "DateUpdated": str,
    "IsPrecategorized": bool,
    "VictimIdentified": bool,
    "OffenderIdentified": bool,
    "IsDistributed": bool,
    "Tags": str,
    "Comments": str,
    "MediaFiles": list,
    "MediaMetadata": list,
}
VICS_MEDIA_REQUIRED = frozenset({"MediaID", "Category", "MD5", "SHA1", "MediaSize", "MediaFiles"})
VICS_MEDIAFILE_FIELDS: dict[str, type | tuple[type, ...]] = {
    "MD5": str,
    "FileName": str,
    "FilePath": str,
    "Created": (str, type(None)),
    "Written": (str, type(None)),
    "Accessed": (str, type(None)),
    "Unallocated": bool,
    "Deleted": bool,
    "SourceID": str,
    "ParentMD5": str,
    "ParentName": str,
    "ParentFilePath": str,
}
VICS_MEDIAFILE_REQUIRED = frozenset({"MD5", "FileName", "FilePath", "Created", "Written", "Accessed"})
_HEX = {"MD5": 32, "SHA1": 40, "ParentMD5": 32}


def _iso(moment: datetime | None) -> str | None:
    return utc_iso(moment) if moment is not None else None


def vics_document(*, case: Case, items: Iterable[EvidenceItem], generated_at: datetime) -> dict[str, Any]:
    """The VICS JSON document: one Media per distinct content, its copies as MediaFiles."""
    by_sha: dict[str, list[EvidenceItem]] = {}
    for item in items:
        assert item.blob is not None
        by_sha.setdefault(item.blob.sha256, []).append(item)
    bases = item_category_bases(item_ids=[i.pk for copies in by_sha.values() for i in copies])
    media = []
    for media_id, (sha256, copies) in enumerate(by_sha.items(), start=1):
        blob = copies[0].blob
        assert blob is not None
        merged = CategoryBasis()
        for copy in copies:
            basis = bases[copy.pk]
            for name in ("intimate", "synthetic", "victims", "minors", "suspects", "exhibits", "distributed"):
                getattr(merged, name).extend(getattr(basis, name))
        category = merged.category()
        metadata = [
            {"PropertyName": "SHA256", "PropertyValue": sha256},
            {"PropertyName": "haetae:category", "PropertyValue": category.name},
        ]
        metadata += [{"PropertyName": "haetae:category_basis", "PropertyValue": s} for s in merged.sources()]
        for copy in copies:
            metadata.append(
                {
                    "PropertyName": "haetae:acquired_at",
                    "PropertyValue": f"item {copy.pk}: {utc_iso(copy.acquired_at)}",
                }
            )
        tags = sorted(
            {
                *(["intimate"] if merged.intimate else []),
                *(["synthetic"] if merged.synthetic else []),
                *(["exhibited"] if merged.exhibits else []),
            }
        )
        media.append(
            {
                "MediaID": media_id,
                "Category": category.code,
                "MD5": blob.md5.upper(),
                "SHA1": blob.sha1.upper(),
                "MediaSize": blob.size,
                "MimeType": blob.mime or copies[0].mime,
                "DateUpdated": utc_iso(generated_at),
                "IsPrecategorized": False,
                "VictimIdentified": bool(merged.victims or merged.minors),
                "OffenderIdentified": bool(merged.suspects),
                "IsDistributed": bool(merged.distributed),
                "Tags": ",".join(tags),
                "Comments": f"case {case.number}; items {', '.join(str(c.pk) for c in copies)}",
                "MediaFiles": [_vics_media_file(copy) for copy in copies],
                "MediaMetadata": metadata,
            }
        )
    return {"@odata.context": VICS_ODATA_CONTEXT, "value": media}


def _vics_media_file(item: EvidenceItem) -> dict[str, Any]:
    assert item.blob is not None
    folder, _, _name = item.original_path.rpartition("/")
    entry: dict[str, Any] = {
        "MD5": item.blob.md5.upper(),
        "FileName": item.original_name,
        "FilePath": folder or "/",
        "Created": _iso(item.file_created_at),
        "Written": _iso(item.file_modified_at),
        "Accessed": _iso(item.file_accessed_at),
        "Unallocated": False,
        "Deleted": False,
        "SourceID": f"acquisition {item.acquisition_id}"
        + (f" ({item.acquisition.seizure_reference})" if item.acquisition.seizure_reference else ""),
    }
    if item.kind == ItemKind.ARCHIVE_MEMBER and item.parent is not None and item.parent.blob is not None:
        parent_folder, _, _ = item.parent.original_path.rpartition("/")
        entry.update(
            ParentMD5=item.parent.blob.md5.upper(),
            ParentName=item.parent.original_name,
            ParentFilePath=parent_folder or "/",
        )
    return entry


def _check_fields(
    where: str,
    obj: Any,
    fields: dict[str, type | tuple[type, ...]],
    required: Collection[str],
    problems: list[str],
) -> None:
    if not isinstance(obj, dict):
        problems.append(f"{where}: not an object")
        return
    for name in sorted(set(obj) - set(fields)):
        problems.append(f"{where}: field {name} is not in the documented VICS field list")
    for name in sorted(set(required) - set(obj)):
        problems.append(f"{where}: required field {name} is missing")
    for name, value in obj.items():
        expected = fields.get(name)
        if expected is None:
            continue
        # bool is an int in Python: an integer field must not take a boolean.
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            problems.append(f"{where}.{name}: {type(value).__name__} where the field list says {expected}")
        elif name in _HEX and not (
            isinstance(value, str)
            and len(value) == _HEX[name]
            and all(c in "0123456789ABCDEF" for c in value)
        ):
            problems.append(f"{where}.{name}: not {_HEX[name]} upper-case hex digits")


def vics_validate(document: Any) -> list[str]:
    """Problems of a VICS document against the documented field list (empty: it conforms)."""
    problems: list[str] = []
    if not isinstance(document, dict) or set(document) != {"@odata.context", "value"}:
        return ["the document must be an object with exactly @odata.context and value"]
    if document["@odata.context"] != VICS_ODATA_CONTEXT:
        problems.append(f"@odata.context must be {VICS_ODATA_CONTEXT}")
    if not isinstance(document["value"], list):
        return [*problems, "value must be an array of Media"]
    codes = {c.code for c in CATEGORIES.values()}
    seen_ids: set[int] = set()
    for index, media in enumerate(document["value"]):
        where = f"value[{index}]"
        _check_fields(where, media, VICS_MEDIA_FIELDS, VICS_MEDIA_REQUIRED, problems)
        if not isinstance(media, dict):
            continue
        if media.get("Category") not in codes:
            problems.append(f"{where}.Category: {media.get('Category')!r} is not a code of the scheme")
        if media.get("MediaID") in seen_ids:
            problems.append(f"{where}.MediaID: {media.get('MediaID')} repeats")
        seen_ids.add(media.get("MediaID"))  # type: ignore[arg-type]
        for file_index, media_file in enumerate(media.get("MediaFiles") or []):
            file_where = f"{where}.MediaFiles[{file_index}]"
            _check_fields(file_where, media_file, VICS_MEDIAFILE_FIELDS, VICS_MEDIAFILE_REQUIRED, problems)
            if isinstance(media_file, dict) and media_file.get("MD5") != media.get("MD5"):
                problems.append(f"{file_where}.MD5: differs from its Media's MD5")
        for meta_index, meta in enumerate(media.get("MediaMetadata") or []):
            if not (isinstance(meta, dict) and set(meta) == {"PropertyName", "PropertyValue"}):
                problems.append(f"{where}.MediaMetadata[{meta_index}]: needs PropertyName and PropertyValue")
    return problems


# --- CASE / UCO JSON-LD ------------------------------------------------------------------------------------

CASE_UCO_CONTEXT: dict[str, str] = {
    "kb": "urn:haetae:kb:",
    "case-investigation": "https://ontology.caseontology.org/case/investigation/",
    "core": "https://ontology.unifiedcyberontology.org/uco/core/",
    "observable": "https://ontology.unifiedcyberontology.org/uco/observable/",
    "types": "https://ontology.unifiedcyberontology.org/uco/types/",
    "action": "https://ontology.unifiedcyberontology.org/uco/action/",
    "identity": "https://ontology.unifiedcyberontology.org/uco/identity/",
    "tool": "https://ontology.unifiedcyberontology.org/uco/tool/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
# The classes this export uses (CASE 1.x / UCO 1.x); the structural check refuses any other @type.
CASE_UCO_TYPES = frozenset(
    {
        "case-investigation:Investigation",
        "case-investigation:InvestigativeAction",
        "case-investigation:ProvenanceRecord",
        "observable:File",
        "observable:FileFacet",
        "observable:ContentDataFacet",
        "types:Hash",
        "identity:Identity",
        "tool:Tool",
        "core:ExternalReference",
    }
)
# Property prefixes the export writes; a property from an undeclared prefix is a mistake.
_LITERAL_TYPES = frozenset(
    {
        "xsd:dateTime",
        "xsd:integer",
        "xsd:hexBinary",
    }
)


def _kb(kind: str, *parts: object) -> str:
    return f"kb:{kind}-{uuid.uuid5(_ID_NAMESPACE, '/'.join(str(p) for p in (kind, *parts)))}"


def _dt(moment: datetime) -> dict[str, str]:
    return {"@type": "xsd:dateTime", "@value": utc_iso(moment)}


def _int(value: int) -> dict[str, Any]:
    return {"@type": "xsd:integer", "@value": value}


def _hash_node(item_id: int, method: str, value: str) -> dict[str, Any]:
    return {
        "@id": _kb("hash", item_id, method),
        "@type": "types:Hash",
        # A plain string (xsd:string) from UCO's HashNameVocab list: UCO 1.4 deprecated the vocabulary
        # datatype for this property and UCO 2.0 makes it an error.
        "types:hashMethod": method,
        "types:hashValue": {"@type": "xsd:hexBinary", "@value": value.upper()},
    }


def _file_node(item: EvidenceItem) -> dict[str, Any]:
    blob = item.blob
    assert blob is not None
    file_facet: dict[str, Any] = {
        "@id": _kb("file-facet", item.pk),
        "@type": "observable:FileFacet",
        "observable:fileName": item.original_name,
        "observable:filePath": item.original_path,
        "observable:sizeInBytes": _int(blob.size),
        "observable:isDirectory": False,
    }
    if "." in item.original_name:
        file_facet["observable:extension"] = item.original_name.rsplit(".", 1)[1]
    for prop, moment in (
        ("observable:observableCreatedTime", item.file_created_at),
        ("observable:modifiedTime", item.file_modified_at),
        ("observable:accessedTime", item.file_accessed_at),
        ("observable:metadataChangeTime", item.file_changed_at),
    ):
        if moment is not None:
            file_facet[prop] = _dt(moment)
    content_facet = {
        "@id": _kb("content-facet", item.pk),
        "@type": "observable:ContentDataFacet",
        "observable:mimeType": blob.mime or item.mime,
        "observable:sizeInBytes": _int(blob.size),
        "observable:hash": [
            _hash_node(item.pk, "SHA256", blob.sha256),
            _hash_node(item.pk, "SHA1", blob.sha1),
            _hash_node(item.pk, "MD5", blob.md5),
        ],
    }
    return {
        "@id": _kb("file", item.pk),
        "@type": "observable:File",
        "core:name": f"item {item.pk}",
        "core:hasFacet": [file_facet, content_facet],
    }


def case_uco_document(
    *, case: Case, items: Sequence[EvidenceItem], exhibit_numbers: dict[int, list[str]]
) -> dict[str, Any]:
    """The CASE/UCO graph: the investigation, the files, their custody as actions, and provenance records."""
    item_ids = [item.pk for item in items]
    events = sorted(
        (
            event
            for chunk in _chunks(item_ids)
            for event in CustodyEvent.objects.filter(item_id__in=chunk).select_related("item__acquisition")
        ),
        key=lambda event: event.seq,
    )
    graph: list[dict[str, Any]] = []
    people: dict[str, str] = {}
    tools: dict[tuple[str, str], str] = {}

    def performer(name: str, role: str) -> str:
        if name not in people:
            people[name] = _kb("identity", name)
            graph.append(
                {
                    "@id": people[name],
                    "@type": "identity:Identity",
                    "core:name": name,
                    "core:description": f"role on case {case.number}: {role or 'none recorded'}",
                }
            )
        return people[name]

    def tool(name: str, version: str) -> str:
        key = (name, version)
        if key not in tools:
            tools[key] = _kb("tool", name, version)
            graph.append(
                {"@id": tools[key], "@type": "tool:Tool", "core:name": name, "tool:version": version}
            )
        return tools[key]

    for item in items:
        graph.append(_file_node(item))
        record: dict[str, Any] = {
            "@id": _kb("provenance", item.pk),
            "@type": "case-investigation:ProvenanceRecord",
            "core:description": f"evidence item {item.pk} of case {case.number}, acquired "
            f"{utc_iso(item.acquired_at)}",
            "core:object": [{"@id": _kb("file", item.pk)}],
        }
        numbers = exhibit_numbers.get(item.pk, [])
        if numbers:
            record["case-investigation:exhibitNumber"] = ", ".join(numbers)
        graph.append(record)
    for event in events:
        assert event.item_id is not None
        node: dict[str, Any] = {
            "@id": _kb("action", event.seq),
            "@type": "case-investigation:InvestigativeAction",
            "core:name": event.action,
            "core:description": f"custody event {event.seq} ({event.get_action_display()})",
            "action:startTime": _dt(event.occurred_at),
            "action:endTime": _dt(event.occurred_at),
            "action:performer": {"@id": performer(event.actor_name, event.actor_role)},
            "action:object": [{"@id": _kb("file", event.item_id)}],
            "action:result": [{"@id": _kb("provenance", event.item_id)}],
            "core:externalReference": [
                {
                    "@id": _kb("leaf", event.seq),
                    "@type": "core:ExternalReference",
                    "core:definingContext": "Haetae custody ledger leaf hash (RFC 9162 leaf, SHA-256)",
                    "core:externalIdentifier": event.leaf_hash,
                },
                {
                    "@id": _kb("prev", event.seq),
                    "@type": "core:ExternalReference",
                    "core:definingContext": "Haetae custody ledger: the item's previous leaf hash",
                    "core:externalIdentifier": event.prev_hash,
                },
            ],
        }
        if event.location:  # free text: UCO's action:location wants a Location object, so it goes here
            node["core:description"] += f"; location: {event.location}"
        if event.action == CustodyAction.ACQUIRED and event.item is not None:
            acquisition = event.item.acquisition
            node["action:instrument"] = {"@id": tool(acquisition.tool_name, acquisition.tool_version)}
        graph.append(node)
    graph.append(
        {
            "@id": _kb("investigation", case.number),
            "@type": "case-investigation:Investigation",
            "core:name": case.number,
            # A plain string from CASE's list of forms (case, incident, investigation, ...); CASE 1.4
            # deprecated a datatype here and defines no InvestigationFormVocab datatype at all.
            "case-investigation:investigationForm": "case",
            "core:object": [{"@id": node["@id"]} for node in graph],
        }
    )
    return {"@context": CASE_UCO_CONTEXT, "@graph": graph}


def _walk_nodes(value: Any, found: list[dict[str, Any]]) -> None:
    if isinstance(value, dict):
        if "@type" in value and "@value" not in value:
            found.append(value)
        for inner in value.values():
            _walk_nodes(inner, found)
    elif isinstance(value, list):
        for inner in value:
            _walk_nodes(inner, found)


def case_uco_validate(body: bytes) -> list[str]:
    """Structural problems of a CASE/UCO export (empty: it holds): JSON, unique @ids, declared @types,
    declared prefixes, and every reference pointing at a node of the graph."""
    try:
        document = json.loads(body)
    except ValueError as exc:
        return [f"not JSON: {exc}"]
    if not isinstance(document, dict) or set(document) != {"@context", "@graph"}:
        return ["the document must be an object with exactly @context and @graph"]
    context = document["@context"]
    if not isinstance(context, dict):
        return ["@context must be an object of prefixes"]
    problems = []
    nodes: list[dict[str, Any]] = []
    _walk_nodes(document["@graph"], nodes)
    ids: dict[str, int] = defaultdict(int)
    for node in nodes:
        node_id = node.get("@id")
        if not isinstance(node_id, str):
            problems.append(f"a {node.get('@type')} node has no @id")
            continue
        ids[node_id] += 1
        if node["@type"] not in CASE_UCO_TYPES:
            problems.append(f"{node_id}: @type {node['@type']} is not among the declared CASE/UCO classes")
        for key in node:
            if key.startswith("@"):
                continue
            prefix = key.split(":", 1)[0]
            if ":" not in key or prefix not in context:
                problems.append(f"{node_id}: property {key} uses no prefix declared in @context")
    problems += [f"@id {node_id} is used {count} times" for node_id, count in ids.items() if count > 1]
    references: list[str] = []

    def refs(value: Any) -> None:
        if isinstance(value, dict):
            if set(value) == {"@id"}:
                references.append(value["@id"])
            elif "@value" in value:
                if value.get("@type") not in _LITERAL_TYPES:
                    problems.append(f"literal of undeclared datatype {value.get('@type')}")
            else:
                for inner in value.values():
                    refs(inner)
        elif isinstance(value, list):
            for inner in value:
                refs(inner)

    refs(document["@graph"])
    problems += [f"reference to {ref}, which no node has as @id" for ref in references if ref not in ids]
    return problems


# --- services ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InterchangeExport:
    """An export as handed over: the bytes, what they are, and their SHA-256 (also in the ledger)."""

    body: bytes
    content_type: str
    filename: str
    sha256: str
    item_count: int
    media_count: int


def _exhibit_numbers(items: Sequence[EvidenceItem]) -> dict[int, list[str]]:
    numbers: dict[int, list[str]] = defaultdict(list)
    for chunk in _chunks([i.pk for i in items]):
        wanted = set(chunk)
        rows = (
            Exhibit.objects.filter(exhibit_items__item_id__in=chunk)
            .exclude(status=ExhibitStatus.WITHDRAWN)
            .values_list("exhibit_items__item_id", "number")
            .order_by("exhibit_items__item_id", "number")
        )
        for item_id, number in rows:
            if item_id in wanted:  # the filter's join may also yield the exhibit's other items
                numbers[item_id].append(number)
    return numbers


def _export(
    *,
    case: Case,
    actor: User,
    export_format: str,
    exhibit_numbers: Collection[str] | None,
    recipient: str,
    build: Any,
    suffix: str,
    content_type: str,
) -> InterchangeExport:
    with transaction.atomic():
        items = list(interchange_items(case=case, exhibit_numbers=exhibit_numbers))
        if not items:
            message = (
                f"case {case.number} has no stored items to export"
                + (f" in exhibits {', '.join(sorted(exhibit_numbers))}" if exhibit_numbers else "")
                + ": ingest evidence first"
            )
            raise RejectedInput(message, details={"items": [message]})
        generated_at = timezone.now()
        document = build(items=items, generated_at=generated_at)
        body = (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()
        digest = hashlib.sha256(body).hexdigest()
        scope = sorted(exhibit_numbers) if exhibit_numbers else "case"
        custody_append_many(
            [
                item_event(
                    item,
                    CustodyAction.EXPORTED,
                    actor,
                    occurred_at=generated_at,
                    to_custodian=recipient.strip(),
                    details={
                        "format": export_format,
                        "scope": scope,
                        "export_sha256": digest,
                        "items": len(items),
                        "content": False,  # hashes and metadata only; no byte of the item left
                    },
                )
                for item in items
            ]
        )
    stamp = generated_at.strftime("%Y%m%dT%H%M%SZ")
    media_count = len({item.blob_id for item in items})
    return InterchangeExport(
        body=body,
        content_type=content_type,
        filename=f"{case.number}-{suffix}-{stamp}.json",
        sha256=digest,
        item_count=len(items),
        media_count=media_count,
    )


def vics_export(
    *, case: Case, actor: User, exhibit_numbers: Collection[str] | None = None, recipient: str = ""
) -> InterchangeExport:
    """The case's (or the exhibits') items as VICS JSON; an ``exported`` event per item."""

    def build(*, items: list[EvidenceItem], generated_at: datetime) -> dict[str, Any]:
        document = vics_document(case=case, items=items, generated_at=generated_at)
        problems = vics_validate(document)
        if problems:  # a bug here, never the user's: refuse rather than hand over a malformed file
            raise HaetaeError("the VICS export does not conform to its field list: " + "; ".join(problems))
        return document

    return _export(
        case=case,
        actor=actor,
        export_format=VICS_FORMAT,
        exhibit_numbers=exhibit_numbers,
        recipient=recipient,
        build=build,
        suffix="vics",
        content_type="application/json",
    )


def case_uco_export(
    *, case: Case, actor: User, exhibit_numbers: Collection[str] | None = None, recipient: str = ""
) -> InterchangeExport:
    """The case's (or the exhibits') items and their custody as CASE/UCO JSON-LD; an ``exported`` event
    per item (the document holds the custody up to, not including, these events)."""

    def build(*, items: list[EvidenceItem], generated_at: datetime) -> dict[str, Any]:
        document = case_uco_document(case=case, items=items, exhibit_numbers=_exhibit_numbers(items))
        problems = case_uco_validate(json.dumps(document).encode())
        if problems:
            raise HaetaeError("the CASE/UCO export is not well formed: " + "; ".join(problems[:10]))
        return document

    return _export(
        case=case,
        actor=actor,
        export_format=CASE_UCO_FORMAT,
        exhibit_numbers=exhibit_numbers,
        recipient=recipient,
        build=build,
        suffix="case-uco",
        content_type="application/ld+json",
    )
