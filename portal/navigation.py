"""The portal's areas and who sees each in the main navigation (the ``nav_areas`` context processor).

Each area names its URL, its label and a test on the user. An area whose URL is not installed is left out,
so an area can be listed here before its pages land. Showing a link grants nothing: every page still checks
membership and role through the selectors.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from access.policy import Action, may, role_may, shared_only


def _everyone(user: Any, roles: frozenset[str]) -> bool:
    return True


def _auditor(user: Any, roles: frozenset[str]) -> bool:
    return any(role_may(role, Action.LEDGER_READ) for role in roles)


def _operator(user: Any, roles: frozenset[str]) -> bool:
    return bool(user.is_staff)


def _support(user: Any, roles: frozenset[str]) -> bool:
    return any(role_may(role, Action.SUPPORT_WRITE) for role in roles)


def _prosecutor(user: Any, roles: frozenset[str]) -> bool:
    return any(shared_only(role) for role in roles)


def _case_opener(user: Any, roles: frozenset[str]) -> bool:
    # A global-role action; the page checks it again.
    return may(user=user, action=Action.CASE_OPEN)


@dataclass(frozen=True)
class Area:
    """One entry of the main navigation."""

    url_name: str
    label: str | Promise
    shown_to: Callable[[Any, frozenset[str]], bool]
    # The URL prefix under which the area's pages live (for aria-current); "" marks only the URL itself.
    prefix: str = ""


AREAS: list[Area] = [
    Area("portal:dashboard", _("Dashboard"), _everyone),
    Area("portal:case_create", _("Open a case"), _case_opener, prefix="/cases/new/"),
    Area("portal:support-home", _("Victim support"), _support, prefix="/support/"),
    Area("portal:prosecutor_home", _("Prosecutor"), _prosecutor, prefix="/prosecutor/"),
    Area("portal:audit_ledger", _("Audit"), _auditor, prefix="/audit/"),
    Area("admin:index", _("Administration"), _operator, prefix="/admin/"),
]


CASE_HOME_DEFAULT = ["portal:case_detail"]


def _case_home_names(role: str | None) -> list[str]:
    """Where a case's number leads from the dashboard, by what the viewer's role on it may do (the first
    URL installed): shared exhibits only to the prosecutor's page, support files to the support page."""
    if shared_only(role):
        return ["portal:prosecutor_case"]
    if role_may(role, Action.SUPPORT_WRITE):
        return ["portal:support-case"]
    return CASE_HOME_DEFAULT


def case_home_url(*, number: str, role: str | None) -> str:
    """The portal page for a case as the viewer's role sees it, or "" when that page is not installed."""
    for name in _case_home_names(role):
        try:
            return reverse(name, kwargs={"number": number})
        except NoReverseMatch:
            continue
    return ""


def case_roles(user: Any) -> frozenset[str]:
    """The case roles the user holds on any team (one query)."""
    if not user.is_authenticated:
        return frozenset()
    from access.models import CaseMember

    return frozenset(CaseMember.objects.filter(user_id=user.pk).values_list("role", flat=True).distinct())


def nav_areas(request: HttpRequest) -> dict[str, Any]:
    """Context processor: ``nav_areas`` = [{url, label, current}] for the signed-in user."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_areas": []}
    roles = case_roles(user)
    shown = []
    for area in AREAS:
        if not area.shown_to(user, roles):
            continue
        try:
            url = reverse(area.url_name)
        except NoReverseMatch:
            continue
        current = request.path == url or bool(area.prefix and request.path.startswith(area.prefix))
        shown.append({"url": url, "label": area.label, "current": current})
    return {"nav_areas": shown}


__all__ = ["AREAS", "Area", "case_home_url", "case_roles", "nav_areas"]
