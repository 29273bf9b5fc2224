"""Shapes of the detection API. A finding's detector output and its human review are separate objects.

Members whose role reviews findings (lead, investigator, analyst) see everything a detector said; other
members (prosecutor, victim support, auditor) see that runs exist, their provenance and labels, but not
regions or details, which describe the content itself (box positions, generator prompts).
"""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from detection.models import Annotation, DetectionRun, ScanJob
from detection.models.runs import ReviewStatus


class DetectorVersionSerializer(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.CharField()
    model_sha256 = serializers.CharField(allow_blank=True)


class DetectorSerializer(serializers.Serializer):
    """A detector version: what it declares about itself (its provenance) and whether it is in use."""

    name = serializers.CharField()
    version = serializers.CharField()
    media_types = serializers.ListField(child=serializers.CharField())
    parameters = serializers.DictField()
    model_sha256 = serializers.CharField(allow_blank=True)
    model_card = serializers.CharField(allow_blank=True)
    licence = serializers.CharField(allow_blank=True)
    validation = serializers.CharField(allow_blank=True)
    installed = serializers.BooleanField(help_text="Installed in this server process (the API's).")
    enabled = serializers.BooleanField(help_text="Queued automatically on new items.")


class DetectorListSerializer(serializers.Serializer):
    detectors = DetectorSerializer(many=True)
    unavailable = serializers.DictField(
        child=serializers.CharField(), help_text="Detector sources left out, and why (by source)."
    )


class RunSerializer(serializers.ModelSerializer):
    """One detector version over one item: status, timings, and an error a person can act on."""

    case = serializers.CharField(source="item.case.number", read_only=True)
    detector = serializers.SerializerMethodField()
    annotation_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = DetectionRun
        fields = [
            "id",
            "item",
            "case",
            "detector",
            "job",
            "status",
            "attempts",
            "input_sha256",
            "queued_at",
            "started_at",
            "finished_at",
            "duration_ms",
            "error",
            "annotation_count",
        ]
        read_only_fields = fields

    @extend_schema_field(DetectorVersionSerializer)
    def get_detector(self, run: DetectionRun) -> dict[str, Any]:
        return {
            "name": run.detector.name,
            "version": run.detector.version,
            "model_sha256": run.detector.model_sha256,
        }


class FindingSerializer(serializers.Serializer):
    """What the detector said. ``region`` and ``details`` are null for roles that do not review findings."""

    label = serializers.CharField()  # type: ignore[assignment] # a field, not Field.label
    category = serializers.CharField(allow_blank=True)
    score = serializers.FloatField(allow_null=True)
    region = serializers.DictField(allow_null=True, help_text="{x, y, w, h} in pixels")
    time_start_ms = serializers.IntegerField(allow_null=True)
    time_end_ms = serializers.IntegerField(allow_null=True)
    details = serializers.DictField(allow_null=True)
    withheld = serializers.BooleanField(help_text="true when region and details are withheld for your role")


class ProvenanceSerializer(serializers.Serializer):
    """Exactly what produced the finding, copied onto it when it was stored."""

    detector = serializers.CharField()
    version = serializers.CharField()
    model_sha256 = serializers.CharField(allow_blank=True)
    parameters = serializers.DictField()
    input_sha256 = serializers.CharField()
    ran_at = serializers.DateTimeField()


class ReviewSerializer(serializers.Serializer):
    """The investigator's conclusion, kept apart from the detector's output."""

    status = serializers.ChoiceField(choices=ReviewStatus.choices)
    by = serializers.CharField(allow_null=True)
    at = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)


