"""Finding things: the case's text index (OCR, names, metadata, documents, messages, prompts) and timeline."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = _("Search")

    def ready(self) -> None:
        # Providers of text, and the lower floors' listeners that keep the index in step (docs/search.md).
        from detection.listeners import review_listeners, run_listeners
        from search.providers import ItemProvider, register
        from search.services import index_finding_reviewed, index_run_stored

        register(ItemProvider())
        if index_run_stored not in run_listeners:
            run_listeners.append(index_run_stored)
        if index_finding_reviewed not in review_listeners:
            review_listeners.append(index_finding_reviewed)
