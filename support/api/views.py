"""Victim-support API: support files, consents, restricted notes, takedown requests and hash exports.

Everything is nested under the case (``/api/v1/cases/{number}/…``) and gated by the caller's role on it
(``support.services.support_case_get``): victim_support reads and writes, the lead reads (never the notes),
everyone else gets 403 and non-members 404. Items appear by id and SHA-256 only, never content.
"""

from typing import Any, cast

import django_filters
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from access.models import Case
from access.policy import Action, require
from haetae.errors import RejectedInput
from haetae.toolkit import ErrorSerializer
from parties.choices import LinkConfidence, LinkSource
from parties.models import Person
from support import renderers as support_renderers
from support import selectors as support_selectors
from support import services as support
from support.choices import (
    ConsentGivenBy,
    ConsentKind,
    SupportStatus,
    TakedownAddressee,
    TakedownPlatform,
    TakedownStatus,
)
from support.models import SupportConsent, SupportFile, TakedownReappearance, TakedownRequest

NUMBER = r"[A-Za-z0-9][A-Za-z0-9-]*"

_NOT_FOUND = OpenApiResponse(
    ErrorSerializer, description="No such case among yours, or no such object in it."
)
_FORBIDDEN = OpenApiResponse(ErrorSerializer, description="Your role on the case may not do this.")
_BAD = OpenApiResponse(description="Invalid input: field messages, or `detail` with `details` per field.")
_CASE_PARAM = OpenApiParameter("number", OpenApiTypes.STR, OpenApiParameter.PATH, description="Case number.")


class UsernameField(serializers.CharField):
    """A user shown by username (read-only)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str:
        return str(value.get_username())


# --- serializers -----------------------------------------------------------------------------------------


class SupportConsentSerializer(serializers.ModelSerializer):
    """A consent with each step (given, withdrawn): when it happened and who recorded it."""

    given_recorded_by = UsernameField()
    withdrawn_recorded_by = UsernameField()
    in_force = serializers.BooleanField(read_only=True)

    class Meta:
        model = SupportConsent
        fields = [
            "id",
            "kind",
            "in_force",
            "given_by",
            "given_at",
            "how",
            "given_recorded_by",
            "given_recorded_at",
            "withdrawn_at",
            "withdrawn_how",
            "withdrawn_recorded_by",
            "withdrawn_recorded_at",
        ]
        read_only_fields = fields


class ConsentGiveSerializer(serializers.Serializer):
    """Record a consent given by the victim (or their guardian or representative)."""

    kind = serializers.ChoiceField(choices=ConsentKind.choices)
    given_by = serializers.ChoiceField(choices=ConsentGivenBy.choices, default=ConsentGivenBy.VICTIM)
    given_at = serializers.DateTimeField(required=False, help_text="When it was given; default now.")
    how = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="e.g. signed form, in person, by phone."
    )


class ConsentWithdrawSerializer(serializers.Serializer):
    withdrawn_at = serializers.DateTimeField(required=False, help_text="When it was withdrawn; default now.")
    how = serializers.CharField(required=False, allow_blank=True, max_length=200)


class SupportFileSerializer(serializers.ModelSerializer):
    """A victim's support file: by pseudonym only, with the worker, the status and the consents."""

    person = serializers.CharField(
        source="person.pseudonym", read_only=True, help_text="The victim's pseudonym."
    )
    person_id = serializers.IntegerField(read_only=True)
    is_minor = serializers.BooleanField(
        source="person.is_minor", read_only=True, help_text="Consents of a minor are usually a guardian's."
    )
    assigned_worker = UsernameField()
    opened_by = UsernameField()
    status_changed_by = UsernameField()
    consents = SupportConsentSerializer(many=True, read_only=True)
    consents_in_force = serializers.SerializerMethodField()

    class Meta:
        model = SupportFile
        fields = [
            "id",
            "person",
            "person_id",
            "is_minor",
            "status",
            "assigned_worker",
            "opened_at",
            "opened_by",
            "status_changed_at",
            "status_changed_by",
            "consents_in_force",
            "consents",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=ConsentKind.choices)))
    def get_consents_in_force(self, obj: SupportFile) -> list[str]:
        return sorted(c.kind for c in obj.consents.all() if c.withdrawn_at is None)


class SupportFileOpenSerializer(serializers.Serializer):
    person = serializers.CharField(max_length=16, help_text="The victim's pseudonym in this case, e.g. V-1.")
    assigned_worker = serializers.CharField(
        required=False, allow_null=True, max_length=150, help_text="Username of a victim_support member."
    )


class SupportFileStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=SupportStatus.choices)
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="Required when reopening a closed file."
    )


class SupportFileAssignSerializer(serializers.Serializer):
    assigned_worker = serializers.CharField(
        allow_null=True, max_length=150, help_text="Username of a victim_support member; null to unassign."
    )


