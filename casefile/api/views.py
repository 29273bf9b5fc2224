"""Cases API: the caller's cases and everything under them.

Reads are ViewSets; every change that matters legally is an explicit POST action that calls a service
(which writes the change and its custody event in one transaction). Every route under
``/cases/{number}/`` first resolves the case through ``casefile.selectors.case_get_for``: a non-member gets
the same 404 whether the case exists or not. Writes then pass ``case_require_role`` (casefile/roles.py).
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
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from casefile import channels as channel_services
from casefile import links as link_services
from casefile import people as people_services
from casefile import services
from casefile.api import filters
from casefile.api import serializers as s
from casefile.graph import case_graph
from casefile.models import (
    Case,
    CaseMember,
    Channel,
    ItemChannelLink,
    ItemDerivationLink,
    ItemPersonLink,
    LegalAuthority,
    Offence,
    Person,
    PersonChannelLink,
)
from casefile.models.people import Link
from casefile.people_selectors import (
    case_for,
    channel_get,
    channel_list,
    legal_authority_get,
    legal_authority_list,
    link_get,
    link_list,
    member_get,
    member_list,
    offence_list,
    person_get,
    person_list,
)
from casefile.roles import CASE_CREATOR_GLOBAL_ROLES, CASE_LEAD_ROLES, LINK_ROLES, RECORD_ROLES
from casefile.selectors import INGEST_ROLES, case_get_for, case_list, case_require_role
from evidence.api.serializers import ErrorSerializer
from evidence.choices import ItemStatus
from evidence.ingest import IngestResult, UploadSource, evidence_ingest
from evidence.models import EvidenceItem
from haetae.errors import AccessDenied, RejectedInput

_NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such case (or object in it) among yours.")
_BAD = OpenApiResponse(ErrorSerializer, description="Invalid input; field messages say what to fix.")
_DENIED = OpenApiResponse(ErrorSerializer, description="Your role on the case may not do this.")


def _errors(*codes: int) -> dict[int, OpenApiResponse]:
    table = {400: _BAD, 403: _DENIED, 404: _NOT_FOUND}
    return {code: table[code] for code in codes}


def _actor(request: Request) -> User:
    return cast(User, request.user)  # IsAuthenticated: never anonymous here


def _valid(serializer_class: type[BaseSerializer], request: Request) -> dict[str, Any]:
    form = serializer_class(data=request.data)
    form.is_valid(raise_exception=True)
    return cast(dict[str, Any], form.validated_data)


def _user_named(username: str, field: str = "username") -> User:
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise RejectedInput(
            f"{field}: no user named {username!r}",
            details={field: [f"no user named {username!r}: create one with 'manage.py create_user'"]},
        )
    return cast(User, user)


def ingest_result_body(result: IngestResult) -> dict[str, Any]:
    """The same JSON object that ``manage.py ingest --json`` prints."""
    return {
        "acquisition": result.acquisition.pk,
        "counts": result.counts,
        "items": [outcome.as_json() for outcome in result.items],
    }


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
    retrieve=extend_schema(summary="One of your cases", responses={200: s.CaseSerializer, 404: _NOT_FOUND}),
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
            case_list(user=self.request.user).select_related("lead_investigator").prefetch_related("offences")
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
        responses={201: s.CaseSerializer, **_errors(400, 403)},
    )
    def create(self, request: Request) -> Response:
        actor = _actor(request)
        if not actor.groups.filter(name__in=CASE_CREATOR_GLOBAL_ROLES).exists():
            raise AccessDenied(
                "only investigators and supervisors open cases: ask an administrator to give you one of "
                "those global roles ('manage.py create_user --role' or the admin)"
            )
        fields = _valid(s.CaseCreateSerializer, request)
        case = services.case_create(actor=actor, **fields)
        return Response(s.CaseSerializer(self._case(case.number)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a case's details",
        description=(
            "Title, unit, jurisdiction, offences, retention class, whether content views need a legal "
            "basis, and the lead investigator (a lead on the team). Leads only; one case_updated event."
        ),
        request=s.CaseUpdateSerializer,
        responses={200: s.CaseSerializer, **_errors(400, 403, 404)},
    )
    def partial_update(self, request: Request, number: str) -> Response:
        case = case_for(user=request.user, number=number, roles=CASE_LEAD_ROLES, action="change the case")
        changes = _valid(s.CaseUpdateSerializer, request)
        if "lead_investigator" in changes:
            changes["lead_investigator"] = _user_named(changes["lead_investigator"], "lead_investigator")
        services.case_update(case=case, actor=_actor(request), changes=changes)
        return Response(s.CaseSerializer(self._case(number)).data)

    @extend_schema(
        summary="Change a case's status",
        description=(
            "open → referred → closed → archived; a referred, closed or archived case may be reopened "
            "(status open). A reason is required. Leads only; one case_status_changed event."
        ),
        request=s.StatusChangeSerializer,
        responses={200: s.CaseSerializer, **_errors(400, 403, 404)},
    )
    @action(detail=True, methods=["post"], serializer_class=s.StatusChangeSerializer)
    def status(self, request: Request, number: str) -> Response:
        case = case_for(user=request.user, number=number, roles=CASE_LEAD_ROLES, action="change its status")
        fields = _valid(s.StatusChangeSerializer, request)
        services.case_status_change(case=case, actor=_actor(request), **fields)
        return Response(s.CaseSerializer(self._case(number)).data)

    @extend_schema(
        summary="Place or lift the legal hold",
        request=s.LegalHoldSerializer,
        responses={200: s.CaseSerializer, **_errors(400, 403, 404)},
    )
    @action(detail=True, methods=["post"], url_path="legal-hold", serializer_class=s.LegalHoldSerializer)
    def legal_hold(self, request: Request, number: str) -> Response:
        case = case_for(
            user=request.user, number=number, roles=CASE_LEAD_ROLES, action="change the legal hold"
        )
        fields = _valid(s.LegalHoldSerializer, request)
        services.case_legal_hold_set(
            case=case, actor=_actor(request), hold=fields["legal_hold"], reason=fields["reason"]
        )
        return Response(s.CaseSerializer(self._case(number)).data)

    @extend_schema(
        summary="The case graph",
        description=(
            "Nodes (people by pseudonym only, channels, and items by id and SHA-256) and edges (the active "
            "typed links; withdrawn ones too with include_withdrawn=true). For every member of the case."
        ),
        parameters=[OpenApiParameter("include_withdrawn", OpenApiTypes.BOOL, default=False)],
        responses={200: s.GraphSerializer, 404: _NOT_FOUND},
    )
    @action(detail=True, methods=["get"], serializer_class=s.GraphSerializer, filter_backends=[])
    def graph(self, request: Request, number: str) -> Response:
        case = case_get_for(user=request.user, number=number)
        include = request.query_params.get("include_withdrawn", "").lower() in {"1", "true", "yes"}
        return Response(s.GraphSerializer(case_graph(case=case, include_withdrawn=include)).data)

    @extend_schema(
        summary="Upload evidence into a case",
        description=(
            "Multipart upload of one or more files (field `files`, repeated) with the seizure record. "
            "Each file is streamed into the vault encrypted, hashed (MD5, SHA-1, SHA-256) and recorded "
            "with custody events; archives are unpacked into child items. Only members with the role "
            "lead, investigator or analyst may upload. 201 with every item's outcome (some may be "
            "rejected, each with a reason); 422 with the same body when every item was rejected."
        ),
        request={"multipart/form-data": s.EvidenceUploadSerializer},
        responses={
            201: s.IngestResultSerializer,
            422: OpenApiResponse(s.IngestResultSerializer, description="Every item was rejected."),
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
        serializer_class=s.EvidenceUploadSerializer,
    )
    def evidence(self, request: Request, number: str) -> Response:
        case = case_get_for(user=request.user, number=number)
        # Checked before the body is read, so a refused upload is never parsed into the vault's tmp area.
        case_require_role(case=case, roles=INGEST_ROLES, action="add evidence to it")
        form = s.EvidenceUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        fields = form.validated_data
        result = evidence_ingest(
            case=case,
            sources=[UploadSource(name=upload.name, stream=upload) for upload in fields["files"]],
            actor=_actor(request),
            source_label=fields.get("source", ""),
            seizure_reference=fields.get("seizure_reference", ""),
            seal_numbers=tuple(fields.get("seal_numbers", ())),
            location=fields.get("location", ""),
            participants=tuple(fields.get("participants", ())),
        )
        body = s.IngestResultSerializer(ingest_result_body(result)).data
        everything_rejected = bool(result.items) and all(
            i.status == ItemStatus.REJECTED for i in result.items
        )
        return Response(
            body,
            status=status.HTTP_422_UNPROCESSABLE_ENTITY if everything_rejected else status.HTTP_201_CREATED,
        )


_NUMBER = OpenApiParameter("number", OpenApiTypes.STR, OpenApiParameter.PATH, description="Case number.")


class CaseScopedViewSet(viewsets.GenericViewSet):
    """A resource under /cases/{number}/: the case is resolved once per request through the access gate."""

    filter_backends = [DjangoFilterBackend]
    model: type[Model] = Case

    def case(self, roles: Any = None, action: str = "") -> Case:
        if not hasattr(self, "_case"):
            self._case = case_for(user=self.request.user, number=self.kwargs["number"])
        if roles is not None:
            case_require_role(case=self._case, roles=roles, action=action)
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
        parameters=[_NUMBER],
        responses={200: s.MemberSerializer(many=True), 404: _NOT_FOUND},
    ),
    retrieve=extend_schema(
        summary="One team member", parameters=[_NUMBER], responses={200: s.MemberSerializer, 404: _NOT_FOUND}
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
        parameters=[_NUMBER],
        request=s.MemberAddSerializer,
        responses={201: s.MemberSerializer, **_errors(400, 403, 404)},
    )
    def create(self, request: Request, number: str) -> Response:
        case = self.case(CASE_LEAD_ROLES, "change the team")
        fields = _valid(s.MemberAddSerializer, request)
        user = _user_named(fields["username"])
        services.member_add(case=case, user=user, role=fields["role"], actor=_actor(request))
        return Response(s.MemberSerializer(member_get(case=case, username=user.username)).data, status=201)

    @extend_schema(
        summary="Change a member's role",
        description="At least one lead remains; the lead investigator is named elsewhere first.",
        parameters=[_NUMBER],
        request=s.MemberRoleSerializer,
        responses={200: s.MemberSerializer, **_errors(400, 403, 404)},
    )
    @action(detail=True, methods=["post"], serializer_class=s.MemberRoleSerializer)
    def role(self, request: Request, number: str, username: str) -> Response:
        case = self.case(CASE_LEAD_ROLES, "change the team")
        member = member_get(case=case, username=username)
        fields = _valid(s.MemberRoleSerializer, request)
        services.member_change_role(case=case, user=member.user, actor=_actor(request), **fields)
        return Response(s.MemberSerializer(member_get(case=case, username=username)).data)

    @extend_schema(
        summary="Remove a member",
        parameters=[_NUMBER],
        request=s.ReasonSerializer,
        responses={204: None, **_errors(400, 403, 404)},
    )
    @action(detail=True, methods=["post"], serializer_class=s.ReasonSerializer)
    def remove(self, request: Request, number: str, username: str) -> Response:
        case = self.case(CASE_LEAD_ROLES, "change the team")
        member = member_get(case=case, username=username)
        fields = _valid(s.ReasonSerializer, request)
        services.member_remove(case=case, user=member.user, actor=_actor(request), reason=fields["reason"])
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(summary="Legal authorities of the case", parameters=[_NUMBER]),
    retrieve=extend_schema(
        summary="One legal authority",
        parameters=[_NUMBER],
        responses={200: s.LegalAuthoritySerializer, 404: _NOT_FOUND},
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
        parameters=[_NUMBER],
        request=s.LegalAuthorityCreateSerializer,
        responses={201: s.LegalAuthoritySerializer, **_errors(400, 403, 404)},
    )
    def create(self, request: Request, number: str) -> Response:
        case = self.case(RECORD_ROLES, "record legal authorities")
        fields = _valid(s.LegalAuthorityCreateSerializer, request)
        authority = services.legal_authority_record(case=case, actor=_actor(request), **fields)
        return Response(s.LegalAuthoritySerializer(authority).data, status=201)

    @extend_schema(
        summary="Record when the authority was executed",
        parameters=[_NUMBER],
        request=s.ExecutedSerializer,
        responses={200: s.LegalAuthoritySerializer, **_errors(400, 403, 404)},
    )
    @action(detail=True, methods=["post"], serializer_class=s.ExecutedSerializer)
    def executed(self, request: Request, number: str, pk: str) -> Response:
        case = self.case(RECORD_ROLES, "record legal authorities")
        authority = legal_authority_get(case=case, authority_id=int(pk))
        fields = _valid(s.ExecutedSerializer, request)
        updated = services.legal_authority_mark_executed(
            authority=authority, actor=_actor(request), executed_at=fields["executed_at"]
        )
        return Response(s.LegalAuthoritySerializer(updated).data)


def _identity_from(data: dict[str, Any] | None) -> people_services.Identity | None:
    if data is None:
        return None
    birth = data.get("birth_date")
    return people_services.Identity.from_json({**data, "birth_date": birth.isoformat() if birth else ""})


@extend_schema_view(
    list=extend_schema(summary="People of the case, by pseudonym", parameters=[_NUMBER]),
    retrieve=extend_schema(
        summary="One person, by pseudonym",
        parameters=[_NUMBER],
        responses={200: s.PersonSerializer, 404: _NOT_FOUND},
    ),
)
class PersonViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CaseScopedViewSet):
    """Victims, suspects, witnesses and others, by pseudonym; the identity only through its own endpoint."""

    serializer_class = s.PersonSerializer
    filterset_class = filters.PersonFilter
    lookup_field = "pseudonym"
    lookup_value_regex = r"[A-Za-z]-[0-9]+"
    model = Person

    def scoped(self, case: Case) -> QuerySet[Person]:
        return person_list(case=case)

    def get_object(self) -> Person:
        return person_get(case=self.case(), pseudonym=self.kwargs["pseudonym"])

    @extend_schema(
        summary="Record a person",
        description=(
            "They get the next pseudonym of their kind (V-1, V-2 … for victims; S-, W-, P- for suspects, "
            "witnesses, others). An identity given here is sealed at once and never returned here."
        ),
        parameters=[_NUMBER],
        request=s.PersonCreateSerializer,
        responses={201: s.PersonSerializer, **_errors(400, 403, 404)},
    )
    def create(self, request: Request, number: str) -> Response:
        case = self.case(RECORD_ROLES, "record people")
        fields = _valid(s.PersonCreateSerializer, request)
        person = people_services.person_record(
            case=case,
            kind=fields["kind"],
            actor=_actor(request),
            is_minor=fields["is_minor"],
            description=fields["description"],
            identity=_identity_from(fields["identity"]),
        )
        return Response(
            s.PersonSerializer(person_get(case=case, pseudonym=person.pseudonym)).data, status=201
        )

    @extend_schema(
        summary="Change a person's minor flag or description",
        parameters=[_NUMBER],
        request=s.PersonUpdateSerializer,
        responses={200: s.PersonSerializer, **_errors(400, 403, 404)},
    )
    def partial_update(self, request: Request, number: str, pseudonym: str) -> Response:
        case = self.case(RECORD_ROLES, "change people")
        person = person_get(case=case, pseudonym=pseudonym)
        changes = _valid(s.PersonUpdateSerializer, request)
        people_services.person_update(person=person, actor=_actor(request), changes=changes)
        return Response(s.PersonSerializer(person_get(case=case, pseudonym=pseudonym)).data)

    @extend_schema(
        summary="Read a person's identity (logged)",
        description=(
            "Only the case's leads and, for a victim, the support worker assigned to their support file may "
            "read it; everyone else gets 403 and works with the pseudonym. A reason is required; each read "
            "is an identity_read custody event."
        ),
        parameters=[_NUMBER],
        request=s.ReasonSerializer,
        responses={200: s.IdentityReadSerializer, **_errors(400, 403, 404)},
    )
    @action(detail=True, methods=["post"], serializer_class=s.ReasonSerializer)
    def identity(self, request: Request, number: str, pseudonym: str) -> Response:
        person = person_get(case=self.case(), pseudonym=pseudonym)
        fields = _valid(s.ReasonSerializer, request)
        identity = people_services.identity_read(
            person=person, actor=_actor(request), reason=fields["reason"]
        )
        return Response({"pseudonym": person.pseudonym, "identity": identity.as_json()})

    @extend_schema(
        summary="Replace a person's identity (logged)",
        description=(
            "Leads and investigators record identities (investigators cannot read them back), as may a "
            "victim's assigned support worker. The event lists which fields are filled, never their values."
        ),
        parameters=[_NUMBER],
        request=s.IdentityChangeSerializer,
        responses={200: s.PersonSerializer, **_errors(400, 403, 404)},
    )
    @action(
        detail=True, methods=["post"], url_path="identity/change", serializer_class=s.IdentityChangeSerializer
    )
    def identity_change(self, request: Request, number: str, pseudonym: str) -> Response:
        case = self.case()
        person = person_get(case=case, pseudonym=pseudonym)
        fields = _valid(s.IdentityChangeSerializer, request)
        identity = _identity_from(fields["identity"])
        assert identity is not None
        people_services.identity_set(
            person=person, identity=identity, actor=_actor(request), reason=fields["reason"]
        )
        return Response(s.PersonSerializer(person_get(case=case, pseudonym=pseudonym)).data)

    @extend_schema(
        summary="Add a known account or handle (suspects, witnesses, others)",
        parameters=[_NUMBER],
        request=s.PersonAccountCreateSerializer,
        responses={201: s.PersonAccountSerializer, **_errors(400, 403, 404)},
    )
    @action(detail=True, methods=["post"], serializer_class=s.PersonAccountCreateSerializer)
    def accounts(self, request: Request, number: str, pseudonym: str) -> Response:
        case = self.case(LINK_ROLES, "record accounts")
        person = person_get(case=case, pseudonym=pseudonym)
        fields = _valid(s.PersonAccountCreateSerializer, request)
        account = people_services.person_account_add(person=person, actor=_actor(request), **fields)
        return Response(s.PersonAccountSerializer(account).data, status=201)


@extend_schema_view(
    list=extend_schema(summary="Distribution channels of the case", parameters=[_NUMBER]),
    retrieve=extend_schema(
        summary="One channel with its observations",
        parameters=[_NUMBER],
        responses={200: s.ChannelDetailSerializer, 404: _NOT_FOUND},
    ),
)
class ChannelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CaseScopedViewSet):
    """Channels (Telegram, X, Discord …) with member-count observations over time."""

    serializer_class = s.ChannelSerializer
    filterset_class = filters.ChannelFilter
    lookup_value_regex = r"[0-9]+"
    model = Channel

    def get_serializer_class(self) -> type[BaseSerializer]:
        return s.ChannelDetailSerializer if self.action == "retrieve" else s.ChannelSerializer

    def scoped(self, case: Case) -> QuerySet[Channel]:
        return channel_list(case=case)

    def get_object(self) -> Channel:
        return channel_get(case=self.case(), channel_id=int(self.kwargs["pk"]))

    @extend_schema(
        summary="Record a channel",
        parameters=[_NUMBER],
        request=s.ChannelCreateSerializer,
        responses={201: s.ChannelDetailSerializer, **_errors(400, 403, 404)},
    )
    def create(self, request: Request, number: str) -> Response:
        case = self.case(LINK_ROLES, "record channels")
        fields = _valid(s.ChannelCreateSerializer, request)
        channel = channel_services.channel_record(case=case, actor=_actor(request), **fields)
        return Response(
            s.ChannelDetailSerializer(channel_get(case=case, channel_id=channel.pk)).data, status=201
        )

    @extend_schema(
        summary="Record an observation of the channel",
        parameters=[_NUMBER],
        request=s.ObservationCreateSerializer,
        responses={201: s.ChannelObservationSerializer, **_errors(400, 403, 404)},
    )
    @action(detail=True, methods=["post"], serializer_class=s.ObservationCreateSerializer)
    def observations(self, request: Request, number: str, pk: str) -> Response:
        case = self.case(LINK_ROLES, "record observations")
        channel = channel_get(case=case, channel_id=int(pk))
        fields = _valid(s.ObservationCreateSerializer, request)
        observation = channel_services.channel_observe(channel=channel, actor=_actor(request), **fields)
        return Response(s.ChannelObservationSerializer(observation).data, status=201)


def _item_in(case: Case, item_id: int, field: str) -> EvidenceItem:
    item = EvidenceItem.objects.filter(case=case, pk=item_id).first()
    if item is None:
        raise RejectedInput(
            f"{field}: no evidence item {item_id} in case {case.number}",
            details={field: [f"no evidence item {item_id} in case {case.number}"]},
        )
    return item


def _person_in(case: Case, pseudonym: str, field: str = "person") -> Person:
    person = Person.objects.filter(case=case, pseudonym=pseudonym.upper()).select_related("case").first()
    if person is None:
        raise RejectedInput(
            f"{field}: no person {pseudonym!r} in case {case.number}",
            details={field: [f"no person {pseudonym!r} in case {case.number}"]},
        )
    return person


def _channel_in(case: Case, channel_id: int) -> Channel:
    channel = Channel.objects.filter(case=case, pk=channel_id).select_related("case").first()
    if channel is None:
        raise RejectedInput(
            f"channel: no channel {channel_id} in case {case.number}",
            details={"channel": [f"no channel {channel_id} in case {case.number}"]},
        )
    return channel


class LinkViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CaseScopedViewSet):
    """A link type: list and read (any member), assert and withdraw (lead, investigator, analyst)."""

    link_type = ""
    assert_serializer: type[BaseSerializer]
    lookup_value_regex = r"[0-9]+"

    def scoped(self, case: Case) -> QuerySet[Link]:
        return link_list(case=case, link_type=self.link_type)

    def get_object(self) -> Link:
        return link_get(case=self.case(), link_type=self.link_type, link_id=int(self.kwargs["pk"]))

    def perform_assert(self, case: Case, fields: dict[str, Any], assertion: link_services.Assertion) -> Link:
        """Record the link through its service; each link type's subclass says which."""
        raise TypeError(f"{type(self).__name__} must define perform_assert()")

    def create(self, request: Request, number: str) -> Response:
        case = self.case(LINK_ROLES, "assert links")
        fields = _valid(self.assert_serializer, request)
        assertion = link_services.Assertion(confidence=fields.pop("confidence"), note=fields.pop("note"))
        link = self.perform_assert(case, fields, assertion)
        fresh = link_get(case=case, link_type=self.link_type, link_id=link.pk)
        return Response(self.get_serializer(fresh).data, status=201)

    @action(detail=True, methods=["post"], serializer_class=s.ReasonSerializer)
    def withdraw(self, request: Request, number: str, pk: str) -> Response:
        case = self.case(LINK_ROLES, "withdraw links")
        link = link_get(case=case, link_type=self.link_type, link_id=int(pk))
        fields = _valid(s.ReasonSerializer, request)
        link_services.link_withdraw(link=link, actor=_actor(request), reason=fields["reason"])
        fresh = link_get(case=case, link_type=self.link_type, link_id=link.pk)
        # The link's own shape: the action's serializer_class (on the instance) is its request form.
        shape = type(self).serializer_class
        assert shape is not None
        return Response(shape(fresh).data)


