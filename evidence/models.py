"""The vault: content-addressed blobs, evidence items, acquisitions, and the custody ledger."""

import secrets

from django.db import models
from django.db.models import F, Q, Value
from django.db.models.fields.json import KeyTransform
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from evidence.choices import (
    AcquisitionStatus,
    CustodyAction,
    DerivativeKind,
    ItemKind,
    ItemStatus,
    TimestampStatus,
    TimestampSubject,
)
from haetae.fields import optional_user_ref, user_ref

RECORD_SALT_BYTES = 32


def record_salt_new() -> str:
    """A fresh random salt (hex) for the ledger's commitments to one record's identifying facts."""
    return secrets.token_hex(RECORD_SALT_BYTES)


class Blob(models.Model):
    """Distinct bytes in the vault, addressed by SHA-256 and encrypted at rest (one row per content)."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    md5 = models.CharField(max_length=32, db_index=True)
    sha1 = models.CharField(max_length=40, db_index=True)
    size = models.PositiveBigIntegerField()
    mime = models.CharField(max_length=255, blank=True)
    encryption_scheme = models.CharField(max_length=64)
    key_id = models.CharField(max_length=64)
    stored_at = models.DateTimeField(default=timezone.now)
    # Set when the content was crypto-erased under a destruction order (the row and its hashes stay).
    destroyed_at = models.DateTimeField(null=True, blank=True)
    destruction_reference = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = _("stored blob")
        verbose_name_plural = _("stored blobs")

    def __str__(self) -> str:
        return self.sha256


class Acquisition(models.Model):
    """One ingest run: who, when, with what tool, under which seizure, and a manifest of what it took."""

    case = models.ForeignKey("access.Case", on_delete=models.PROTECT, related_name="acquisitions")
    actor = user_ref()
    actor_role = models.CharField(max_length=32, blank=True)
    status = models.CharField(
        max_length=16, choices=AcquisitionStatus.choices, default=AcquisitionStatus.RUNNING
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    tool_name = models.CharField(max_length=64)
    tool_version = models.CharField(max_length=64)
    source_description = models.TextField(blank=True)
    seizure_reference = models.CharField(max_length=300, blank=True)
    seal_numbers = models.JSONField(default=list, blank=True)
    location = models.CharField(max_length=300, blank=True)
    participants = models.JSONField(default=list, blank=True)
    # The ledger holds only salted hashes of the facts that may name a person (evidence.records); erasing
    # the salt with them leaves the ledger's hash unlinkable to any guess.
    record_salt = models.CharField(max_length=64, blank=True, default=record_salt_new)
    counts = models.JSONField(default=dict, blank=True)
    manifest_sha256 = models.CharField(max_length=64, blank=True)
    host = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)
    work_token = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        verbose_name = _("acquisition")
        verbose_name_plural = _("acquisitions")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"acquisition {self.pk} ({self.case_id})"


class EvidenceItem(models.Model):
    """A blob as found in one case: where it was, inside what, when, by whom."""

    case = models.ForeignKey("access.Case", on_delete=models.PROTECT, related_name="items")
    acquisition = models.ForeignKey(Acquisition, on_delete=models.PROTECT, related_name="items")
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, null=True, blank=True, related_name="items")
    kind = models.CharField(max_length=16, choices=ItemKind.choices)
    status = models.CharField(max_length=16, choices=ItemStatus.choices)
    status_reason = models.TextField(blank=True)
    source = models.CharField(max_length=300, blank=True)
    original_name = models.TextField()
    original_path = models.TextField()
    original_path_raw = models.BinaryField()
    member_index = models.PositiveIntegerField(null=True, blank=True)
    locator_sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    mime = models.CharField(max_length=255, blank=True)
    link_target = models.TextField(blank=True)
    file_modified_at = models.DateTimeField(null=True, blank=True)
    file_accessed_at = models.DateTimeField(null=True, blank=True)
    file_changed_at = models.DateTimeField(null=True, blank=True)
    file_created_at = models.DateTimeField(null=True, blank=True)
    acquired_by = user_ref()
    acquired_at = models.DateTimeField(default=timezone.now)
    # See Acquisition.record_salt: the name, paths and source are in the ledger only as salted hashes.
    record_salt = models.CharField(max_length=64, blank=True, default=record_salt_new)

    class Meta:
        verbose_name = _("evidence item")
        verbose_name_plural = _("evidence items")
        ordering = ["id"]
        constraints = [
            # The same finding (case, source, place) of the same bytes is one item: re-runs add nothing.
            models.UniqueConstraint(fields=["case", "locator_sha256", "blob"], name="item_unique_finding"),
            models.UniqueConstraint(
                fields=["case", "locator_sha256"],
                condition=Q(blob__isnull=True),
                name="item_unique_rejected_finding",
            ),
        ]
        # The portal's evidence list pages by keyset on (sort key, id) within a case: one index per sort,
        # so a deep page costs what the first does. A rejected finding has no size: it sorts as -1.
        indexes = [
            models.Index(fields=["case", "acquired_at", "id"], name="item_case_acquired_id"),
            models.Index(fields=["case", "original_name", "id"], name="item_case_name_id"),
            models.Index(F("case"), Coalesce(F("size"), Value(-1)), F("id"), name="item_case_size_id"),
        ]

    def __str__(self) -> str:
        return f"item {self.pk} {self.original_path}"

    @property
    def sha256(self) -> str | None:
        return self.blob_id


class CustodyEvent(models.Model):
    """One append-only ledger entry: a leaf of the global Merkle log and a link in its item's chain."""

    seq = models.PositiveBigIntegerField(unique=True)
    item = models.ForeignKey(
        EvidenceItem, on_delete=models.PROTECT, null=True, blank=True, related_name="custody_events"
    )
    case = models.ForeignKey("access.Case", on_delete=models.PROTECT, related_name="custody_events")
    action = models.CharField(max_length=32, choices=CustodyAction.choices)
    actor = optional_user_ref()
    actor_name = models.CharField(max_length=150, blank=True)
    actor_role = models.CharField(max_length=32, blank=True)
    occurred_at = models.DateTimeField()
    location = models.CharField(max_length=300, blank=True)
    purpose = models.TextField(blank=True)
    legal_authority = models.CharField(max_length=300, blank=True)
    from_custodian = models.CharField(max_length=300, blank=True)
    to_custodian = models.CharField(max_length=300, blank=True)
    seal_numbers = models.JSONField(default=list, blank=True)
    sha256_before = models.CharField(max_length=64, blank=True)
    sha256_after = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    leaf_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("custody event")
        verbose_name_plural = _("custody events")
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["item", "seq"]),
            models.Index(fields=["case", "seq"]),
            # A user's own content views in a period (the portal's exposure count).
            models.Index(fields=["actor", "action", "occurred_at"], name="custody_actor_action_time"),
            # A case's events of one action, newest first: incidents on the dashboard, the ledger's filter.
            models.Index(fields=["case", "action", "seq"], name="custody_case_action_seq"),
            # A verification run's events (their details carry the run's id): the auditor's run pages.
            models.Index(
                KeyTransform("run", "details"),
                "case",
                name="custody_verification_run",
                condition=Q(action__in=["verified", "incident"]),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"


class Checkpoint(models.Model):
    """A signed tree head: the Merkle root of the first tree_size ledger events, signed with Ed25519."""

    tree_size = models.PositiveBigIntegerField()
    root_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    key_id = models.CharField(max_length=64)
    public_key = models.CharField(max_length=64)
    signature = models.CharField(max_length=128)

    class Meta:
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")
        ordering = ["tree_size", "id"]

    def __str__(self) -> str:
        return f"checkpoint size={self.tree_size} root={self.root_hash[:12]}"


class TimestampToken(models.Model):
    """One RFC 3161 request for a checkpoint or an acquisition manifest: the token, or why there is none.

    A token is an attestation about records already in the ledger, not a change to evidence, so it is not
    itself a custody event (which would need a new checkpoint, and a new token, for ever). A failed request
    is kept with its reason; a later retry adds a row.
    """

    subject = models.CharField(max_length=16, choices=TimestampSubject.choices)
    checkpoint = models.ForeignKey(
        Checkpoint, on_delete=models.PROTECT, null=True, blank=True, related_name="timestamps"
    )
    acquisition = models.ForeignKey(
        Acquisition, on_delete=models.PROTECT, null=True, blank=True, related_name="timestamps"
    )
    message_sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=TimestampStatus.choices)
    reason = models.TextField(blank=True)
    tsa_url = models.CharField(max_length=500, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    nonce = models.CharField(max_length=40, blank=True)
    token = models.BinaryField(blank=True, default=b"")
    gen_time = models.DateTimeField(null=True, blank=True)
    serial_number = models.CharField(max_length=64, blank=True)
    policy = models.CharField(max_length=128, blank=True)
    tsa_subject = models.CharField(max_length=500, blank=True)
    tsa_certificate_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("trusted timestamp")
        verbose_name_plural = _("trusted timestamps")
        ordering = ["id"]
        indexes = [models.Index(fields=["subject", "status"], name="timestamp_subject_status")]

    def __str__(self) -> str:
        return f"timestamp {self.pk} of {self.subject} ({self.status})"


class Derivative(models.Model):
    """Bytes made from evidence (a blurred preview, a frame, an ELA map): labelled, hashed, not evidence.

    A derivative is keyed by the source content, its kind and its recipe (tool, version, parameters), so
    it is made once and reused. Its bytes are a vault blob like any other: encrypted, content-addressed
    and verified on read (an unblurred frame is as sensitive as the original).
    """

    source = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="derivatives")
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="derived_from")
    kind = models.CharField(max_length=32, choices=DerivativeKind.choices)
    recipe = models.JSONField(default=dict)
    recipe_key = models.CharField(max_length=64)
    # Where the derivative sits inside its source, e.g. a frame's time in milliseconds.
    position_ms = models.PositiveBigIntegerField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("derivative")
        verbose_name_plural = _("derivatives")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "kind", "recipe_key"], name="derivative_unique_recipe"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.source_id[:12]}"
