"""Choice sets of captures."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaptureStatus(models.TextChoices):
    REQUESTED = "requested", _("requested")
    RUNNING = "running", _("capturing")
    CAPTURED = "captured", _("captured")
    FAILED = "failed", _("failed")
