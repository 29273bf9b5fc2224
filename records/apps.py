"""Retention and destruction: when a closed case's evidence may go, and the witnessed way it goes."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecordsConfig(AppConfig):
    name = "records"
    verbose_name = _("Retention and destruction")
