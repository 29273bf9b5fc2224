"""The vault: blobs, evidence items, acquisitions, the custody ledger and its checkpoints."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvidenceConfig(AppConfig):
    name = "evidence"
    verbose_name = _("Evidence vault")

    def ready(self) -> None:
        # The ground floor records case events in our ledger and counts our items without importing us.
        from access import hooks
        from evidence import tasks  # noqa: F401 - services queue our tasks by name: register them everywhere
        from evidence.custody import case_events_append
        from evidence.imaging import pillow_backstop
        from evidence.selectors import case_list_item_counts

        hooks.provide_case_event_writer(case_events_append)
        hooks.provide_case_list_annotator(case_list_item_counts)
        pillow_backstop()
