"""Template helpers shared by every portal page."""

import json
from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def local_time(value: datetime | None) -> str:
    """A time in the viewer's zone (Asia/Seoul by default) with its UTC offset: 2026-11-25 23:05 (+09:00)."""
    if value is None:
        return "—"
    local = timezone.localtime(value)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} ({offset[:3]}:{offset[3:]})"


@register.filter
def time_left(seconds: int | None) -> str:
    """The time a job still needs, rounded as a person says it: "about 25 min", "about 2 h 10 min"."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return str(_("under a minute"))
    minutes = round(seconds / 60)
    if minutes < 60:
        return str(_("about %(minutes)s min") % {"minutes": minutes})
    return str(_("about %(hours)s h %(minutes)s min") % {"hours": minutes // 60, "minutes": minutes % 60})


@register.filter
def case_role(value: str | None) -> str:
    """A case role's label in the viewer's language (team roles, or an administrator's break-glass grant)."""
    from access.choices import CaseMemberRole

    if not value:
        return "—"
    if value == "break_glass":
        return str(_("administrator under a break-glass grant"))
    try:
        return str(CaseMemberRole(value).label)
    except ValueError:
        return value


@register.filter
def pretty_json(value: object) -> str:
    """A JSON value indented for reading (autoescaped by the template like any string)."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


@register.simple_tag
def case_home(case: object) -> str:
    """The URL of a case's page for the viewer's role on it (``caller_role`` from ``case_list``), or ""."""
    from portal.navigation import case_home_url

    return case_home_url(number=str(getattr(case, "number", "")), role=getattr(case, "caller_role", None))


@register.filter
def finding_label(value: str) -> str:
    """A finding label in the viewer's language (``c2pa_none`` → "no C2PA credentials")."""
    from detection import labels

    return labels.finding_label(value)


@register.filter
def finding_summary(finding: Any) -> str:
    """What an OCR or metadata finding says, in one line (only shown to roles that review findings)."""
    from detection import labels

    return labels.finding_summary(finding.label, finding.details)


@register.filter
def finding_category(value: str) -> str:
    """A finding category in the viewer's language (``not_probative`` → "not probative")."""
    from detection import labels

    return labels.finding_category(value)
