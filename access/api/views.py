"""Cases API: the caller's cases and everything under them.

Reads are ViewSets; every change that matters legally is an explicit POST action that calls a service
(which writes the change and its custody event in one transaction). Every route under
``/cases/{number}/`` first resolves the case through ``access.selectors.case_get_for``: a non-member gets
the same 404 whether the case exists or not. Writes then pass ``case_require_role`` (access/policy.py).
"""

from typing import Any, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Model, QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from access import services
from access.api import filters
from access.api import serializers as s
from access.models import Case, CaseMember, LegalAuthority, Offence
from access.policy import Action, require, require_global
from access.selectors import (
    case_for,
    case_get_for,
    case_list,
    legal_authority_get,
    legal_authority_list,
    member_get,
    member_list,
    offence_list,
)
from haetae.api import ErrorSerializer
from haetae.errors import RejectedInput
from haetae.toolkit import request_actor, validated

NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such case (or object in it) among yours.")
_BAD = OpenApiResponse(ErrorSerializer, description="Invalid input; field messages say what to fix.")
_DENIED = OpenApiResponse(ErrorSerializer, description="Your role on the case may not do this.")


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    table = {400: _BAD, 403: _DENIED, 404: NOT_FOUND}
    return {code: table[code] for code in codes}


def _user_named(username: str, field: str = "username") -> User:
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise RejectedInput(
            f"{field}: no user named {username!r}",
            details={field: [f"no user named {username!r}: create one with 'manage.py create_user'"]},
        )
    return cast(User, user)


@extend_schema_view(
    list=extend_schema(summary="The offence table", description="Statute references a case can concern."),
    retrieve=extend_schema(summary="One offence, by code"),
)
class OffenceViewSet(viewsets.ReadOnlyModelViewSet):
    """The seeded offence table (reference data; the same for every user)."""

    serializer_class = s.OffenceSerializer
    lookup_field = "code"
    pagination_class = None

    def get_queryset(self) -> QuerySet[Offence]:
        return offence_list()


