"""Admin for the vault: everything is read-only here; the ledger cannot be added to, changed or deleted.

Evidence changes only through services that write custody events, so the admin only shows what is there.
It shows metadata, never content, and only of the cases the signed-in user may see (``access.admin_scope``:
team membership or a live break-glass grant, a grant holder's look logged; items and blobs further by
``evidence.selectors``, e.g. a prosecutor's shared exhibits): being staff or superuser opens no case.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from access.admin_scope import CaseScopedAdmin
from evidence.models import Acquisition, Blob, Checkpoint, CustodyEvent, EvidenceItem
from evidence.selectors import evidence_visible_to
from haetae.toolkit import ReadOnlyAdmin


@admin.register(Blob)
class BlobAdmin(CaseScopedAdmin):
    case_path = "items__case"
    list_display = ["sha256", "size", "mime", "key_id", "stored_at"]
    search_fields = ["sha256", "md5", "sha1"]
    list_filter = ["mime", "encryption_scheme"]

    def get_queryset(self, request: HttpRequest) -> Any:
        visible = evidence_visible_to(user=request.user).filter(blob__isnull=False).values("blob_id")
        return super().get_queryset(request).filter(sha256__in=visible)


@admin.register(Acquisition)
class AcquisitionAdmin(CaseScopedAdmin):
    list_display = ["id", "case", "actor", "status", "started_at", "finished_at", "seizure_reference"]
    list_filter = ["status"]
    search_fields = ["case__number", "seizure_reference", "manifest_sha256"]
    list_select_related = ["case", "actor"]


@admin.register(EvidenceItem)
class EvidenceItemAdmin(CaseScopedAdmin):
    list_display = ["id", "case", "original_name", "kind", "status", "size", "mime", "acquired_at"]
    list_filter = ["kind", "status"]
    search_fields = ["case__number", "original_path", "blob__sha256", "blob__md5", "blob__sha1"]
    list_select_related = ["case"]
    # The raw path bytes are shown escaped in original_path; the binary column says nothing more to a reader.
    exclude = ["original_path_raw"]
    hidden_fields = ("original_path_raw",)

    def get_queryset(self, request: HttpRequest) -> Any:
        return (
            super().get_queryset(request).filter(pk__in=evidence_visible_to(user=request.user).values("pk"))
        )


@admin.register(CustodyEvent)
class CustodyEventAdmin(CaseScopedAdmin):
    list_display = ["seq", "action", "case", "item", "actor_name", "actor_role", "occurred_at"]
    list_filter = ["action", "actor_role"]
    search_fields = ["case__number", "leaf_hash", "actor_name"]
    list_select_related = ["case"]


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ["tree_size", "root_hash", "created_at", "key_id"]
