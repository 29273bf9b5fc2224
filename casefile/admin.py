"""Admin for cases: teams are assigned here; cases are opened with ``create_case`` so that it is logged."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from casefile.models import Case, CaseMember


class CaseMemberInline(admin.TabularInline):
    model = CaseMember
    extra = 0
    autocomplete_fields = ["user"]
    readonly_fields = ["added_at"]


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ["number", "title", "status", "opened_at"]
    list_filter = ["status"]
    search_fields = ["number", "title"]
    readonly_fields = ["number", "opened_at"]
    inlines = [CaseMemberInline]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # case_create writes the case_created custody event; the admin would bypass it.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CaseMember)
class CaseMemberAdmin(admin.ModelAdmin):
    list_display = ["case", "user", "role", "added_at"]
    list_filter = ["role"]
    search_fields = ["case__number", "user__username"]
    autocomplete_fields = ["case", "user"]
    list_select_related = ["case", "user"]
    readonly_fields = ["added_at"]


from casefile import admin_support  # noqa: E402, F401 - victim support admin (support helper)
