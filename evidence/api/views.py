"""Evidence API: an item's metadata and its custody with inclusion proofs. Content is never served here."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from evidence.api.serializers import (
    ErrorSerializer,
    EvidenceItemSerializer,
    ItemCustodySerializer,
)
from evidence.ledger import checkpoint_get, checkpoint_latest, checkpoint_summary, event_inclusion_proofs
from evidence.models import EvidenceItem
from evidence.selectors import custody_events_for, evidence_get_for, evidence_visible_to
from haetae.errors import RejectedInput

_NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such item in your cases.")
_TAMPERED = OpenApiResponse(
    ErrorSerializer, description="The ledger does not match its signed checkpoint (an integrity incident)."
)


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
            "it. Only for members of the item's case; never the content."
        ),
        responses={200: EvidenceItemSerializer, 404: _NOT_FOUND},
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

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
        responses={200: ItemCustodySerializer, 400: ErrorSerializer, 404: _NOT_FOUND, 409: _TAMPERED},
    )
    @action(detail=True, methods=["get"], url_path="custody", serializer_class=ItemCustodySerializer)
    def custody(self, request: Request, pk: str) -> Response:
        item = self.get_object()
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
