"""People, distribution channels and the typed links between them and evidence.

Victims (and everyone else) appear by pseudonym outside the restricted identity store. Links are
assertions: who made them, when, how sure, on what basis; they are withdrawn with a reason, never deleted.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access.models import Case
from haetae.fields import optional_user_ref, user_ref
from parties.choices import (
    ChannelPlatform,
    ItemPersonRelation,
    LinkConfidence,
    LinkSource,
    PersonChannelRelation,
    PersonKind,
)

# Pseudonym prefixes: V-1, V-2 … for victims, S- for suspects, W- for witnesses, P- for other people.
PSEUDONYM_PREFIX = {
    PersonKind.VICTIM: "V",
    PersonKind.SUSPECT: "S",
    PersonKind.WITNESS: "W",
    PersonKind.OTHER: "P",
}


class Person(models.Model):
    """A victim, suspect, witness or other person in one case.

    ``pseudonym`` (V-1, S-1, W-1, P-1 …, numbered per case and kind) is how the person appears everywhere
    outside the restricted identity store; ``identity_ciphertext`` holds name, birth date, contact and
    identifiers, encrypted with a key derived from the master key, readable only through the identity
    service (parties/services/people.py).
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="people")
    kind = models.CharField(max_length=16, choices=PersonKind.choices)
    pseudonym = models.CharField(max_length=16)
    pseudonym_number = models.PositiveIntegerField(default=0)
    is_minor = models.BooleanField(default=False)
    description = models.TextField(blank=True, help_text=_("non-identifying description"))
    identity_ciphertext = models.BinaryField(blank=True, default=b"")
    identity_key_id = models.CharField(max_length=64, blank=True)
    identity_changed_at = models.DateTimeField(null=True, blank=True)
    created_by = user_ref()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["case", "kind", "pseudonym_number", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "pseudonym"], name="person_unique_pseudonym"),
            models.UniqueConstraint(
                fields=["case", "kind", "pseudonym_number"], name="person_unique_pseudonym_number"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pseudonym} ({self.case_id})"

    @property
    def has_identity(self) -> bool:
        return bool(self.identity_ciphertext)


class PersonAccount(models.Model):
    """An account or handle a (non-victim) person is known to use: a suspect's Telegram name, X handle…"""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="accounts")
    platform = models.CharField(max_length=16, choices=ChannelPlatform.choices)
    handle = models.CharField(max_length=300)
    url = models.URLField(max_length=1000, blank=True)
    note = models.TextField(blank=True)
    added_by = user_ref()
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("person's account")
        verbose_name_plural = _("people's accounts")
        ordering = ["person", "platform", "handle"]
        constraints = [
            models.UniqueConstraint(fields=["person", "platform", "handle"], name="personaccount_unique")
        ]

    def __str__(self) -> str:
        return f"{self.platform}:{self.handle}"


