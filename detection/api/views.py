"""Detection API: detectors, runs, findings (with confirm / reject), jobs and their progress.

Every view reads through the selectors (``detection.selectors`` over ``evidence_visible_to``) and checks
roles with ``access.selectors``; nothing here serves content. Non-members get 404, never a hint.
"""

from typing import Any, cast

from django.contrib.auth.models import User
from django.http import HttpResponse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access.policy import Action, require, role_may
from access.selectors import case_get_for, case_list
from detection.api.serializers import (
    AcquisitionProgressSerializer,
    AnnotationSerializer,
    DetectorListSerializer,
    JobSerializer,
    ProgressSerializer,
    RescanRequestSerializer,
    ReviewRequestSerializer,
    RunSerializer,
)
from detection.ela import ela_map_serve
from detection.filtersets import AnnotationFilterSet, JobFilterSet, RunFilterSet
from detection.models.runs import JobKind, ReviewStatus
from detection.pipeline import scan_job_create
from detection.selectors import (
    acquisition_progress,
    annotations_visible_to,
    detectors_listed,
    is_administrator,
    job_progress,
    jobs_visible_to,
    runs_visible_to,
)
from detection.services import annotation_review
from evidence.api.views import (
    ITEM_NOT_FOUND,
    LEGAL_BASIS_PARAMETER,
    MEDIA_DENIED,
    REASON_PARAMETER,
    AnyMediaRenderer,
    query_flag,
)
from evidence.models import Acquisition
from evidence.selectors import evidence_get_for
from haetae.api import ErrorSerializer
from haetae.errors import AccessDenied, NotFound
from haetae.toolkit import no_store

_NOT_FOUND = OpenApiResponse(ErrorSerializer, description="Not found among your cases.")


def _full_view_cases(user: Any) -> dict[int, str]:
    """The caller's cases where their role reviews findings (and so sees regions and details)."""
    roles = {case.pk: str(getattr(case, "caller_role", "")) for case in case_list(user=user)}
    return {case_id: role for case_id, role in roles.items() if role_may(role, Action.FINDING_REVIEW)}


class DetectorListView(APIView):
    """The detectors this server knows: installed ones and every version that has run."""

    @extend_schema(
        summary="Detectors and their versions",
        description=(
            "Each detector version's declared provenance (media types, parameters, model SHA-256, model "
            "card, licence, known error rates or 'not validated'), whether it is installed here and "
            "whether it runs automatically on new items; `unavailable` lists plug-ins that failed to load."
        ),
        responses={200: DetectorListSerializer},
    )
    def get(self, request: Request) -> Response:
        detectors, errors = detectors_listed()
        return Response(DetectorListSerializer({"detectors": detectors, "unavailable": errors}).data)


class _CaseRowsViewSet(viewsets.ReadOnlyModelViewSet):
    """Rows of the caller's cases (``get_queryset`` filters by the caller), looked up by numeric id; an id not
    among them is a 404 saying ``missing`` (formatted with the id)."""

    filter_backends = [DjangoFilterBackend]
    lookup_value_regex = r"[0-9]+"
    missing: str

    def get_object(self) -> Any:
        row = self.get_queryset().filter(pk=int(self.kwargs["pk"])).first()
        if row is None:
            raise NotFound(self.missing.format(pk=self.kwargs["pk"]))
        return row


@extend_schema_view(
    list=extend_schema(
        summary="Detector runs on items of your cases",
        description="One run per (item, detector version): status, attempts, timings, and the error if any.",
    ),
    retrieve=extend_schema(summary="One detector run", responses={200: RunSerializer, 404: _NOT_FOUND}),
)
class RunViewSet(_CaseRowsViewSet):
    """Detector runs on items of the caller's cases."""

    serializer_class = RunSerializer
    filterset_class = RunFilterSet
    missing = "no detector run {pk} on items of your cases: check the id"

    def get_queryset(self) -> Any:
        return runs_visible_to(user=self.request.user)


_REVIEW_RESPONSES = {
    200: AnnotationSerializer,
    400: OpenApiResponse(ErrorSerializer, description="No reason given."),
    403: OpenApiResponse(ErrorSerializer, description="Your role on the case may not review findings."),
    404: _NOT_FOUND,
}