class SupportNoteSerializer(serializers.Serializer):
    """A restricted note (victim_support only), stored encrypted."""

    id = serializers.IntegerField(source="note.pk", read_only=True)
    text = serializers.CharField(read_only=True)
    written_by = serializers.CharField(source="note.written_by.get_username", read_only=True)
    written_at = serializers.DateTimeField(source="note.written_at", read_only=True)


class SupportNoteCreateSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=20000)


class HashExportRequestSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=[("json", "JSON"), ("csv", "CSV")], default="json")
    recipient = serializers.CharField(
        max_length=300, help_text="Who the hashes go to, e.g. 'StopNCII', 'KCSC', 'X trust & safety'."
    )
    include_pseudonym = serializers.BooleanField(
        default=False, help_text="Put the victim's pseudonym in the file (default: nothing that names them)."
    )


class PdqSerializer(serializers.Serializer):
    hash = serializers.CharField(help_text="PDQ, 64 hex characters (256 bits).")
    quality = serializers.IntegerField(help_text="PDQ quality 0–100; below 50 is weak for matching.")
    frame_ms = serializers.IntegerField(required=False, help_text="For a video frame: its time in ms.")


class HashListFileSerializer(serializers.Serializer):
    sha256 = serializers.CharField()
    md5 = serializers.CharField()
    size = serializers.IntegerField()
    content_type = serializers.ChoiceField(choices=["photo", "video", "other"])
    pdq = PdqSerializer(many=True)


class HashListSerializer(serializers.Serializer):
    """The JSON hash list (format haetae-hash-list/1): hashes only, no image, no identity."""

    format = serializers.CharField()
    generated_at = serializers.CharField()
    subject = serializers.CharField(allow_null=True, help_text="The pseudonym, or null.")
    signal_types = serializers.ListField(child=serializers.CharField())
    confirmed_links_only = serializers.BooleanField()
    file_count = serializers.IntegerField()
    files = HashListFileSerializer(many=True)


class HashExportRecordSerializer(serializers.Serializer):
    """One past export, as the ledger recorded it."""

    seq = serializers.IntegerField(help_text="The custody event's sequence number in the ledger.")
    occurred_at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor_name")
    recipient = serializers.CharField(source="details.recipient")
    format = serializers.CharField(source="details.format")
    files = serializers.IntegerField(source="details.files")
    pdq_hashes = serializers.IntegerField(source="details.pdq_hashes")
    include_pseudonym = serializers.BooleanField(source="details.include_pseudonym")
    export_sha256 = serializers.CharField(source="details.export_sha256")


class VictimItemSerializer(serializers.Serializer):
    """An item that depicts the victim, by reference and digests only: no content, no file name."""

    item = serializers.IntegerField(source="item_id", help_text="The evidence item id (use it in takedowns).")
    sha256 = serializers.CharField(source="item.blob_id")
    md5 = serializers.CharField(source="item.blob.md5")
    size = serializers.IntegerField(source="item.blob.size")
    content_type = serializers.SerializerMethodField()
    confidence = serializers.ChoiceField(choices=LinkConfidence.choices)
    link_source = serializers.ChoiceField(source="source", choices=LinkSource.choices)
    asserted_at = serializers.DateTimeField()
    pdq_hashes = serializers.IntegerField(source="pdq_count", help_text="PDQ hashes detection has made.")
    in_hash_export = serializers.SerializerMethodField(help_text="Only confirmed links are exported.")

    @extend_schema_field(serializers.ChoiceField(choices=["photo", "video", "other"]))
    def get_content_type(self, obj: Any) -> str:
        return support_renderers.content_type_of(obj.item.mime)

    @extend_schema_field(serializers.BooleanField())
    def get_in_hash_export(self, obj: Any) -> bool:
        return bool(obj.confidence == LinkConfidence.CONFIRMED)


class ItemReferenceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sha256 = serializers.CharField(source="blob_id")


