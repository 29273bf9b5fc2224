"""Choice sets for cases."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseStatus(models.TextChoices):
    OPEN = "open", _("open")
    REFERRED = "referred", _("referred to prosecution")
    CLOSED = "closed", _("closed")
    ARCHIVED = "archived", _("archived")


class CaseMemberRole(models.TextChoices):
    LEAD = "lead", _("lead investigator")
    INVESTIGATOR = "investigator", _("investigator")
    ANALYST = "analyst", _("analyst")
    PROSECUTOR = "prosecutor", _("prosecutor")
    VICTIM_SUPPORT = "victim_support", _("victim support")
    AUDITOR = "auditor", _("auditor")
