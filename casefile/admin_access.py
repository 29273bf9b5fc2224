"""Admin for break-glass grants: read-only (grants are opened and ended through the API, which logs them),
and only those the signed-in user may see (their own, and those on cases they lead)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from casefile.models import BreakGlassGrant
from casefile.selectors import break_glass_grants_for


@admin.register(BreakGlassGrant)
class BreakGlassGrantAdmin(admin.ModelAdmin):
    list_display = ["id", "case", "user", "granted_at", "expires_at", "ended_at", "reason"]
    list_select_related = ["case", "user"]
    search_fields = ["case__number", "user__username", "reason"]

    def get_queryset(self, request: HttpRequest) -> Any:
        return (
            super()
            .get_queryset(request)
            .filter(pk__in=break_glass_grants_for(user=request.user).values("pk"))
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in BreakGlassGrant._meta.fields]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # break_glass_open writes the custody event; the admin would bypass it

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
