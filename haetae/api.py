"""The one DRF exception handler: HaetaeError becomes a JSON error with the person-readable message."""

from typing import Any

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from haetae.errors import HaetaeError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, HaetaeError):
        body: dict[str, Any] = {"detail": exc.message, "error": type(exc).__name__}
        if exc.details:
            body["details"] = exc.details
        return Response(body, status=exc.http_status)
    return drf_exception_handler(exc, context)
