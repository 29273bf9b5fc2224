"""Exhibits, reports and export bundles API.

Reads are ViewSets over ``exhibits.selectors`` (a prosecutor sees only shared exhibits and the
reports and bundles of them; victim_support and auditor see exhibits as numbers and statuses only). Every
legal step is an explicit POST action calling its service in ``exhibits.services`` (which checks the role and
writes the custody events). Reports and bundles are Celery jobs: the POST creates the queued row through
``exhibits.reports.services.report_request`` / ``exhibits.bundles.bundle_request``, queues
``exhibits.tasks.report_generate_task`` / ``bundle_export_task`` once the row is committed, and answers 202
with the row and the URL to poll; downloads stream through ``report_open`` / ``bundle_open``, which record
each download as a custody event.
"""

from abc import ABCMeta, abstractmethod
from collections.abc import Iterable
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from access.api.views import CaseScopedViewSet
from access.models import Case
from access.policy import Action, role_may
from evidence.api.views import AnyMediaRenderer
from exhibits import services as exhibit_services
from exhibits.api import filters
from exhibits.api import serializers as s
from exhibits.bundles import bundle_open, bundle_queue
from exhibits.choices import ReportStatus
from exhibits.models import Exhibit, ExportBundle, Report
from exhibits.reports.services import report_open, report_queue
from exhibits.selectors import (
    bundle_get_for,
    bundle_list_for,
    case_bundles,
    case_reports,
    download_allowed,
    exhibit_get,
    exhibit_list,
    exhibits_by_numbers,
    report_get_for,
    report_list_for,
)
from haetae.api import ErrorSerializer
from haetae.errors import RejectedInput
from haetae.toolkit import request_actor, streamed_file, validated

_NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such case or exhibit among those you may see.")
_BAD = OpenApiResponse(
    ErrorSerializer, description="Invalid input, or the step does not apply in this status."
)
_DENIED = OpenApiResponse(ErrorSerializer, description="Your role on the case may not do this.")
_NUMBER = OpenApiParameter("number", OpenApiTypes.STR, OpenApiParameter.PATH, description="Case number.")
_EXHIBIT = OpenApiParameter("exhibit", OpenApiTypes.STR, OpenApiParameter.PATH, description="E-001 …")
_REASON = OpenApiParameter("reason", OpenApiTypes.STR, description="Why you download it (recorded).")


