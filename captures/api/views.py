"""The captures API: list and follow a case's captures, and ask for one (the run is queued on commit)."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.request import Request
from rest_framework.response import Response

from access.api.views import NUMBER_PARAM, CaseScopedViewSet
from access.models import Case
from access.policy import Action
from captures.api.serializers import CaptureRequestSerializer, CaptureSerializer, CaptureStatusSerializer
from captures.models import Capture
from captures.selectors import capture_list, capture_result_visible
from captures.services import capture_queue
from haetae.errors import NotFound
from haetae.toolkit import request_actor, validated

NUMBER = r"[A-Za-z0-9][A-Za-z0-9-]*"
CASE_PREFIX = rf"cases/(?P<number>{NUMBER})"


@extend_schema_view(
    list=extend_schema(
        summary="Captures of reported URLs in a case",
        description="Members who may ask for captures see each one's status; the result (items, final URL, "
        "server address, headers) only those who may see it (lead, investigator, analyst).",
        parameters=[NUMBER_PARAM],
        responses={200: CaptureSerializer(many=True)},
    ),
    retrieve=extend_schema(
        summary="One capture", parameters=[NUMBER_PARAM], responses={200: CaptureSerializer}
    ),
)
class CaptureViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CaseScopedViewSet):
    """A case's captures; POST asks for a new one."""

    model = Capture
    lookup_value_regex = r"[0-9]+"
    http_method_names = ["get", "post", "head", "options"]

    def scoped(self, case: Case) -> QuerySet[Capture]:
        self.case(Action.CAPTURE_REQUEST, doing="follow captures")
        return capture_list(case=case)

    def get_serializer_class(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return CaptureSerializer
        if capture_result_visible(user=self.request.user, case=self.case()):
            return CaptureSerializer
        return CaptureStatusSerializer

    def get_object(self) -> Capture:
        capture = self.get_queryset().filter(pk=int(self.kwargs["pk"])).first()
        if capture is None:
            raise NotFound(f"no capture {self.kwargs['pk']} in case {self.kwargs['number']}")
        return capture

    @extend_schema(
        summary="Ask for a URL to be captured",
        parameters=[NUMBER_PARAM],
        request=CaptureRequestSerializer,
        responses={202: CaptureStatusSerializer},
    )
    def create(self, request: Request, number: str) -> Response:
        case = self.case(Action.CAPTURE_REQUEST, doing="ask for a URL to be captured")
        fields = validated(CaptureRequestSerializer, request)
        capture = capture_queue(case=case, url=fields["url"], actor=request_actor(request))
        capture.refresh_from_db()
        serializer = self.get_serializer_class()(capture, context=self.get_serializer_context())
        return Response(serializer.data, status=status.HTTP_202_ACCEPTED)