def _link_views(name: str, serializer: type[BaseSerializer], assert_serializer: type[BaseSerializer]) -> Any:
    """The schema of one link type's routes (list, retrieve, assert, withdraw)."""
    return extend_schema_view(
        list=extend_schema(summary=f"{name} links of the case", parameters=[_NUMBER]),
        retrieve=extend_schema(
            summary=f"One {name} link", parameters=[_NUMBER], responses={200: serializer, 404: _NOT_FOUND}
        ),
        create=extend_schema(
            summary=f"Assert a {name} link",
            description=(
                "Asserted by you, now, with a confidence; an active link of the same kind between the same "
                "ends with another confidence is withdrawn as superseded. One link_asserted custody event "
                "(on the item's chain where the link has an item)."
            ),
            parameters=[_NUMBER],
            request=assert_serializer,
            responses={201: serializer, **_errors(400, 403, 404)},
        ),
        withdraw=extend_schema(
            summary=f"Withdraw a {name} link",
            description="With a reason; the link stays, marked withdrawn. One link_withdrawn custody event.",
            parameters=[_NUMBER],
            request=s.ReasonSerializer,
            responses={200: serializer, **_errors(400, 403, 404)},
        ),
    )


@_link_views("item–person", s.ItemPersonLinkSerializer, s.ItemPersonAssertSerializer)
class ItemPersonLinkViewSet(LinkViewSet):
    """Item depicts / was created / possessed / distributed by a person."""

    link_type = "item_person"
    model = ItemPersonLink
    serializer_class = s.ItemPersonLinkSerializer
    assert_serializer = s.ItemPersonAssertSerializer
    filterset_class = filters.ItemPersonLinkFilter

    def perform_assert(self, case: Case, fields: dict[str, Any], assertion: link_services.Assertion) -> Link:
        return link_services.link_assert_item_person(
            item=_item_in(case, fields["item"], "item"),
            person=_person_in(case, fields["person"]),
            relation=fields["relation"],
            assertion=assertion,
            actor=_actor(self.request),
        )


