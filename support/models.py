"""Victim support: support files, consents, restricted notes, takedown requests and reappearances.

Support workers track what is being done for a victim without ever seeing the material: items appear only
by id and SHA-256. Every write goes through ``support.services`` and is a case-level custody event.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from haetae.fields import optional_user_ref, user_ref
from parties.models import Person
from support.choices import (
    ConsentGivenBy,
    ConsentKind,
    SupportStatus,
    TakedownAddressee,
    TakedownPlatform,
    TakedownStatus,
)


class SupportFile(models.Model):
    """A victim's support file: status and the assigned support worker (who may read the identity)."""

    person = models.OneToOneField(Person, on_delete=models.PROTECT, related_name="support_file")
    status = models.CharField(max_length=16, choices=SupportStatus.choices, default=SupportStatus.INTAKE)
    assigned_worker = optional_user_ref()
    opened_at = models.DateTimeField(default=timezone.now)
    opened_by = optional_user_ref()
    status_changed_at = models.DateTimeField(default=timezone.now)
    status_changed_by = optional_user_ref()

    class Meta:
        verbose_name = _("support file")
        verbose_name_plural = _("support files")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"support file for {self.person}"


class SupportConsent(models.Model):
    """One consent as given (and perhaps later withdrawn): who gave it, how, and who recorded each step.

    Withdrawn consents stay as history; giving the same consent again is a new row. At most one row per
    file and kind is in force (not withdrawn) at a time.
    """

    support_file = models.ForeignKey(SupportFile, on_delete=models.PROTECT, related_name="consents")
    kind = models.CharField(max_length=32, choices=ConsentKind.choices)
    given_by = models.CharField(max_length=16, choices=ConsentGivenBy.choices, default=ConsentGivenBy.VICTIM)
    given_at = models.DateTimeField()
    given_recorded_by = user_ref()
    given_recorded_at = models.DateTimeField(default=timezone.now)
    how = models.CharField(max_length=200, blank=True, help_text=_("e.g. signed form, in person, by phone"))
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_recorded_by = optional_user_ref()
    withdrawn_recorded_at = models.DateTimeField(null=True, blank=True)
    withdrawn_how = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["support_file", "kind"],
                condition=Q(withdrawn_at__isnull=True),
                name="supportconsent_one_in_force",
            )
        ]

    def __str__(self) -> str:
        state = "withdrawn" if self.withdrawn_at else "in force"
        return f"consent {self.kind} on support file {self.support_file_id} ({state})"

    @property
    def in_force(self) -> bool:
        return self.withdrawn_at is None


class SupportNote(models.Model):
    """A restricted note, sealed at rest with the master key; only victim_support members read it.

    Notes are never edited or deleted: a correction is a new note.
    """

    support_file = models.ForeignKey(SupportFile, on_delete=models.PROTECT, related_name="notes")
    # nonce (12 bytes) || AES-256-GCM ciphertext+tag; associated data binds it to this support file.
    sealed = models.BinaryField()
    key_id = models.CharField(max_length=16)
    written_by = user_ref()
    written_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("restricted note")
        verbose_name_plural = _("restricted notes")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"restricted note {self.pk} on support file {self.support_file_id}"


class TakedownRequest(models.Model):
    """A request to take a target (URL, post, channel) down, with who did each step and when.

    Items are referenced by id (and SHA-256 in the API), never by content.
    """

    support_file = models.ForeignKey(SupportFile, on_delete=models.PROTECT, related_name="takedowns")
    addressee = models.CharField(max_length=16, choices=TakedownAddressee.choices)
    platform = models.CharField(max_length=16, choices=TakedownPlatform.choices)
    target_url = models.URLField(max_length=2000)
    # Free text (blank: none) until it points at parties.Channel; then a nullable FK to it beside this.
    channel_reference = models.CharField(max_length=300, blank=True)
    addressee_contact = models.CharField(
        max_length=300, blank=True, help_text=_("where it went: report form, e-mail address, case desk")
    )
    description = models.TextField(
        blank=True, help_text=_("what is at the target; never the victim's identity")
    )
    items = models.ManyToManyField("evidence.EvidenceItem", blank=True, related_name="+")
    status = models.CharField(max_length=16, choices=TakedownStatus.choices, default=TakedownStatus.DRAFT)
    reference_number = models.CharField(max_length=200, blank=True)
    created_by = user_ref()
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_by = optional_user_ref()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = optional_user_ref()
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_recorded_by = optional_user_ref()
    refused_at = models.DateTimeField(null=True, blank=True)
    refused_recorded_by = optional_user_ref()
    refusal_reason = models.TextField(blank=True)
    # The reappearance this request follows up, when it was drafted from one.
    follows_up = models.ForeignKey(
        "TakedownReappearance", on_delete=models.PROTECT, null=True, blank=True, related_name="follow_ups"
    )

    class Meta:
        verbose_name = _("takedown request")
        verbose_name_plural = _("takedown requests")
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "addressee", "sent_at"])]

    def __str__(self) -> str:
        return f"takedown {self.pk} to {self.addressee} ({self.status})"


class TakedownReappearance(models.Model):
    """A removed target seen again (there or elsewhere); recording one reopens monitoring on the file."""

    takedown = models.ForeignKey(TakedownRequest, on_delete=models.PROTECT, related_name="reappearances")
    seen_at = models.DateTimeField()
    url = models.URLField(max_length=2000)
    note = models.TextField(blank=True)
    recorded_by = user_ref()
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("reappearance")
        verbose_name_plural = _("reappearances")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"reappearance {self.pk} of takedown {self.takedown_id}"