@extend_schema_view(
    list=extend_schema(
        summary="A case's exhibits",
        description=(
            "E-001, E-002 … with their status and items. A prosecutor sees only the exhibits shared with "
            "them; victim_support and auditor see numbers, statuses, item ids and dates, never descriptions, "
            "opinions or withdrawal reasons (free text for the court, which may describe the material and "
            "name people)."
        ),
        parameters=[_NUMBER],
        responses={200: s.ExhibitSerializer(many=True), 403: _DENIED, 404: _NOT_FOUND},
    ),
    retrieve=extend_schema(
        summary="One exhibit",
        parameters=[_NUMBER, _EXHIBIT],
        responses={200: s.ExhibitSerializer, 404: _NOT_FOUND},
    ),
)
class ExhibitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CaseScopedViewSet):
    """The exhibits of a case and the steps of their lifecycle (draft → pending → approved → shared →
    withdrawn), each a custody event written by ``exhibits.services``."""

    serializer_class = s.ExhibitSerializer
    filterset_class = filters.ExhibitFilter
    lookup_field = "number"
    lookup_url_kwarg = "exhibit"
    lookup_value_regex = r"[Ee]-[0-9]+"
    model = Exhibit

    def scoped(self, case: Case) -> Any:
        return exhibit_list(case=case)

    def get_serializer_class(self) -> type[BaseSerializer]:
        if getattr(self, "swagger_fake_view", False):
            return s.ExhibitSerializer
        if role_may(getattr(self.case(), "caller_role", None), Action.EXHIBIT_SUMMARY):
            return s.ExhibitSummarySerializer
        return s.ExhibitSerializer

    def get_object(self) -> Exhibit:
        return exhibit_get(case=self.case(), number=self.kwargs["exhibit"])

    def _shown(self, exhibit: Exhibit, code: int = status.HTTP_200_OK) -> Response:
        fresh = exhibit_get(case=self.case(), number=exhibit.number)
        return Response(self.get_serializer_class()(fresh).data, status=code)

    @extend_schema(
        summary="Draft an exhibit",
        description=(
            "Items of the case (ids, in order; at least one, each stored, none rejected) with a description "
            "and the investigator's opinion (kept apart from detector findings). Takes the next number "
            "(never reused). Lead or investigator. Custody: exhibit_created on the case, exhibited on each "
            "item, in one transaction."
        ),
        parameters=[_NUMBER],
        request=s.ExhibitCreateSerializer,
        responses={201: s.ExhibitSerializer, 400: _BAD, 403: _DENIED, 404: _NOT_FOUND},
    )
    def create(self, request: Request, number: str) -> Response:
        fields = validated(s.ExhibitCreateSerializer, request)
        exhibit = exhibit_services.exhibit_create(
            case=self.case(),
            item_ids=fields["items"],
            description=fields["description"],
            opinion=fields["opinion"],
            actor=request_actor(request),
        )
        return self._shown(exhibit, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Edit a draft exhibit",
        description=(
            "Description, opinion and/or items, while draft or pending (a pending exhibit returns to draft). "
            "Approved, shared and withdrawn exhibits are final. Lead or investigator. Custody: "
            "exhibit_changed, and exhibited / unexhibited on items added / removed."
        ),
        parameters=[_NUMBER, _EXHIBIT],
        request=s.ExhibitUpdateSerializer,
        responses={200: s.ExhibitSerializer, 400: _BAD, 403: _DENIED, 404: _NOT_FOUND},
    )
    def partial_update(self, request: Request, number: str, exhibit: str) -> Response:
        found = self.get_object()
        fields = validated(s.ExhibitUpdateSerializer, request)
        changed = exhibit_services.exhibit_update(
            exhibit=found,
            actor=request_actor(request),
            description=fields.get("description"),
            opinion=fields.get("opinion"),
            item_ids=fields.get("items"),
        )
        return self._shown(changed)

    @extend_schema(
        summary="Ask a supervisor to approve a draft",
        parameters=[_NUMBER, _EXHIBIT],
        request=None,
        responses={200: s.ExhibitSerializer, 400: _BAD, 403: _DENIED, 404: _NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="request-approval")
    def request_approval(self, request: Request, number: str, exhibit: str) -> Response:
        changed = exhibit_services.exhibit_request_approval(
            exhibit=self.get_object(), actor=request_actor(request)
        )
        return self._shown(changed)

    @extend_schema(
        summary="Approve an exhibit (a supervisor)",
        description=(
            "A user holding the supervisor role, on the case team, who did not draft it, approves a draft or "
            "pending exhibit. The note is recorded with the exhibit_approved event."
        ),
        parameters=[_NUMBER, _EXHIBIT],
        request=s.ExhibitApproveSerializer,
        responses={200: s.ExhibitSerializer, 400: _BAD, 403: _DENIED, 404: _NOT_FOUND},
    )
    @action(detail=True, methods=["post"], serializer_class=s.ExhibitApproveSerializer)
    def approve(self, request: Request, number: str, exhibit: str) -> Response:
        found = self.get_object()
        fields = validated(s.ExhibitApproveSerializer, request)
        changed = exhibit_services.exhibit_approve(
            exhibit=found, actor=request_actor(request), note=fields["note"]
        )
        return self._shown(changed)

    @extend_schema(
        summary="Share an approved exhibit with the prosecutor (the lead)",
        description=(
            "From now on the case's prosecutors see the exhibit and its items (content with a reason)."
        ),
        parameters=[_NUMBER, _EXHIBIT],
        request=None,
        responses={200: s.ExhibitSerializer, 400: _BAD, 403: _DENIED, 404: _NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def share(self, request: Request, number: str, exhibit: str) -> Response:
        changed = exhibit_services.exhibit_share(exhibit=self.get_object(), actor=request_actor(request))
        return self._shown(changed)

    @extend_schema(
        summary="Withdraw an exhibit (the lead, with a reason)",
        description=(
            "Its number stays taken; a shared exhibit stops being visible to the prosecutor. Custody: "
            "exhibit_withdrawn with the reason, unexhibited on each item."
        ),
        parameters=[_NUMBER, _EXHIBIT],
        request=s.ExhibitWithdrawSerializer,
        responses={200: s.ExhibitSerializer, 400: _BAD, 403: _DENIED, 404: _NOT_FOUND},
    )
    @action(detail=True, methods=["post"], serializer_class=s.ExhibitWithdrawSerializer)
    def withdraw(self, request: Request, number: str, exhibit: str) -> Response:
        found = self.get_object()
        fields = validated(s.ExhibitWithdrawSerializer, request)
        changed = exhibit_services.exhibit_withdraw(
            exhibit=found, actor=request_actor(request), reason=fields["reason"]
        )
        return self._shown(changed)


# --- reports ----------------------------------------------------------------------------------------------


def _require_done(row: Report | ExportBundle, kind: str, url: str) -> None:
    if row.status != ReportStatus.DONE:
        detail = f" ({row.progress} %)" if row.status in (ReportStatus.QUEUED, ReportStatus.RUNNING) else ""
        reason = f": {row.error}" if row.status == ReportStatus.FAILED and row.error else ""
        raise RejectedInput(
            f"{kind} {row.pk} is {row.status}{detail}{reason}; it can be downloaded once done: poll {url}",
            details={"status": row.status, "progress": row.progress},
        )


@extend_schema_view(
    list=extend_schema(
        summary="A case's reports",
        description=(
            "Every version of every report of the case (newest first). A prosecutor sees only reports whose "
            "every exhibit is shared with them; the auditor sees the rows; victim support sees none."
        ),
        parameters=[_NUMBER],
        responses={200: s.ReportSerializer(many=True), 403: _DENIED, 404: _NOT_FOUND},
    ),
)
class CaseReportViewSet(mixins.ListModelMixin, CaseScopedViewSet):
    """Ask for a report of a case's exhibits (a Celery job) and list the case's reports."""

    serializer_class = s.ReportSerializer
    filterset_class = filters.ReportFilter
    model = Report

    def scoped(self, case: Case) -> Any:
        return case_reports(case=case, user=self.request.user)

    @extend_schema(
        summary="Generate a signed report (a job)",
        description=(
            "The named exhibits (or, without `exhibits`, every exhibit of the case) in Korean or English. "
            "Creates the queued report (the next version of its report ID), queues its generation and "
            "answers 202 with the row; poll `progress_url` until `status` is done, then GET `download_url`. "
            "Lead or investigator."
        ),
        parameters=[_NUMBER],
        request=s.ReportRequestSerializer,
        responses={202: s.ReportSerializer, 400: _BAD, 403: _DENIED, 404: _NOT_FOUND},
    )
    def create(self, request: Request, number: str) -> Response:
        case = self.case(action=Action.REPORT_REQUEST, doing="ask for reports")
        fields = validated(s.ReportRequestSerializer, request)
        numbers = fields.get("exhibits")
        if numbers is not None:
            numbers = [e.number for e in exhibits_by_numbers(case=case, numbers=numbers)]
        # A broker that is down (or an eager job that raises) leaves the queued/failed row to report; the
        # 202 still names it.
        report = report_queue(
            case=case, exhibit_numbers=numbers, language=fields["language"], actor=request_actor(request)
        )
        shown = report_get_for(user=request.user, report_id=report.pk)
        return Response(s.ReportSerializer(shown).data, status=status.HTTP_202_ACCEPTED)


class _JobViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet, metaclass=ABCMeta):
    """One report or bundle job: its progress, and its file once done (each download recorded)."""

    lookup_value_regex = r"[0-9]+"
    serializer_class: type[s.JobSerializer]
    kind: str
    content_type: str

    @abstractmethod
    def get_queryset(self) -> Any:
        """Given by each job kind."""

    @abstractmethod
    def get_object(self) -> Any:
        """Given by each job kind."""

    @abstractmethod
    def open(self, row: Any, request: Request) -> Iterable[bytes]:
        """The file's chunks, its download recorded by the service."""

    @abstractmethod
    def file_name(self, row: Any) -> str:
        """Given by each job kind."""

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    @action(detail=True, methods=["get"], renderer_classes=[AnyMediaRenderer])
    def download(self, request: Request, pk: str) -> Any:
        row = self.get_object()
        download_allowed(row=row, kind=self.kind)
        _require_done(row, self.kind, self.serializer_class().get_progress_url(row))
        return streamed_file(
            iter(self.open(row, request)),
            content_type=self.content_type,
            filename=self.file_name(row),
            sha256=row.sha256,
            size=row.size,
        )


def _download_responses(content_type: str) -> dict[Any, Any]:
    not_done = OpenApiResponse(ErrorSerializer, description="Not done yet (or failed): poll its progress.")
    return {
        (200, content_type): OpenApiTypes.BINARY,
        400: not_done,
        403: _DENIED,
        404: _NOT_FOUND,
        409: ErrorSerializer,
    }


@extend_schema_view(
    retrieve=extend_schema(
        summary="A report's progress",
        description="Status (queued, running, done, failed), progress %, and once done its SHA-256 and size.",
        responses={200: s.ReportSerializer, 404: _NOT_FOUND},
    ),
    download=extend_schema(
        summary="Download a report's signed PDF (recorded)",
        description=(
            "Streams the PDF/A-3, PAdES-signed, verified against its SHA-256 as it is read; a "
            "report_downloaded custody event records who, when and the optional `reason` first. Lead, "
            "investigator, analyst, and a prosecutor for reports of shared exhibits; never auditor or victim "
            "support (a report carries blurred thumbnails)."
        ),
        parameters=[_REASON],
        responses=_download_responses("application/pdf"),
    ),
)
class ReportViewSet(_JobViewSet):
    """One report: its progress, and its signed PDF once done (each download recorded)."""

    serializer_class = s.ReportSerializer
    kind = "report"
    content_type = "application/pdf"

    def get_queryset(self) -> Any:
        return report_list_for(user=self.request.user)

    def get_object(self) -> Report:
        return report_get_for(user=self.request.user, report_id=int(self.kwargs["pk"]))

    def open(self, row: Report, request: Request) -> Iterable[bytes]:
        return report_open(
            report=row, actor=request_actor(request), purpose=request.query_params.get("reason", "")
        )

    def file_name(self, row: Report) -> str:
        return f"{row.report_id}-v{row.version}.pdf"


# --- export bundles ---------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="A case's export bundles",
        description="Newest first; a prosecutor sees only bundles of exhibits shared with them.",
        parameters=[_NUMBER],
        responses={200: s.BundleSerializer(many=True), 403: _DENIED, 404: _NOT_FOUND},
    ),
)
class CaseBundleViewSet(mixins.ListModelMixin, CaseScopedViewSet):
    """Export shared exhibits for the prosecutor as a bundle (a Celery job) and list the case's bundles."""

    serializer_class = s.BundleSerializer
    filterset_class = filters.BundleFilter
    model = ExportBundle

    def scoped(self, case: Case) -> Any:
        return case_bundles(case=case, user=self.request.user)

    @extend_schema(
        summary="Export a bundle for the prosecutor (a job)",
        description=(
            "A ZIP of manifest.json (hashes, custody events, proofs, checkpoints), its signature, the signed "
            "report and the originals encrypted to the recipient: their X25519 public key (base64) or a "
            "passphrase given out of band (exactly one). Only shared exhibits. The lead. 202 with the queued "
            "row; poll `progress_url`, then GET `download_url`."
        ),
        parameters=[_NUMBER],
        request=s.BundleRequestSerializer,
        responses={202: s.BundleSerializer, 400: _BAD, 403: _DENIED, 404: _NOT_FOUND},
    )
    def create(self, request: Request, number: str) -> Response:
        case = self.case(action=Action.BUNDLE_EXPORT, doing="export bundles")
        fields = validated(s.BundleRequestSerializer, request)
        numbers = [e.number for e in exhibits_by_numbers(case=case, numbers=fields["exhibits"])]
        public_key, passphrase = fields.get("recipient_public_key"), fields.get("passphrase")
        bundle = bundle_queue(
            case=case,
            exhibit_numbers=numbers,
            recipient=fields["recipient"],
            actor=request_actor(request),
            recipient_public_key=public_key,
            passphrase=passphrase,
        )
        shown = bundle_get_for(user=request.user, bundle_id=bundle.pk)
        return Response(s.BundleSerializer(shown).data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    retrieve=extend_schema(
        summary="A bundle's progress", responses={200: s.BundleSerializer, 404: _NOT_FOUND}
    ),
    download=extend_schema(
        summary="Download an export bundle (recorded)",
        description=(
            "Streams the ZIP; a bundle_downloaded custody event records who and when first. Lead, "
            "investigator, analyst, and a prosecutor for bundles of shared exhibits. Verify it offline with "
            "`python -m evidence.bundle FILE.zip --ledger-key KEYHEX` (the ledger key obtained "
            "independently) or `--agency-cert agency.pem`: without either it refuses the bundle as not "
            "anchored."
        ),
        responses=_download_responses("application/zip"),
    ),
)
class BundleViewSet(_JobViewSet):
    """One export bundle: its progress, and the ZIP once done (each download recorded)."""

    serializer_class = s.BundleSerializer
    kind = "export bundle"
    content_type = "application/zip"

    def get_queryset(self) -> Any:
        return bundle_list_for(user=self.request.user)

    def get_object(self) -> ExportBundle:
        return bundle_get_for(user=self.request.user, bundle_id=int(self.kwargs["pk"]))

    def open(self, row: ExportBundle, request: Request) -> Iterable[bytes]:
        return bundle_open(bundle=row, actor=request_actor(request))

    def file_name(self, row: ExportBundle) -> str:
        return f"{row.case.number}-bundle-{row.pk}.zip"
