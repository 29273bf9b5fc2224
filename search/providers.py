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
STREAM_CHUNK = 2000  # rows fetched at a time from a provider's query


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


def finding_document(
    *, pk: int, item_id: int, detector_name: str, label: str, category: str, details: Any, case_id: int
) -> Document | None:
    """The searchable text of one finding, with the field it belongs to; None when it has none."""
    detector = detector_name.removeprefix("video:")
    details = details if isinstance(details, dict) else {}
    field, text = "", ""
    if detector == "ocr" and label == "ocr_text":
        field, text = SearchField.OCR, str(details.get("text") or "")
    elif detector == "metadata" and label == "document_text":
        field, text = SearchField.DOCUMENT, str(details.get("text") or "")
    elif detector == "metadata":
        field, text = SearchField.METADATA, _metadata_text(label, details)
    elif detector == "generator-metadata" and category == "ai_provenance":
        field, text = SearchField.PROMPT, _prompt_text(details)
    if not text.strip():
        return None
    return Document(
        case_id=case_id,
        kind="item",
        object_id=item_id,
        field=field,
        source=f"finding:{pk}",
        text=text[:MAX_DOCUMENT_TEXT],
        item_id=item_id,
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
        # Two streams in item order, each one query (not a query per thousand items: a planner with stale
        # statistics after a large ingest scanned the findings once per chunk, 14 s of a 100,000-item
        # rebuild), merged here: each item's name, then its findings' texts.
        rows = (
            items.order_by("pk")
            .values_list("pk", "case_id", "original_name", "original_path")
            .iterator(chunk_size=STREAM_CHUNK)
        )
        findings = (
            Annotation.objects.filter(item__in=items.values("pk"), detector_name__in=INDEXED_DETECTORS)
            .exclude(review_status=ReviewStatus.REJECTED)
            .order_by("item_id", "pk")
            .values_list("pk", "item_id", "detector_name", "label", "category", "details")
            .iterator(chunk_size=STREAM_CHUNK)
        )
        finding = next(findings, None)
        for pk, case, original_name, original_path in rows:
            name = original_path or original_name
            if name:
                yield Document(
                    case_id=case,
                    kind=self.kind,
                    object_id=pk,
                    field=SearchField.NAME,
                    source="name",
                    text=name,
                    item_id=pk,
                )
            while finding is not None and finding[1] <= pk:
                f_pk, f_item, detector_name, label, category, details = finding
                document = finding_document(
                    pk=f_pk,
                    item_id=f_item,
                    detector_name=detector_name,
                    label=label,
                    category=category,
                    details=details,
                    case_id=case,
                )
                if document is not None and f_item == pk:
                    yield document
                finding = next(findings, None)
