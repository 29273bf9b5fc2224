"""Finding things: the case's text index (OCR, names, metadata, documents, messages, prompts) and timeline."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = _("Search")

    def ready(self) -> None:
        # Providers of text, and the lower floors' listeners that keep the index in step (docs/search.md).
        from captures.listeners import capture_listeners
        from detection.listeners import review_listeners, run_listeners
        from search import timeline_sources
        from search.providers import ItemProvider, register
        from search.providers_sources import CaptureProvider, ChatProvider, MessageProvider, SenderProvider
        from search.services import (
            index_capture_completed,
            index_finding_reviewed,
            index_messages_recorded,
            index_run_stored,
        )
        from sources.listeners import message_listeners

        for provider in (
            ItemProvider(),
            MessageProvider(),
            ChatProvider(),
            SenderProvider(),
            CaptureProvider(),
        ):
            register(provider)
        timeline_sources.register_all()
        if index_messages_recorded not in message_listeners:
            message_listeners.append(index_messages_recorded)
        if index_capture_completed not in capture_listeners:
            capture_listeners.append(index_capture_completed)
        if index_run_stored not in run_listeners:
            run_listeners.append(index_run_stored)
        if index_finding_reviewed not in review_listeners:
            review_listeners.append(index_finding_reviewed)
