"""People in a case and what links them to evidence; victims appear by pseudonym outside identity."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casefile.models.case import Case


class PersonKind(models.TextChoices):
    VICTIM = "victim", _("victim")
    SUSPECT = "suspect", _("suspect")
    WITNESS = "witness", _("witness")
    OTHER = "other", _("other")


class LinkConfidence(models.TextChoices):
    CONFIRMED = "confirmed", _("confirmed")
    SUSPECTED = "suspected", _("suspected")


class LinkSource(models.TextChoices):
    INVESTIGATOR = "investigator", _("investigator")
    DETECTOR = "detector", _("detector (a suggestion until confirmed)")


class ItemPersonRelation(models.TextChoices):
    DEPICTS = "depicts", _("item depicts person")
    CREATED_BY = "created_by", _("item created by person")
    POSSESSED_BY = "possessed_by", _("item possessed by person")
    DISTRIBUTED_BY = "distributed_by", _("item distributed by person")


class Person(models.Model):
    """A victim, suspect, witness or other person in one case.

    ``pseudonym`` (V-1, S-1, W-1, P-1 …, numbered per case and kind) is how the person appears everywhere
    outside the restricted identity store; ``identity_ciphertext`` holds name, birth date, contact and
    identifiers, encrypted with the master key, readable only through the identity service.
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="people")
    kind = models.CharField(max_length=16, choices=PersonKind.choices)
    pseudonym = models.CharField(max_length=16)
    is_minor = models.BooleanField(default=False)
    description = models.TextField(blank=True, help_text=_("non-identifying description"))
    identity_ciphertext = models.BinaryField(blank=True, default=b"")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["case", "kind", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "pseudonym"], name="person_unique_pseudonym")]

    def __str__(self) -> str:
        return f"{self.pseudonym} ({self.case_id})"


class ItemPersonLink(models.Model):
    """A typed, attributed assertion that an item relates to a person. Withdrawn, never deleted."""

    item = models.ForeignKey("evidence.EvidenceItem", on_delete=models.PROTECT, related_name="person_links")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="item_links")
    relation = models.CharField(max_length=16, choices=ItemPersonRelation.choices)
    confidence = models.CharField(max_length=16, choices=LinkConfidence.choices)
    source = models.CharField(max_length=16, choices=LinkSource.choices, default=LinkSource.INVESTIGATOR)
    # The detector finding that suggested the link, when source is detector.
    annotation = models.ForeignKey(
        "detection.Annotation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)
    asserted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    asserted_at = models.DateTimeField(default=timezone.now)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["person", "relation"])]

    def __str__(self) -> str:
        return f"item {self.item_id} {self.relation} {self.person_id}"
