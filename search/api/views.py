"""Search and timeline API: the case's search, a lead's cross-case search, the case timeline (and CSV).

Each view resolves the case through the access gate (404 for a case that is not the caller's), and the
service checks the role through the policy table and writes the custody event.
"""

import csv
import io
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from access.api.views import NUMBER_PARAM, error_responses
from access.selectors import case_get_for
from haetae.errors import RejectedInput
from search.api import serializers as s
from search.services import SearchPage, case_search, cross_case_search
from search.timeline import case_timeline, timeline_rows

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
QUERY = OpenApiParameter("q", OpenApiTypes.STR, required=True, description="words to find (all must match)")
PAGING = [
    OpenApiParameter("limit", OpenApiTypes.INT, description=f"hits per page (default {DEFAULT_LIMIT})"),
    OpenApiParameter("offset", OpenApiTypes.INT, description="hits to skip"),
]


def _int(request: Request, name: str, default: int, maximum: int | None = None) -> int:
    raw = request.query_params.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise RejectedInput(f"{name} must be a whole number, not {raw!r}") from None
    if value < 0:
        raise RejectedInput(f"{name} must not be negative")
    return min(value, maximum) if maximum else value


def paging(request: Request) -> tuple[int, int]:
    return _int(request, "limit", DEFAULT_LIMIT, MAX_LIMIT) or DEFAULT_LIMIT, _int(request, "offset", 0)


def paged(request: Request, page: SearchPage, limit: int, offset: int) -> dict[str, Any]:
    """LimitOffsetPagination's shape: count, next, previous, results."""
    url = request.build_absolute_uri()
    following = None
    if offset + limit < page.count:
        following = replace_query_param(replace_query_param(url, "limit", limit), "offset", offset + limit)
    previous = None
    if offset > 0:
        before = replace_query_param(url, "limit", limit)
        previous = (
            remove_query_param(before, "offset")
            if offset - limit <= 0
            else replace_query_param(before, "offset", offset - limit)
        )
    return {"count": page.count, "next": following, "previous": previous, "results": page.results}


class CaseSearchView(APIView):
    """Search the text of a case's evidence."""

    @extend_schema(
        summary="Search the case's evidence text",
        description=(
            "Items whose file name, OCR text, metadata, document text, AI prompt, messages or captured pages "
            "contain every word of q (Korean words match inside longer words and with particles: 피해자 "
            "finds 피해자가; digits match exactly). Ranked; each hit says the field it came from, with the "
            "matching snippet highlighted. For lead, investigator, analyst, and the prosecutor (shared "
            "exhibits' items only). Every search is a custody event on the case."
        ),
        parameters=[NUMBER_PARAM, QUERY, *PAGING],
        responses={200: s.SearchPageSerializer, **error_responses(400, 403, 404)},
    )
    def get(self, request: Request, number: str) -> Response:
        case = case_get_for(user=request.user, number=number)
        limit, offset = paging(request)
        page = case_search(
            case=case, user=request.user, query=request.query_params.get("q", ""), limit=limit, offset=offset
        )
        return Response(paged(request, page, limit, offset))


class CrossCaseSearchView(APIView):
    """A lead's search over all their cases."""

    @extend_schema(
        summary="Search all your cases (case leads)",
        description=(
            "The hits in every case you may search, each with its case number; for cases you are not on, "
            "only that hits exist there and whom to ask (the case lead's name and unit), as for cross-case "
            "hash matches. Each case with hits records the search in its custody ledger."
        ),
        parameters=[QUERY, *PAGING],
        responses={200: s.CrossCasePageSerializer, **error_responses(400, 403)},
    )
    def get(self, request: Request) -> Response:
        limit, offset = paging(request)
        page = cross_case_search(
            user=request.user, query=request.query_params.get("q", ""), limit=limit, offset=offset
        )
        return Response({**paged(request, page, limit, offset), "elsewhere": page.elsewhere})


class CsvRenderer(BaseRenderer):
    """Rows (lists of strings) as CSV in UTF-8 with a byte-order mark (spreadsheets then read Korean)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        out = io.StringIO()
        if isinstance(data, list):
            csv.writer(out).writerows(data)
        else:  # an error: its message as one cell
            csv.writer(out).writerow([data.get("detail", "") if isinstance(data, dict) else str(data)])
        return ("\ufeff" + out.getvalue()).encode("utf-8")


class CaseTimelineView(APIView):
    """The case timeline, as JSON or CSV."""

    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(
        summary="The case timeline",
        description=(
            "Acquisition and custody times, file system times, EXIF capture times (with their offset), "
            "posting times of confirmed item → channel links, takedown steps, and the points of registered "
            "providers "
            "(messages, captures), oldest first. Each point says where its time came from (time_source) and "
            "how far it can be trusted (trust: recorded, attested, claimed, weak); a time without a known "
            "zone is marked zone_known=false. format=csv for a spreadsheet."
        ),
        parameters=[
            NUMBER_PARAM,
            OpenApiParameter("since", OpenApiTypes.STR, description="date or date-time with offset"),
            OpenApiParameter("until", OpenApiTypes.STR, description="date or date-time with offset"),
            OpenApiParameter(
                "kind", OpenApiTypes.STR, description="comma-separated kinds, e.g. capture,posted"
            ),
            OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"]),
        ],
        responses={200: s.TimelineSerializer, **error_responses(400, 403, 404)},
    )
    def get(self, request: Request, number: str, format: str | None = None) -> Response:
        case = case_get_for(user=request.user, number=number)
        points = case_timeline(
            case=case,
            user=request.user,
            since=request.query_params.get("since", ""),
            until=request.query_params.get("until", ""),
            kinds=request.query_params.get("kind", ""),
        )
        if getattr(request.accepted_renderer, "format", "") == "csv":
            response = Response(timeline_rows(points))
            response["Content-Disposition"] = f'attachment; filename="timeline-{case.number}.csv"'
            return response
        return Response({"count": len(points), "points": [p.as_json() for p in points]})