class TakedownReappearanceSerializer(serializers.ModelSerializer):
    recorded_by = UsernameField()
    follow_ups = serializers.SerializerMethodField()

    class Meta:
        model = TakedownReappearance
        fields = ["id", "takedown", "seen_at", "url", "note", "recorded_by", "recorded_at", "follow_ups"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_follow_ups(self, obj: TakedownReappearance) -> list[int]:
        cache = getattr(obj, "_prefetched_objects_cache", {})
        if "follow_ups" in cache:
            return [t.pk for t in cache["follow_ups"]]
        return list(obj.follow_ups.order_by("id").values_list("pk", flat=True))


class TakedownSerializer(serializers.ModelSerializer):
    """A takedown request with who did each step and when; items by id and SHA-256, never content."""

    case = serializers.CharField(source="support_file.person.case.number", read_only=True)
    person = serializers.CharField(source="support_file.person.pseudonym", read_only=True)
    items = ItemReferenceSerializer(many=True, read_only=True)
    created_by = UsernameField()
    sent_by = UsernameField()
    acknowledged_by = UsernameField()
    removed_recorded_by = UsernameField()
    refused_recorded_by = UsernameField()
    reappearances = TakedownReappearanceSerializer(many=True, read_only=True)
    waiting_since = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = TakedownRequest
        fields = [
            "id",
            "case",
            "support_file",
            "person",
            "addressee",
            "platform",
            "target_url",
            "channel_reference",
            "addressee_contact",
            "description",
            "items",
            "status",
            "reference_number",
            "created_by",
            "created_at",
            "sent_at",
            "sent_by",
            "acknowledged_at",
            "acknowledged_by",
            "removed_at",
            "removed_recorded_by",
            "refused_at",
            "refused_recorded_by",
            "refusal_reason",
            "follows_up",
            "waiting_since",
            "overdue",
            "reappearances",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_waiting_since(self, obj: TakedownRequest) -> str | None:
        since = support_selectors.takedown_waiting_since(obj)
        return serializers.DateTimeField().to_representation(since) if since else None

    @extend_schema_field(serializers.BooleanField())
    def get_overdue(self, obj: TakedownRequest) -> bool:
        return support_selectors.takedown_is_overdue(obj, now=self.context.get("now"))


class TakedownCreateSerializer(serializers.Serializer):
    support_file = serializers.IntegerField(help_text="The support file (victim) the request is for.")
    addressee = serializers.ChoiceField(choices=TakedownAddressee.choices)
    platform = serializers.ChoiceField(choices=TakedownPlatform.choices)
    target_url = serializers.URLField(max_length=2000)
    channel_reference = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=300, help_text="The channel, as text."
    )
    addressee_contact = serializers.CharField(required=False, allow_blank=True, max_length=300)
    description = serializers.CharField(
        required=False, allow_blank=True, max_length=5000, help_text="Never the victim's identity."
    )
    items = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        help_text="Evidence item ids of this case.",
    )


class TakedownDraftUpdateSerializer(serializers.Serializer):
    addressee = serializers.ChoiceField(choices=TakedownAddressee.choices, required=False)
    platform = serializers.ChoiceField(choices=TakedownPlatform.choices, required=False)
    target_url = serializers.URLField(max_length=2000, required=False)
    channel_reference = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=300
    )
    addressee_contact = serializers.CharField(required=False, allow_blank=True, max_length=300)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    items = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False)


class TakedownSendSerializer(serializers.Serializer):
    sent_at = serializers.DateTimeField(required=False, help_text="When it was sent; default now.")
    reference_number = serializers.CharField(required=False, allow_blank=True, max_length=200)
    addressee_contact = serializers.CharField(required=False, allow_blank=True, max_length=300)


class TakedownAcknowledgeSerializer(serializers.Serializer):
    acknowledged_at = serializers.DateTimeField(required=False, help_text="Default now.")
    reference_number = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="The addressee's ticket or receipt number.",
    )


class TakedownRemovedSerializer(serializers.Serializer):
    removed_at = serializers.DateTimeField(required=False, help_text="When it was gone; default now.")
    reference_number = serializers.CharField(required=False, allow_blank=True, max_length=200)


class TakedownRefuseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000, help_text="The reason the addressee gave.")
    refused_at = serializers.DateTimeField(required=False, help_text="Default now.")
    reference_number = serializers.CharField(required=False, allow_blank=True, max_length=200)


class ReappearanceCreateSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=2000, help_text="Where it was seen again.")
    seen_at = serializers.DateTimeField(required=False, help_text="Default now.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    draft_follow_up = serializers.BooleanField(
        default=False, help_text="Also draft a new request to the same addressee for the new URL."
    )


class ReappearanceResultSerializer(serializers.Serializer):
    reappearance = TakedownReappearanceSerializer()
    support_file_reopened = serializers.BooleanField(help_text="The closed file went back to monitoring.")
    follow_up = TakedownSerializer(allow_null=True)


# --- filters ---------------------------------------------------------------------------------------------


class SupportFileFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=SupportStatus.choices)
    person = django_filters.CharFilter(field_name="person__pseudonym", help_text="Pseudonym, e.g. V-1.")
    person_id = django_filters.NumberFilter(field_name="person_id")
    assigned_worker = django_filters.CharFilter(field_name="assigned_worker__username")
    assigned_worker_id = django_filters.NumberFilter(field_name="assigned_worker_id")
    unassigned = django_filters.BooleanFilter(field_name="assigned_worker", lookup_expr="isnull")

    class Meta:
        model = SupportFile
        fields: list[str] = []


