"""Evidence API: an item's metadata, its custody with inclusion proofs, and — through need-to-know checks
in ``evidence.content`` and ``evidence.previews`` — its content and previews, each look on record."""

from typing import Any, cast

from django.contrib.auth.models import User
from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from access.policy import Action, require, role_may
from access.selectors import case_get_for
from evidence.api.serializers import (
    EvidenceItemSerializer,
    EvidenceUploadSerializer,
    IngestResultSerializer,
    ItemCustodySerializer,
    PseudonymisedItemSerializer,
)
from evidence.choices import ItemStatus
from evidence.content import item_content_open
from evidence.ingest import IngestResult, UploadSource, evidence_ingest
from evidence.ledger import checkpoint_get, checkpoint_latest, checkpoint_summary, event_inclusion_proofs
from evidence.models import EvidenceItem
from evidence.previews import BLURRED_RECIPE, preview_serve
from evidence.selectors import custody_events_for, evidence_get_for, evidence_visible_to
from haetae.api import ErrorSerializer
from haetae.errors import AccessDenied, RejectedInput
from haetae.toolkit import no_store, request_actor, streamed_file

ITEM_NOT_FOUND = OpenApiResponse(
    ErrorSerializer,
    description=(
        "No such item in your cases (for a prosecutor: any item in no exhibit shared with them, with the "
        "same body)."
    ),
)
MEDIA_DENIED = OpenApiResponse(
    ErrorSerializer,
    description=(
        "Your role may not receive this: victim_support and auditor never receive content or previews "
        "(the message says what they can see instead); a break-glass grant never includes content."
    ),
)
REASON_PARAMETER = OpenApiParameter(
    "reason", OpenApiTypes.STR, description="Why you look (recorded on the item's custody chain)."
)
LEGAL_BASIS_PARAMETER = OpenApiParameter(
    "legal_basis",
    OpenApiTypes.STR,
    description="The legal basis, e.g. a warrant number: required where the case says so.",
)


def media_responses(content_type: str) -> dict[Any, Any]:
    """The answers of an endpoint that serves an item's content or a derivative of it."""
    return {
        (200, content_type): OpenApiTypes.BINARY,
        400: ErrorSerializer,
        403: MEDIA_DENIED,
        404: ITEM_NOT_FOUND,
        409: ErrorSerializer,
    }


_TAMPERED = OpenApiResponse(
    ErrorSerializer, description="The ledger does not match its signed checkpoint (an integrity incident)."
)


class AnyMediaRenderer(BaseRenderer):
    """Lets a client that asks for image/* or application/octet-stream reach the content endpoints; errors
    are still JSON."""

    media_type = "*/*"
    format = "bin"
    charset = None

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        response = (renderer_context or {}).get("response")
        if response is not None:  # only error bodies come through here: say that they are JSON
            response["Content-Type"] = "application/json"
        return JSONRenderer().render(data)


def query_flag(request: Request, name: str, default: bool) -> bool:
    """A yes/no query parameter (1/0, true/false, yes/no, on/off); anything else is refused, saying so."""
    value = request.query_params.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise RejectedInput(f"{name} must be 1 or 0 (true or false), not {value!r}")


class EvidenceItemViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Items of the caller's cases, by id: digests, provenance and custody; never content."""

    serializer_class = EvidenceItemSerializer
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> Any:
        return evidence_visible_to(user=self.request.user)

    def get_object(self) -> EvidenceItem:
        return evidence_get_for(user=self.request.user, item_id=int(self.kwargs["pk"]))

    @extend_schema(
        summary="An evidence item's metadata",
        description=(
            "Digests taken at ingest (SHA-256, MD5, SHA-1), size, MIME, kind, status and reason, where it "
            "was found, its parent container and how many children it has, and the acquisition that took "
            "it. Only for members of the item's case; never the content. Victim support sees a "
            "pseudonymised reference: original_name is item-ID and paths, source and seizure details are "
            "empty."
        ),
        responses={200: EvidenceItemSerializer, 404: ITEM_NOT_FOUND},
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        item = self.get_object()
        if not role_may(getattr(item, "caller_role", None), Action.ITEM_RECORDS):
            return Response(PseudonymisedItemSerializer(item).data)
        return Response(self.get_serializer(item).data)

    @extend_schema(
        summary="An evidence item's chain of custody, with inclusion proofs",
        description=(
            "Every custody event of the item in ledger order, with its chain hashes (prev_hash, leaf_hash), "
            "the canonical leaf data, and an RFC 9162 inclusion proof against a signed checkpoint (the "
            "newest, or the one named by `checkpoint`). Events newer than that checkpoint have proof null "
            "and the response says pending_checkpoint: true; the next checkpoint covers them."
        ),
        parameters=[
            OpenApiParameter(
                "checkpoint",
                OpenApiTypes.INT,
                description="Prove against this checkpoint (by id) instead of the newest.",
            )
        ],
        responses={
            200: ItemCustodySerializer,
            400: ErrorSerializer,
            403: OpenApiResponse(
                ErrorSerializer, description="Victim support does not read custody records."
            ),
            404: ITEM_NOT_FOUND,
            409: _TAMPERED,
        },
    )
    @action(detail=True, methods=["get"], url_path="custody", serializer_class=ItemCustodySerializer)
    def custody(self, request: Request, pk: str) -> Response:
        item = self.get_object()
        role = getattr(item, "caller_role", None)
        if not role_may(role, Action.ITEM_RECORDS):
            raise AccessDenied(
                "victim support sees items as pseudonymised references with their hashes, not their custody "
                "records (which name files, places and people): use GET /api/v1/evidence/"
                f"{item.pk}/ for the hashes, or ask the case's auditor to check the custody",
                details={"role": role},
            )
        events = list(custody_events_for(user=request.user, item=item))
        checkpoint_param = request.query_params.get("checkpoint")
        if checkpoint_param is None:
            checkpoint = checkpoint_latest()
        elif checkpoint_param.isdigit():
            checkpoint = checkpoint_get(checkpoint_id=int(checkpoint_param))
        else:
            raise RejectedInput(f"checkpoint must be a checkpoint id (a number), not {checkpoint_param!r}")
        proofs = event_inclusion_proofs(events=events, checkpoint=checkpoint)
        body = {
            "item": item.pk,
            "case": item.case.number,
            "checkpoint": checkpoint_summary(checkpoint) if checkpoint is not None else None,
            "pending_checkpoint": any(proof is None for proof in proofs.values()),
            "events": events,
        }
        return Response(ItemCustodySerializer(body, context={"proofs": proofs}).data)

    @extend_schema(
        summary="An item's content (a content view, on record)",
        description=(
            "The original bytes, verified as they stream (each chunk authenticated, the whole re-hashed "
            "against the SHA-256 taken at ingest; damage stops the stream and is recorded as an incident). "
            "Needs membership with the role lead, investigator or analyst (or prosecutor, for items of "
            "exhibits shared with them), a `reason`, and a `legal_basis` where the case requires one. A "
            "`viewed` custody event records who, why, under what basis and "
            "when, before the first byte is sent. victim_support and auditor never receive content."
        ),
        parameters=[REASON_PARAMETER, LEGAL_BASIS_PARAMETER],
        responses=media_responses("application/octet-stream"),
    )
    @action(
        detail=True, methods=["get"], url_path="content", renderer_classes=[JSONRenderer, AnyMediaRenderer]
    )
    def content(self, request: Request, pk: str) -> StreamingHttpResponse:
        item = self.get_object()
        chunks = item_content_open(
            item=item,
            actor=cast(User, request.user),
            purpose=request.query_params.get("reason", ""),
            legal_basis=request.query_params.get("legal_basis", ""),
        )
        return streamed_file(
            chunks,
            content_type=item.mime or "application/octet-stream",
            filename=f"item-{item.pk}",
            sha256=item.blob_id or "",
            size=item.size,
        )

    @extend_schema(
        summary="An item's preview: blurred unless asked otherwise",
        description=(
            "A JPEG derivative made once per recipe and hashed (header X-Haetae-Derivative-SHA256). By "
            "default blurred so that nothing explicit is recognisable (shrunk to fit "
            f"{BLURRED_RECIPE['shrink_to']} px, Gaussian blur, enlarged to "
            f"{BLURRED_RECIPE['enlarge_to']} px, "
            "blurred again); serving it records a `preview_served` custody event. `grey=1` makes it "
            "greyscale. `blur=0` is a content view: it needs a `reason` (and `legal_basis` where required) "
            "and records `viewed`. Only for images; victim_support and auditor never receive previews."
        ),
        parameters=[
            OpenApiParameter(
                "blur", OpenApiTypes.BOOL, description="0 for an unblurred preview (default 1)."
            ),
            OpenApiParameter("grey", OpenApiTypes.BOOL, description="1 for greyscale (default 0)."),
            REASON_PARAMETER,
            LEGAL_BASIS_PARAMETER,
        ],
        responses=media_responses("image/jpeg"),
    )
    @action(
        detail=True, methods=["get"], url_path="preview", renderer_classes=[JSONRenderer, AnyMediaRenderer]
    )
    def preview(self, request: Request, pk: str) -> HttpResponse:
        item = self.get_object()
        preview = preview_serve(
            item=item,
            actor=cast(User, request.user),
            blur=query_flag(request, "blur", True),
            grey=query_flag(request, "grey", False),
            purpose=request.query_params.get("reason", ""),
            legal_basis=request.query_params.get("legal_basis", ""),
        )
        response = HttpResponse(preview.data, content_type=preview.mime)
        response["X-Haetae-Derivative-SHA256"] = preview.derivative.blob_id
        response["X-Haetae-Preview"] = ("blurred" if preview.blurred else "unblurred") + (
            ", greyscale" if preview.grey else ""
        )
        response["Content-Disposition"] = f'inline; filename="item-{item.pk}-preview.jpg"'
        no_store(response)
        return response


def ingest_result_body(result: IngestResult) -> dict[str, Any]:
    """The same JSON object that ``manage.py ingest --json`` prints."""
    return {
        "acquisition": result.acquisition.pk,
        "source_kind": result.source_kind,
        "counts": {**result.counts, **result.source_counts},
        "items": [outcome.as_json() for outcome in result.items],
    }


class CaseEvidenceUploadView(GenericAPIView):
    """Evidence uploads into a case (``POST /cases/{number}/evidence/``), through ``evidence_ingest``."""

    parser_classes = [MultiPartParser]
    serializer_class = EvidenceUploadSerializer

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
            404: OpenApiResponse(ErrorSerializer, description="No such case among yours."),
        },
    )
    def post(self, request: Request, number: str) -> Response:
        case = case_get_for(user=request.user, number=number)
        # Checked before the body is read, so a refused upload is never parsed into the vault's tmp area.
        require(case=case, action=Action.EVIDENCE_INGEST, doing="add evidence to it")
        form = EvidenceUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        fields = form.validated_data
        result = evidence_ingest(
            case=case,
            sources=[UploadSource(name=upload.name, stream=upload) for upload in fields["files"]],
            actor=request_actor(request),
            source_label=fields.get("source", ""),
            seizure_reference=fields.get("seizure_reference", ""),
            seal_numbers=tuple(fields.get("seal_numbers", ())),
            location=fields.get("location", ""),
            participants=tuple(fields.get("participants", ())),
            source_kind=fields.get("source_kind", "files"),
            source_options={"time_zone": fields.get("timezone", "Asia/Seoul")},
        )
        body = IngestResultSerializer(ingest_result_body(result)).data
        everything_rejected = bool(result.items) and all(
            i.status == ItemStatus.REJECTED for i in result.items
        )
        return Response(
            body,
            status=status.HTTP_422_UNPROCESSABLE_ENTITY if everything_rejected else status.HTTP_201_CREATED,
        )
