"""Victim support: support files, consents, restricted notes, takedowns and reappearances."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = _("Victim support")

    def ready(self) -> None:
        # Parties lets a victim's assigned worker read the identity; who is assigned is ours to say.
        from parties import hooks
        from support.selectors import assigned_worker_of

        hooks.provide_assigned_worker(assigned_worker_of)
