"""Break-glass API: administrators open time-limited grants; case leads see (and may end) those on theirs.

Its own router (mounted under /api/v1/ by haetae/urls.py) so that it stays apart from the cases API.
"""

from typing import Any, cast

from django.contrib.auth.models import User
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from access.breakglass import break_glass_end, break_glass_max_minutes, break_glass_open
from access.models import BreakGlassGrant
from access.selectors import break_glass_grants_for
from haetae.api import ErrorSerializer
from haetae.errors import NotFound

_NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such grant of yours or on a case you lead.")


class BreakGlassGrantSerializer(serializers.ModelSerializer):
    """A grant: whose, on which case, why, from when until when, and whether (and by whom) it was ended."""

    case = serializers.CharField(source="case.number", read_only=True)
    user = serializers.CharField(source="user.get_username", read_only=True)
    ended_by = serializers.CharField(source="ended_by.get_username", read_only=True, allow_null=True)
    is_live = serializers.BooleanField(read_only=True)

    class Meta:
        model = BreakGlassGrant
        fields = [
            "id",
            "case",
            "user",
            "reason",
            "granted_at",
            "expires_at",
            "ended_at",
            "ended_by",
            "is_live",
        ]
        read_only_fields = fields


class BreakGlassOpenSerializer(serializers.Serializer):
    """What an administrator states to break the glass."""

    case = serializers.CharField(help_text="The case number.")
    reason = serializers.CharField(help_text="Why: recorded on the case's custody chain, seen by the lead.")
    minutes = serializers.IntegerField(min_value=1, help_text="How long the grant lasts (at most the limit).")


@extend_schema_view(
    list=extend_schema(
        summary="Break-glass grants you may see",
        description="Your own grants, and every grant on the cases you lead.",
    ),
    retrieve=extend_schema(
        summary="One break-glass grant", responses={200: BreakGlassGrantSerializer, 404: _NOT_FOUND}
    ),
)
class BreakGlassGrantViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Administrators' time-limited read access to cases they are not on; every grant is a custody event."""

    serializer_class = BreakGlassGrantSerializer
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> Any:
        return break_glass_grants_for(user=self.request.user).order_by("-granted_at", "-id")

    def get_object(self) -> BreakGlassGrant:
        grant = self.get_queryset().filter(pk=int(self.kwargs["pk"])).first()
        if grant is None:
            raise NotFound(
                f"no break-glass grant {self.kwargs['pk']} of yours or on a case you lead: check the id"
            )
        return grant

    @extend_schema(
        summary="Break the glass: open a time-limited grant on a case",
        description=(
            "Administrators (staff) only, and only for a case whose team they are not on. Needs a reason "
            f"and a duration in minutes (at most {break_glass_max_minutes()} by default). The grant is "
            "read-only: "
            "case, items' metadata and custody, never content or previews. Logged as a case-level "
            "`break_glass` custody event that the case lead sees."
        ),
        request=BreakGlassOpenSerializer,
        responses={
            201: BreakGlassGrantSerializer,
            400: ErrorSerializer,
            403: OpenApiResponse(ErrorSerializer, description="You are not an administrator."),
            404: OpenApiResponse(ErrorSerializer, description="No such case."),
        },
    )
    def create(self, request: Request) -> Response:
        form = BreakGlassOpenSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        grant = break_glass_open(
            case_number=form.validated_data["case"],
            actor=cast(User, request.user),
            reason=form.validated_data["reason"],
            minutes=form.validated_data["minutes"],
        )
        return Response(BreakGlassGrantSerializer(grant).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="End a break-glass grant early",
        description="Its holder or the case's lead may end a live grant; logged as a `break_glass` event.",
        request=None,
        responses={200: BreakGlassGrantSerializer, 400: ErrorSerializer, 404: _NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="end")
    def end(self, request: Request, pk: str) -> Response:
        grant = self.get_object()
        ended = break_glass_end(grant_id=grant.pk, actor=cast(User, request.user))
        return Response(BreakGlassGrantSerializer(ended).data)
