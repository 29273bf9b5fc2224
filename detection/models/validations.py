"""Measured error rates: one row per run of a detector version over an operator's labelled set.

A row never changes once written; a new run over a new (or the same) set adds a row, and reports cite the
newest one for the detector version and model that made a finding.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from haetae.fields import user_ref


class DetectorValidation(models.Model):
    """TP/FP/TN/FN of one detector version on one labelled set, with Wilson 95 % intervals of its rates."""

    detector = models.ForeignKey("detection.Detector", on_delete=models.PROTECT, related_name="validations")
    detector_name = models.CharField(max_length=100)
    detector_version = models.CharField(max_length=64)
    model_sha256 = models.CharField(max_length=64, blank=True)
    threshold = models.CharField(
        max_length=200, help_text=_("the decision rule: the score a finding must reach, or 'any finding'")
    )
    finding_label = models.CharField(
        max_length=100, blank=True, help_text=_("only findings with this label count (blank: any label)")
    )
    set_sha256 = models.CharField(
        max_length=64,
        help_text=_("SHA-256 over the sorted lines 'relative path, file SHA-256, label' of the labelled set"),
    )
    set_source = models.CharField(max_length=500, help_text=_("the folder or CSV file it was read from"))
    positives = models.PositiveIntegerField(help_text=_("files labelled positive"))
    negatives = models.PositiveIntegerField(help_text=_("files labelled negative"))
    true_positives = models.PositiveIntegerField()
    false_negatives = models.PositiveIntegerField()
    true_negatives = models.PositiveIntegerField()
    false_positives = models.PositiveIntegerField()
    # Rates and bounds as exact decimals (4 places), so the report quotes what is stored.
    tpr = models.DecimalField(max_digits=5, decimal_places=4)
    tpr_low = models.DecimalField(max_digits=5, decimal_places=4)
    tpr_high = models.DecimalField(max_digits=5, decimal_places=4)
    fpr = models.DecimalField(max_digits=5, decimal_places=4)
    fpr_low = models.DecimalField(max_digits=5, decimal_places=4)
    fpr_high = models.DecimalField(max_digits=5, decimal_places=4)
    tool = models.CharField(max_length=100, help_text=_("Haetae version that ran the validation"))
    ran_by = user_ref()
    ran_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("detector validation")
        verbose_name_plural = _("detector validations")
        ordering = ["detector_name", "detector_version", "-ran_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.detector_name} {self.detector_version} validated {self.ran_at:%Y-%m-%d}"
