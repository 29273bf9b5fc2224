"""The case's search page (the search box on the case page), a lead's search across their cases (the box on
the dashboard) and the case timeline page.

Both go through the search app's services, which check the role through the policy table: a search is
a custody event, and victim support and auditors get the refusal page, never a hit.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from access.policy import Action, role_may
from access.selectors import case_get_for
from haetae.auth import verified_login_required
from haetae.errors import RejectedInput
from portal.views.cases import portal_errors
from search.choices import SearchField, TimeTrust, time_trust_word, timeline_kind_label
from search.services import SearchPage, case_search, cross_case_search
from search.timeline import case_timeline

PAGE = 20
# A hit on something that is not an item (the search providers' kinds), named in words.
OBJECT_KINDS = {
    "item": gettext_lazy("item"),
    "message": gettext_lazy("message"),
    "chat": gettext_lazy("chat"),
    "sender": gettext_lazy("sender"),
    "capture": gettext_lazy("captured web page"),
}
PORTAL_MAX_POINTS = 5000  # drawn and listed on one page; the CSV and the API take up to 50,000


def _query_and_offset(request: HttpRequest) -> tuple[str, int]:
    """The words searched for and the first hit of the page (0 when absent or not a number)."""
    query = request.GET.get("q", "").strip()
    try:
        offset = max(0, int(request.GET.get("offset", "0")))
    except ValueError:
        offset = 0
    return query, offset


def _label_hits(results: list[dict[str, Any]]) -> None:
    """Each hit's snippet as markup, and the names of its field and of its object's kind."""
    for hit in results:
        # The snippet is built escaped by search.services.snippet; only its <mark> tags are markup.
        hit["snippet_html"] = mark_safe(hit["snippet"])  # noqa: S308
        hit["field_label"] = dict(SearchField.choices).get(hit["field"], hit["field"])
        kind = str(hit["object"].get("kind", ""))
        hit["object_label"] = OBJECT_KINDS.get(kind, kind)


def _paging(offset: int, page: SearchPage | None) -> dict[str, int | None]:
    """The offsets of the previous and the next page of hits (None where there is none)."""
    return {
        "previous_offset": max(0, offset - PAGE) if offset else None,
        "next_offset": offset + PAGE if page and offset + PAGE < page.count else None,
    }


@verified_login_required
@portal_errors
def search_page(request: HttpRequest, number: str) -> HttpResponse:
    """Hits for ``q`` in the case, ranked, with the field each came from and the snippet highlighted."""
    case = case_get_for(user=request.user, number=number)
    query, offset = _query_and_offset(request)
    page = None
    if query:
        page = case_search(case=case, user=request.user, query=query, limit=PAGE, offset=offset)
        _label_hits(page.results)
        for hit in page.results:
            hit["object_items"] = hit["object"].get("items", [])  # a message's media, a capture's files
    role = getattr(case, "caller_role", None)
    context = {
        "case": case,
        "query": query,
        "page": page,
        "offset": offset,
        **_paging(offset, page),
        "may_open_items": role_may(role, Action.ITEM_RECORDS),
        "may_open_chats": role_may(role, Action.MESSAGES_LIST),
    }
    return render(request, "portal/search/results.html", context)


@verified_login_required
@portal_errors
def cross_case_search_page(request: HttpRequest) -> HttpResponse:
    """A lead's hits in all the cases they may search, with the case of each; for cases they are not on,
    only that hits exist there and whom to ask (the service refuses everyone who leads no case)."""
    query, offset = _query_and_offset(request)
    page = None
    if query:
        page = cross_case_search(user=request.user, query=query, limit=PAGE, offset=offset)
        _label_hits(page.results)
    context = {"query": query, "page": page, **_paging(offset, page)}
    return render(request, "portal/search/cross_case.html", context)


@verified_login_required
@portal_errors
def timeline_page(request: HttpRequest, number: str) -> HttpResponse:
    """The timeline drawn with vis-timeline (zoom, filters by kind and trust), and the same as a table."""
    case = case_get_for(user=request.user, number=number)
    error = ""
    try:
        points = case_timeline(
            case=case,
            user=request.user,
            since=request.GET.get("since", ""),
            until=request.GET.get("until", ""),
            kinds=request.GET.get("kind", ""),
        )
    except RejectedInput as exc:  # a date that does not parse, or far too many points: say so on the page
        if not role_may(getattr(case, "caller_role", None), Action.TIMELINE_READ):
            raise
        points, error = [], exc.message
    if len(points) > PORTAL_MAX_POINTS:
        error = _(
            "%(count)s points are more than a page can draw (%(limit)s): choose a shorter period, or "
            "download the CSV."
        ) % {"count": len(points), "limit": PORTAL_MAX_POINTS}
        points = []
    data = [p.as_json() for p in points]
    context = {
        "case": case,
        "error": error,
        "points": data,
        "kinds": [(kind, timeline_kind_label(kind)) for kind in sorted({p["kind"] for p in data})],
        "trusts": [(value, time_trust_word(value), label) for value, label in TimeTrust.choices],
        "since": request.GET.get("since", ""),
        "until": request.GET.get("until", ""),
        "may_open_items": role_may(getattr(case, "caller_role", None), Action.ITEM_RECORDS),
    }
    return render(request, "portal/search/timeline.html", context)
