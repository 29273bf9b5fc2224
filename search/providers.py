"""Where the index's text comes from: a small registry of providers, one per kind of object.

A provider turns objects of one kind into ``Document``s — (case, object id, the item it belongs to, field,
source, text) — for the objects named, or for every object of a case, or of the whole database. The
index (``search.services``) stores what providers return and nothing else, so what is searchable is
exactly what the providers say; ``search_reindex`` asks every provider again.

Providers for the apps below this floor live in this app (it may import them; they may not import it):
``ItemProvider`` here, for the items' names and their findings' text; messages (``sources``) and captured
pages (``captures``) register theirs the same way (``register(MessageProvider())``) in
``SearchConfig.ready``. The lower app tells the index that objects changed through its own hook, which
this app subscribes to with ``search.services.index_refresh(kind=…, object_ids=…)``, as it subscribes to
detection runs (``detection.listeners.run_listeners``) and ingest (``HAETAE_INGEST_HOOKS``).

Never provided: people and their sealed identities, victim support records and notes, reviewers' reasons.
A document's ``item_id`` carries the prosecutor rule (only items of shared exhibits); a document with no
item is seen only by roles that see the whole case.
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from detection.models import Annotation
from detection.models.runs import ReviewStatus
from evidence.choices import ItemStatus
from evidence.models import EvidenceItem
from search.choices import SearchField

MAX_DOCUMENT_TEXT = 1_000_000


@dataclass(frozen=True)
class Document:
    """One text to index."""

    case_id: int
    kind: str
    object_id: int
    field: str
    source: str
    text: str
    item_id: int | None = None


class Provider(Protocol):
    """Makes the documents of one kind of object."""

    kind: str

    def documents(
        self, *, object_ids: Sequence[int] | None = None, case_id: int | None = None
    ) -> Iterator[Document]:
        """Documents of the named objects (``object_ids``), or of every object of ``case_id``, or of all."""
        ...


_providers: dict[str, Provider] = {}


def register(provider: Provider) -> None:
    """Add (or replace) the provider of a kind of object."""
    _providers[provider.kind] = provider


def providers() -> list[Provider]:
    return list(_providers.values())


def provider_get(kind: str) -> Provider:
    return _providers[kind]


def provider_kinds() -> set[str]:
    return set(_providers)


# --- items ------------------------------------------------------------------------------------------------


def _join(values: Iterable[Any]) -> str:
    return "\n".join(str(v).strip() for v in values if v is not None and str(v).strip())


def _metadata_text(label: str, details: dict[str, Any]) -> str:
    if label in {"camera", "software"}:
        return _join(v for k, v in details.items() if k != "note")
    if label in {"capture_time", "digitised_time", "modified_time"}:
        return _join([details.get("iso") or details.get("local") or details.get("exif")])
    if label in {"xmp", "iptc", "document_properties"}:
        fields = details.get("fields") or {}
        return _join(fields.values()) if isinstance(fields, dict) else ""
    return ""


def _prompt_text(details: dict[str, Any]) -> str:
    fields = details.get("fields") or {}
    if not isinstance(fields, dict):
        return ""
    texts: list[Any] = [fields.get("prompt"), fields.get("negative_prompt"), fields.get("uc")]
    prompts = fields.get("prompts")
    if isinstance(prompts, list):
        texts.extend(prompts)
    return _join(t for t in texts if isinstance(t, str))


def annotation_document(annotation: Annotation, case_id: int) -> Document | None:
    """The searchable text of one finding, with the field it belongs to; None when it has none."""
    detector = annotation.detector_name.removeprefix("video:")
    details = annotation.details if isinstance(annotation.details, dict) else {}
    field, text = "", ""
    if detector == "ocr" and annotation.label == "ocr_text":
        field, text = SearchField.OCR, str(details.get("text") or "")
    elif detector == "metadata" and annotation.label == "document_text":
        field, text = SearchField.DOCUMENT, str(details.get("text") or "")
    elif detector == "metadata":
        field, text = SearchField.METADATA, _metadata_text(annotation.label, details)
    elif detector == "generator-metadata" and annotation.category == "ai_provenance":
        field, text = SearchField.PROMPT, _prompt_text(details)
    if not text.strip():
        return None
    return Document(
        case_id=case_id,
        kind="item",
        object_id=annotation.item_id,
        field=field,
        source=f"finding:{annotation.pk}",
        text=text[:MAX_DOCUMENT_TEXT],
        item_id=annotation.item_id,
    )


INDEXED_DETECTORS = ["ocr", "metadata", "generator-metadata", "video:ocr"]


class ItemProvider:
    """Items: their file name and path, and the text of their OCR, metadata and generator findings.

    Findings an investigator rejected are left out; destroyed items give nothing."""

    kind = "item"

    def documents(
        self, *, object_ids: Sequence[int] | None = None, case_id: int | None = None
    ) -> Iterator[Document]:
        items = EvidenceItem.objects.filter(status=ItemStatus.INGESTED)
        if object_ids is not None:
            items = items.filter(pk__in=list(object_ids))
        if case_id is not None:
            items = items.filter(case_id=case_id)
        last = 0
        while True:
            chunk = list(
                items.filter(pk__gt=last)
                .order_by("pk")
                .values("pk", "case_id", "original_name", "original_path")[:1000]
            )
            if not chunk:
                return
            last = chunk[-1]["pk"]
            cases = {row["pk"]: row["case_id"] for row in chunk}
            for row in chunk:
                name = row["original_path"] or row["original_name"]
                if name:
                    yield Document(
                        case_id=row["case_id"],
                        kind=self.kind,
                        object_id=row["pk"],
                        field=SearchField.NAME,
                        source="name",
                        text=name,
                        item_id=row["pk"],
                    )
            findings = (
                Annotation.objects.filter(item_id__in=list(cases), detector_name__in=INDEXED_DETECTORS)
                .exclude(review_status=ReviewStatus.REJECTED)
                .only("pk", "item_id", "detector_name", "label", "category", "details")
                .order_by("pk")
            )
            for annotation in findings:
                document = annotation_document(annotation, cases[annotation.item_id])
                if document is not None:
                    yield document