@_link_views("item–channel", s.ItemChannelLinkSerializer, s.ItemChannelAssertSerializer)
class ItemChannelLinkViewSet(LinkViewSet):
    """Item posted in a channel (posted_at, message reference, first seen)."""

    link_type = "item_channel"
    model = ItemChannelLink
    serializer_class = s.ItemChannelLinkSerializer
    assert_serializer = s.ItemChannelAssertSerializer
    filterset_class = filters.ItemChannelLinkFilter

    def perform_assert(self, case: Case, fields: dict[str, Any], assertion: link_services.Assertion) -> Link:
        return link_services.link_assert_item_channel(
            item=_item_in(case, fields["item"], "item"),
            channel=_channel_in(case, fields["channel"]),
            assertion=assertion,
            actor=_actor(self.request),
            posted_at=fields["posted_at"],
            message_reference=fields["message_reference"],
            first_seen_at=fields["first_seen_at"],
        )


@_link_views("person–channel", s.PersonChannelLinkSerializer, s.PersonChannelAssertSerializer)
class PersonChannelLinkViewSet(LinkViewSet):
    """Person administers / uploads to / belongs to a channel."""

    link_type = "person_channel"
    model = PersonChannelLink
    serializer_class = s.PersonChannelLinkSerializer
    assert_serializer = s.PersonChannelAssertSerializer
    filterset_class = filters.PersonChannelLinkFilter

    def perform_assert(self, case: Case, fields: dict[str, Any], assertion: link_services.Assertion) -> Link:
        return link_services.link_assert_person_channel(
            person=_person_in(case, fields["person"]),
            channel=_channel_in(case, fields["channel"]),
            relation=fields["relation"],
            assertion=assertion,
            actor=_actor(self.request),
        )


@_link_views("item derivation", s.ItemDerivationLinkSerializer, s.ItemDerivationAssertSerializer)
class ItemDerivationLinkViewSet(LinkViewSet):
    """Item derived from another item (a deepfake from its source photo)."""

    link_type = "item_derivation"
    model = ItemDerivationLink
    serializer_class = s.ItemDerivationLinkSerializer
    assert_serializer = s.ItemDerivationAssertSerializer
    filterset_class = filters.ItemDerivationLinkFilter

    def perform_assert(self, case: Case, fields: dict[str, Any], assertion: link_services.Assertion) -> Link:
        return link_services.link_assert_derivation(
            item=_item_in(case, fields["item"], "item"),
            source_item=_item_in(case, fields["source_item"], "source_item"),
            assertion=assertion,
            actor=_actor(self.request),
        )