@extend_schema_view(
    list=extend_schema(
        summary="Findings on items of your cases",
        description=(
            "Each finding is an investigative lead: `finding` is what the detector said, `provenance` what "
            "produced it, `review` an investigator's conclusion. Members who are not lead, investigator "
            "or analyst see labels and provenance, with `region` and `details` withheld."
        ),
    ),
    retrieve=extend_schema(summary="One finding", responses={200: AnnotationSerializer, 404: _NOT_FOUND}),
)
class AnnotationViewSet(_CaseRowsViewSet):
    """Findings (annotations) on items of the caller's cases, with confirm and reject actions."""

    serializer_class = AnnotationSerializer
    filterset_class = AnnotationFilterSet
    missing = "no finding {pk} on items of your cases: check the id"

    def get_queryset(self) -> Any:
        return annotations_visible_to(user=self.request.user)

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        context["full_roles_cases"] = _full_view_cases(self.request.user)
        return context

    def _review(self, request: Request, decision: str) -> Response:
        annotation = self.get_object()
        case = case_get_for(user=request.user, number=annotation.item.case.number)
        require(case=case, action=Action.FINDING_REVIEW, doing="confirm or reject detector findings")
        form = ReviewRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        reviewed = annotation_review(
            annotation=annotation,
            actor=cast(User, request.user),
            decision=decision,
            reason=form.validated_data["reason"],
        )
        reviewed = self.get_queryset().get(pk=reviewed.pk)
        return Response(self.get_serializer(reviewed).data)

    @extend_schema(
        summary="Confirm a finding",
        description=(
            "An investigator (lead, investigator or analyst on the case) confirms the finding, with a "
            "reason; recorded on the finding and as a finding_reviewed custody event on the item. The "
            "detector's output is never changed."
        ),
        request=ReviewRequestSerializer,
        responses=_REVIEW_RESPONSES,
    )
    @action(detail=True, methods=["post"], serializer_class=AnnotationSerializer)
    def confirm(self, request: Request, pk: str) -> Response:
        return self._review(request, ReviewStatus.CONFIRMED)

    @extend_schema(
        summary="Reject a finding",
        description=(
            "An investigator rejects the finding (a false positive, or not what it claims), with a reason; "
            "recorded on the finding and as a finding_reviewed custody event on the item."
        ),
        request=ReviewRequestSerializer,
        responses=_REVIEW_RESPONSES,
    )
    @action(detail=True, methods=["post"], serializer_class=AnnotationSerializer)
    def reject(self, request: Request, pk: str) -> Response:
        return self._review(request, ReviewStatus.REJECTED)


