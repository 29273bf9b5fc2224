"""Template helpers shared by every portal page."""

from datetime import datetime

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def local_time(value: datetime | None) -> str:
    """A time in the viewer's zone (Asia/Seoul by default) with its UTC offset: 2026-11-25 23:05 (+09:00)."""
    if value is None:
        return "—"
    local = timezone.localtime(value)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} ({offset[:3]}:{offset[3:]})"