class Channel(models.Model):
    """A place material is distributed: a Telegram channel, an X account, a Discord server, a website."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="channels")
    platform = models.CharField(max_length=16, choices=ChannelPlatform.choices)
    handle = models.CharField(max_length=300, blank=True, help_text=_("e.g. @channelname or invite code"))
    url = models.URLField(max_length=1000, blank=True)
    title = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True)
    recorded_by = user_ref()
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering = ["case", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "platform", "handle"], condition=~Q(handle=""), name="channel_unique_handle"
            ),
            models.UniqueConstraint(
                fields=["case", "platform", "url"], condition=~Q(url=""), name="channel_unique_url"
            ),
            models.CheckConstraint(condition=~Q(handle="", url=""), name="channel_handle_or_url"),
        ]

    def __str__(self) -> str:
        return f"{self.platform}:{self.handle or self.url}"


class ChannelObservation(models.Model):
    """What was seen of a channel at one time: its member count and a note, by whom."""

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="observations")
    observed_at = models.DateTimeField()
    member_count = models.PositiveIntegerField(null=True, blank=True)
    note = models.TextField(blank=True)
    observed_by = user_ref()
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("channel observation")
        verbose_name_plural = _("channel observations")
        ordering = ["channel", "observed_at", "id"]
        indexes = [models.Index(fields=["channel", "observed_at"])]

    def __str__(self) -> str:
        return f"{self.channel} at {self.observed_at:%Y-%m-%d}"


def one_active(*fields: str, name: str) -> models.UniqueConstraint:
    """At most one link that is not withdrawn per ``fields``; a withdrawn link may be asserted again."""
    return models.UniqueConstraint(fields=list(fields), condition=Q(withdrawn_at__isnull=True), name=name)


class Link(models.Model):
    """What every typed link carries: who asserted it, when, how sure, on what basis, and its withdrawal."""

    confidence = models.CharField(max_length=16, choices=LinkConfidence.choices)
    source = models.CharField(max_length=16, choices=LinkSource.choices, default=LinkSource.INVESTIGATOR)
    # The detector finding that suggested the link, when source is detector.
    annotation = models.ForeignKey(
        "detection.Annotation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)
    asserted_by = optional_user_ref()
    asserted_at = models.DateTimeField(default=timezone.now)
    withdrawn_by = optional_user_ref()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.TextField(blank=True)

    class Meta:
        abstract = True
        ordering = ["id"]

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None


class ItemPersonLink(Link):
    """An item depicts a person, or was created / possessed / distributed by one."""

    item = models.ForeignKey("evidence.EvidenceItem", on_delete=models.PROTECT, related_name="person_links")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="item_links")
    relation = models.CharField(max_length=16, choices=ItemPersonRelation.choices)

    class Meta(Link.Meta):
        verbose_name = _("item–person link")
        verbose_name_plural = _("item–person links")
        indexes = [models.Index(fields=["person", "relation"])]
        constraints = [one_active("item", "person", "relation", name="itempersonlink_one_active")]

    def __str__(self) -> str:
        return f"item {self.item_id} {self.relation} {self.person_id}"


class ItemChannelLink(Link):
    """An item was posted in a channel: when, under which message reference, and when first seen there."""

    item = models.ForeignKey("evidence.EvidenceItem", on_delete=models.PROTECT, related_name="channel_links")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="item_links")
    posted_at = models.DateTimeField(null=True, blank=True)
    message_reference = models.CharField(max_length=500, blank=True, help_text=_("e.g. t.me/name/1234"))
    first_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta(Link.Meta):
        verbose_name = _("item–channel link")
        verbose_name_plural = _("item–channel links")
        constraints = [one_active("item", "channel", "message_reference", name="itemchannellink_one_active")]

    def __str__(self) -> str:
        return f"item {self.item_id} posted in {self.channel_id}"


class PersonChannelLink(Link):
    """A person administers, uploads to, or belongs to a channel."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="channel_links")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="person_links")
    relation = models.CharField(max_length=16, choices=PersonChannelRelation.choices)

    class Meta(Link.Meta):
        verbose_name = _("person–channel link")
        verbose_name_plural = _("person–channel links")
        constraints = [one_active("person", "channel", "relation", name="personchannellink_one_active")]

    def __str__(self) -> str:
        return f"{self.person_id} {self.relation} {self.channel_id}"


class ItemDerivationLink(Link):
    """An item was derived from another: a deepfake from its source photo, a crop, a re-encode."""

    item = models.ForeignKey("evidence.EvidenceItem", on_delete=models.PROTECT, related_name="derived_from")
    source_item = models.ForeignKey(
        "evidence.EvidenceItem", on_delete=models.PROTECT, related_name="derivations"
    )

    class Meta(Link.Meta):
        verbose_name = _("item derivation link")
        verbose_name_plural = _("item derivation links")
        constraints = [
            one_active("item", "source_item", name="itemderivationlink_one_active"),
            models.CheckConstraint(
                condition=~Q(item=models.F("source_item")), name="itemderivation_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"item {self.item_id} derived from {self.source_item_id}"


class ReferencePhoto(models.Model):
    """A photo of a victim, given with consent, whose face embedding suggests which items depict them.

    The bytes live encrypted in the vault (a Blob, never an evidence item); only the case lead and the
    victim's assigned support worker may add or see them (``parties.faces``). Withdrawing consent stops
    its use in matching; the row and the custody record stay.
    """

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="reference_photos")
    blob = models.ForeignKey("evidence.Blob", on_delete=models.PROTECT, related_name="+")
    mime = models.CharField(max_length=64)
    consent_reference = models.CharField(
        max_length=300, help_text=_("where the victim's consent is recorded, e.g. the signed form's number")
    )
    # The one face found in the photo: region in pixels of the upright image, 128-d embedding.
    face_region = models.JSONField()
    embedding = models.JSONField()
    detector_version = models.CharField(max_length=64)
    model_sha256 = models.CharField(
        max_length=64, help_text=_("the embedding model; only equal ones compare")
    )
    added_by = user_ref()
    added_at = models.DateTimeField(default=timezone.now)
    withdrawn_by = optional_user_ref()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.TextField(blank=True)

    class Meta:
        verbose_name = _("reference photo")
        verbose_name_plural = _("reference photos")
        ordering = ["person", "id"]

    def __str__(self) -> str:
        return f"reference photo {self.pk} of {self.person}"
