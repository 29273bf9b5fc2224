"""Admin for detection: an administrator turns a detector version on or off for automatic runs.

Findings are not shown here: they describe case content, which an administrator reads only through a case.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from detection.models import Detector


@admin.register(Detector)
class DetectorAdmin(admin.ModelAdmin):
    """A detector version's recorded provenance (read-only) and whether it runs on new items."""

    list_display = ("name", "version", "enabled", "model_sha256", "licence", "registered_at")
    list_filter = ("enabled", "name")
    list_editable = ("enabled",)
    search_fields = ("name", "version", "model_sha256")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Detector._meta.fields if f.name != "enabled"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a detector version is recorded the first time it is queued, with what it declared

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # findings point at it: provenance is never deleted