class AnnotationSerializer(serializers.ModelSerializer):
    """A finding: an investigative lead with its provenance, and the human review beside it."""

    case = serializers.CharField(source="item.case.number", read_only=True)
    finding = serializers.SerializerMethodField()
    provenance = serializers.SerializerMethodField()
    review = serializers.SerializerMethodField()

    class Meta:
        model = Annotation
        fields = ["id", "item", "case", "run", "finding", "provenance", "review"]
        read_only_fields = fields

    def _full(self, annotation: Annotation) -> bool:
        roles: dict[int, str] = self.context.get("full_roles_cases", {})
        return annotation.item.case_id in roles

    @extend_schema_field(FindingSerializer)
    def get_finding(self, annotation: Annotation) -> dict[str, Any]:
        full = self._full(annotation)
        return {
            "label": annotation.label,
            "category": annotation.category,
            "score": annotation.score,
            "region": annotation.region if full else None,
            "time_start_ms": annotation.time_start_ms,
            "time_end_ms": annotation.time_end_ms,
            "details": annotation.details if full else None,
            "withheld": not full,
        }

    @extend_schema_field(ProvenanceSerializer)
    def get_provenance(self, annotation: Annotation) -> dict[str, Any]:
        return {
            "detector": annotation.detector_name,
            "version": annotation.detector_version,
            "model_sha256": annotation.model_sha256,
            "parameters": annotation.parameters,
            "input_sha256": annotation.input_sha256,
            "ran_at": serializers.DateTimeField().to_representation(annotation.ran_at),
        }

    @extend_schema_field(ReviewSerializer)
    def get_review(self, annotation: Annotation) -> dict[str, Any]:
        reviewer = annotation.reviewed_by
        return {
            "status": annotation.review_status,
            "by": reviewer.get_username() if reviewer is not None else None,
            "at": (
                serializers.DateTimeField().to_representation(annotation.reviewed_at)
                if annotation.reviewed_at
                else None
            ),
            "reason": annotation.review_reason,
        }


class ReviewRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=4000,
        help_text="Required: what you checked, e.g. 'compared with the reference photo; same person'.",
    )


class FailureSerializer(serializers.Serializer):
    run = serializers.IntegerField()
    item = serializers.IntegerField()
    detector = serializers.CharField()
    version = serializers.CharField()
    error = serializers.CharField(help_text="What went wrong and what to do.")
    finished_at = serializers.DateTimeField(allow_null=True)


class ProgressSerializer(serializers.Serializer):
    """Runs done / total / failed (done includes runs skipped for a media type the detector does not read)."""

    total = serializers.IntegerField()
    done = serializers.IntegerField()
    failed = serializers.IntegerField()
    pending = serializers.IntegerField(help_text="Queued or running.")
    finished = serializers.BooleanField()
    by_status = serializers.DictField(
        child=serializers.IntegerField(), required=False, help_text="Runs by status (in a job's detail)."
    )
    failures = FailureSerializer(
        many=True, required=False, help_text="The newest failures (up to 50), in a job's detail."
    )


class JobSerializer(serializers.ModelSerializer):
    """A batch of detection work (after an acquisition, a re-scan, a requested detection) and its progress."""

    case = serializers.CharField(source="case.number", read_only=True, allow_null=True)
    requested_by = serializers.CharField(source="requested_by.get_username", read_only=True, allow_null=True)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = ScanJob
        fields = [
            "id",
            "kind",
            "case",
            "acquisition",
            "detector_name",
            "requested_by",
            "status",
            "created_at",
            "finished_at",
            "progress",
        ]
        read_only_fields = fields

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, job: ScanJob) -> dict[str, Any]:
        detailed = self.context.get("progress")
        if detailed is not None:
            return ProgressSerializer(detailed).data
        pending = getattr(job, "runs_pending", 0)
        return {
            "total": getattr(job, "runs_total", 0),
            "done": getattr(job, "runs_done", 0),
            "failed": getattr(job, "runs_failed", 0),
            "pending": pending,
            "finished": pending == 0,
        }


class RescanRequestSerializer(serializers.Serializer):
    detector = serializers.CharField(help_text="The detector to run (its installed version).")
    case = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="Case number; omit for the whole vault (administrators only).",
    )


class AcquisitionProgressSerializer(serializers.Serializer):
    acquisition = serializers.IntegerField()
    case = serializers.CharField()
    ingest_status = serializers.CharField(help_text="The acquisition's own status: running, completed…")
    detection = ProgressSerializer()
