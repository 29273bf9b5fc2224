"""Destruction orders: which items of a case go, on what legal basis, who asked, authorised and witnessed."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from records.choices import DestructionOrderStatus, DestructionOutcome


class DestructionOrder(models.Model):
    """One order to destroy items of a case: four steps (requested, authorised, witnessed, executed), three
    different people, each step a custody event; executed once, then certified by a signed PDF."""

    case = models.ForeignKey("access.Case", on_delete=models.PROTECT, related_name="destruction_orders")
    number = models.CharField(max_length=16)  # D-001, per case, never reused
    legal_basis = models.TextField(
        help_text=_("e.g. 형사소송법 제219조·제130조, 보존기간 경과 (retention expired)")
    )
    reason = models.TextField(blank=True)
    status = models.CharField(
        max_length=16, choices=DestructionOrderStatus.choices, default=DestructionOrderStatus.REQUESTED
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    authorised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    authorised_at = models.DateTimeField(null=True, blank=True)
    witnessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    witnessed_at = models.DateTimeField(null=True, blank=True)
    executed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    executed_at = models.DateTimeField(null=True, blank=True)
    refused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    refused_reason = models.TextField(blank=True)
    # The signed certificate, a vault blob like a report.
    certificate = models.ForeignKey(
        "evidence.Blob", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("destruction order")
        verbose_name_plural = _("destruction orders")
        ordering = ["case_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["case", "number"], name="destructionorder_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.number} ({self.status})"


class DestructionOrderItem(models.Model):
    """One item named by an order, its hashes as they were when ordered, and what execution did to it."""

    order = models.ForeignKey(DestructionOrder, on_delete=models.PROTECT, related_name="entries")
    item = models.ForeignKey("evidence.EvidenceItem", on_delete=models.PROTECT, related_name="+")
    sha256 = models.CharField(max_length=64, blank=True)
    md5 = models.CharField(max_length=32, blank=True)
    sha1 = models.CharField(max_length=40, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    outcome = models.CharField(
        max_length=16, choices=DestructionOutcome.choices, default=DestructionOutcome.PENDING
    )
    details = models.JSONField(default=dict, blank=True)  # times of key destruction and removal, derivatives

    class Meta:
        verbose_name = _("item of a destruction order")
        verbose_name_plural = _("items of destruction orders")
        ordering = ["order_id", "item_id"]
        constraints = [models.UniqueConstraint(fields=["order", "item"], name="destructionorderitem_unique")]

    def __str__(self) -> str:
        return f"{self.order} item {self.item_id}"