@extend_schema_view(
    list=extend_schema(
        summary="Detection jobs and their progress",
        description=(
            "Jobs over your cases (administrators also see whole-vault re-scans): after an acquisition, a "
            "re-scan, or a requested detection, each with runs done / total / failed / pending."
        ),
    ),
    retrieve=extend_schema(
        summary="One job, with its progress and newest failures",
        responses={200: JobSerializer, 404: _NOT_FOUND},
    ),
)
class JobViewSet(mixins.CreateModelMixin, _CaseRowsViewSet):
    """Detection jobs: progress for the portal's bars, and re-scans requested through the API."""

    serializer_class = JobSerializer
    filterset_class = JobFilterSet
    missing = "no detection job {pk} among your cases: check the id"

    def get_queryset(self) -> Any:
        return jobs_visible_to(user=self.request.user)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        job = self.get_object()
        progress = job_progress(job=job, user=request.user)
        return Response(JobSerializer(job, context={"progress": progress}).data)

    @extend_schema(
        summary="Re-scan a case (or the whole vault) with a detector",
        description=(
            "Queues the detector's installed version on every item it reads that has no finished run of "
            "that version (failed runs are retried); earlier versions' findings stay. A case re-scan needs "
            "the role lead, investigator or analyst; a whole-vault re-scan needs an administrator. "
            "Follow the job's progress at /api/v1/jobs/{id}/."
        ),
        request=RescanRequestSerializer,
        responses={
            201: JobSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Unknown detector."),
            403: OpenApiResponse(ErrorSerializer, description="Your role may not start a re-scan."),
            404: _NOT_FOUND,
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = RescanRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        number = form.validated_data.get("case")
        case_id = None
        if number:
            case = case_get_for(user=request.user, number=number)
            require(case=case, action=Action.EVIDENCE_INGEST, doing="re-scan its evidence")
            case_id = case.pk
        elif not is_administrator(request.user):
            raise AccessDenied(
                "only an administrator may re-scan the whole vault: name a case ('case') to re-scan one"
            )
        job, _ = scan_job_create(
            kind=JobKind.RESCAN,
            case_id=case_id,
            detector_name=form.validated_data["detector"],
            actor=cast(User, request.user),
            send=True,
        )
        job = self.get_queryset().get(pk=job.pk)
        return Response(
            JobSerializer(job, context={"progress": job_progress(job=job, user=request.user)}).data,
            status=status.HTTP_201_CREATED,
        )


class AcquisitionProgressView(APIView):
    """Detection progress over the items one acquisition took, beside the acquisition's own status."""

    @extend_schema(
        summary="Detection progress of an acquisition",
        description=(
            "Every detector run on the items this acquisition took: done / total / failed / pending, and "
            "the newest failures with what to do. `ingest_status` says whether the ingest itself is still "
            "running (more items, and runs, may come)."
        ),
        responses={200: AcquisitionProgressSerializer, 404: _NOT_FOUND},
    )
    def get(self, request: Request, pk: int) -> Response:
        acquisition = Acquisition.objects.select_related("case").filter(pk=pk).first()
        if acquisition is None:
            raise NotFound(f"no acquisition {pk} in your cases: check the id")
        try:
            case_get_for(user=request.user, number=acquisition.case.number)
        except NotFound:
            raise NotFound(f"no acquisition {pk} in your cases: check the id") from None
        progress = acquisition_progress(acquisition=acquisition, user=request.user)
        body = {
            "acquisition": acquisition.pk,
            "case": acquisition.case.number,
            "ingest_status": acquisition.status,
            "detection": ProgressSerializer(progress).data,
        }
        return Response(AcquisitionProgressSerializer(body).data)


class EvidenceElaView(APIView):
    """An item's error level analysis map, made on demand: blurred unless asked otherwise."""

    renderer_classes = [JSONRenderer, AnyMediaRenderer]

    @extend_schema(
        summary="An item's ELA map: blurred unless asked otherwise",
        description=(
            "The error level analysis map of a JPEG item (jpeg-forensics' analyst aid, not a verdict), made "
            "the first time anyone opens it and stored as a derivative (a `derived` custody event; header "
            "X-Haetae-Derivative-SHA256). By default blurred with the preview recipe and recorded as "
            "`preview_served`. `blur=0` is a content view: it needs a `reason` (and `legal_basis` where "
            "required) and records `viewed`. victim_support and auditor never receive it."
        ),
        parameters=[
            OpenApiParameter("blur", OpenApiTypes.BOOL, description="0 for the unblurred map (default 1)."),
            REASON_PARAMETER,
            LEGAL_BASIS_PARAMETER,
        ],
        responses={
            (200, "image/*"): OpenApiTypes.BINARY,
            400: ErrorSerializer,
            403: MEDIA_DENIED,
            404: ITEM_NOT_FOUND,
            409: ErrorSerializer,
        },
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        item = evidence_get_for(user=request.user, item_id=pk)
        ela = ela_map_serve(
            item=item,
            actor=cast(User, request.user),
            blur=query_flag(request, "blur", True),
            purpose=request.query_params.get("reason", ""),
            legal_basis=request.query_params.get("legal_basis", ""),
        )
        response = HttpResponse(ela.data, content_type=ela.mime)
        response["X-Haetae-Derivative-SHA256"] = ela.derivative.blob_id
        response["X-Haetae-Preview"] = "blurred" if ela.blurred else "unblurred"
        extension = "jpg" if ela.mime == "image/jpeg" else "png"
        response["Content-Disposition"] = f'inline; filename="item-{item.pk}-ela.{extension}"'
        no_store(response)
        return response
