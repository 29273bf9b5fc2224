"""The one DRF exception handler: HaetaeError becomes a JSON error with the person-readable message; and the
schema of that error body for the API documentation."""

from typing import Any

from rest_framework import serializers
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


class ErrorSerializer(serializers.Serializer):
    """The body of every error response (see ``exception_handler``)."""

    detail = serializers.CharField(help_text="What was wrong and what to do.")
    error = serializers.CharField(required=False, help_text="The error class, e.g. NotFound.")
    details = serializers.DictField(required=False, help_text="Machine-readable specifics, when any.")