class SupportConsentFilter(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=ConsentKind.choices)
    in_force = django_filters.BooleanFilter(field_name="withdrawn_at", lookup_expr="isnull")

    class Meta:
        model = SupportConsent
        fields: list[str] = []


class TakedownFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=TakedownStatus.choices)
    addressee = django_filters.MultipleChoiceFilter(choices=TakedownAddressee.choices)
    platform = django_filters.MultipleChoiceFilter(choices=TakedownPlatform.choices)
    support_file = django_filters.NumberFilter(field_name="support_file_id")
    support_file_id = django_filters.NumberFilter(field_name="support_file_id")
    person = django_filters.CharFilter(field_name="support_file__person__pseudonym")
    person_id = django_filters.NumberFilter(field_name="support_file__person_id")
    sent_after = django_filters.IsoDateTimeFilter(field_name="sent_at", lookup_expr="gte")
    sent_before = django_filters.IsoDateTimeFilter(field_name="sent_at", lookup_expr="lt")
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", help_text="Only (or no) overdue requests."
    )
    reappeared = django_filters.BooleanFilter(field_name="reappearances", lookup_expr="isnull", exclude=True)

    class Meta:
        model = TakedownRequest
        fields: list[str] = []

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        condition = support_selectors.takedown_overdue_filter()
        return queryset.filter(condition) if value else queryset.exclude(condition)


# --- views -----------------------------------------------------------------------------------------------


def _worker(case: Case, username: str | None) -> User | None:
    """The victim_support member named, or a 400 that does not say whether such a user exists at all."""
    if username is None or username == "":
        return None
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        message = (
            f"{username} is not a victim_support member of case {case.number}: the case lead adds support "
            "workers to the team first"
        )
        raise RejectedInput(message, details={"assigned_worker": [message]})
    return cast(User, user)


class _CaseScoped(viewsets.GenericViewSet):
    """Resolves the case from the URL once per request, with the caller's role checked."""

    filter_backends = [DjangoFilterBackend]
    _case: Case | None = None

    def case_for(self, *, write: bool = False) -> Case:
        action = Action.SUPPORT_WRITE if write else Action.SUPPORT_READ
        if self._case is None:
            self._case = support_selectors.support_case_get(
                user=self.request.user, number=self.kwargs["number"], action=action
            )
        else:
            require(case=self._case, action=action)
        return self._case

    @property
    def actor(self) -> User:
        return cast(User, self.request.user)  # IsAuthenticated: never anonymous here

    def paginated(self, queryset: Any, serializer_class: type[serializers.BaseSerializer]) -> Response:
        context = {**self.get_serializer_context(), "now": timezone.now()}
        page = self.paginate_queryset(queryset)
        if page is not None:
            return self.get_paginated_response(serializer_class(page, many=True, context=context).data)
        return Response(serializer_class(queryset, many=True, context=context).data)


