"""The case's search page (the search box on the case page), a lead's search across their cases (the box on
the dashboard) and the case timeline page.

Both go through the search app's services, which check the role through the policy table: a search is
a custody event, and victim support and auditors get the refusal page, never a hit.
"""

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
from search.services import case_search, cross_case_search
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


@verified_login_required
@portal_errors
def search_page(request: HttpRequest, number: str) -> HttpResponse:
    """Hits for ``q`` in the case, ranked, with the field each came from and the snippet highlighted."""
    case = case_get_for(user=request.user, number=number, with_counts=False)
    query = request.GET.get("q", "").strip()
    try:
        offset = max(0, int(request.GET.get("offset", "0")))
    except ValueError:
        offset = 0
    page = None
    if query:
        page = case_search(case=case, user=request.user, query=query, limit=PAGE, offset=offset)
        # The snippet is built escaped by search.services.snippet; only its <mark> tags are markup.
        for hit in page.results:
            hit["snippet_html"] = mark_safe(hit["snippet"])  # noqa: S308
            hit["field_label"] = dict(SearchField.choices).get(hit["field"], hit["field"])
            hit["object_items"] = hit["object"].get("items", [])  # a message's media, a capture's files
            kind = str(hit["object"].get("kind", ""))
            hit["object_label"] = OBJECT_KINDS.get(kind, kind)
    role = getattr(case, "caller_role", None)
    context = {
        "case": case,
        "query": query,
        "page": page,
        "offset": offset,
        "previous_offset": max(0, offset - PAGE) if offset else None,
        "next_offset": offset + PAGE if page and offset + PAGE < page.count else None,
        "may_open_items": role_may(role, Action.ITEM_RECORDS),
        "may_open_chats": role_may(role, Action.MESSAGES_LIST),
    }
    return render(request, "portal/search/results.html", context)


@verified_login_required
@portal_errors
def cross_case_search_page(request: HttpRequest) -> HttpResponse:
    """A lead's hits in all the cases they may search, with the case of each; for cases they are not on,
    only that hits exist there and whom to ask (the service refuses everyone who leads no case)."""
    query = request.GET.get("q", "").strip()
    try:
        offset = max(0, int(request.GET.get("offset", "0")))
    except ValueError:
        offset = 0
    page = None
    if query:
        page = cross_case_search(user=request.user, query=query, limit=PAGE, offset=offset)
        for hit in page.results:  # escaped by search.services.snippet; only its <mark> tags are markup
            hit["snippet_html"] = mark_safe(hit["snippet"])  # noqa: S308
            hit["field_label"] = dict(SearchField.choices).get(hit["field"], hit["field"])
            kind = str(hit["object"].get("kind", ""))
            hit["object_label"] = OBJECT_KINDS.get(kind, kind)
    context = {
        "query": query,
        "page": page,
        "previous_offset": max(0, offset - PAGE) if offset else None,
        "next_offset": offset + PAGE if page and offset + PAGE < page.count else None,
    }
    return render(request, "portal/search/cross_case.html", context)


@verified_login_required
@portal_errors
def timeline_page(request: HttpRequest, number: str) -> HttpResponse:
    """The timeline drawn with vis-timeline (zoom, filters by kind and trust), and the same as a table."""
    case = case_get_for(user=request.user, number=number, with_counts=False)
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
