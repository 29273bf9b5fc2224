"""Admin for victim support: read-only, so every change goes through the services and is logged.

Restricted notes are never shown in plaintext here (only that a note exists, its size and author).
"""

from django.contrib import admin

from access.admin_scope import CaseScopedAdmin
from haetae.toolkit import ReadOnlyInline
from support.models import SupportConsent, SupportFile, SupportNote, TakedownReappearance, TakedownRequest


class SupportConsentInline(ReadOnlyInline):
    model = SupportConsent
    readonly_fields = (
        "kind",
        "given_by",
        "given_at",
        "given_recorded_by",
        "withdrawn_at",
        "withdrawn_recorded_by",
    )
    fields = readonly_fields


class TakedownInline(ReadOnlyInline):
    model = TakedownRequest
    readonly_fields = ("addressee", "platform", "target_url", "status", "sent_at", "removed_at")
    fields = readonly_fields


@admin.register(SupportFile)
class SupportFileAdmin(CaseScopedAdmin):
    case_path = "person__case"
    list_display = ["id", "person", "case_number", "status", "assigned_worker", "opened_at"]
    list_filter = ["status"]
    search_fields = ["person__pseudonym", "person__case__number", "assigned_worker__username"]
    list_select_related = ["person__case", "assigned_worker"]
    readonly_fields = (
        "person",
        "status",
        "assigned_worker",
        "opened_at",
        "opened_by",
        "status_changed_at",
        "status_changed_by",
    )
    fields = readonly_fields
    inlines = [SupportConsentInline, TakedownInline]

    @admin.display(description="case", ordering="person__case__number")
    def case_number(self, obj: SupportFile) -> str:
        return obj.person.case.number


@admin.register(SupportConsent)
class SupportConsentAdmin(CaseScopedAdmin):
    case_path = "support_file__person__case"
    list_display = ["id", "support_file", "kind", "given_by", "given_at", "withdrawn_at"]
    list_filter = ["kind", "given_by"]
    search_fields = ["support_file__person__pseudonym", "support_file__person__case__number"]
    list_select_related = ["support_file__person"]


@admin.register(SupportNote)
class SupportNoteAdmin(CaseScopedAdmin):
    """Only the envelope: the text is sealed and readable by the case's support workers alone."""

    case_path = "support_file__person__case"

    list_display = ["id", "support_file", "written_by", "written_at", "sealed_size"]
    search_fields = ["support_file__person__pseudonym", "support_file__person__case__number"]
    list_select_related = ["support_file__person", "written_by"]
    readonly_fields = ("support_file", "written_by", "written_at", "key_id", "sealed_size")
    fields = readonly_fields

    @admin.display(description="sealed bytes")
    def sealed_size(self, obj: SupportNote) -> int:
        return len(bytes(obj.sealed))


class ReappearanceInline(ReadOnlyInline):
    model = TakedownReappearance
    fk_name = "takedown"
    readonly_fields = ("seen_at", "url", "recorded_by", "recorded_at")
    fields = readonly_fields


@admin.register(TakedownRequest)
class TakedownRequestAdmin(CaseScopedAdmin):
    case_path = "support_file__person__case"
    list_display = ["id", "support_file", "addressee", "platform", "status", "sent_at", "reference_number"]
    list_filter = ["status", "addressee", "platform"]
    search_fields = ["target_url", "reference_number", "support_file__person__pseudonym"]
    list_select_related = ["support_file__person"]
    inlines = [ReappearanceInline]


@admin.register(TakedownReappearance)
class TakedownReappearanceAdmin(CaseScopedAdmin):
    case_path = "takedown__support_file__person__case"
    list_display = ["id", "takedown", "seen_at", "url", "recorded_by"]
    search_fields = ["url"]
    list_select_related = ["takedown", "recorded_by"]
