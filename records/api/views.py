"""The Korean procedure records API: documents (상세목록, 전자정보 확인서, 반출 확인서), scene hash
confirmations, items unrelated to the warrant and their return or deletion.

Reads need ``procedure_read``; each write is an explicit POST calling its service in ``records.documents`` or
``records.procedure``, which checks the role again and writes the custody events. Documents are issued in
the request (a few pages, signed in about a second) and answered with their row and download URL.
"""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from access.api.serializers import ReasonSerializer
from access.api.views import CaseScopedViewSet, error_responses
from access.models import Case
from access.policy import Action
from evidence.api.views import AnyMediaRenderer
from evidence.models import Acquisition
from exhibits.models import ExportBundle
from haetae.errors import NotFound
from haetae.toolkit import request_actor, streamed_file, validated
from records.api import serializers as s
from records.choices import ProcedureDocumentKind
from records.documents import (
    export_confirmation_issue,
    procedure_document_read,
    scene_confirmation_issue,
    seized_list_issue,
)
from records.models import ProcedureDocument, SceneConfirmation, UnrelatedDisposal, UnrelatedMark
from records.procedure import scene_confirmation_record, unrelated_dispose, unrelated_mark, unrelated_unmark
from records.selectors import (
    procedure_document_get,
    procedure_documents,
    scene_confirmation_get,
    scene_confirmations,
    unrelated_disposals,
    unrelated_mark_get,
    unrelated_marks,
)

_NUMBER = OpenApiParameter("number", OpenApiTypes.STR, OpenApiParameter.PATH, description="Case number.")
_DOCUMENT = OpenApiParameter("document", OpenApiTypes.STR, OpenApiParameter.PATH, description="L-001 …")
_CONFIRMATION = OpenApiParameter(
    "confirmation", OpenApiTypes.STR, OpenApiParameter.PATH, description="H-001 …"
)
_READ = "see procedure records"


@extend_schema_view(
    list=extend_schema(
        summary="A case's procedure documents",
        description="상세목록 (L-…), 전자정보 확인서 (C-…) and 반출 확인서 (X-…) issued on the case.",
        parameters=[_NUMBER],
        responses={200: s.ProcedureDocumentSerializer(many=True), **error_responses(403, 404)},
    ),
    retrieve=extend_schema(
        summary="One procedure document",
        parameters=[_NUMBER, _DOCUMENT],
        responses={200: s.ProcedureDocumentSerializer, **error_responses(403, 404)},
    ),
)
class ProcedureDocumentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CaseScopedViewSet):
    """Issue and read the signed procedure documents of a case."""

    serializer_class = s.ProcedureDocumentSerializer
    lookup_url_kwarg = "document"
    lookup_value_regex = r"[LCXlcx]-[0-9]+"
    model = ProcedureDocument

    def scoped(self, case: Case) -> Any:
        self.case(Action.PROCEDURE_READ, _READ)
        return procedure_documents(case=case).select_related("case", "confirmation")

    def get_object(self) -> ProcedureDocument:
        case = self.case(Action.PROCEDURE_READ, _READ)
        return procedure_document_get(case=case, number=self.kwargs["document"])

    @extend_schema(
        summary="Issue a procedure document",
        description=(
            "`seized_list` of an acquisition (every file with its path, size, time stamps and hashes; what "
            "was not seized), `scene_confirmation` of a recorded confirmation (H-001), or "
            "`export_confirmation` of a done export bundle. Rendered, PDF/A-3 with the facts as "
            "manifest.json, signed (PAdES), stored in the vault; a `procedure_document` custody event on the "
            "case. Lead or investigator."
        ),
        parameters=[_NUMBER],
        request=s.ProcedureDocumentIssueSerializer,
        responses={201: s.ProcedureDocumentSerializer, **error_responses(400, 403, 404)},
    )
    def create(self, request: Request, number: str) -> Response:
        case = self.case(Action.PROCEDURE_RECORD, "issue procedure documents")
        fields = validated(s.ProcedureDocumentIssueSerializer, request)
        actor = request_actor(request)
        kind = fields["kind"]
        if kind == ProcedureDocumentKind.SEIZED_LIST:
            acquisition = Acquisition.objects.filter(case=case, pk=fields["acquisition"]).first()
            if acquisition is None:
                raise NotFound(f"case {case.number} has no acquisition {fields['acquisition']}")
            document = seized_list_issue(acquisition=acquisition, actor=actor)
        elif kind == ProcedureDocumentKind.SCENE_CONFIRMATION:
            confirmation = scene_confirmation_get(case=case, number=fields["confirmation"])
            document = scene_confirmation_issue(confirmation=confirmation, actor=actor)
        else:
            bundle = ExportBundle.objects.filter(case=case, pk=fields["bundle"]).first()
            if bundle is None:
                raise NotFound(f"case {case.number} has no export bundle {fields['bundle']}")
            document = export_confirmation_issue(bundle=bundle, actor=actor)
        return Response(s.ProcedureDocumentSerializer(document).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Download a procedure document",
        description=(
            "The signed PDF; its SHA-256 in X-Haetae-Document-SHA256 (also on the case's custody chain)."
        ),
        parameters=[_NUMBER, _DOCUMENT],
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The signed PDF."),
            **error_responses(403, 404),
        },
    )
    @action(detail=True, methods=["get"], renderer_classes=[AnyMediaRenderer])
    def download(self, request: Request, number: str, document: str) -> Any:
        row = self.get_object()
        response = streamed_file(
            iter([procedure_document_read(row)]),
            content_type="application/pdf",
            filename=f"{row.case.number}-{row.number}.pdf",
            sha256=None,  # X-Haetae-SHA256 names served evidence content; this is a document about it
            size=None,
        )
        response["X-Haetae-Document-SHA256"] = row.blob_id
        return response


