"""The destruction API: a case's destruction orders (request, authorise, witness, execute, refuse, withdraw,
the signed certificate) and its retention state.

Reads need ``destruction_read``; each step is an explicit POST calling its service in ``records.services``,
which checks the role and the four-eyes rules again (never the requester as authoriser or witness, never the
authoriser as witness, only the requester executes) and writes the custody events; its refusals are the
command's, word for word. Items appear by id and hashes only, never by file name: the certificate names
them, so downloading it needs ``destruction_certificate`` (not the auditor's), and signing it again
``destruction_certificate_issue``.
"""

from collections.abc import Callable
from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from access.api.serializers import ReasonSerializer
from access.api.views import CaseScopedViewSet, error_responses
from access.models import Case
from access.policy import Action
from access.selectors import case_for
from evidence.api.views import AnyMediaRenderer
from haetae.toolkit import request_actor, streamed_file, validated
from records.api import serializers as s
from records.certificate import destruction_certificate_read
from records.choices import DestructionOrderStatus
from records.models import DestructionOrder
from records.retention import retention_state
from records.selectors import destruction_order_get, destruction_orders
from records.services import (
    destruction_certificate_reissue,
    destruction_order_authorise,
    destruction_order_execute,
    destruction_order_refuse,
    destruction_order_request,
    destruction_order_withdraw,
    destruction_order_witness,
)

_NUMBER = OpenApiParameter("number", OpenApiTypes.STR, OpenApiParameter.PATH, description="Case number.")
_ORDER = OpenApiParameter("order", OpenApiTypes.STR, OpenApiParameter.PATH, description="D-001 …")
_READ = "see destruction orders"
_IN_PROGRESS = [
    DestructionOrderStatus.REQUESTED,
    DestructionOrderStatus.AUTHORISED,
    DestructionOrderStatus.WITNESSED,
]


def _step(
    name: str,
    service: Callable[..., DestructionOrder],
    *,
    summary: str,
    description: str,
    takes: tuple[type[Serializer], str] | None = None,
) -> Any:
    """The POST action of one step of an order: ``service`` on the order by the caller, with the one field
    ``takes`` names (validated by its serializer) when the step takes one; answered with the order."""

    def step(self: "DestructionOrderViewSet", request: Request, number: str, order: str) -> Response:
        row = self.get_object()
        extra: dict[str, Any] = {}
        if takes is not None:
            serializer, field = takes
            extra[field] = validated(serializer, request)[field]
        return self._answer(service(order=row, actor=request_actor(request), **extra))

    step.__name__ = step.__qualname__ = name  # DRF routes an action by its function's name
    as_action = (
        action(detail=True, methods=["post"])
        if takes is None
        else action(detail=True, methods=["post"], serializer_class=takes[0])
    )
    return extend_schema(
        summary=summary,
        description=description,
        parameters=[_NUMBER, _ORDER],
        request=None if takes is None else takes[0],
        responses={200: s.DestructionOrderSerializer, **error_responses(400, 403, 404)},
    )(as_action(step))


