"""Captures of reported URLs: who asked, what became of it, and the acquisition holding its files."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from captures.choices import CaptureStatus
from haetae.fields import user_ref


class Capture(models.Model):
    """One URL captured (or not) for a case; its files are the items of ``acquisition``."""

    case = models.ForeignKey("access.Case", on_delete=models.PROTECT, related_name="captures")
    url = models.TextField()
    status = models.CharField(max_length=16, choices=CaptureStatus.choices, default=CaptureStatus.REQUESTED)
    reason = models.TextField(blank=True)
    requested_by = user_ref()
    requested_role = models.CharField(max_length=32, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    final_url = models.TextField(blank=True)
    resolved_ip = models.CharField(max_length=64, blank=True)
    user_agent = models.TextField(blank=True)
    # capture.json: headers, TLS chain, redirects, limits reached, addresses refused (also an item).
    facts = models.JSONField(default=dict, blank=True)
    acquisition = models.ForeignKey(
        "evidence.Acquisition", on_delete=models.PROTECT, null=True, blank=True, related_name="captures"
    )

    class Meta:
        verbose_name = _("capture")
        verbose_name_plural = _("captures")
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["case", "requested_at"], name="capture_case_requested")]

    def __str__(self) -> str:
        return f"capture {self.pk} ({self.status})"