@extend_schema_view(
    list=extend_schema(
        summary="A case's scene hash confirmations",
        parameters=[_NUMBER],
        responses={200: s.SceneConfirmationSerializer(many=True), **error_responses(403, 404)},
    ),
    retrieve=extend_schema(
        summary="One scene hash confirmation",
        parameters=[_NUMBER, _CONFIRMATION],
        responses={200: s.SceneConfirmationSerializer, **error_responses(403, 404)},
    ),
)
class SceneConfirmationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CaseScopedViewSet):
    """전자정보 확인서 / 해시값 확인서: what the investigator recorded at the scene."""

    serializer_class = s.SceneConfirmationSerializer
    lookup_url_kwarg = "confirmation"
    lookup_value_regex = r"[Hh]-[0-9]+"
    model = SceneConfirmation

    def scoped(self, case: Case) -> Any:
        self.case(Action.PROCEDURE_READ, _READ)
        return scene_confirmations(case=case).select_related("case")

    def get_object(self) -> SceneConfirmation:
        case = self.case(Action.PROCEDURE_READ, _READ)
        return scene_confirmation_get(case=case, number=self.kwargs["confirmation"])

    @extend_schema(
        summary="Record a hash confirmation made at the scene",
        description=(
            "What was hashed, the hashes (name, algorithm, value), who computed them and when, the place, "
            "the person searched, the witness (참관인: name and relation) and the participant's refusal to "
            "sign with its reason. A `scene_hash_recorded` custody event holds the hashes and a salted "
            "SHA-256 of the rest. Print it by issuing a `scene_confirmation` document. Lead or investigator."
        ),
        parameters=[_NUMBER],
        request=s.SceneConfirmationRecordSerializer,
        responses={201: s.SceneConfirmationSerializer, **error_responses(400, 403, 404)},
    )
    def create(self, request: Request, number: str) -> Response:
        case = self.case(Action.PROCEDURE_RECORD, "record scene hash confirmations")
        fields = validated(s.SceneConfirmationRecordSerializer, request)
        confirmation = scene_confirmation_record(
            case=case,
            actor=request_actor(request),
            subject=fields["subject"],
            hashes=fields["hashes"],
            computed_by=fields["computed_by"],
            computed_at=fields.get("computed_at"),
            acquisition_id=fields.get("acquisition"),
            tool=fields["tool"],
            place=fields["place"],
            person_searched=fields["person_searched"],
            witness_name=fields["witness_name"],
            witness_relation=fields["witness_relation"],
            participant_refused=fields["participant_refused"],
            refusal_reason=fields["refusal_reason"],
        )
        return Response(s.SceneConfirmationSerializer(confirmation).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(
        summary="Items marked unrelated to the warrant",
        description="Every mark, open (awaiting return or deletion), withdrawn, returned or deleted.",
        parameters=[_NUMBER],
        responses={200: s.UnrelatedMarkSerializer(many=True), **error_responses(403, 404)},
    ),
)
class UnrelatedMarkViewSet(mixins.ListModelMixin, CaseScopedViewSet):
    """Selective seizure: mark items as unrelated to the warrant, or withdraw a mark."""

    serializer_class = s.UnrelatedMarkSerializer
    model = UnrelatedMark

    def scoped(self, case: Case) -> Any:
        self.case(Action.PROCEDURE_READ, _READ)
        return unrelated_marks(case=case)

    @extend_schema(
        summary="Mark items unrelated to the warrant",
        description=(
            "Stored items, none in an exhibit in force, with the reason. They leave analysis, exhibits and "
            "exports, and their content is not served, until returned or deleted (unrelated-disposals) or "
            "the mark is withdrawn. A `marked_unrelated` custody event per item. Lead or investigator."
        ),
        parameters=[_NUMBER],
        request=s.UnrelatedMarkRequestSerializer,
        responses={201: s.UnrelatedMarkSerializer(many=True), **error_responses(400, 403, 404)},
    )
    def create(self, request: Request, number: str) -> Response:
        case = self.case(Action.UNRELATED_MARK, "mark items unrelated to the warrant")
        fields = validated(s.UnrelatedMarkRequestSerializer, request)
        marks = unrelated_mark(
            case=case, actor=request_actor(request), item_ids=fields["items"], reason=fields["reason"]
        )
        return Response(s.UnrelatedMarkSerializer(marks, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Withdraw a mark made by mistake",
        description=(
            "The item is back in the case; an `unrelated_unmarked` custody event. Lead or investigator."
        ),
        parameters=[_NUMBER, OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        request=ReasonSerializer,
        responses={200: s.UnrelatedMarkSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"], serializer_class=ReasonSerializer)
    def withdraw(self, request: Request, number: str, pk: str) -> Response:
        case = self.case(Action.UNRELATED_MARK, "withdraw marks as unrelated")
        mark = unrelated_mark_get(case=case, mark_id=int(pk))
        fields = validated(ReasonSerializer, request)
        mark = unrelated_unmark(mark=mark, actor=request_actor(request), reason=fields["reason"])
        return Response(s.UnrelatedMarkSerializer(mark).data)


@extend_schema_view(
    list=extend_schema(
        summary="Returns and deletions of unrelated items",
        parameters=[_NUMBER],
        responses={200: s.UnrelatedDisposalSerializer(many=True), **error_responses(403, 404)},
    ),
)
class UnrelatedDisposalViewSet(mixins.ListModelMixin, CaseScopedViewSet):
    """Record the return or deletion of items marked unrelated, with the person searched's confirmation."""

    serializer_class = s.UnrelatedDisposalSerializer
    model = UnrelatedDisposal

    def scoped(self, case: Case) -> Any:
        self.case(Action.PROCEDURE_READ, _READ)
        return unrelated_disposals(case=case).select_related("case")

    @extend_schema(
        summary="Record a return or deletion of unrelated items",
        description=(
            "Items marked unrelated; `returned` (say what was handed back: `handover`) or `deleted`; the "
            "person searched and how they confirmed it, or their refusal with its reason. Either way the "
            "vault's copy is crypto-erased (unless another case still holds the same bytes) and the item is "
            "marked destroyed; the ledger keeps every event. The case lead; refused under a legal hold."
        ),
        parameters=[_NUMBER],
        request=s.UnrelatedDisposalRequestSerializer,
        responses={201: s.UnrelatedDisposalSerializer, **error_responses(400, 403, 404)},
    )
    def create(self, request: Request, number: str) -> Response:
        case = self.case(Action.UNRELATED_DISPOSE, "record the return or deletion of unrelated items")
        fields = validated(s.UnrelatedDisposalRequestSerializer, request)
        disposal = unrelated_dispose(
            case=case,
            actor=request_actor(request),
            item_ids=fields["items"],
            kind=fields["kind"],
            person_searched=fields["person_searched"],
            confirmation=fields["confirmation"],
            person_refused=fields["person_refused"],
            refusal_reason=fields["refusal_reason"],
            handover=fields["handover"],
        )
        return Response(s.UnrelatedDisposalSerializer(disposal).data, status=status.HTTP_201_CREATED)
