"""The ground floor: cases, teams, roles, break-glass grants and the need-to-know policy."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = _("Cases and access")
