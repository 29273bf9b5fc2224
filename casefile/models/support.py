"""Victim support: one support file per victim, kept by support workers; never any media."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casefile.models.people import Person


class SupportStatus(models.TextChoices):
    INTAKE = "intake", _("intake")
    ACTIVE = "active", _("active")
    MONITORING = "monitoring", _("monitoring")
    CLOSED = "closed", _("closed")


class SupportFile(models.Model):
    """A victim's support file: status and the assigned support worker (who may read the identity)."""

    person = models.OneToOneField(Person, on_delete=models.PROTECT, related_name="support_file")
    status = models.CharField(max_length=16, choices=SupportStatus.choices, default=SupportStatus.INTAKE)
    assigned_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    opened_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"support file for {self.person}"
