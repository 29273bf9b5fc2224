"""Admin for operators: users with their global role (a seeded group) and their TOTP devices.

Case membership is not edited here: teams change through the logged services (``add_member``, the API), so
the admin only shows it. TOTP devices are issued with ``manage.py totp_enrol`` or django-otp's own device
admin (which shows the QR code); here an operator sees who has one and can remove a lost one.
"""

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.choices import GlobalRole
from access.models import CaseMember
from access.selectors import visible_case_ids


class TOTPDeviceInline(admin.TabularInline):
    model = TOTPDevice
    fields = ["name", "confirmed", "last_used_at", "throttling_failure_count"]
    readonly_fields = ["name", "confirmed", "last_used_at", "throttling_failure_count"]
    extra = 0
    verbose_name = _("TOTP device")
    verbose_name_plural = _("TOTP devices (issue with manage.py totp_enrol; delete a lost one here)")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CaseMemberInline(admin.TabularInline):
    model = CaseMember
    fk_name = "user"
    fields = ["case", "role", "added_at", "added_by"]
    readonly_fields = ["case", "role", "added_at", "added_by"]
    extra = 0
    can_delete = False
    verbose_name_plural = _("case teams (changed through the case lead, never here)")

    def get_queryset(self, request: HttpRequest) -> QuerySet[CaseMember]:
        # A user's teams name cases: only those the operator may see (team or live break-glass grant).
        return super().get_queryset(request).filter(case_id__in=visible_case_ids(user=request.user))

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class GlobalRoleFilter(admin.SimpleListFilter):
    title = _("global role")
    parameter_name = "global_role"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [(str(value), label) for value, label in GlobalRole.choices]

    def queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> QuerySet[User]:
        return queryset.filter(groups__name=self.value()) if self.value() else queryset


class HaetaeUserAdmin(UserAdmin):
    """Django's user admin, with the global role and whether the user can sign in with a TOTP code."""

    list_display = [
        "username",
        "get_full_name",
        "global_roles",
        "totp",
        "is_active",
        "is_staff",
        "last_login",
    ]
    list_filter = [GlobalRoleFilter, "is_active", "is_staff", "is_superuser"]
    inlines = [TOTPDeviceInline, CaseMemberInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return (
            super()
            .get_queryset(request)
            .prefetch_related("groups")
            .annotate(totp_count=Count("totpdevice", filter=Q(totpdevice__confirmed=True), distinct=True))
        )

    @admin.display(description=_("global role"))
    def global_roles(self, obj: User) -> str:
        roles = {str(value): str(label) for value, label in GlobalRole.choices}
        names = [roles[group.name] for group in obj.groups.all() if group.name in roles]
        return ", ".join(names) or "—"

    @admin.display(description=_("TOTP"), boolean=True)
    def totp(self, obj: User) -> bool:
        return bool(getattr(obj, "totp_count", 0))


admin.site.unregister(User)
admin.site.register(User, HaetaeUserAdmin)