@extend_schema_view(
    list=extend_schema(
        summary="A case's destruction orders",
        description=(
            "Every order (D-001 …) with its legal basis, the people and times of each step, its items by "
            "id and hashes, and the certificate once executed. Lead, investigator, analyst, auditor, unit "
            "supervisor; read-only under a break-glass grant."
        ),
        parameters=[_NUMBER],
        responses={200: s.DestructionOrderSerializer(many=True), **error_responses(403, 404)},
    ),
    retrieve=extend_schema(
        summary="One destruction order",
        parameters=[_NUMBER, _ORDER],
        responses={200: s.DestructionOrderSerializer, **error_responses(403, 404)},
    ),
)
class DestructionOrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CaseScopedViewSet):
    """Destroy a case's evidence by a recorded order: three people, each step a custody event."""

    serializer_class = s.DestructionOrderSerializer
    lookup_url_kwarg = "order"
    lookup_value_regex = r"[Dd]-[0-9]+"
    model = DestructionOrder

    def scoped(self, case: Case) -> Any:
        self.case(Action.DESTRUCTION_READ, _READ)
        return destruction_orders(case=case)

    def get_object(self) -> DestructionOrder:
        case = self.case(Action.DESTRUCTION_READ, _READ)
        return destruction_order_get(case=case, number=self.kwargs["order"])

    def _answer(self, order: DestructionOrder, code: int = status.HTTP_200_OK) -> Response:
        fresh = destruction_order_get(case=self.case(), number=order.number)
        return Response(s.DestructionOrderSerializer(fresh).data, status=code)

    @extend_schema(
        summary="Request a destruction order",
        description=(
            "A case lead asks to destroy items of the case (every live item when `items` is left out) with "
            "the legal basis. Refused without a legal basis, under a legal hold, when the case is not due "
            "under the retention schedule and no `court_order` is named, and for an item already in an "
            "order in progress. A `destruction_ordered` custody event on each item's chain."
        ),
        parameters=[_NUMBER],
        request=s.DestructionOrderRequestSerializer,
        responses={201: s.DestructionOrderSerializer, **error_responses(400, 403, 404)},
    )
    def create(self, request: Request, number: str) -> Response:
        case = self.case(Action.DESTRUCTION_REQUEST, "request a destruction order")
        fields = validated(s.DestructionOrderRequestSerializer, request)
        order = destruction_order_request(
            case=case,
            actor=request_actor(request),
            item_ids=fields.get("items"),
            legal_basis=fields["legal_basis"],
            reason=fields["reason"],
            court_order=fields["court_order"],
        )
        return self._answer(order, status.HTTP_201_CREATED)

    authorise = _step(
        "authorise",
        destruction_order_authorise,
        summary="Authorise a destruction order",
        description=(
            "A supervisor on the case (the unit's supervisor, or a team member holding the supervisor "
            "global role), never the requester; refused under a legal hold. A `destruction_authorised` "
            "custody event on the case chain."
        ),
        takes=(s.DestructionAuthoriseSerializer, "note"),
    )
    witness = _step(
        "witness",
        destruction_order_witness,
        summary="Witness a destruction order",
        description=(
            "A third team member, neither the requester nor the authoriser, confirms the list before it is "
            "carried out; refused under a legal hold. A `destruction_witnessed` custody event listing each "
            "item and its SHA-256."
        ),
    )
    execute = _step(
        "execute",
        destruction_order_execute,
        summary="Carry out a witnessed destruction order",
        description=(
            "The requester only, once authorised and witnessed; never twice; refused under a legal hold. "
            "Each item's content is crypto-erased (the data key destroyed, then the ciphertext removed) "
            "unless another case still needs the same bytes, its derivatives removed, the item marked "
            "destroyed with a `destroyed` custody event; then the signed certificate is issued."
        ),
    )
    refuse = _step(
        "refuse",
        destruction_order_refuse,
        summary="Refuse a destruction order",
        description=(
            "A supervisor on the team (or the requester) refuses an order not yet executed, with the "
            "reason; its items are free for a later order. A `destruction_refused` custody event."
        ),
        takes=(ReasonSerializer, "reason"),
    )
    withdraw = _step(
        "withdraw",
        destruction_order_withdraw,
        summary="Withdraw one's own destruction order",
        description=(
            "The requester withdraws an order not yet executed, with the reason; its items are free for a "
            "later order. A `destruction_refused` custody event whose step is `withdrawn`."
        ),
        takes=(ReasonSerializer, "reason"),
    )

    @extend_schema(
        summary="Download the destruction certificate",
        description=(
            "The signed PDF/A-3 (Korean first, then English) with each item's path and hashes as recorded "
            "at seizure and what was done when; its SHA-256 in X-Haetae-Document-SHA256 (also on the "
            "case's custody chain, `destroyed` step `certified`)."
        ),
        parameters=[_NUMBER, _ORDER],
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The signed PDF."),
            **error_responses(400, 403, 404),
        },
    )
    @action(detail=True, methods=["get"], renderer_classes=[AnyMediaRenderer])
    def certificate(self, request: Request, number: str, order: str) -> Any:
        self.case(Action.DESTRUCTION_CERTIFICATE, "download destruction certificates (they name each file)")
        row = self.get_object()
        response = streamed_file(
            iter([destruction_certificate_read(row)]),
            content_type="application/pdf",
            filename=f"{row.case.number}-{row.number}-certificate.pdf",
            sha256=None,  # X-Haetae-SHA256 names served evidence content; this is a document about it
            size=None,
        )
        response["X-Haetae-Document-SHA256"] = row.certificate_id or ""
        return response

    @extend_schema(
        summary="Issue the destruction certificate again",
        description=(
            "Sign and store an executed order's certificate again, as `manage.py destruction certificate "
            "--reissue` does: when signing failed at execution (the order stands, its certificate is "
            "missing) or the signer was replaced. Refused before execution and while an erasure is pending. "
            "A `destroyed` custody event, step `certified`, with the new certificate's SHA-256. Lead, "
            "investigator, analyst, unit supervisor."
        ),
        parameters=[_NUMBER, _ORDER],
        request=None,
        responses={200: s.DestructionOrderSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"], url_path="certificate/reissue", url_name="certificate-reissue")
    def reissue_certificate(self, request: Request, number: str, order: str) -> Response:
        self.case(Action.DESTRUCTION_CERTIFICATE_ISSUE, "issue a destruction certificate again")
        row = self.get_object()
        return self._answer(destruction_certificate_reissue(order=row, actor=request_actor(request)))


class CaseRetentionView(GenericAPIView):
    """Whether the case is due for destruction under the retention schedule, and why (not)."""

    serializer_class = s.RetentionSerializer

    @extend_schema(
        summary="A case's retention state",
        description=(
            "Its outcome (status), retention class, closing time and legal hold; whether it is due for "
            "destruction, from when, and in words why (not); the orders in progress. The legal hold itself "
            "is set and lifted at /cases/{number}/legal-hold/. Who may see destruction orders."
        ),
        parameters=[_NUMBER],
        responses={200: s.RetentionSerializer, **error_responses(403, 404)},
    )
    def get(self, request: Request, number: str) -> Response:
        case = case_for(user=request.user, number=number, action=Action.DESTRUCTION_READ, doing=_READ)
        state = retention_state(case=case, now=timezone.now())
        in_progress = destruction_orders(case=case).filter(status__in=_IN_PROGRESS)
        payload = {
            "case": case.number,
            "status": case.status,
            "retention_class": case.retention_class,
            "closed_at": case.closed_at,
            "legal_hold": case.legal_hold,
            "legal_hold_reason": case.legal_hold_reason,
            "due": state.due,
            "due_at": state.due_at,
            "explanation": state.explanation,
            "orders_in_progress": list(in_progress.values_list("number", flat=True)),
        }
        return Response(s.RetentionSerializer(payload).data)