@extend_schema_view(
    list=extend_schema(
        summary="Support files of a case",
        description="victim_support members and the lead; victims appear by pseudonym only.",
        parameters=[_CASE_PARAM],
        responses={200: SupportFileSerializer(many=True), 403: _FORBIDDEN, 404: _NOT_FOUND},
    ),
    retrieve=extend_schema(
        summary="One support file",
        parameters=[_CASE_PARAM],
        responses={200: SupportFileSerializer, 403: _FORBIDDEN, 404: _NOT_FOUND},
    ),
    create=extend_schema(
        summary="Open a victim's support file",
        description="victim_support only. One file per victim; a SUPPORT_CHANGED custody event.",
        parameters=[_CASE_PARAM],
        request=SupportFileOpenSerializer,
        responses={201: SupportFileSerializer, 400: _BAD, 403: _FORBIDDEN, 404: _NOT_FOUND},
    ),
)
class SupportFileViewSet(_CaseScoped):
    """Support files of the case's victims."""

    serializer_class = SupportFileSerializer
    filterset_class = SupportFileFilter
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no case in the URL
            return SupportFile.objects.none()
        return support_selectors.support_file_list(case=self.case_for())

    def get_object(self) -> SupportFile:
        return support_selectors.support_file_get(
            case=self.case_for(), support_file_id=int(self.kwargs["pk"])
        )

    def list(self, request: Request, number: str) -> Response:
        return self.paginated(self.filter_queryset(self.get_queryset()), SupportFileSerializer)

    def retrieve(self, request: Request, number: str, pk: str) -> Response:
        return Response(SupportFileSerializer(self.get_object()).data)

    def create(self, request: Request, number: str) -> Response:
        case = self.case_for(write=True)
        form = SupportFileOpenSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        person = Person.objects.filter(case=case, pseudonym=form.validated_data["person"]).first()
        if person is None:
            message = f"no person {form.validated_data['person']!r} in case {case.number}"
            raise RejectedInput(message, details={"person": [message]})
        support_file = support.support_file_open(
            case=case,
            person=person,
            actor=self.actor,
            assigned_worker=_worker(case, form.validated_data.get("assigned_worker")),
        )
        return Response(
            SupportFileSerializer(
                support_selectors.support_file_get(case=case, support_file_id=support_file.pk)
            ).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="Change a support file's status",
        description=(
            "intake → active | closed; active → monitoring | closed; monitoring → active | closed; closed → "
            "active | monitoring (reopening needs a reason). Closing is refused while a takedown request "
            "awaits an answer."
        ),
        parameters=[_CASE_PARAM],
        request=SupportFileStatusSerializer,
        responses={200: SupportFileSerializer, 400: _BAD, 403: _FORBIDDEN, 404: _NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="status", serializer_class=SupportFileStatusSerializer)
    def set_status(self, request: Request, number: str, pk: str) -> Response:
        case = self.case_for(write=True)
        form = SupportFileStatusSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        support.support_file_set_status(
            support_file=self.get_object(),
            status=form.validated_data["status"],
            reason=form.validated_data.get("reason", ""),
            actor=self.actor,
        )
        return Response(
            SupportFileSerializer(support_selectors.support_file_get(case=case, support_file_id=int(pk))).data
        )

    @extend_schema(
        summary="Assign (or unassign) the support worker",
        description="The worker must be a victim_support member of the case.",
        parameters=[_CASE_PARAM],
        request=SupportFileAssignSerializer,
        responses={200: SupportFileSerializer, 400: _BAD, 403: _FORBIDDEN, 404: _NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="assign", serializer_class=SupportFileAssignSerializer)
    def assign(self, request: Request, number: str, pk: str) -> Response:
        case = self.case_for(write=True)
        form = SupportFileAssignSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        support.support_file_assign(
            support_file=self.get_object(),
            worker=_worker(case, form.validated_data["assigned_worker"]),
            actor=self.actor,
        )
        return Response(
            SupportFileSerializer(support_selectors.support_file_get(case=case, support_file_id=int(pk))).data
        )

    @extend_schema(
        methods=["GET"],
        summary="Restricted notes of a support file",
        description="victim_support members only (not the lead). Stored encrypted with the master key.",
        parameters=[_CASE_PARAM],
        responses={200: SupportNoteSerializer(many=True), 403: _FORBIDDEN, 404: _NOT_FOUND},
    )
    @extend_schema(
        methods=["POST"],
        summary="Add a restricted note",
        description="victim_support only. Notes are never edited or deleted; a correction is a new note.",
        parameters=[_CASE_PARAM],
        request=SupportNoteCreateSerializer,
        responses={201: SupportNoteSerializer, 400: _BAD, 403: _FORBIDDEN, 404: _NOT_FOUND},
    )
    @action(detail=True, methods=["get", "post"], url_path="notes", serializer_class=SupportNoteSerializer)
    def notes(self, request: Request, number: str, pk: str) -> Response:
        case = self.case_for()
        support_file = self.get_object()
        if request.method == "POST":
            form = SupportNoteCreateSerializer(data=request.data)
            form.is_valid(raise_exception=True)
            view = support.note_add(
                case=case, support_file=support_file, text=form.validated_data["text"], actor=self.actor
            )
            return Response(SupportNoteSerializer(view).data, status=status.HTTP_201_CREATED)
        return self.paginated(support.note_list(case=case, support_file=support_file), SupportNoteSerializer)

    @extend_schema(
        summary="Export the victim's hashes for platform blocking",
        description=(
            "victim_support only, and only with the victim's `share_hashes` consent in force (else 403 "
            "saying how to record it). The SHA-256, MD5 and PDQ hashes of the stored items linked to the "
            "victim by a confirmed `depicts` link (suspected links are left out). No image, no identity; "
            "the pseudonym only if asked. `format` json or csv (see docs/victim-support.md). Each export is "
            "a HASHES_EXPORTED custody event recording the recipient and the SHA-256 of the file."
        ),
        parameters=[_CASE_PARAM],
        request=HashExportRequestSerializer,
        responses={
            (200, "application/json"): HashListSerializer,
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="CSV, one row per signal: " + ",".join(support_renderers.HASH_EXPORT_CSV_COLUMNS),
            ),
            400: _BAD,
            403: _FORBIDDEN,
            404: _NOT_FOUND,
        },
        examples=[
            OpenApiExample(
                "CSV for StopNCII", value={"format": "csv", "recipient": "StopNCII"}, request_only=True
            )
        ],
    )
    @action(
        detail=True, methods=["post"], url_path="hash-export", serializer_class=HashExportRequestSerializer
    )
    def hash_export(self, request: Request, number: str, pk: str) -> HttpResponse:
        case = self.case_for(write=True)
        form = HashExportRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        export = support.hash_export(
            case=case,
            support_file=self.get_object(),
            actor=self.actor,
            export_format=form.validated_data["format"],
            recipient=form.validated_data["recipient"],
            include_pseudonym=form.validated_data["include_pseudonym"],
        )
        response = HttpResponse(export.body, content_type=export.content_type)
        response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
        response["X-Haetae-Export-SHA256"] = export.sha256
        return response

    @extend_schema(
        summary="Items that depict the victim, by reference",
        description=(
            "The stored items linked to the victim as 'depicts' (confirmed and suspected; withdrawn links "
            "left out): item id, SHA-256, MD5, size, photo/video, the link's confidence and source, and how "
            "many PDQ hashes exist. Never content, previews or file names. Only confirmed ones go into a "
            "hash export."
        ),
        parameters=[_CASE_PARAM],
        responses={200: VictimItemSerializer(many=True), 403: _FORBIDDEN, 404: _NOT_FOUND},
    )
    @action(detail=True, methods=["get"], url_path="items", serializer_class=VictimItemSerializer)
    def items(self, request: Request, number: str, pk: str) -> Response:
        self.case_for()
        return self.paginated(
            support_selectors.victim_item_links(support_file=self.get_object()), VictimItemSerializer
        )

    @extend_schema(
        summary="Past hash exports of a support file",
        description=(
            "Who exported, when, to whom, in which format, how many files, and the SHA-256 of each exported "
            "document, newest first (read from the custody ledger). When a consent is withdrawn, these are "
            "the recipients to tell."
        ),
        parameters=[_CASE_PARAM],
        responses={200: HashExportRecordSerializer(many=True), 403: _FORBIDDEN, 404: _NOT_FOUND},
    )
    @action(
        detail=True, methods=["get"], url_path="hash-exports", serializer_class=HashExportRecordSerializer
    )
    def hash_exports(self, request: Request, number: str, pk: str) -> Response:
        case = self.case_for()
        history = support_selectors.hash_export_history(case=case, support_file=self.get_object())
        return self.paginated(history, HashExportRecordSerializer)


@extend_schema_view(
    list=extend_schema(
        summary="Consents recorded on a support file",
        description="Every consent ever recorded, withdrawn ones included (history).",
        parameters=[_CASE_PARAM],
        responses={200: SupportConsentSerializer(many=True), 403: _FORBIDDEN, 404: _NOT_FOUND},
    ),
    create=extend_schema(
        summary="Record a consent as given",
        description="victim_support only. One consent of each kind is in force at a time.",
        parameters=[_CASE_PARAM],
        request=ConsentGiveSerializer,
        responses={201: SupportConsentSerializer, 400: _BAD, 403: _FORBIDDEN, 404: _NOT_FOUND},
    ),
)
class SupportConsentViewSet(_CaseScoped):
    """Consents of one support file (to share hashes, to be contacted, …), given and withdrawn."""

    serializer_class = SupportConsentSerializer
    filterset_class = SupportConsentFilter
    lookup_value_regex = r"[0-9]+"

    def support_file(self) -> SupportFile:
        return support_selectors.support_file_get(
            case=self.case_for(), support_file_id=int(self.kwargs["support_file_pk"])
        )

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no case in the URL
            return SupportConsent.objects.none()
        return support_selectors.consent_list(support_file=self.support_file()).order_by("id")

    def list(self, request: Request, number: str, support_file_pk: str) -> Response:
        return self.paginated(self.filter_queryset(self.get_queryset()), SupportConsentSerializer)

    def create(self, request: Request, number: str, support_file_pk: str) -> Response:
        self.case_for(write=True)
        form = ConsentGiveSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        consent = support.consent_give(
            support_file=self.support_file(), actor=self.actor, **form.validated_data
        )
        return Response(SupportConsentSerializer(consent).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Record that a consent was withdrawn",
        description="victim_support only. A withdrawn share_hashes consent stops hash exports at once.",
        parameters=[_CASE_PARAM],
        request=ConsentWithdrawSerializer,
        responses={200: SupportConsentSerializer, 400: _BAD, 403: _FORBIDDEN, 404: _NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="withdraw", serializer_class=ConsentWithdrawSerializer)
    def withdraw(self, request: Request, number: str, support_file_pk: str, pk: str) -> Response:
        self.case_for(write=True)
        form = ConsentWithdrawSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        consent = support_selectors.consent_get(support_file=self.support_file(), consent_id=int(pk))
        withdrawn = support.consent_withdraw(consent=consent, actor=self.actor, **form.validated_data)
        return Response(SupportConsentSerializer(withdrawn).data)


_OVERDUE = inline_serializer(
    "OverdueTakedowns",
    {
        "limits": serializers.DictField(child=serializers.IntegerField()),
        "count": serializers.IntegerField(),
        "results": TakedownSerializer(many=True),
    },
)


_TAKEDOWN_STEP = {200: TakedownSerializer, 400: _BAD, 403: _FORBIDDEN, 404: _NOT_FOUND}


@extend_schema_view(
    list=extend_schema(
        summary="Takedown requests of a case",
        parameters=[_CASE_PARAM],
        responses={200: TakedownSerializer(many=True), 403: _FORBIDDEN, 404: _NOT_FOUND},
    ),
    retrieve=extend_schema(
        summary="One takedown request",
        parameters=[_CASE_PARAM],
        responses={200: TakedownSerializer, 404: _NOT_FOUND},
    ),
    create=extend_schema(
        summary="Draft a takedown request",
        description="victim_support only. Items by id (of this case); a TAKEDOWN_CHANGED custody event.",
        parameters=[_CASE_PARAM],
        request=TakedownCreateSerializer,
        responses={201: TakedownSerializer, 400: _BAD, 403: _FORBIDDEN, 404: _NOT_FOUND},
    ),
    partial_update=extend_schema(
        summary="Edit a draft",
        description="Only while the request is a draft; afterwards it changes only by its steps.",
        parameters=[_CASE_PARAM],
        request=TakedownDraftUpdateSerializer,
        responses={200: TakedownSerializer, 400: _BAD, 403: _FORBIDDEN, 404: _NOT_FOUND},
    ),
)
class TakedownViewSet(_CaseScoped):
    """Takedown requests: draft → sent → acknowledged → removed | refused, and reappearances."""

    serializer_class = TakedownSerializer
    filterset_class = TakedownFilter
    lookup_value_regex = r"[0-9]+"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no case in the URL
            return TakedownRequest.objects.none()
        return support_selectors.takedown_list(case=self.case_for())

    def get_object(self) -> TakedownRequest:
        return support_selectors.takedown_get(case=self.case_for(), takedown_id=int(self.kwargs["pk"]))

    def _show(self, takedown_id: int, code: int = status.HTTP_200_OK) -> Response:
        takedown = support_selectors.takedown_get(case=self.case_for(), takedown_id=takedown_id)
        return Response(TakedownSerializer(takedown, context={"now": timezone.now()}).data, status=code)

    def _step(self, request: Request, pk: str, form_class: Any, service: Any) -> Response:
        """One step of a takedown's life (send, acknowledge, removed, refuse): check, record, show."""
        self.case_for(write=True)
        form = form_class(data=request.data)
        form.is_valid(raise_exception=True)
        service(takedown=self.get_object(), actor=self.actor, **form.validated_data)
        return self._show(int(pk))

    def list(self, request: Request, number: str) -> Response:
        return self.paginated(self.filter_queryset(self.get_queryset()), TakedownSerializer)

    def retrieve(self, request: Request, number: str, pk: str) -> Response:
        return self._show(int(pk))

    def create(self, request: Request, number: str) -> Response:
        case = self.case_for(write=True)
        form = TakedownCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        fields = dict(form.validated_data)
        support_file_id = fields.pop("support_file")
        support_file = (
            SupportFile.objects.filter(pk=support_file_id, person__case=case).select_related("person").first()
        )
        if support_file is None:
            message = f"no support file {support_file_id} in case {case.number}"
            raise RejectedInput(message, details={"support_file": [message]})
        takedown = support.takedown_create(
            case=case, support_file=support_file, actor=self.actor, item_ids=fields.pop("items", []), **fields
        )
        return self._show(takedown.pk, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, number: str, pk: str) -> Response:
        case = self.case_for(write=True)
        form = TakedownDraftUpdateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        support.takedown_update_draft(
            case=case, takedown=self.get_object(), actor=self.actor, changes=dict(form.validated_data)
        )
        return self._show(int(pk))

    @extend_schema(
        summary="Record that the request was sent",
        parameters=[_CASE_PARAM],
        request=TakedownSendSerializer,
        responses=_TAKEDOWN_STEP,
    )
    @action(detail=True, methods=["post"], url_path="send", serializer_class=TakedownSendSerializer)
    def send(self, request: Request, number: str, pk: str) -> Response:
        return self._step(request, pk, TakedownSendSerializer, support.takedown_send)

    @extend_schema(
        summary="Record the addressee's acknowledgement",
        parameters=[_CASE_PARAM],
        request=TakedownAcknowledgeSerializer,
        responses=_TAKEDOWN_STEP,
    )
    @action(
        detail=True, methods=["post"], url_path="acknowledge", serializer_class=TakedownAcknowledgeSerializer
    )
    def acknowledge(self, request: Request, number: str, pk: str) -> Response:
        return self._step(request, pk, TakedownAcknowledgeSerializer, support.takedown_acknowledge)

    @extend_schema(
        summary="Record that the target was removed",
        parameters=[_CASE_PARAM],
        request=TakedownRemovedSerializer,
        responses=_TAKEDOWN_STEP,
    )
    @action(detail=True, methods=["post"], url_path="removed", serializer_class=TakedownRemovedSerializer)
    def removed(self, request: Request, number: str, pk: str) -> Response:
        return self._step(request, pk, TakedownRemovedSerializer, support.takedown_mark_removed)

    @extend_schema(
        summary="Record that the addressee refused",
        parameters=[_CASE_PARAM],
        request=TakedownRefuseSerializer,
        responses=_TAKEDOWN_STEP,
    )
    @action(detail=True, methods=["post"], url_path="refuse", serializer_class=TakedownRefuseSerializer)
    def refuse(self, request: Request, number: str, pk: str) -> Response:
        return self._step(request, pk, TakedownRefuseSerializer, support.takedown_refuse)

    @extend_schema(
        methods=["GET"],
        summary="Reappearances of a removed target",
        parameters=[_CASE_PARAM],
        responses={200: TakedownReappearanceSerializer(many=True), 403: _FORBIDDEN, 404: _NOT_FOUND},
    )
    @extend_schema(
        methods=["POST"],
        summary="Record that a removed target was seen again",
        description=(
            "victim_support only; the request must be removed. A closed support file goes back to "
            "monitoring. With draft_follow_up a new draft to the same addressee is made for the new URL."
        ),
        parameters=[_CASE_PARAM],
        request=ReappearanceCreateSerializer,
        responses={201: ReappearanceResultSerializer, 400: _BAD, 403: _FORBIDDEN, 404: _NOT_FOUND},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="reappearances",
        serializer_class=TakedownReappearanceSerializer,
    )
    def reappearances(self, request: Request, number: str, pk: str) -> Response:
        takedown = self.get_object()
        if request.method == "GET":
            rows = (
                takedown.reappearances.select_related("recorded_by")
                .prefetch_related("follow_ups")
                .order_by("id")
            )
            return self.paginated(rows, TakedownReappearanceSerializer)
        case = self.case_for(write=True)
        form = ReappearanceCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        result = support.takedown_record_reappearance(
            case=case, takedown=takedown, actor=self.actor, **form.validated_data
        )
        follow_up = (
            support_selectors.takedown_get(case=case, takedown_id=result.follow_up.pk)
            if result.follow_up
            else None
        )
        body = {
            "reappearance": TakedownReappearanceSerializer(result.reappearance).data,
            "support_file_reopened": result.support_file_reopened,
            "follow_up": TakedownSerializer(follow_up, context={"now": timezone.now()}).data
            if follow_up
            else None,
        }
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Overdue takedown requests",
        description=(
            "Sent and not answered, or acknowledged and not resolved, for longer than the addressee's limit "
            "(HAETAE_TAKEDOWN_OVERDUE_DAYS, default 3 days); the longest-waiting first. The limits in force "
            "are in `limits`."
        ),
        parameters=[_CASE_PARAM],
        responses={
            200: _OVERDUE,
            403: _FORBIDDEN,
            404: _NOT_FOUND,
        },
    )
    @action(detail=False, methods=["get"], url_path="overdue", filterset_class=None)
    def overdue(self, request: Request, number: str) -> Response:
        now = timezone.now()
        rows = list(support_selectors.takedown_overdue(case=self.case_for(), now=now))
        return Response(
            {
                "limits": support_selectors.takedown_overdue_days(),
                "count": len(rows),
                "results": TakedownSerializer(rows, many=True, context={"now": now}).data,
            }
        )


class OverdueAcrossCasesViewSet(viewsets.GenericViewSet):
    """Overdue takedown requests of all the caller's cases (as support worker or lead)."""

    serializer_class = TakedownSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return TakedownRequest.objects.none()
        return support_selectors.takedown_overdue_across_cases(user=self.request.user)

    @extend_schema(
        summary="Overdue takedown requests across your cases",
        description=(
            "Every overdue request of the cases where you are a victim_support member or the lead, the "
            "longest-waiting first; each names its case. Cases where you hold another role are left out."
        ),
        responses={200: _OVERDUE},
    )
    @action(detail=False, methods=["get"], url_path="overdue")
    def overdue(self, request: Request) -> Response:
        now = timezone.now()
        rows = list(support_selectors.takedown_overdue_across_cases(user=request.user, now=now))
        return Response(
            {
                "limits": support_selectors.takedown_overdue_days(),
                "count": len(rows),
                "results": TakedownSerializer(rows, many=True, context={"now": now}).data,
            }
        )


CASE_PREFIX = rf"cases/(?P<number>{NUMBER})"