@extend_schema_view(
    list=extend_schema(summary="Your cases", description="Only cases whose team you are on."),
    retrieve=extend_schema(summary="One of your cases", responses={200: s.CaseSerializer, 404: NOT_FOUND}),
)
class CaseViewSet(viewsets.ReadOnlyModelViewSet):
    """Cases the caller is a member of, looked up by case number."""

    serializer_class = s.CaseSerializer
    lookup_field = "number"
    lookup_value_regex = r"[A-Za-z0-9][A-Za-z0-9-]*"
    filter_backends = [DjangoFilterBackend]
    filterset_class = filters.CaseFilter

    def get_queryset(self) -> Any:
        return (
            case_list(user=self.request.user, with_counts=True)
            .select_related("lead_investigator")
            .prefetch_related("offences")
        )

    def get_object(self) -> Case:
        return self._case(self.kwargs["number"])

    def _case(self, number: str) -> Case:
        """The caller's case with what the serializer shows loaded (NotFound for non-members)."""
        found = case_get_for(user=self.request.user, number=number)
        return self.get_queryset().get(pk=found.pk)

    @extend_schema(
        summary="Open a case",
        description=(
            "Open a case; you join its team as lead and lead investigator. Only users whose global role is "
            "investigator or supervisor may. Logged as a case_created custody event."
        ),
        request=s.CaseCreateSerializer,
        responses={201: s.CaseSerializer, **error_responses(400, 403)},
    )
    def create(self, request: Request) -> Response:
        actor = request_actor(request)
        # Checked before the body is validated, so a refused caller learns nothing about the form.
        require_global(user=actor, action=Action.CASE_OPEN, refusal=services.CASE_OPEN_REFUSAL)
        fields = validated(s.CaseCreateSerializer, request)
        case = services.case_create(actor=actor, **fields)
        return Response(s.CaseSerializer(self._case(case.number)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a case's details",
        description=(
            "Title, unit, jurisdiction, offences, retention class, whether content views need a legal "
            "basis, and the lead investigator (a lead on the team). Leads only; one case_updated event."
        ),
        request=s.CaseUpdateSerializer,
        responses={200: s.CaseSerializer, **error_responses(400, 403, 404)},
    )
    def partial_update(self, request: Request, number: str) -> Response:
        case = case_for(user=request.user, number=number, action=Action.CASE_CHANGE, doing="change the case")
        changes = validated(s.CaseUpdateSerializer, request)
        if "lead_investigator" in changes:
            changes["lead_investigator"] = _user_named(changes["lead_investigator"], "lead_investigator")
        services.case_update(case=case, actor=request_actor(request), changes=changes)
        return Response(s.CaseSerializer(self._case(number)).data)

    @extend_schema(
        summary="Change a case's status",
        description=(
            "open → referred → closed → archived; a referred, closed or archived case may be reopened "
            "(status open). A reason is required. Leads only; one case_status_changed event."
        ),
        request=s.StatusChangeSerializer,
        responses={200: s.CaseSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"], serializer_class=s.StatusChangeSerializer)
    def status(self, request: Request, number: str) -> Response:
        case = case_for(
            user=request.user, number=number, action=Action.CASE_CHANGE, doing="change its status"
        )
        fields = validated(s.StatusChangeSerializer, request)
        services.case_status_change(case=case, actor=request_actor(request), **fields)
        return Response(s.CaseSerializer(self._case(number)).data)

    @extend_schema(
        summary="Place or lift the legal hold",
        request=s.LegalHoldSerializer,
        responses={200: s.CaseSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"], url_path="legal-hold", serializer_class=s.LegalHoldSerializer)
    def legal_hold(self, request: Request, number: str) -> Response:
        case = case_for(
            user=request.user, number=number, action=Action.CASE_CHANGE, doing="change the legal hold"
        )
        fields = validated(s.LegalHoldSerializer, request)
        services.case_legal_hold_set(
            case=case, actor=request_actor(request), hold=fields["legal_hold"], reason=fields["reason"]
        )
        return Response(s.CaseSerializer(self._case(number)).data)


NUMBER_PARAM = OpenApiParameter("number", OpenApiTypes.STR, OpenApiParameter.PATH, description="Case number.")


class CaseScopedViewSet(viewsets.GenericViewSet):
    """A resource under /cases/{number}/: the case is resolved once per request through the access gate."""

    filter_backends = [DjangoFilterBackend]
    model: type[Model] = Case

    def case(self, action: Action | None = None, doing: str | None = None) -> Case:
        """The case of the URL (NotFound for non-members); AccessDenied unless the caller may ``action``."""
        if not hasattr(self, "_case"):
            self._case = case_for(user=self.request.user, number=self.kwargs["number"])
        if action is not None:
            require(case=self._case, action=action, doing=doing)
        return self._case

    def scoped(self, case: Case) -> QuerySet:
        """The case's rows this view lists; each subclass says which."""
        raise TypeError(f"{type(self).__name__} must define scoped(case)")

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request user, no case
            return self.model._default_manager.none()
        return self.scoped(self.case())


@extend_schema_view(
    list=extend_schema(
        summary="The case team",
        parameters=[NUMBER_PARAM],
        responses={200: s.MemberSerializer(many=True), 404: NOT_FOUND},
    ),
    retrieve=extend_schema(
        summary="One team member",
        parameters=[NUMBER_PARAM],
        responses={200: s.MemberSerializer, 404: NOT_FOUND},
    ),
)
class CaseMemberViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CaseScopedViewSet):
    """The case team; leads add members, change roles and remove members (each a custody event)."""

    serializer_class = s.MemberSerializer
    filterset_class = filters.MemberFilter
    lookup_field = "username"
    lookup_value_regex = r"[\w.@+-]+"
    model = CaseMember

    def scoped(self, case: Case) -> QuerySet[CaseMember]:
        return member_list(case=case)

    def get_object(self) -> CaseMember:
        return member_get(case=self.case(), username=self.kwargs["username"])

    @extend_schema(
        summary="Add a team member",
        parameters=[NUMBER_PARAM],
        request=s.MemberAddSerializer,
        responses={201: s.MemberSerializer, **error_responses(400, 403, 404)},
    )
    def create(self, request: Request, number: str) -> Response:
        case = self.case(Action.TEAM_CHANGE)
        fields = validated(s.MemberAddSerializer, request)
        user = _user_named(fields["username"])
        services.member_add(case=case, user=user, role=fields["role"], actor=request_actor(request))
        return Response(s.MemberSerializer(member_get(case=case, username=user.username)).data, status=201)

    @extend_schema(
        summary="Change a member's role",
        description="At least one lead remains; the lead investigator is named elsewhere first.",
        parameters=[NUMBER_PARAM],
        request=s.MemberRoleSerializer,
        responses={200: s.MemberSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"], serializer_class=s.MemberRoleSerializer)
    def role(self, request: Request, number: str, username: str) -> Response:
        case = self.case(Action.TEAM_CHANGE)
        member = member_get(case=case, username=username)
        fields = validated(s.MemberRoleSerializer, request)
        services.member_change_role(case=case, user=member.user, actor=request_actor(request), **fields)
        return Response(s.MemberSerializer(member_get(case=case, username=username)).data)

    @extend_schema(
        summary="Remove a member",
        parameters=[NUMBER_PARAM],
        request=s.ReasonSerializer,
        responses={204: None, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"], serializer_class=s.ReasonSerializer)
    def remove(self, request: Request, number: str, username: str) -> Response:
        case = self.case(Action.TEAM_CHANGE)
        member = member_get(case=case, username=username)
        fields = validated(s.ReasonSerializer, request)
        services.member_remove(
            case=case, user=member.user, actor=request_actor(request), reason=fields["reason"]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(summary="Legal authorities of the case", parameters=[NUMBER_PARAM]),
    retrieve=extend_schema(
        summary="One legal authority",
        parameters=[NUMBER_PARAM],
        responses={200: s.LegalAuthoritySerializer, 404: NOT_FOUND},
    ),
)
class LegalAuthorityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CaseScopedViewSet):
    """Warrants and other authorities the case acts under."""

    serializer_class = s.LegalAuthoritySerializer
    filterset_class = filters.LegalAuthorityFilter
    lookup_value_regex = r"[0-9]+"
    model = LegalAuthority

    def scoped(self, case: Case) -> QuerySet[LegalAuthority]:
        return legal_authority_list(case=case)

    def get_object(self) -> LegalAuthority:
        return legal_authority_get(case=self.case(), authority_id=int(self.kwargs["pk"]))

    @extend_schema(
        summary="Record a legal authority",
        parameters=[NUMBER_PARAM],
        request=s.LegalAuthorityCreateSerializer,
        responses={201: s.LegalAuthoritySerializer, **error_responses(400, 403, 404)},
    )
    def create(self, request: Request, number: str) -> Response:
        case = self.case(Action.PEOPLE_RECORD, "record legal authorities")
        fields = validated(s.LegalAuthorityCreateSerializer, request)
        authority = services.legal_authority_record(case=case, actor=request_actor(request), **fields)
        return Response(s.LegalAuthoritySerializer(authority).data, status=201)

    @extend_schema(
        summary="Record when the authority was executed",
        parameters=[NUMBER_PARAM],
        request=s.ExecutedSerializer,
        responses={200: s.LegalAuthoritySerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"], serializer_class=s.ExecutedSerializer)
    def executed(self, request: Request, number: str, pk: str) -> Response:
        case = self.case(Action.PEOPLE_RECORD, "record legal authorities")
        authority = legal_authority_get(case=case, authority_id=int(pk))
        fields = validated(s.ExecutedSerializer, request)
        updated = services.legal_authority_mark_executed(
            authority=authority, actor=request_actor(request), executed_at=fields["executed_at"]
        )
        return Response(s.LegalAuthoritySerializer(updated).data)
