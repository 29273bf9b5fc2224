"""Capture of a reported URL for court: WARC/WACZ, screenshot, DOM text, network facts, trusted time."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CapturesConfig(AppConfig):
    name = "captures"
    verbose_name = _("Captures")
