"""The admin site: when TOTP is required, signing in takes a one-time code and only verified sessions enter.

``HaetaeAdminConfig`` replaces ``django.contrib.admin`` in INSTALLED_APPS so that ``admin.site`` (which every
app's admin.py registers on) is ``HaetaeAdminSite``; it also registers the sign-in system checks.
"""

from typing import Any

from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest


def totp_required() -> bool:
    return bool(getattr(settings, "HAETAE_REQUIRE_TOTP", True))


class HaetaeAdminSite(AdminSite):
    """Django's admin, which asks for a TOTP code at sign-in and admits only OTP-verified sessions when
    ``HAETAE_REQUIRE_TOTP`` is on (read per request, so tests and operators can switch it)."""

    site_header = "Haetae administration"
    site_title = "Haetae"

    @property
    def login_form(self) -> Any:  # type: ignore[override]
        if not totp_required():
            return None
        from django_otp.admin import OTPAdminAuthenticationForm  # imports models: not at app loading

        return OTPAdminAuthenticationForm

    @property
    def login_template(self) -> str | None:  # type: ignore[override]
        return "otp/admin111/login.html" if totp_required() else None

    def has_permission(self, request: HttpRequest) -> bool:
        if not super().has_permission(request):
            return False
        return not totp_required() or bool(request.user.is_verified())  # type: ignore[union-attr]


class HaetaeAdminConfig(AdminConfig):
    default_site = "haetae.admin_site.HaetaeAdminSite"

    def ready(self) -> None:
        super().ready()
        from haetae import checks  # noqa: F401 - registers the sign-in, signing, timestamp and capture checks
