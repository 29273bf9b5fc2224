"""Destruction orders (which items of a case go, on what legal basis, who asked, authorised and witnessed)
and the Korean procedure records: scene hash confirmations, items unrelated to the warrant and their return
or deletion, and the procedure documents issued."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from evidence.models import record_salt_new
from haetae.fields import optional_user_ref, user_ref
from records.choices import (
    DestructionOrderStatus,
    DestructionOutcome,
    ProcedureDocumentKind,
    UnrelatedDisposalKind,
    UnrelatedMarkStatus,
)


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
    requested_by = user_ref()
    requested_at = models.DateTimeField(default=timezone.now)
    authorised_by = optional_user_ref()
    authorised_at = models.DateTimeField(null=True, blank=True)
    witnessed_by = optional_user_ref()
    witnessed_at = models.DateTimeField(null=True, blank=True)
    executed_by = optional_user_ref()
    executed_at = models.DateTimeField(null=True, blank=True)
    refused_by = optional_user_ref()
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


class SceneConfirmation(models.Model):
    """전자정보 확인서 / 해시값 확인서: the hashes computed at the scene, who computed them, who witnessed,
    and whether the person searched refused to sign; entered by the investigator, then printed."""

    case = models.ForeignKey("access.Case", on_delete=models.PROTECT, related_name="scene_confirmations")
    acquisition = models.ForeignKey(
        "evidence.Acquisition", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    number = models.CharField(max_length=16)  # H-001, per case, never reused
    subject = models.TextField(help_text=_("what was hashed: the image file or the files, and the device"))
    # [{"name": …, "algorithm": "SHA-256", "value": hex}], as read out at the scene.
    hashes = models.JSONField(default=list)
    tool = models.CharField(max_length=200, blank=True)
    computed_by = models.CharField(max_length=200)
    computed_at = models.DateTimeField()
    place = models.CharField(max_length=300, blank=True)
    person_searched = models.CharField(max_length=200, blank=True)
    witness_name = models.CharField(max_length=200, blank=True)
    witness_relation = models.CharField(max_length=200, blank=True)
    participant_refused = models.BooleanField(default=False)
    refusal_reason = models.TextField(blank=True)
    recorded_by = user_ref()
    recorded_at = models.DateTimeField(default=timezone.now)
    # The ledger holds the hashes in clear and the rest only as a salted SHA-256 (names stay out of it).
    record_salt = models.CharField(max_length=64, default=record_salt_new)
    record_sha256 = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("scene hash confirmation")
        verbose_name_plural = _("scene hash confirmations")
        ordering = ["case_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["case", "number"], name="sceneconfirmation_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.number}"


class UnrelatedDisposal(models.Model):
    """The return or deletion of items marked unrelated to the warrant, with the person searched's
    confirmation (or their refusal to confirm)."""

    case = models.ForeignKey("access.Case", on_delete=models.PROTECT, related_name="unrelated_disposals")
    number = models.CharField(max_length=16)  # U-001, per case
    kind = models.CharField(max_length=16, choices=UnrelatedDisposalKind.choices)
    done_by = user_ref()
    done_at = models.DateTimeField(default=timezone.now)
    person_searched = models.CharField(max_length=200)
    confirmation = models.TextField(blank=True, help_text=_("how the person searched confirmed it"))
    person_refused = models.BooleanField(default=False)
    refusal_reason = models.TextField(blank=True)
    handover = models.TextField(blank=True, help_text=_("what was handed back, on what medium, to whom"))

    class Meta:
        verbose_name = _("return or deletion of unrelated items")
        verbose_name_plural = _("returns and deletions of unrelated items")
        ordering = ["case_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["case", "number"], name="unrelateddisposal_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.number} ({self.kind})"


class UnrelatedMark(models.Model):
    """An item marked unrelated to the warrant (selective seizure), with the reason; later withdrawn, or
    closed by a return or deletion."""

    case = models.ForeignKey("access.Case", on_delete=models.PROTECT, related_name="unrelated_marks")
    item = models.ForeignKey("evidence.EvidenceItem", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    status = models.CharField(
        max_length=16, choices=UnrelatedMarkStatus.choices, default=UnrelatedMarkStatus.MARKED
    )
    marked_by = user_ref()
    marked_at = models.DateTimeField(default=timezone.now)
    withdrawn_by = optional_user_ref()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.TextField(blank=True)
    disposal = models.ForeignKey(
        UnrelatedDisposal, on_delete=models.PROTECT, null=True, blank=True, related_name="marks"
    )
    # The item's hashes when marked, and what the erasure did (outcome, times, derivatives).
    sha256 = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=16, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("item marked unrelated to the warrant")
        verbose_name_plural = _("items marked unrelated to the warrant")
        ordering = ["case_id", "item_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["item"], condition=models.Q(status="marked"), name="unrelatedmark_one_open_per_item"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} item {self.item_id} ({self.status})"


class ProcedureDocument(models.Model):
    """One issued procedure document: a signed PDF/A-3 in the vault, its SHA-256 on the case's chain."""

    case = models.ForeignKey("access.Case", on_delete=models.PROTECT, related_name="procedure_documents")
    kind = models.CharField(max_length=24, choices=ProcedureDocumentKind.choices)
    number = models.CharField(max_length=16)  # L-001 (list), H-001 (confirmation), X-001 (export)
    acquisition = models.ForeignKey(
        "evidence.Acquisition", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirmation = models.ForeignKey(
        SceneConfirmation, on_delete=models.PROTECT, null=True, blank=True, related_name="documents"
    )
    bundle = models.ForeignKey(
        "exhibits.ExportBundle", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    issued_by = user_ref()
    issued_at = models.DateTimeField(default=timezone.now)
    blob = models.ForeignKey("evidence.Blob", on_delete=models.PROTECT, related_name="+")
    manifest_sha256 = models.CharField(max_length=64)
    signer_subject = models.CharField(max_length=500, blank=True)
    development_signer = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("procedure document")
        verbose_name_plural = _("procedure documents")
        ordering = ["case_id", "issued_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "kind", "number"], name="proceduredocument_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.number}"
