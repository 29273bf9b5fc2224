"""Case pages: open a case, the case page (summary, team, offences, authorities, people, channels, graph)
and the evidence list (filters, sorts, keyset pages, blurred thumbnails).

Every read goes through the selectors: ``case_get_for`` (non-members get 404, as for a case that does not
exist), ``evidence_visible_to`` for items, ``parties.selectors`` for the case's records. Thumbnails
are only ever URLs of ``portal:evidence_preview``, which serves them through ``evidence.previews``.
"""

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db.models import Exists, F, IntegerField, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_datetime
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from access import services as case_services
from access.choices import CALLER_ROLE_CHOICES, CaseRetention
from access.models import Case
from access.policy import POLICY, Action, role_may
from access.selectors import (
    case_get_for,
    legal_authority_list,
    member_list,
    offence_list,
)
from detection.labels import SIGNAL_CATEGORIES
from detection.models import Annotation, Match
from detection.selectors import annotations_visible_to
from evidence.models import EvidenceItem
from evidence.selectors import evidence_visible_to
from haetae.auth import verified_login_required
from haetae.errors import AccessDenied, HaetaeError, NotFound, RejectedInput
from parties.graph import case_graph
from parties.models import ItemChannelLink, ItemPersonLink
from parties.selectors import channel_list, person_list
from portal.labels import link_relation

PAGE_SIZE = 50
# Labels offered in the filter: distinct labels over a large case is a scan, so it is cached briefly.
LABELS_CACHE_SECONDS = 300
GREYSCALE_SESSION_KEY = "portal_greyscale"
# The drawing shows at most this many of the newest links of each type that names an item.
GRAPH_ITEM_LINKS = 150
# The case page's item count: a scan of the case's items, so counted at most once a minute per viewer.
COUNT_CACHE_SECONDS = 60


