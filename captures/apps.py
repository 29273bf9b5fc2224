"""Capture of a reported URL for court: WARC/WACZ, screenshot, DOM text, network facts, trusted time."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CapturesConfig(AppConfig):
    name = "captures"
    verbose_name = _("Captures")

    def ready(self) -> None:
        # Services queue our tasks by name (they never import this module): register them in every process.
        from captures import tasks  # noqa: F401
