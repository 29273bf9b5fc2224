"""Detector versions, their runs over items, and the annotations they produce (opinion evidence).

An annotation carries its full provenance (detector, version, model SHA-256, parameters, input SHA-256,
time) copied onto the row, so it stays self-describing even if a detector is later disabled or replaced.
Re-running a detector version on an item adds nothing; a new version adds a new run and new annotations,
and old ones stay.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from haetae.fields import optional_user_ref


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")
    SKIPPED = "skipped", _("skipped (media type not handled)")


class ReviewStatus(models.TextChoices):
    LEAD = "lead", _("investigative lead, not reviewed")
    CONFIRMED = "confirmed", _("confirmed by an investigator")
    REJECTED = "rejected", _("rejected by an investigator")


class JobKind(models.TextChoices):
    ACQUISITION = "acquisition", _("detection after an acquisition")
    RESCAN = "rescan", _("re-scan")
    MANUAL = "manual", _("detection requested")


class JobStatus(models.TextChoices):
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    DONE_WITH_FAILURES = "done_with_failures", _("done, with failures")


class Detector(models.Model):
    """One version of a detector as it ran: what produced a finding, recorded the first time it runs."""

    name = models.CharField(max_length=100)
    version = models.CharField(max_length=64)
    media_types = models.JSONField(default=list)
    parameters = models.JSONField(default=dict)
    model_sha256 = models.CharField(max_length=64, blank=True)
    model_card = models.CharField(max_length=200, blank=True, help_text=_("path of the model card in docs/"))
    licence = models.CharField(max_length=100, blank=True)
    validation = models.TextField(blank=True, help_text=_("known error rates, or 'not validated'"))
    enabled = models.BooleanField(default=True)
    registered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("detector")
        verbose_name_plural = _("detectors")
        ordering = ["name", "version"]
        constraints = [models.UniqueConstraint(fields=["name", "version"], name="detector_unique_version")]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


class ScanJob(models.Model):
    """A batch of detection work (after an acquisition, or a re-scan) with progress counters."""

    kind = models.CharField(max_length=16, choices=JobKind.choices)
    case = models.ForeignKey("access.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    acquisition = models.ForeignKey(
        "evidence.Acquisition", on_delete=models.PROTECT, null=True, blank=True, related_name="scan_jobs"
    )
    detector_name = models.CharField(max_length=100, blank=True, help_text=_("blank: every enabled detector"))
    requested_by = optional_user_ref()
    status = models.CharField(max_length=24, choices=JobStatus.choices, default=JobStatus.RUNNING)
    total = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("scan job")
        verbose_name_plural = _("scan jobs")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"job {self.pk} {self.kind}"


class DetectionRun(models.Model):
    """One detector version over one item: at most one per (item, detector version)."""

    item = models.ForeignKey("evidence.EvidenceItem", on_delete=models.PROTECT, related_name="detection_runs")
    detector = models.ForeignKey(Detector, on_delete=models.PROTECT, related_name="runs")
    job = models.ForeignKey(ScanJob, on_delete=models.PROTECT, null=True, blank=True, related_name="runs")
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    input_sha256 = models.CharField(max_length=64)
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("detection run")
        verbose_name_plural = _("detection runs")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["item", "detector"], name="run_unique_item_detector")]
        indexes = [models.Index(fields=["job", "status"])]

    def __str__(self) -> str:
        return f"run {self.pk} {self.detector_id} on item {self.item_id}: {self.status}"


class Annotation(models.Model):
    """A finding: an investigative lead with its provenance, until an investigator confirms or rejects it."""

    run = models.ForeignKey(DetectionRun, on_delete=models.PROTECT, related_name="annotations")
    item = models.ForeignKey("evidence.EvidenceItem", on_delete=models.PROTECT, related_name="annotations")
    label = models.CharField(max_length=100)
    category = models.CharField(max_length=64, blank=True)
    score = models.FloatField(null=True, blank=True)
    # Region: {"x", "y", "w", "h"} in pixels of the image as the detector saw it (see details for size).
    region = models.JSONField(null=True, blank=True)
    time_start_ms = models.PositiveBigIntegerField(null=True, blank=True)
    time_end_ms = models.PositiveBigIntegerField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    # Provenance, copied from the run so the row speaks for itself.
    detector_name = models.CharField(max_length=100)
    detector_version = models.CharField(max_length=64)
    model_sha256 = models.CharField(max_length=64, blank=True)
    parameters = models.JSONField(default=dict)
    input_sha256 = models.CharField(max_length=64)
    ran_at = models.DateTimeField()
    # The investigator's review (each review is also a custody event on the item).
    review_status = models.CharField(max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.LEAD)
    reviewed_by = optional_user_ref()
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_reason = models.TextField(blank=True)

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        ordering = ["id"]
        indexes = [models.Index(fields=["item", "label"]), models.Index(fields=["label", "item"])]

    def __str__(self) -> str:
        return f"{self.label} on item {self.item_id} by {self.detector_name} {self.detector_version}"