def portal_errors(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Turn the project's errors into pages: NotFound is a plain 404 (no existence hint), AccessDenied and
    RejectedInput a page (or, for HTMX, a fragment) with the message saying what to do."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from None
        except (AccessDenied, RejectedInput) as exc:
            return refused(request, exc)

    return wrapper


def refused(request: HttpRequest, exc: HaetaeError) -> HttpResponse:
    """The refusal page (full page, or a fragment for HTMX) with the error's message and status."""
    template = (
        "portal/cases/_refused.html" if request.headers.get("HX-Request") else "portal/cases/refused.html"
    )
    return render(request, template, {"message": exc.message}, status=exc.http_status)


def greyscale_on(request: HttpRequest) -> bool:
    """Whether this user asked for greyscale images (remembered in their session)."""
    return bool(request.session.get(GREYSCALE_SESSION_KEY, False))


def shows_media(role: str | None) -> bool:
    """Thumbnails and reveal are offered to the roles that may see content; the services decide again."""
    return role_may(role, Action.CONTENT_VIEW)


# --- case create ---


class CaseCreateForm(forms.Form):
    """The fields ``access.services.case_create`` takes."""

    number = forms.CharField(
        label=_("Case number"),
        max_length=64,
        help_text=_("3–64 letters, digits and hyphens, e.g. 2024-SEOUL-0001"),
    )
    title = forms.CharField(label=_("Title"), max_length=300)
    unit = forms.CharField(label=_("Investigating unit"), max_length=200, required=False)
    jurisdiction = forms.CharField(label=_("Jurisdiction"), max_length=200, required=False)
    offences = forms.MultipleChoiceField(
        label=_("Offences"), required=False, widget=forms.CheckboxSelectMultiple, choices=()
    )
    retention_class = forms.ChoiceField(
        label=_("Retention class"), choices=CaseRetention.choices, initial=CaseRetention.STANDARD
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.MultipleChoiceField, self.fields["offences"])
        korean = (get_language() or "").startswith("ko")
        field.choices = [
            (
                o.code,
                f"{o.statute_ko} {o.article}: {o.label_ko}"
                if korean
                else f"{o.statute_en} {o.article}: {o.label_en}",
            )
            for o in offence_list()
        ]


def _may_create_cases(user: Any) -> bool:
    return bool(user.groups.filter(name__in=POLICY[Action.CASE_OPEN]).exists())


@verified_login_required
@portal_errors
def case_create(request: HttpRequest) -> HttpResponse:
    """Open a case (investigators and supervisors); the creator becomes its lead."""
    if not _may_create_cases(request.user):
        raise AccessDenied(
            "only investigators and supervisors open cases: ask an administrator to give you one of those "
            "global roles"
        )
    form = CaseCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            case = case_services.case_create(actor=cast(User, request.user), **form.cleaned_data)
        except RejectedInput as exc:
            for field, messages in (exc.details or {}).items():
                target = field if field in form.fields else None
                for message in messages if isinstance(messages, list) else [messages]:
                    form.add_error(target, str(message))
            if not exc.details:
                form.add_error(None, exc.message)
        else:
            return redirect("portal:case_detail", number=case.number)
    status = 400 if request.method == "POST" else 200
    return render(request, "portal/cases/create.html", {"form": form}, status=status)


# --- case page ---


@verified_login_required
@portal_errors
def case_detail(request: HttpRequest, number: str) -> HttpResponse:
    """Summary, team, offences, legal authorities, people (by pseudonym), channels and the graph."""
    case = case_get_for(user=request.user, number=number)
    role = getattr(case, "caller_role", None)
    people = list(person_list(case=case).order_by("kind", "pseudonym_number"))
    context = {
        "case": case,
        "role": role,
        "role_label": dict(CALLER_ROLE_CHOICES).get(str(role), role),
        "offences": list(case.offences.all()),
        "members": list(member_list(case=case)),
        "authorities": list(legal_authority_list(case=case)),
        "people": people,
        "channels": list(channel_list(case=case).order_by("platform", "handle")),
        "may_list_evidence": role_may(role, Action.ITEM_RECORDS),
        "may_list_messages": role_may(role, Action.MESSAGES_LIST),
        # Links to the other areas of the case (each page checks the role again).
        "may_ingest": role_may(role, Action.EVIDENCE_INGEST),
        "may_see_exhibits": role_may(role, Action.ITEM_RECORDS),
        "may_see_procedure": role_may(role, Action.PROCEDURE_READ),
        "may_see_destruction": role_may(role, Action.DESTRUCTION_READ),
        "may_support": role_may(role, Action.SUPPORT_READ),
        "may_capture": role_may(role, Action.CAPTURE_REQUEST),
        "may_search": role_may(role, Action.CASE_SEARCH),
        "may_see_timeline": role_may(role, Action.TIMELINE_READ),
        "may_search_faces": role_may(role, Action.FACE_SEARCH),
        "may_group_faces": role_may(role, Action.FACE_CLUSTERS),
        # Who does not see item records (victim support) gets the graph as text only: no canvas or other
        # drawing surface on their pages.
        "list_only_graph": not role_may(role, Action.ITEM_RECORDS),
        "item_count": case_item_count(user=request.user, case=case),
        "count_cache_seconds": COUNT_CACHE_SECONDS,
    }
    return render(request, "portal/cases/detail.html", context)


def case_item_count(*, user: Any, case: Case) -> int:
    """How many of the case's items the user may see, cached for ``COUNT_CACHE_SECONDS``."""
    key = f"portal:case-item-count:{case.pk}:{user.pk}"
    count = cache.get(key)
    if count is None:
        count = evidence_visible_to(user=user).filter(case_id=case.pk).count()
        cache.set(key, count, COUNT_CACHE_SECONDS)
    return int(count)


@verified_login_required
@portal_errors
def case_graph_json(request: HttpRequest, number: str) -> JsonResponse:
    """The case graph (``parties.graph``) as JSON for the cytoscape view: people by pseudonym, channels,
    items by id; every member of the case may see it, as through the API."""
    case = case_get_for(user=request.user, number=number)
    graph = case_graph(case=case, item_links_limit=GRAPH_ITEM_LINKS)
    for edge in graph["edges"]:
        edge["relation_label"] = link_relation(edge["relation"])  # drawn in the reader's language
    response = JsonResponse(graph)
    response["Cache-Control"] = "no-store, private"
    return response


# --- evidence list ---

SORTS: dict[str, tuple[str, str]] = {
    # key: (annotation or field to order on, label)
    "acquired": ("acquired_at", "acquired time"),
    "name": ("original_name", "name"),
    "size": ("size_key", "size"),
}
TYPES = {
    "image": "image/",
    "video": "video/",
    "audio": "audio/",
    "application": "application/",
    "text": "text/",
}


@dataclass
class ListQuery:
    """The evidence list's parameters, parsed and checked."""

    sort: str = "acquired"
    descending: bool = True
    type: str = ""
    mime: str = ""
    label: str = ""
    has_match: str = ""
    person: str = ""
    channel: str = ""
    after: tuple[Any, int] | None = None

    def params(self, **override: Any) -> str:
        """The query string for this list with some parameters changed (empty ones left out)."""
        values = {
            "sort": ("-" if self.descending else "") + self.sort,
            "type": self.type,
            "mime": self.mime,
            "label": self.label,
            "match": self.has_match,
            "person": self.person,
            "channel": self.channel,
        }
        values.update(override)
        return urlencode({key: value for key, value in values.items() if value})


def _parse_list_query(request: HttpRequest) -> ListQuery:
    get = request.GET
    sort = get.get("sort", "-acquired") or "-acquired"
    descending = sort.startswith("-")
    sort = sort.lstrip("-")
    if sort not in SORTS:
        raise RejectedInput(
            f"sort must be one of {', '.join(sorted(SORTS))} (with - for descending), not {sort!r}"
        )
    kind = get.get("type", "")
    if kind and kind not in TYPES:
        raise RejectedInput(f"type must be one of {', '.join(TYPES)}, not {kind!r}")
    has_match = get.get("match", "")
    if has_match not in {"", "yes", "no"}:
        raise RejectedInput(f"match must be yes or no, not {has_match!r}")
    query = ListQuery(
        sort=sort,
        descending=descending,
        type=kind,
        mime=get.get("mime", "").strip().lower(),
        label=get.get("label", "").strip(),
        has_match=has_match,
        person=get.get("person", "").strip().upper(),
        channel=get.get("channel", "").strip(),
    )
    if query.channel and not query.channel.isdigit():
        raise RejectedInput(f"channel must be a channel id (a number), not {query.channel!r}")
    cursor = get.get("after", "")
    if cursor:
        query.after = _decode_cursor(cursor, sort)
    return query


def _encode_cursor(value: Any, item_id: int) -> str:
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return base64.urlsafe_b64encode(f"{item_id}:{text}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str) -> tuple[Any, int]:
    damaged = RejectedInput(
        "the page link is damaged or belongs to another sort order: go back to the first page of the list"
    )
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        id_text, value_text = raw.split(":", 1)
        item_id = int(id_text)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise damaged from None
    value: Any = value_text
    if sort == "acquired":
        value = parse_datetime(value_text)
        if value is None:
            raise damaged
    elif sort == "size":
        try:
            value = int(value_text)
        except ValueError:
            raise damaged from None
    return value, item_id


def _filtered(items: QuerySet[EvidenceItem], query: ListQuery, case: Case) -> QuerySet[EvidenceItem]:
    # The Exists() conditions only narrow rows the selector already let through; they expose nothing.
    if query.type:
        items = items.filter(mime__startswith=TYPES[query.type])
    if query.mime:
        items = items.filter(mime=query.mime)
    if query.label:
        items = items.filter(Exists(Annotation.objects.filter(item_id=OuterRef("pk"), label=query.label)))
    if query.has_match:
        matched = Exists(Match.objects.filter(item_id=OuterRef("pk"))) | Exists(
            Match.objects.filter(other_item_id=OuterRef("pk"))
        )
        items = items.filter(matched if query.has_match == "yes" else ~matched)
    if query.person:
        person = person_list(case=case).filter(pseudonym=query.person).first()
        if person is None:
            raise RejectedInput(f"no person {query.person} in case {case.number}: choose one from the list")
        links = ItemPersonLink.objects.filter(
            item_id=OuterRef("pk"), person=person, withdrawn_at__isnull=True
        )
        items = items.filter(Exists(links))
    if query.channel:
        channel = channel_list(case=case).filter(pk=int(query.channel)).first()
        if channel is None:
            raise RejectedInput(f"no channel {query.channel} in case {case.number}: choose one from the list")
        posts = ItemChannelLink.objects.filter(
            item_id=OuterRef("pk"), channel=channel, withdrawn_at__isnull=True
        )
        items = items.filter(Exists(posts))
    return items


def _keyset(items: QuerySet[EvidenceItem], query: ListQuery) -> QuerySet[EvidenceItem]:
    """Order by (sort key, id) and start after the cursor. The ``key >= value`` bound lets the database
    start the index scan at the cursor; the rest only breaks ties."""
    key = SORTS[query.sort][0]
    if query.descending:
        items = items.order_by(F(key).desc(), F("id").desc())
    else:
        items = items.order_by(F(key).asc(), F("id").asc())
    if query.after is not None:
        value, item_id = query.after
        if query.descending:
            items = items.filter(
                Q(**{f"{key}__lte": value}) & (Q(**{f"{key}__lt": value}) | Q(id__lt=item_id))
            )
        else:
            items = items.filter(
                Q(**{f"{key}__gte": value}) & (Q(**{f"{key}__gt": value}) | Q(id__gt=item_id))
            )
    return items


def evidence_page(*, user: Any, case: Case, query: ListQuery) -> tuple[list[EvidenceItem], str | None]:
    """One page of the case's items visible to ``user`` and the cursor of the next page (None at the end).

    A constant number of queries: the page (with a has-match flag), and the signal labels of its items
    (exposures, faces, AI-provenance hits, classifier scores; ``detection.labels.SIGNAL_CATEGORIES``).
    """
    items = (
        evidence_visible_to(user=user)
        .filter(case_id=case.pk)
        .annotate(
            size_key=Coalesce(F("size"), Value(-1), output_field=IntegerField()),
            has_match=Exists(Match.objects.filter(item_id=OuterRef("pk")))
            | Exists(Match.objects.filter(other_item_id=OuterRef("pk"))),
        )
        .only(
            "id",
            "case_id",
            "blob_id",
            "original_name",
            "mime",
            "size",
            "acquired_at",
            "status",
            "kind",
            "parent_id",
        )
    )
    rows = list(_keyset(_filtered(items, query, case), query)[: PAGE_SIZE + 1])
    next_cursor = None
    if len(rows) > PAGE_SIZE:
        rows = rows[:PAGE_SIZE]
        last = rows[-1]
        next_cursor = _encode_cursor(getattr(last, SORTS[query.sort][0]), last.pk)
    labels: dict[int, list[str]] = {}
    if rows:
        found = (
            annotations_visible_to(user=user)
            # Only what was found: absences, hashes and maps are on the item page, not in the list.
            .filter(item_id__in=[row.pk for row in rows], category__in=SIGNAL_CATEGORIES)
            .order_by()
            .values_list("item_id", "label")
            .distinct()
        )
        for item_id, label in found:
            labels.setdefault(item_id, []).append(label)
    for row in rows:
        row.labels = sorted(labels.get(row.pk, []))  # type: ignore[attr-defined]
    return rows, next_cursor


def case_labels(*, user: Any, case: Case) -> list[str]:
    """Detector labels found on the case's visible items (cached for a few minutes: a scan on big cases)."""
    key = f"portal:case-labels:{case.pk}:{user.pk}"  # per viewer: what they may see can differ by role
    labels = cache.get(key)
    if labels is None:
        labels = sorted(
            set(
                annotations_visible_to(user=user)
                .filter(item__case_id=case.pk)
                .order_by()
                .values_list("label", flat=True)
                .distinct()
            )
        )
        cache.set(key, labels, LABELS_CACHE_SECONDS)
    return list(labels)


@verified_login_required
@portal_errors
def evidence_list(request: HttpRequest, number: str) -> HttpResponse:
    """The case's evidence, filtered and sorted, 50 a page by keyset (fast at any depth)."""
    case = case_get_for(user=request.user, number=number)
    role = getattr(case, "caller_role", None)
    if not role_may(role, Action.ITEM_RECORDS):
        raise AccessDenied(
            "victim support does not see the evidence list (file names and sources can name a victim): the "
            "support pages show the items of your support files as pseudonymised references with hashes"
        )
    query = _parse_list_query(request)
    rows, next_cursor = evidence_page(user=request.user, case=case, query=query)
    context = {
        "case": case,
        "role": role,
        "rows": rows,
        "query": query,
        "next_url": f"?{query.params(after=next_cursor)}" if next_cursor else None,
        "first_url": f"?{query.params()}",
        "sorts": [(key, label) for key, (_field, label) in SORTS.items()],
        "sort_value": ("-" if query.descending else "") + query.sort,
        "types": list(TYPES),
        "labels": case_labels(user=request.user, case=case),
        "people": list(person_list(case=case).prefetch_related(None).order_by("kind", "pseudonym_number")),
        "channels": list(channel_list(case=case).order_by("platform", "handle")),
        "thumbnails": shows_media(role),
        "greyscale": greyscale_on(request),
        "is_first_page": query.after is None,
    }
    return render(request, "portal/cases/evidence_list.html", context)
