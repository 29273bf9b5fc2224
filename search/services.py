"""Keeping the text index in step, and searching it for a person (each search is a custody event).

The index is written only here: when items are ingested (``search_index_ingested``, an ingest hook), when
a detector's findings land or a finding is reviewed (detection's listeners), when items are destroyed
(the records app calls ``index_forget``), and by ``search_reindex`` (``manage.py search_reindex``), which
rebuilds it from the providers. Each write runs in its caller's transaction, so the index never shows
text of work that rolled back.

A search checks the caller's role through the policy (``Action.CASE_SEARCH``), narrows a prosecutor to
the items of shared exhibits, and writes a case-level ``searched`` custody event (who, their role, the
query, how many hits) in the same transaction as it reads — a refused search writes nothing.
"""

import html
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import Count, Window

from access.models import Case
from access.policy import Action, require, restrict, role_may, shared_only
from access.selectors import case_list
from detection.match_selectors import case_contacts
from detection.models import Annotation, DetectionRun
from evidence.choices import CustodyAction
from evidence.custody import EventSpec, custody_append_many
from evidence.models import Acquisition, EvidenceItem
from evidence.selectors import shared_exhibit_item_ids
from haetae.errors import AccessDenied, RejectedInput
from search import backends
from search.choices import SearchField
from search.models import IndexEntry
from search.providers import INDEXED_DETECTORS, Document, provider_get, provider_kinds, providers
from search.providers_sources import chats_and_senders_of_exports, sender_ids_of
from search.tokens import QueryTerm, highlight_pattern, index_terms, query_terms

Caller = AbstractBaseUser | AnonymousUser

# A hit's rank: its field's weight, less for long texts (a word in a file name says more than the same
# word somewhere in a 50-page document). Stored with the entry, so both databases order hits alike.
FIELD_WEIGHT: dict[str, float] = {
    SearchField.NAME: 3.0,
    SearchField.PROMPT: 2.0,
    SearchField.OCR: 2.0,
    SearchField.MESSAGE: 2.0,
    SearchField.DOCUMENT: 1.5,
    SearchField.CAPTURE: 1.5,
    SearchField.METADATA: 1.0,
}
MAX_QUERY_CHARS = 200
SNIPPET_CHARS = 160
BATCH = 2000  # entries a bulk_create writes (SQLite; PostgreSQL streams them through one COPY)


def entry_rank(field_name: str, terms: str) -> float:
    count = terms.count(" ") + 1 if terms else 0
    return round(FIELD_WEIGHT.get(field_name, 1.0) / (1 + math.log2(1 + count / 32)), 6)


def _rows(documents: Iterable[Document]) -> Iterator[backends.EntryRow]:
    for document in documents:
        terms = index_terms(document.text)
        if not terms:
            continue
        # A document's fields are the entry's, one to one; the index adds its terms and rank.
        yield backends.EntryRow(**vars(document), terms=terms, rank=entry_rank(document.field, terms))


def _store(documents: Iterable[Document]) -> int:
    """Store the documents' entries, ``BATCH`` at a time. Each batch is read from its provider before it is
    written: a provider's query may stream from the database, which cannot answer it while a ``COPY`` is
    open on the same connection."""
    stored = 0
    remaining = iter(documents)
    while batch := list(islice(remaining, BATCH)):
        if backends.copy_available():
            stored += backends.entries_copy(_rows(batch))
        else:
            stored += len(
                IndexEntry.objects.bulk_create([IndexEntry(**row._asdict()) for row in _rows(batch)])
            )
    return stored


def index_refresh(*, kind: str, object_ids: Sequence[int]) -> int:
    """Re-index the named objects of one kind from their provider; returns the entries stored."""
    if not object_ids:
        return 0
    with transaction.atomic():
        IndexEntry.objects.filter(kind=kind, object_id__in=list(object_ids)).delete()
        return _store(provider_get(kind).documents(object_ids=object_ids))


def index_forget(*, kind: str, object_ids: Sequence[int]) -> None:
    """Take the named objects out of the index (a destroyed item's text is no longer searchable). Items take
    with them every entry that belongs to them: the messages parsed from a destroyed export file, the text
    of a destroyed capture page."""
    IndexEntry.objects.filter(kind=kind, object_id__in=list(object_ids)).delete()
    if kind == "item":
        IndexEntry.objects.filter(item_id__in=list(object_ids)).delete()
        # Chat titles and senders' names stay only while an export that names them is not destroyed.
        chats, senders = chats_and_senders_of_exports(object_ids)
        index_refresh(kind="chat", object_ids=chats)
        index_refresh(kind="sender", object_ids=senders)


def search_index_ingested(*, items: Sequence[EvidenceItem], acquisition: Acquisition) -> None:
    """The ingest hook: new items' names are searchable as soon as the batch commits."""
    index_refresh(kind="item", object_ids=[item.pk for item in items])


