"""Admin: API tokens (read-only, with a revoke action; no token is ever shown) and account events."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import AccountEvent, ApiToken
from accounts.services import api_token_revoke
from haetae.errors import HaetaeError


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = [
        "prefix",
        "user",
        "name",
        "state",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["revoked_at"]
    search_fields = ["user__username", "prefix", "name"]
    readonly_fields = [f.name for f in ApiToken._meta.fields if f.name != "key_sha256"]
    exclude = ["key_sha256"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # issue with manage.py api_token issue or the API: the token is shown there, once

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoked, never deleted: the record of who held a token stays

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        done = 0
        for token in queryset.filter(revoked_at__isnull=True):
            try:
                api_token_revoke(token=token, actor=request.user, reason="revoked in the admin")  # type: ignore[arg-type]
                done += 1
            except HaetaeError as exc:
                self.message_user(request, exc.message, messages.ERROR)
        self.message_user(request, f"{done} token(s) revoked")


@admin.register(AccountEvent)
class AccountEventAdmin(admin.ModelAdmin):
    list_display = ["at", "user", "action", "actor"]
    list_filter = ["action"]
    search_fields = ["user__username"]
    readonly_fields = ["user", "actor", "action", "details", "at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
