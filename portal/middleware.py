"""Turns Haetae's errors raised by portal views into pages that say what went wrong and what to do next.

The API has its own handler (``haetae.api.exception_handler``); this one leaves ``/api/`` alone.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from haetae.errors import AccessDenied, HaetaeError, IntegrityFailure, NotFound, RejectedInput

_PAGES: list[tuple[type[HaetaeError], int, str]] = [
    (AccessDenied, 403, "403.html"),
    (NotFound, 404, "404.html"),
    (RejectedInput, 400, "400.html"),
    (IntegrityFailure, 409, "409.html"),
]


class HaetaeErrorMiddleware:
    """AccessDenied → 403, NotFound → 404, RejectedInput → 400, IntegrityFailure → 409, with the message."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if request.path.startswith("/api/") or not isinstance(exception, HaetaeError):
            return None
        for kind, status, template in _PAGES:
            if isinstance(exception, kind):
                return render(request, template, {"message": exception.message}, status=status)
        return None
