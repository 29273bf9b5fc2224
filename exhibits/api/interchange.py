"""Interchange API: a case's items as VICS JSON or CASE/UCO JSON-LD (lead and investigators only).

Each call is an export: it writes an ``exported`` custody event per item and answers with the document as
an attachment, its SHA-256 in ``X-Haetae-Export-SHA256``. Victim support uses the consent-gated hash list
(``…/support-files/{id}/hash-export/``) instead.
"""

from typing import Any, cast

from django.contrib.auth.models import User
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request

from exhibits import interchange
from haetae.api import ErrorSerializer

_CASE_PARAM = OpenApiParameter("number", OpenApiTypes.STR, OpenApiParameter.PATH, description="Case number.")
_ERRORS: dict[Any, Any] = {
    400: OpenApiResponse(ErrorSerializer, description="Bad input, or nothing to export."),
    403: OpenApiResponse(ErrorSerializer, description="Your role on the case may not export items."),
    404: OpenApiResponse(ErrorSerializer, description="No such case among yours, or no such exhibit."),
}


class InterchangeRequestSerializer(serializers.Serializer):
    exhibits = serializers.ListField(
        child=serializers.CharField(max_length=16),
        required=False,
        help_text="Only the items of these exhibits (E-001 …); default: every stored item of the case.",
    )
    recipient = serializers.CharField(
        required=False, allow_blank=True, max_length=300, help_text="Who receives the file (recorded)."
    )


def _attachment(export: interchange.InterchangeExport) -> HttpResponse:
    response = HttpResponse(export.body, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["X-Haetae-Export-SHA256"] = export.sha256
    return response


class InterchangeViewSet(viewsets.ViewSet):
    """Exports of a case's items for other tools (VICS, CASE/UCO)."""

    def _run(self, request: Request, number: str, service: Any) -> HttpResponse:
        case = interchange.interchange_case_get(user=request.user, number=number)
        form = InterchangeRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        export = service(
            case=case,
            actor=cast(User, request.user),
            exhibit_numbers=form.validated_data.get("exhibits") or None,
            recipient=form.validated_data.get("recipient", ""),
        )
        return _attachment(export)

    @extend_schema(
        summary="Export items as VICS JSON",
        description=(
            "One Media per distinct content (MD5, SHA1, MediaSize, Category of Haetae's scheme for adult "
            "non-consensual and synthetic imagery; SHA256 and the category's basis in MediaMetadata) with "
            "its MediaFiles (FileName, FilePath, Created, Written, Accessed). Categories come only from "
            "confirmed findings, confirmed links and approved exhibits (docs/interchange.md). Lead or "
            "investigator; an `exported` custody event per item."
        ),
        parameters=[_CASE_PARAM],
        request=InterchangeRequestSerializer,
        responses={(200, "application/json"): OpenApiTypes.OBJECT, **_ERRORS},
    )
    @action(detail=False, methods=["post"], url_path="vics")
    def vics(self, request: Request, number: str) -> HttpResponse:
        return self._run(request, number, interchange.vics_export)

    @extend_schema(
        summary="Export items and custody as CASE/UCO JSON-LD",
        description=(
            "Each item as observable:File with FileFacet and ContentDataFacet (SHA256, SHA1, MD5), each "
            "custody event as case-investigation:InvestigativeAction (performer, time, ledger leaf hash), "
            "a ProvenanceRecord per item with its exhibit numbers. Lead or investigator; an `exported` "
            "custody event per item."
        ),
        parameters=[_CASE_PARAM],
        request=InterchangeRequestSerializer,
        responses={(200, "application/ld+json"): OpenApiTypes.OBJECT, **_ERRORS},
    )
    @action(detail=False, methods=["post"], url_path="case-uco")
    def case_uco(self, request: Request, number: str) -> HttpResponse:
        return self._run(request, number, interchange.case_uco_export)