def index_run_stored(run: DetectionRun, annotations: list[Annotation]) -> None:
    """Detection's run listener: a finding with text re-indexes its item."""
    if any(a.detector_name in INDEXED_DETECTORS for a in annotations):
        index_refresh(kind="item", object_ids=[run.item_id])


def index_finding_reviewed(annotation: Annotation, reviewer: Any = None, decision: str = "") -> None:
    """Detection's review listener: a rejected finding's text leaves the index (a confirmed one returns)."""
    if annotation.detector_name in INDEXED_DETECTORS:
        index_refresh(kind="item", object_ids=[annotation.item_id])


def index_messages_recorded(message_ids: Sequence[int]) -> None:
    """Sources' message listener: new messages' text is searchable as soon as their batch commits, with
    their chats' titles and senders' names."""
    index_refresh(kind="message", object_ids=message_ids)
    chats, senders = sender_ids_of(message_ids)
    index_refresh(kind="chat", object_ids=chats)
    index_refresh(kind="sender", object_ids=senders)


def index_capture_completed(capture: Any) -> None:
    """Captures' listener: a completed capture's addresses, title and page text are searchable at once."""
    index_refresh(kind="capture", object_ids=[capture.pk])


def search_reindex(*, case: Case | None = None) -> int:
    """Rebuild the index of one case (or of everything) from every provider; returns the entries stored."""
    with transaction.atomic():
        entries = IndexEntry.objects.all() if case is None else IndexEntry.objects.filter(case=case)
        entries.delete()
        stored = 0
        for provider in providers():
            stored += _store(provider.documents(case_id=case.pk if case is not None else None))
        if case is None:
            backends.rebuild_match_index()
    return stored


# --- searching ------------------------------------------------------------------------------------------


def snippet(text: str, terms: list[QueryTerm], width: int = SNIPPET_CHARS) -> str:
    """HTML: the text around the first match, escaped, with each occurrence of a query term in ``<mark>``."""
    pattern = highlight_pattern(terms)
    flat = " ".join(text.split())
    found = pattern.search(flat) if pattern else None
    start = 0
    if found is not None and found.start() > width // 3:
        start = found.start() - width // 3
    window = flat[start : start + width]
    parts: list[str] = ["…"] if start else []
    last = 0
    for match in pattern.finditer(window) if pattern else []:
        parts.append(html.escape(window[last : match.start()]))
        parts.append(f"<mark>{html.escape(match.group(0))}</mark>")
        last = match.end()
    parts.append(html.escape(window[last:]))
    if start + width < len(flat):
        parts.append("…")
    return "".join(parts)


def _terms_of(query: str) -> list[QueryTerm]:
    query = (query or "").strip()
    if len(query) > MAX_QUERY_CHARS:
        raise RejectedInput(
            f"the query is {len(query)} characters long; search with at most {MAX_QUERY_CHARS}"
        )
    terms = query_terms(query)
    if not terms:
        raise RejectedInput(
            "type at least one word or number to search for (q=…); punctuation alone matches nothing"
        )
    return terms


@dataclass
class SearchPage:
    """One page of hits, and how many there are in all."""

    count: int
    results: list[dict[str, Any]]
    elsewhere: list[dict[str, Any]] = field(default_factory=list)


def _hit_details(
    entries: list[IndexEntry], item_ids: set[int] | None
) -> dict[tuple[str, int], dict[str, Any]]:
    """What each hit's object names besides its item (a message's chat and media items …), from the
    providers that say (``hit_details``); ``item_ids`` narrows the items named (the prosecutor's)."""
    wanted: dict[str, set[int]] = {}
    for entry in entries:
        wanted.setdefault(entry.kind, set()).add(entry.object_id)
    details: dict[tuple[str, int], dict[str, Any]] = {}
    for kind, object_ids in wanted.items():
        describe = getattr(provider_get(kind), "hit_details", None) if kind in provider_kinds() else None
        if describe is None:
            continue
        for object_id, extra in describe(sorted(object_ids), item_ids).items():
            details[(kind, object_id)] = extra
    return details


