"""Cases API: the caller's cases (read), and evidence uploads into a case (an explicit action)."""

from typing import Any, cast

from django.contrib.auth.models import User
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from casefile.api.serializers import CaseSerializer, EvidenceUploadSerializer, IngestResultSerializer
from casefile.models import Case
from casefile.selectors import INGEST_ROLES, case_get_for, case_list, case_require_role
from evidence.api.serializers import ErrorSerializer
from evidence.choices import ItemStatus
from evidence.ingest import IngestResult, UploadSource, evidence_ingest

_NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such case among yours.")


def ingest_result_body(result: IngestResult) -> dict[str, Any]:
    """The same JSON object that ``manage.py ingest --json`` prints."""
    return {
        "acquisition": result.acquisition.pk,
        "counts": result.counts,
        "items": [outcome.as_json() for outcome in result.items],
    }


@extend_schema_view(
    list=extend_schema(summary="Your cases", description="Only cases whose team you are on."),
    retrieve=extend_schema(summary="One of your cases", responses={200: CaseSerializer, 404: _NOT_FOUND}),
)
class CaseViewSet(viewsets.ReadOnlyModelViewSet):
    """Cases the caller is a member of, looked up by case number."""

    serializer_class = CaseSerializer
    lookup_field = "number"
    lookup_value_regex = r"[A-Za-z0-9][A-Za-z0-9-]*"

    def get_queryset(self) -> Any:
        return case_list(user=self.request.user)

    def get_object(self) -> Case:
        return case_get_for(user=self.request.user, number=self.kwargs["number"])

    @extend_schema(
        summary="Upload evidence into a case",
        description=(
            "Multipart upload of one or more files (field `files`, repeated) with the seizure record. "
            "Each file is streamed into the vault encrypted, hashed (MD5, SHA-1, SHA-256) and recorded "
            "with custody events; archives are unpacked into child items. Only members with the role "
            "lead, investigator or analyst may upload. 201 with every item's outcome (some may be "
            "rejected, each with a reason); 422 with the same body when every item was rejected."
        ),
        request={"multipart/form-data": EvidenceUploadSerializer},
        responses={
            201: IngestResultSerializer,
            422: OpenApiResponse(IngestResultSerializer, description="Every item was rejected."),
            400: OpenApiResponse(ErrorSerializer, description="The form is incomplete or invalid."),
            403: OpenApiResponse(ErrorSerializer, description="Your role on the case may not upload."),
            404: _NOT_FOUND,
        },
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="evidence",
        parser_classes=[MultiPartParser],
        serializer_class=EvidenceUploadSerializer,
    )
    def evidence(self, request: Request, number: str) -> Response:
        case = case_get_for(user=request.user, number=number)
        # Checked before the body is read, so a refused upload is never parsed into the vault's tmp area.
        case_require_role(case=case, roles=INGEST_ROLES, action="add evidence to it")
        form = EvidenceUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        fields = form.validated_data
        result = evidence_ingest(
            case=case,
            sources=[UploadSource(name=upload.name, stream=upload) for upload in fields["files"]],
            actor=cast(User, request.user),  # IsAuthenticated: never anonymous here
            source_label=fields.get("source", ""),
            seizure_reference=fields.get("seizure_reference", ""),
            seal_numbers=tuple(fields.get("seal_numbers", ())),
            location=fields.get("location", ""),
            participants=tuple(fields.get("participants", ())),
        )
        body = IngestResultSerializer(ingest_result_body(result)).data
        everything_rejected = bool(result.items) and all(
            i.status == ItemStatus.REJECTED for i in result.items
        )
        return Response(
            body,
            status=status.HTTP_422_UNPROCESSABLE_ENTITY if everything_rejected else status.HTTP_201_CREATED,
        )
