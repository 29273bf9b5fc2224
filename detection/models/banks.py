"""Hash banks (lists of known hashes), their entries, the matches found against them, and match alerts.

A match is a recorded fact about one lookup (what matched what, at which distance, orientation, threshold
and index state), never deleted. A match of an item against an item in another case alerts both cases'
leads; what each lead may learn about the other case is decided when the alert is shown (docs/hash-banks.md).
"""

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from detection.hashindex import MAX_THRESHOLD
from detection.pdq import DEFAULT_THRESHOLD
from haetae.fields import optional_user_ref, user_ref

hex_pdq = RegexValidator(r"^[0-9a-f]{64}$", "a PDQ hash is 64 lowercase hex digits")
hex_md5 = RegexValidator(r"^[0-9a-f]{32}$", "an MD5 is 32 lowercase hex digits")
hex_sha1 = RegexValidator(r"^[0-9a-f]{40}$", "a SHA-1 is 40 lowercase hex digits")
hex_sha256 = RegexValidator(r"^[0-9a-f]{64}$", "a SHA-256 is 64 lowercase hex digits")


class HashBankKind(models.TextChoices):
    VICTIM_ORIGINALS = "victim_originals", _("a victim's originals")
    KNOWN_MATERIAL = "known_material", _("known material")
    ALLOW_LIST = "allow_list", _("allow list (suppresses matches)")
    IMPORTED = "imported", _("imported list")


class MatchKind(models.TextChoices):
    PDQ = "pdq", _("PDQ perceptual hash")
    MD5 = "md5", _("MD5")
    SHA1 = "sha1", _("SHA-1")
    SHA256 = "sha256", _("SHA-256")


class HashBank(models.Model):
    """A named list of hashes to match evidence against, with its own PDQ threshold."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=24, choices=HashBankKind.choices)
    description = models.TextField(blank=True)
    pdq_threshold = models.PositiveSmallIntegerField(
        default=DEFAULT_THRESHOLD,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_THRESHOLD)],
        help_text=_("PDQ Hamming distance at or below which an entry matches (0–31)"),
    )
    # A victim's bank belongs to the victim's case; other banks are shared by every case.
    case = models.ForeignKey(
        "access.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="hash_banks"
    )
    active = models.BooleanField(default=True)
    created_by = optional_user_ref()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("hash bank")
        verbose_name_plural = _("hash banks")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BankEntry(models.Model):
    """One known picture or file in a bank: any of its PDQ, MD5, SHA-1 and SHA-256, with its source."""

    bank = models.ForeignKey(HashBank, on_delete=models.PROTECT, related_name="entries")
    pdq = models.CharField(max_length=64, blank=True, validators=[hex_pdq])
    md5 = models.CharField(max_length=32, blank=True, validators=[hex_md5])
    sha1 = models.CharField(max_length=40, blank=True, validators=[hex_sha1])
    sha256 = models.CharField(max_length=64, blank=True, validators=[hex_sha256])
    source = models.CharField(max_length=300, blank=True, help_text=_("where the hash came from"))
    label = models.CharField(max_length=300, blank=True)
    added_by = optional_user_ref()
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("bank entry")
        verbose_name_plural = _("bank entries")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["md5"]),
            models.Index(fields=["sha1"]),
            models.Index(fields=["sha256"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(pdq="", md5="", sha1="", sha256=""), name="bankentry_has_a_hash"
            )
        ]

    def __str__(self) -> str:
        return f"entry {self.pk} of {self.bank_id}"


class Match(models.Model):
    """One recorded match: an item against a bank entry, or against an item in another case."""

    item = models.ForeignKey("evidence.EvidenceItem", on_delete=models.PROTECT, related_name="hash_matches")
    entry = models.ForeignKey(BankEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    other_item = models.ForeignKey(
        "evidence.EvidenceItem", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=8, choices=MatchKind.choices)
    distance = models.PositiveSmallIntegerField(default=0, help_text=_("PDQ bits differing; 0 for digests"))
    # PDQ: the orientation of the item that matched (the item so rotated/flipped looks like the other).
    orientation = models.CharField(max_length=16, blank=True)
    threshold = models.PositiveSmallIntegerField(default=0)
    index_version = models.CharField(max_length=64, blank=True)
    # The annotation whose hash was looked up (PDQ), and the other item's annotation for item ↔ item.
    annotation = models.ForeignKey(
        "detection.Annotation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    other_annotation = models.ForeignKey(
        "detection.Annotation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # An allow-list entry the item also matched: the match is kept but raises no alert.
    suppressed_by = models.ForeignKey(
        BankEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    matched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("match")
        verbose_name_plural = _("matches")
        ordering = ["id"]
        indexes = [models.Index(fields=["item", "kind"]), models.Index(fields=["other_item"])]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(entry__isnull=False, other_item__isnull=True)
                    | models.Q(entry__isnull=True, other_item__isnull=False)
                ),
                name="match_entry_or_other_item",
            )
        ]

    def __str__(self) -> str:
        target = f"entry {self.entry_id}" if self.entry_id else f"item {self.other_item_id}"
        return f"item {self.item_id} ~ {target} ({self.kind}, {self.distance})"


class MatchAlert(models.Model):
    """A cross-case match shown to one lead of one of the two cases, until they mark it seen."""

    match = models.ForeignKey(Match, on_delete=models.PROTECT, related_name="alerts")
    recipient = user_ref()
    # The recipient's own case (the side of the match they lead).
    case = models.ForeignKey("access.Case", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("match alert")
        verbose_name_plural = _("match alerts")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["match", "recipient", "case"], name="matchalert_unique")
        ]

    def __str__(self) -> str:
        return f"alert {self.pk} for {self.recipient_id} on match {self.match_id}"
