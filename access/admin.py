"""Admin for cases, teams, authorities and break-glass grants.

Case rows go through ``access.admin_scope``: only cases the signed-in user may see, an administrator's look
under a break-glass grant logged. Grants are read-only (opened and ended through the API, which logs them),
and only those the signed-in user may see (their own, and those on cases they lead)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from access.admin_scope import CaseScopedAdmin
from access.models import BreakGlassGrant, Case, CaseMember, LegalAuthority, Offence, Unit, UnitSupervisor
from access.selectors import break_glass_grants_for
from haetae.toolkit import ReadOnlyAdmin, ReadOnlyInline


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


class CaseMemberInline(ReadOnlyInline):
    model = CaseMember
    fields = ["user", "role", "added_at", "added_by"]


class LegalAuthorityInline(ReadOnlyInline):
    model = LegalAuthority
    fields = ["kind", "number", "court", "issued_at", "executed_at"]


@admin.register(Offence)
class OffenceAdmin(admin.ModelAdmin):
    """The offence table is reference data: labels may be corrected here; codes never change."""

    list_display = ["code", "statute_en", "article", "label_en", "minor_victim", "since"]
    list_filter = ["statute_en", "minor_victim"]
    search_fields = ["code", "label_ko", "label_en", "article"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["code"] if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(CaseScopedAdmin):
    case_path = "pk"
    list_display = ["number", "title", "status", "unit", "lead_investigator", "legal_hold", "opened_at"]
    list_filter = ["status", "retention_class", "legal_hold"]
    search_fields = ["number", "title", "unit__name"]
    list_select_related = ["lead_investigator"]
    inlines = [CaseMemberInline, LegalAuthorityInline]


@admin.register(CaseMember)
class CaseMemberAdmin(CaseScopedAdmin):
    list_display = ["case", "user", "role", "added_at", "added_by"]
    list_filter = ["role"]
    search_fields = ["case__number", "user__username"]
    list_select_related = ["case", "user", "added_by"]


@admin.register(LegalAuthority)
class LegalAuthorityAdmin(CaseScopedAdmin):
    list_display = ["case", "kind", "number", "court", "issued_at", "executed_at"]
    list_filter = ["kind"]
    search_fields = ["case__number", "number", "court"]
    list_select_related = ["case"]


class UnitSupervisorInline(ReadOnlyInline):
    model = UnitSupervisor
    fk_name = "unit"


@admin.register(Unit)
class UnitAdmin(ReadOnlyAdmin):
    """Units and who supervises them (no case data); supervisions change through ``manage.py unit``, which
    keeps the case teams in step and logs it on each case."""

    list_display = ["name", "created_at"]
    search_fields = ["name"]
    inlines = [UnitSupervisorInline]
