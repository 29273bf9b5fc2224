"""People, channels, links and the case graph API.

Every route under /cases/{number}/ resolves the case through the access gate first; writes call a parties
service, which records the change and its custody event in one transaction.
"""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from access.api.serializers import ReasonSerializer
from access.api.views import NOT_FOUND, NUMBER_PARAM, CaseScopedViewSet, error_responses
from access.models import Case
from access.policy import Action, require
from access.selectors import case_get_for
from evidence.models import EvidenceItem
from haetae.errors import RejectedInput
from haetae.toolkit import request_actor, validated
from parties.api import filters
from parties.api import serializers as s
from parties.faceclusters import face_cluster_name, face_clusters
from parties.facesearch import face_search
from parties.graph import case_graph
from parties.models import Channel, Link, Person
from parties.selectors import channel_get, channel_list, link_get, link_list, person_get, person_list
from parties.services import channels as channel_services
from parties.services import links as link_services
from parties.services import people as people_services


def _identity_from(data: dict[str, Any] | None) -> people_services.Identity | None:
    if data is None:
        return None
    birth = data.get("birth_date")
    return people_services.Identity.from_json({**data, "birth_date": birth.isoformat() if birth else ""})


@extend_schema_view(
    list=extend_schema(summary="People of the case, by pseudonym", parameters=[NUMBER_PARAM]),
    retrieve=extend_schema(
        summary="One person, by pseudonym",
        parameters=[NUMBER_PARAM],
        responses={200: s.PersonSerializer, 404: NOT_FOUND},
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
        parameters=[NUMBER_PARAM],
        request=s.PersonCreateSerializer,
        responses={201: s.PersonSerializer, **error_responses(400, 403, 404)},
    )
    def create(self, request: Request, number: str) -> Response:
        case = self.case(Action.PEOPLE_RECORD, "record people")
        fields = validated(s.PersonCreateSerializer, request)
        person = people_services.person_record(
            case=case,
            kind=fields["kind"],
            actor=request_actor(request),
            is_minor=fields["is_minor"],
            description=fields["description"],
            identity=_identity_from(fields["identity"]),
        )
        return Response(
            s.PersonSerializer(person_get(case=case, pseudonym=person.pseudonym)).data, status=201
        )

    @extend_schema(
        summary="Change a person's minor flag or description",
        parameters=[NUMBER_PARAM],
        request=s.PersonUpdateSerializer,
        responses={200: s.PersonSerializer, **error_responses(400, 403, 404)},
    )
    def partial_update(self, request: Request, number: str, pseudonym: str) -> Response:
        case = self.case(Action.PEOPLE_RECORD, "change people")
        person = person_get(case=case, pseudonym=pseudonym)
        changes = validated(s.PersonUpdateSerializer, request)
        people_services.person_update(person=person, actor=request_actor(request), changes=changes)
        return Response(s.PersonSerializer(person_get(case=case, pseudonym=pseudonym)).data)

    @extend_schema(
        summary="Search every case for a victim's face (logged)",
        description=(
            "The victim's consented reference photos (those not withdrawn) against the face findings of "
            "every case. For the victim's case lead only. Each hit is a suggestion ('item may depict V-n'), "
            "never a link. A hit in a case the caller may see names the item; one in a case they are not "
            "on says only that it exists and whom to ask (its lead and unit), as hash matches do. Each "
            "search is an identity_read custody event on the victim's case. 400 when the victim has no "
            "reference photo in use."
        ),
        parameters=[NUMBER_PARAM],
        request=None,
        responses={200: s.FaceSearchSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"], url_path="face-search", serializer_class=s.FaceSearchSerializer)
    def face_search(self, request: Request, number: str, pseudonym: str) -> Response:
        case = self.case(Action.FACE_SEARCH, "search other cases for a victim's face")
        person = person_get(case=case, pseudonym=pseudonym)
        result = face_search(person=person, actor=request_actor(request))
        return Response(s.FaceSearchSerializer(result.as_dict()).data)

    @extend_schema(
        summary="Read a person's identity (logged)",
        description=(
            "Only the case's leads and, for a victim, the support worker assigned to their support file may "
            "read it; everyone else gets 403 and works with the pseudonym. A reason is required; each read "
            "is an identity_read custody event."
        ),
        parameters=[NUMBER_PARAM],
        request=ReasonSerializer,
        responses={200: s.IdentityReadSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"], serializer_class=ReasonSerializer)
    def identity(self, request: Request, number: str, pseudonym: str) -> Response:
        person = person_get(case=self.case(), pseudonym=pseudonym)
        fields = validated(ReasonSerializer, request)
        identity = people_services.identity_read(
            person=person, actor=request_actor(request), reason=fields["reason"]
        )
        return Response({"pseudonym": person.pseudonym, "identity": identity.as_json()})

    @extend_schema(
        summary="Replace a person's identity (logged)",
        description=(
            "Leads and investigators record identities (investigators cannot read them back), as may a "
            "victim's assigned support worker. The event lists which fields are filled, never their values."
        ),
        parameters=[NUMBER_PARAM],
        request=s.IdentityChangeSerializer,
        responses={200: s.PersonSerializer, **error_responses(400, 403, 404)},
    )
    @action(
        detail=True, methods=["post"], url_path="identity/change", serializer_class=s.IdentityChangeSerializer
    )
    def identity_change(self, request: Request, number: str, pseudonym: str) -> Response:
        case = self.case()
        person = person_get(case=case, pseudonym=pseudonym)
        fields = validated(s.IdentityChangeSerializer, request)
        identity = _identity_from(fields["identity"])
        assert identity is not None
        people_services.identity_set(
            person=person, identity=identity, actor=request_actor(request), reason=fields["reason"]
        )
        return Response(s.PersonSerializer(person_get(case=case, pseudonym=pseudonym)).data)

    @extend_schema(
        summary="Add a known account or handle (suspects, witnesses, others)",
        parameters=[NUMBER_PARAM],
        request=s.PersonAccountCreateSerializer,
        responses={201: s.PersonAccountSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"], serializer_class=s.PersonAccountCreateSerializer)
    def accounts(self, request: Request, number: str, pseudonym: str) -> Response:
        case = self.case(Action.LINKS_RECORD, "record accounts")
        person = person_get(case=case, pseudonym=pseudonym)
        fields = validated(s.PersonAccountCreateSerializer, request)
        account = people_services.person_account_add(person=person, actor=request_actor(request), **fields)
        return Response(s.PersonAccountSerializer(account).data, status=201)


@extend_schema_view(
    list=extend_schema(summary="Distribution channels of the case", parameters=[NUMBER_PARAM]),
    retrieve=extend_schema(
        summary="One channel with its observations",
        parameters=[NUMBER_PARAM],
        responses={200: s.ChannelDetailSerializer, 404: NOT_FOUND},
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
        parameters=[NUMBER_PARAM],
        request=s.ChannelCreateSerializer,
        responses={201: s.ChannelDetailSerializer, **error_responses(400, 403, 404)},
    )
    def create(self, request: Request, number: str) -> Response:
        case = self.case(Action.LINKS_RECORD, "record channels")
        fields = validated(s.ChannelCreateSerializer, request)
        channel = channel_services.channel_record(case=case, actor=request_actor(request), **fields)
        return Response(
            s.ChannelDetailSerializer(channel_get(case=case, channel_id=channel.pk)).data, status=201
        )

    @extend_schema(
        summary="Record an observation of the channel",
        parameters=[NUMBER_PARAM],
        request=s.ObservationCreateSerializer,
        responses={201: s.ChannelObservationSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"], serializer_class=s.ObservationCreateSerializer)
    def observations(self, request: Request, number: str, pk: str) -> Response:
        case = self.case(Action.LINKS_RECORD, "record observations")
        channel = channel_get(case=case, channel_id=int(pk))
        fields = validated(s.ObservationCreateSerializer, request)
        observation = channel_services.channel_observe(
            channel=channel, actor=request_actor(request), **fields
        )
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

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.model = link_services.LINK_TYPES[cls.link_type]  # the link type names its model

    def scoped(self, case: Case) -> QuerySet[Link]:
        return link_list(case=case, link_type=self.link_type)

    def get_object(self) -> Link:
        return link_get(case=self.case(), link_type=self.link_type, link_id=int(self.kwargs["pk"]))

    def perform_assert(self, case: Case, fields: dict[str, Any], assertion: link_services.Assertion) -> Link:
        """Record the link through its service; each link type's subclass says which."""
        raise TypeError(f"{type(self).__name__} must define perform_assert()")

    def create(self, request: Request, number: str) -> Response:
        case = self.case(Action.LINKS_RECORD, "assert links")
        fields = validated(self.assert_serializer, request)
        assertion = link_services.Assertion(confidence=fields.pop("confidence"), note=fields.pop("note"))
        link = self.perform_assert(case, fields, assertion)
        fresh = link_get(case=case, link_type=self.link_type, link_id=link.pk)
        return Response(self.get_serializer(fresh).data, status=201)

    @action(detail=True, methods=["post"], serializer_class=ReasonSerializer)
    def withdraw(self, request: Request, number: str, pk: str) -> Response:
        case = self.case(Action.LINKS_RECORD, "withdraw links")
        link = link_get(case=case, link_type=self.link_type, link_id=int(pk))
        fields = validated(ReasonSerializer, request)
        link_services.link_withdraw(link=link, actor=request_actor(request), reason=fields["reason"])
        fresh = link_get(case=case, link_type=self.link_type, link_id=link.pk)
        # The link's own shape: the action's serializer_class (on the instance) is its request form.
        shape = type(self).serializer_class
        assert shape is not None
        return Response(shape(fresh).data)


def _link_views(name: str) -> Any:
    """The schema of one link type's routes (list, retrieve, assert, withdraw), from its serializers."""

    def decorate(view: type[LinkViewSet]) -> type[LinkViewSet]:
        return _link_schema(name, view.serializer_class, view.assert_serializer)(view)

    return decorate


def _link_schema(name: str, serializer: Any, assert_serializer: type[BaseSerializer]) -> Any:
    return extend_schema_view(
        list=extend_schema(summary=f"{name} links of the case", parameters=[NUMBER_PARAM]),
        retrieve=extend_schema(
            summary=f"One {name} link", parameters=[NUMBER_PARAM], responses={200: serializer, 404: NOT_FOUND}
        ),
        create=extend_schema(
            summary=f"Assert a {name} link",
            description=(
                "Asserted by you, now, with a confidence; an active link of the same kind between the same "
                "ends with another confidence is withdrawn as superseded. One link_asserted custody event "
                "(on the item's chain where the link has an item)."
            ),
            parameters=[NUMBER_PARAM],
            request=assert_serializer,
            responses={201: serializer, **error_responses(400, 403, 404)},
        ),
        withdraw=extend_schema(
            summary=f"Withdraw a {name} link",
            description="With a reason; the link stays, marked withdrawn. One link_withdrawn custody event.",
            parameters=[NUMBER_PARAM],
            request=ReasonSerializer,
            responses={200: serializer, **error_responses(400, 403, 404)},
        ),
    )


@_link_views("item–person")
class ItemPersonLinkViewSet(LinkViewSet):
    """Item depicts / was created / possessed / distributed by a person."""

    link_type = "item_person"
    serializer_class = s.ItemPersonLinkSerializer
    assert_serializer = s.ItemPersonAssertSerializer
    filterset_class = filters.ItemPersonLinkFilter

    def perform_assert(self, case: Case, fields: dict[str, Any], assertion: link_services.Assertion) -> Link:
        return link_services.link_assert_item_person(
            item=_item_in(case, fields["item"], "item"),
            person=_person_in(case, fields["person"]),
            relation=fields["relation"],
            assertion=assertion,
            actor=request_actor(self.request),
        )


@_link_views("item–channel")
class ItemChannelLinkViewSet(LinkViewSet):
    """Item posted in a channel (posted_at, message reference, first seen)."""

    link_type = "item_channel"
    serializer_class = s.ItemChannelLinkSerializer
    assert_serializer = s.ItemChannelAssertSerializer
    filterset_class = filters.ItemChannelLinkFilter

    def perform_assert(self, case: Case, fields: dict[str, Any], assertion: link_services.Assertion) -> Link:
        return link_services.link_assert_item_channel(
            item=_item_in(case, fields["item"], "item"),
            channel=_channel_in(case, fields["channel"]),
            assertion=assertion,
            actor=request_actor(self.request),
            posted_at=fields["posted_at"],
            message_reference=fields["message_reference"],
            first_seen_at=fields["first_seen_at"],
        )


@_link_views("person–channel")
class PersonChannelLinkViewSet(LinkViewSet):
    """Person administers / uploads to / belongs to a channel."""

    link_type = "person_channel"
    serializer_class = s.PersonChannelLinkSerializer
    assert_serializer = s.PersonChannelAssertSerializer
    filterset_class = filters.PersonChannelLinkFilter

    def perform_assert(self, case: Case, fields: dict[str, Any], assertion: link_services.Assertion) -> Link:
        return link_services.link_assert_person_channel(
            person=_person_in(case, fields["person"]),
            channel=_channel_in(case, fields["channel"]),
            relation=fields["relation"],
            assertion=assertion,
            actor=request_actor(self.request),
        )


@_link_views("item derivation")
class ItemDerivationLinkViewSet(LinkViewSet):
    """Item derived from another item (a deepfake from its source photo)."""

    link_type = "item_derivation"
    serializer_class = s.ItemDerivationLinkSerializer
    assert_serializer = s.ItemDerivationAssertSerializer
    filterset_class = filters.ItemDerivationLinkFilter

    def perform_assert(self, case: Case, fields: dict[str, Any], assertion: link_services.Assertion) -> Link:
        return link_services.link_assert_derivation(
            item=_item_in(case, fields["item"], "item"),
            source_item=_item_in(case, fields["source_item"], "source_item"),
            assertion=assertion,
            actor=request_actor(self.request),
        )


class CaseGraphView(GenericAPIView):
    """The case graph: people by pseudonym, channels, items by id and SHA-256, and the typed links."""

    serializer_class = s.GraphSerializer

    @extend_schema(
        summary="The case graph",
        description=(
            "Nodes (people by pseudonym only, channels, and items by id and SHA-256) and edges (the active "
            "typed links; withdrawn ones too with include_withdrawn=true). For every member of the case."
        ),
        parameters=[NUMBER_PARAM, OpenApiParameter("include_withdrawn", OpenApiTypes.BOOL, default=False)],
        responses={200: s.GraphSerializer, 404: NOT_FOUND},
    )
    def get(self, request: Request, number: str) -> Response:
        case = case_get_for(user=request.user, number=number)
        include = request.query_params.get("include_withdrawn", "").lower() in {"1", "true", "yes"}
        return Response(s.GraphSerializer(case_graph(case=case, include_withdrawn=include)).data)


class CaseFaceClustersView(GenericAPIView):
    """The case's unknown faces in groups, each face within the match distance of every other."""

    serializer_class = s.FaceClustersSerializer

    @extend_schema(
        summary="Unknown faces of the case, grouped",
        description=(
            "Face findings that no active link names (not rejected, items not destroyed), grouped by "
            "complete-linkage clustering cut at the match distance. Groups of two faces or more, largest "
            "first. For leads, investigators and analysts."
        ),
        parameters=[NUMBER_PARAM],
        responses={200: s.FaceClustersSerializer, **error_responses(400, 403, 404)},
    )
    def get(self, request: Request, number: str) -> Response:
        case = case_get_for(user=request.user, number=number)
        return Response(s.FaceClustersSerializer(face_clusters(case=case).as_dict()).data)


class CaseFaceClusterNameView(GenericAPIView):
    """Name a group of faces once: a suggested 'item depicts' link per item, each to confirm."""

    serializer_class = s.FaceClusterNameSerializer

    @extend_schema(
        summary="Name a group of faces",
        description=(
            "Suggests 'item depicts <person>' (suspected, naming the face) for the item of each face given; "
            "items already linked to the person are left as they are. Each link is a link_asserted custody "
            "event; an investigator confirms each as for any suggestion."
        ),
        parameters=[NUMBER_PARAM],
        request=s.FaceClusterNameSerializer,
        responses={201: s.ItemPersonLinkSerializer(many=True), **error_responses(400, 403, 404)},
    )
    def post(self, request: Request, number: str) -> Response:
        case = case_get_for(user=request.user, number=number)
        require(case=case, action=Action.FACE_CLUSTERS, doing="name a group of faces")
        fields = validated(s.FaceClusterNameSerializer, request)
        person = person_get(case=case, pseudonym=fields["person"])
        links = face_cluster_name(
            case=case, person=person, annotation_ids=fields["faces"], actor=request_actor(request)
        )
        return Response(s.ItemPersonLinkSerializer(links, many=True).data, status=201)
