"""Victim support: support files, consents, restricted notes, takedowns and reappearances."""

from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = "Victim support"
