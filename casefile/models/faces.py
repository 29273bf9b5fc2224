"""Consented reference photos of a victim, held in the restricted store and matched against a case's faces."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casefile.models.people import Person


class ReferencePhoto(models.Model):
    """A photo of a victim, given with consent, whose face embedding suggests which items depict them.

    The bytes live encrypted in the vault (a Blob, never an evidence item); only the case lead and the
    victim's assigned support worker may add or see them (``casefile.faces``). Withdrawing consent stops
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
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.TextField(blank=True)

    class Meta:
        verbose_name = _("reference photo")
        verbose_name_plural = _("reference photos")
        ordering = ["person", "id"]

    def __str__(self) -> str:
        return f"reference photo {self.pk} of {self.person}"
