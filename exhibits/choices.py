"""Choice sets for exhibits, reports and export bundles."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ExhibitStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    PENDING = "pending", _("awaiting a supervisor's approval")
    APPROVED = "approved", _("approved by a supervisor")
    SHARED = "shared", _("shared with the prosecutor")
    WITHDRAWN = "withdrawn", _("withdrawn")


class ReportLanguage(models.TextChoices):
    KO = "ko", "한국어"
    EN = "en", "English"


class ReportStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")
