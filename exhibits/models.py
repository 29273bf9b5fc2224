"""Exhibits (items put before the court, numbered E-001…), the signed reports of them and export bundles."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access.models import Case
from exhibits.choices import ExhibitStatus, ReportLanguage, ReportStatus
from haetae.fields import optional_user_ref, user_ref


class Exhibit(models.Model):
    """One or more evidence items put forward together, with a description and the investigator's opinion.

    Numbers are per case and never reused: a withdrawn exhibit keeps its row and its number.
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="exhibits")
    sequence = models.PositiveIntegerField(help_text=_("1 for E-001; allocated under the case lock"))
    number = models.CharField(max_length=16, help_text=_("E-001, E-002, …"))
    description = models.TextField()
    # The investigator's own reading, kept apart from detector findings (which stay leads).
    opinion = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=ExhibitStatus.choices, default=ExhibitStatus.DRAFT)
    items = models.ManyToManyField("evidence.EvidenceItem", through="ExhibitItem", related_name="exhibits")
    created_by = user_ref()
    created_at = models.DateTimeField(default=timezone.now)
    approval_requested_by = optional_user_ref()
    approval_requested_at = models.DateTimeField(null=True, blank=True)
    approved_by = optional_user_ref()
    approved_at = models.DateTimeField(null=True, blank=True)
    shared_by = optional_user_ref()
    shared_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = optional_user_ref()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.TextField(blank=True)

    class Meta:
        verbose_name = _("exhibit")
        verbose_name_plural = _("exhibits")
        ordering = ["case_id", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["case", "sequence"], name="exhibit_unique_sequence"),
            models.UniqueConstraint(fields=["case", "number"], name="exhibit_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.case.number} {self.number}"


class ExhibitItem(models.Model):
    """An item in an exhibit, in the order the exhibit lists it."""

    exhibit = models.ForeignKey(Exhibit, on_delete=models.PROTECT, related_name="exhibit_items")
    item = models.ForeignKey("evidence.EvidenceItem", on_delete=models.PROTECT, related_name="exhibit_items")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("exhibit item")
        verbose_name_plural = _("exhibit items")
        ordering = ["exhibit_id", "position"]
        constraints = [models.UniqueConstraint(fields=["exhibit", "item"], name="exhibititem_unique_item")]

    def __str__(self) -> str:
        return f"{self.exhibit_id}: item {self.item_id}"


class Report(models.Model):
    """One generated, signed report PDF (a version; regenerating adds a version, never overwrites).

    The row is created ``queued`` when generation is asked for, so progress can be shown; the PDF itself is a
    vault object named by ``sha256`` once ``done``.
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="reports")
    report_id = models.CharField(max_length=64, help_text=_("stable for the same case, scope and language"))
    version = models.PositiveIntegerField()
    language = models.CharField(max_length=2, choices=ReportLanguage.choices, default=ReportLanguage.KO)
    exhibits = models.ManyToManyField(Exhibit, related_name="reports")
    scope = models.JSONField(default=list, help_text=_("the exhibit numbers it covers, in order"))
    status = models.CharField(max_length=16, choices=ReportStatus.choices, default=ReportStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text=_("percent"))
    error = models.TextField(blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    signer_subject = models.CharField(max_length=500, blank=True)
    development_signer = models.BooleanField(default=False)
    requested_by = user_ref()
    requested_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["case_id", "report_id", "version"]
        constraints = [models.UniqueConstraint(fields=["report_id", "version"], name="report_unique_version")]

    def __str__(self) -> str:
        return f"{self.report_id} v{self.version}"


class ExportBundle(models.Model):
    """One prosecutor export bundle (ZIP): manifest, signed report, originals encrypted to the recipient."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="export_bundles")
    exhibits = models.ManyToManyField(Exhibit, related_name="export_bundles")
    scope = models.JSONField(default=list, help_text=_("the exhibit numbers it covers, in order"))
    recipient = models.CharField(max_length=300)
    # "x25519:<sha256 of the raw public key>" or "passphrase": how the originals were encrypted.
    recipient_key = models.CharField(max_length=100, blank=True)
    report = models.ForeignKey(Report, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=16, choices=ReportStatus.choices, default=ReportStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text=_("percent"))
    error = models.TextField(blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    requested_by = user_ref()
    requested_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("export bundle")
        verbose_name_plural = _("export bundles")
        ordering = ["case_id", "-requested_at"]

    def __str__(self) -> str:
        return f"{self.case.number} bundle {self.pk}"
