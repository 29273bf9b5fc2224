"""The local-trial switch (HAETAE_LOCAL_TRIAL): sign-in without TOTP for one person on this machine.

It is kept apart from Django's debug pages (HAETAE_DEBUG): a trial shows the same plain error pages as
production, so nobody trying the portal sees URL patterns or settings. It refuses to serve anyone but the
machine itself, and every page says that it is a trial.
"""

import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def check_hosts(allowed_hosts: Iterable[str]) -> None:
    """Refuse to start a trial that answers to any host name but this machine's own."""
    others = sorted(set(allowed_hosts) - LOOPBACK_HOSTS)
    if others:
        raise ImproperlyConfigured(
            f"HAETAE_LOCAL_TRIAL=1 turns off TOTP and login throttling, so it serves this machine only, "
            f"but HAETAE_ALLOWED_HOSTS also names {', '.join(others)}. Unset HAETAE_LOCAL_TRIAL for a "
            f"server others reach, or set HAETAE_ALLOWED_HOSTS=127.0.0.1,localhost for a trial."
        )


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class LocalTrialMiddleware:
    """During a trial, answer only requests that come from this machine (403 for any other address)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if getattr(settings, "HAETAE_LOCAL_TRIAL", False) and not _is_loopback(
            request.META.get("REMOTE_ADDR", "")
        ):
            return HttpResponseForbidden(
                "This Haetae server runs as a local trial (HAETAE_LOCAL_TRIAL=1, no TOTP) and answers only "
                "this machine. Ask its operator for a production server.",
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)


def local_trial(request: HttpRequest) -> dict[str, Any]:
    """Context processor: ``local_trial`` is true while the switch is on, for the banner on every page."""
    return {"local_trial": bool(getattr(settings, "HAETAE_LOCAL_TRIAL", False))}
