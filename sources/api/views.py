"""Messages API: a case's messages from exports and extraction reports; their text is a content view."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from access.api.views import NOT_FOUND, NUMBER_PARAM, CaseScopedViewSet, error_responses
from access.models import Case
from access.policy import Action
from haetae.toolkit import request_actor, validated
from parties.selectors import person_get
from sources.api.filters import MessageFilter
from sources.api.serializers import MessageSerializer, SenderAttachSerializer, SenderSerializer
from sources.content import messages_text_open
from sources.models import Message, Sender
from sources.selectors import message_list, sender_get
from sources.services import sender_attach

REASON = OpenApiParameter(
    "reason",
    OpenApiTypes.STR,
    description="Why you read the messages' text: given, the page's text, senders' names and chat titles are "
    "served and the look is recorded on each export file's custody chain (one event per request); "
    "without it they are null.",
)
LEGAL_BASIS = OpenApiParameter(
    "legal_basis", OpenApiTypes.STR, description="The legal basis, where the case requires one for content."
)


@extend_schema_view(
    list=extend_schema(
        summary="Messages of the case (from messenger exports and extraction reports)",
        parameters=[NUMBER_PARAM, REASON, LEGAL_BASIS],
        responses={200: MessageSerializer(many=True), **error_responses(400, 403), 404: NOT_FOUND},
    )
)
class MessageViewSet(mixins.ListModelMixin, CaseScopedViewSet):
    """Messages in chat order, filterable by chat, sender, date range, media and item."""

    serializer_class = MessageSerializer
    filterset_class = MessageFilter
    model = Message

    def scoped(self, case: Case) -> QuerySet[Message]:
        return message_list(case=case)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        rows = list(page if page is not None else self.filter_queryset(self.get_queryset()))
        reason = request.query_params.get("reason", "").strip()
        if reason:
            messages_text_open(
                messages=rows,
                actor=request_actor(request),
                purpose=reason,
                legal_basis=request.query_params.get("legal_basis", ""),
            )
        serializer = self.get_serializer(
            rows, many=True, context={**self.get_serializer_context(), "text_visible": bool(reason)}
        )
        if page is not None:
            return self.get_paginated_response(serializer.data)
        return Response(serializer.data)


class SenderViewSet(CaseScopedViewSet):
    """Senders of messages: an investigator attaches one to a person as their account."""

    serializer_class = SenderSerializer
    model = Sender
    lookup_value_regex = r"[0-9]+"

    def scoped(self, case: Case) -> QuerySet[Sender]:
        return Sender.objects.filter(case=case)

    @extend_schema(
        summary="Attach a sender to a person as their account",
        parameters=[NUMBER_PARAM],
        request=SenderAttachSerializer,
        responses={200: SenderSerializer, **error_responses(400, 403), 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], serializer_class=SenderAttachSerializer)
    def attach(self, request: Request, number: str, pk: str) -> Response:
        case = self.case(Action.LINKS_RECORD, "attach senders to people")
        sender = sender_get(case=case, sender_id=int(pk))
        person = person_get(case=case, pseudonym=validated(SenderAttachSerializer, request)["person"])
        attached = sender_attach(sender=sender, person=person, actor=request_actor(request))
        return Response(SenderSerializer(attached).data)
