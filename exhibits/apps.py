"""Exhibits, signed reports, export bundles and interchange exports."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExhibitsConfig(AppConfig):
    name = "exhibits"
    verbose_name = _("Exhibits, reports and bundles")

    def ready(self) -> None:
        # The prosecutor rule (access) needs which items are in shared exhibits: provided from here.
        from access import hooks
        from exhibits.selectors import shared_exhibit_numbers_of, shared_item_ids_of

        hooks.provide_shared_items(item_ids=shared_item_ids_of, exhibit_numbers=shared_exhibit_numbers_of)
        # Services queue our tasks by name (they never import this module): register them in every process.
        from exhibits import tasks  # noqa: F401
