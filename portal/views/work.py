"""Shared pieces of the ingest, exhibits and prosecutor views: the project's errors shown as pages."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render

from haetae.errors import HaetaeError


def is_partial(request: HttpRequest) -> bool:
    """Whether the page's own script asked (HTMX or the upload's XHR): answer with a fragment, not a page."""
    return request.headers.get("HX-Request") == "true" or (
        request.headers.get("X-Requested-With") == "XMLHttpRequest"
    )


def error_page(request: HttpRequest, exc: HaetaeError) -> HttpResponse:
    """The error's message (what was wrong and what to do) with its status: a fragment or a whole page."""
    template = "portal/work/_error.html" if is_partial(request) else "portal/work/error.html"
    return render(request, template, {"message": exc.message, "details": exc.details}, status=exc.http_status)


def shows_errors(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Turns the services' and selectors' errors (NotFound, AccessDenied, RejectedInput…) into pages."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except HaetaeError as exc:
            return error_page(request, exc)

    return wrapper
