"""Writes on cross-case match alerts: the recipient marks one seen (not evidence state: no custody event)."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils import timezone

from detection.match_selectors import match_alert_list
from detection.models import MatchAlert
from haetae.errors import NotFound


def match_alert_mark_seen(*, alert_id: int, user: AbstractBaseUser | AnonymousUser) -> MatchAlert:
    """Mark one of the user's own alerts seen (once: the first time is kept); NotFound for anyone else's."""
    alert = match_alert_list(user=user).filter(pk=alert_id).first()
    if alert is None:
        raise NotFound(f"no match alert {alert_id} addressed to you: it may be another user's")
    if alert.seen_at is None:
        MatchAlert.objects.filter(pk=alert.pk, seen_at__isnull=True).update(seen_at=timezone.now())
        alert.refresh_from_db()
    return alert
