"""Victim-support API: support files, consents, restricted notes, takedown requests and hash exports.

Everything is nested under the case (``/api/v1/cases/{number}/…``) and gated by the caller's role on it
(``support.services.support_case_get``): victim_support reads and writes, the lead reads (never the notes),
everyone else gets 403 and non-members 404. Items appear by id and SHA-256 only, never content.
"""

from typing import Any, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from access.api.views import CaseScopedViewSet
from access.models import Case
from access.policy import Action
from captures.api.serializers import CaptureStatusSerializer
from haetae.api import ErrorSerializer
from haetae.errors import RejectedInput
from parties.models import Person
from support import renderers as support_renderers
from support import selectors as support_selectors
from support import services as support
from support.api.filters import SupportConsentFilter, SupportFileFilter, TakedownFilter
from support.api.serializers import (
    ConsentGiveSerializer,
    ConsentWithdrawSerializer,
    HashExportRecordSerializer,
    HashExportRequestSerializer,
    HashListSerializer,
    ReappearanceCreateSerializer,
    ReappearanceResultSerializer,
    SupportConsentSerializer,
    SupportFileAssignSerializer,
    SupportFileOpenSerializer,
    SupportFileSerializer,
    SupportFileStatusSerializer,
    SupportNoteCreateSerializer,
    SupportNoteSerializer,
    TakedownAcknowledgeSerializer,
    TakedownCreateSerializer,
    TakedownDraftUpdateSerializer,
    TakedownReappearanceSerializer,
    TakedownRefuseSerializer,
    TakedownRemovedSerializer,
    TakedownSendSerializer,
    TakedownSerializer,
    VictimItemSerializer,
)
from support.models import SupportConsent, SupportFile, TakedownRequest

NUMBER = r"[A-Za-z0-9][A-Za-z0-9-]*"

_NOT_FOUND = OpenApiResponse(
    ErrorSerializer, description="No such case among yours, or no such object in it."
)
_FORBIDDEN = OpenApiResponse(ErrorSerializer, description="Your role on the case may not do this.")
_BAD = OpenApiResponse(description="Invalid input: field messages, or `detail` with `details` per field.")
_CASE_PARAM = OpenApiParameter("number", OpenApiTypes.STR, OpenApiParameter.PATH, description="Case number.")


# --- serializers -----------------------------------------------------------------------------------------


# --- filters ---------------------------------------------------------------------------------------------


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


class _CaseScoped(CaseScopedViewSet):
    """The case-scoped base of every API, where every route needs ``support_read`` and writes
    ``support_write`` (the policy table)."""

    def case_for(self, *, write: bool = False) -> Case:
        return self.case(Action.SUPPORT_WRITE if write else Action.SUPPORT_READ)

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
            "capture": CaptureStatusSerializer(result.capture).data if result.capture else None,
            "follow_up": TakedownSerializer(follow_up, context={"now": timezone.now()}).data
            if follow_up
            else None,
        }
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Capture the takedown's target URL",
        description=(
            "victim_support only: queues a capture of the target URL as evidence of the case; the answer and "
            "the captures list show its status, never its result."
        ),
        parameters=[_CASE_PARAM],
        request=None,
        responses={202: CaptureStatusSerializer, 403: _FORBIDDEN, 404: _NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="capture", serializer_class=CaptureStatusSerializer)
    def capture(self, request: Request, number: str, pk: str) -> Response:
        case = self.case_for(write=True)
        capture = support.takedown_capture(case=case, takedown=self.get_object(), actor=self.actor)
        capture.refresh_from_db()
        return Response(CaptureStatusSerializer(capture).data, status=status.HTTP_202_ACCEPTED)

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