def _hit(
    entry: IndexEntry,
    terms: list[QueryTerm],
    case_number: str | None = None,
    details: dict[tuple[str, int], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    extra = (details or {}).get((entry.kind, entry.object_id), {})
    hit: dict[str, Any] = {
        "item": entry.item_id,
        "object": {"kind": entry.kind, "id": entry.object_id, **extra},
        "field": entry.field,
        "snippet": snippet(entry.text, terms),
        "score": entry.rank,
    }
    if case_number is not None:
        hit = {"case": case_number, **hit}
    return hit


def _shared_items(case: Case, user: Caller) -> set[int] | None:
    """The items a shared-only caller (the prosecutor) may find; None: the whole case."""
    if not shared_only(getattr(case, "caller_role", None)):
        return None
    return set(
        EvidenceItem.objects.filter(case_id=case.pk, pk__in=shared_exhibit_item_ids(user=user)).values_list(
            "pk", flat=True
        )
    )


def _visible_entries(case: Case, item_ids: set[int] | None) -> Any:
    entries = IndexEntry.objects.filter(case_id=case.pk)
    if item_ids is not None:  # an entry with no item (a chat's title …) is for whole-case roles only
        entries = entries.filter(item_id__in=item_ids)
    return entries


def _event(case_id: int, user: Caller, details: dict[str, Any]) -> EventSpec:
    return EventSpec(
        case_id=case_id,
        action=CustodyAction.SEARCHED,
        actor=user if user.is_authenticated else None,  # type: ignore[arg-type]
        details=details,
    )


def _page_and_count(
    matched: Any, *, offset: int, limit: int, related: tuple[str, ...] = ()
) -> tuple[list[IndexEntry], int]:
    """One page of the matches, best first, and how many there are, in one pass over the matches (the count
    is a window over them, the sort carries ids and ranks only); then the page's rows by id (with the
    ``related`` rows). A page past the end asks for the count alone."""
    ranked = list(
        matched.annotate(total=Window(expression=Count("id")))
        .order_by("-rank", "id")
        .values_list("id", "total")[offset : offset + limit]
    )
    if not ranked:
        return [], matched.count()
    rows = IndexEntry.objects.select_related(*related).in_bulk([pk for pk, _total in ranked])
    return [rows[pk] for pk, _total in ranked], ranked[0][1]


def case_search(*, case: Case, user: Caller, query: str, limit: int = 20, offset: int = 0) -> SearchPage:
    """The hits of one case for the caller (``case`` from ``access.selectors``, with ``caller_role``)."""
    require(case=case, action=Action.CASE_SEARCH)
    terms = _terms_of(query)
    with transaction.atomic():
        item_ids = _shared_items(case, user)
        matched = backends.matching(_visible_entries(case, item_ids), terms)
        with backends.index_plans():
            page, count = _page_and_count(matched, offset=offset, limit=limit)
        custody_append_many([_event(case.pk, user, {"query": query.strip(), "hits": count, "scope": "case"})])
        details = _hit_details(page, item_ids)
    return SearchPage(count=count, results=[_hit(entry, terms, details=details) for entry in page])


def cross_case_search_allowed(*, user: Caller) -> bool:
    """Whether the user leads a case, and so may search across their cases (the portal shows the box)."""
    return restrict(Case.objects.all(), user=user, action=Action.CROSS_CASE_SEARCH, case_path="pk").exists()


def cross_case_search(*, user: Caller, query: str, limit: int = 20, offset: int = 0) -> SearchPage:
    """A lead's search over every case they may search, and, for other cases, only that hits exist there
    and whom to ask (the cross-case disclosure rule of hash matches: no number, item, name or text).

    Each case with hits gets a ``searched`` event (scope ``cross_case``) naming the searcher and the query."""
    if not cross_case_search_allowed(user=user):
        raise AccessDenied(
            "only case leads search across their cases; search one case with "
            "GET /api/v1/cases/{number}/search/?q=…"
        )
    terms = _terms_of(query)
    mine = {
        case.pk: case for case in case_list(user=user) if not shared_only(getattr(case, "caller_role", None))
    }
    searchable = [
        pk for pk, case in mine.items() if role_may(getattr(case, "caller_role", None), Action.CASE_SEARCH)
    ]
    with transaction.atomic():
        everywhere = backends.matching(IndexEntry.objects.all(), terms)
        own = everywhere.filter(case_id__in=searchable)
        details = {"query": query.strip(), "scope": "cross_case"}
        with backends.index_plans():
            page, count = _page_and_count(own, offset=offset, limit=limit, related=("case",))
            hit_cases = set(everywhere.values_list("case_id", flat=True).distinct())
            others = sorted(hit_cases - set(searchable))
            own_hit = sorted(hit_cases & set(searchable))
            events = [_event(pk, user, {**details, "hits": own.filter(case_id=pk).count()}) for pk in own_hit]
        # On a case the searcher is not on, the ledger records that they searched and were told it exists.
        events += [_event(pk, user, {**details, "disclosed": "exists"}) for pk in others]
        custody_append_many(events)
    elsewhere = [{"exists": True, "contacts": case_contacts(pk)} for pk in others]
    described = _hit_details(page, None)  # only cases where the caller sees everything
    return SearchPage(
        count=count,
        results=[_hit(entry, terms, case_number=entry.case.number, details=described) for entry in page],
        elsewhere=elsewhere,
    )
