"""Admin for detection: detector versions on or off, hash banks and their entries, model packs.

Findings and matches are not shown here: they describe case content, which an administrator reads only
through a case. Banks may be described, re-thresholded and switched off; their entries are added by
``manage.py import_bank`` or the API (so evidence already in the vault is looked up too) and never
deleted. Model packs are imported and enabled with ``import_model`` / ``model_packs`` (which check the
file's SHA-256 and offer a re-scan); here they are read-only. Detector validations are recorded by
``validate_detector`` (which runs the detector over the labelled set) and are read-only here.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from detection.models import BankEntry, Detector, DetectorValidation, HashBank, ModelPack
from haetae.toolkit import ReadOnlyAdmin


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


@admin.register(HashBank)
class HashBankAdmin(ReadOnlyAdmin):
    changeable = True  # get_readonly_fields below says what, if anything, may change
    list_display = ("name", "kind", "pdq_threshold", "active", "case", "created_by", "created_at")
    list_filter = ("kind", "active")
    search_fields = ("name", "description")
    list_select_related = ("case", "created_by")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        editable = {"description", "pdq_threshold", "active"}
        return [f.name for f in HashBank._meta.fields if f.name not in editable]


@admin.register(BankEntry)
class BankEntryAdmin(ReadOnlyAdmin):
    changeable = True  # get_readonly_fields below says what, if anything, may change
    list_display = ("id", "bank", "pdq", "md5", "sha256", "label", "source", "added_by", "added_at")
    list_filter = ("bank",)
    search_fields = ("pdq", "md5", "sha1", "sha256", "label")
    list_select_related = ("bank", "added_by")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in BankEntry._meta.fields]


@admin.register(ModelPack)
class ModelPackAdmin(ReadOnlyAdmin):
    changeable = True  # get_readonly_fields below says what, if anything, may change
    list_display = ("name", "version", "task", "granularity", "enabled", "sha256", "imported_at")
    list_filter = ("enabled", "granularity", "task")
    search_fields = ("name", "sha256")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in ModelPack._meta.fields]


@admin.register(DetectorValidation)
class DetectorValidationAdmin(ReadOnlyAdmin):
    """Measured error rates of detector versions, newest first; written only by ``validate_detector``."""

    list_display = (
        "detector_name",
        "detector_version",
        "ran_at",
        "positives",
        "negatives",
        "tpr",
        "fpr",
        "threshold",
        "set_sha256",
        "ran_by",
    )
    list_filter = ("detector_name",)
    search_fields = ("detector_name", "detector_version", "set_sha256", "model_sha256")
    ordering = ("-ran_at", "-pk")
