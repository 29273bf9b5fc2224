"""The shared toolkit every app's doors use: request helpers for API views, the streamed-download helper, UTC
timestamps for records, and the admin base classes.

One copy of each, so that a fix (a stream that must read its first chunk before answering, an admin that
must never write) reaches every app at once. No domain logic lives here.
"""

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from celery import current_app
from django.contrib import admin
from django.contrib.auth.models import User
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from haetae.deferred import defer_out_of_request

if TYPE_CHECKING:  # DRF is not imported at run time: the admin modules (loaded by every command) import us
    from rest_framework.request import Request
    from rest_framework.serializers import BaseSerializer


def request_actor(request: "Request | HttpRequest") -> User:
    """The signed-in user of a request that passed the sign-in gate (never anonymous there)."""
    return cast(User, request.user)


def validated(serializer_class: "type[BaseSerializer]", request: "Request") -> dict[str, Any]:
    """The request body validated by ``serializer_class``; a 400 naming each bad field otherwise."""
    form = serializer_class(data=request.data)
    form.is_valid(raise_exception=True)
    return cast(dict[str, Any], form.validated_data)


def username_of(user: Any) -> str | None:
    """A user's name as the API shows it, None for no user."""
    return user.get_username() if user is not None else None


def prepend_first(first: bytes, rest: Iterable[bytes]) -> Iterator[bytes]:
    """A download stream whose first chunk was read before answering (so a missing or damaged object is a
    clean error, not a cut stream), followed by the rest."""
    if first:
        yield first
    yield from rest


def no_store(response: HttpResponse | StreamingHttpResponse) -> None:
    """Media and downloads are never cached and never content-sniffed."""
    response["Cache-Control"] = "no-store, private"
    response["X-Content-Type-Options"] = "nosniff"


def streamed_file(
    chunks: Iterator[bytes],
    *,
    content_type: str,
    filename: str,
    sha256: str | None,
    size: int | None,
    disposition: str = "attachment",
) -> StreamingHttpResponse:
    """A stored file streamed to its reader, its first chunk read before answering (see ``prepend_first``),
    with its SHA-256 (where given) and length in the headers, never cached or sniffed. The caller's service
    has already checked the reader and recorded the read."""
    first = next(chunks, b"")
    response = StreamingHttpResponse(prepend_first(first, chunks), content_type=content_type)
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    if sha256 is not None:
        response["X-Haetae-SHA256"] = sha256
    if size is not None:
        response["Content-Length"] = str(size)
    no_store(response)
    return response


def task_queue_on_commit(name: str, *args: Any, **kwargs: Any) -> None:
    """Queue the Celery task registered as ``name`` once the current transaction commits.

    Services queue their own work this way, naming the task rather than importing its module: tasks import
    services, never the reverse. ``robust``: a broker that is down (or an eager task that raises) must not
    undo or fail the caller, whose transaction has committed; the row it queued records what happened.
    Without a broker (the embedded default) the task runs after the web request's response, never inside
    it; outside a request (a command, a worker) it runs at once.
    """

    def send() -> None:
        current_app.tasks[name].apply_async(args=args, kwargs=kwargs)

    def send_or_defer() -> None:
        # An eager task runs in this process: never inside a web request (an upload would wait for every
        # detector, a report request for its rendering), so it runs after the response (haetae.deferred).
        # A broker only receives a message, which is quick.
        if current_app.conf.task_always_eager:
            defer_out_of_request(send)
        else:
            send()

    transaction.on_commit(send_or_defer, robust=True)


def utc_iso(moment: datetime) -> str:
    """A timestamp as recorded in custody details and manifests: UTC, microseconds, a trailing Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable, never added or deleted through the admin: writes go through the logged services.

    Unless ``changeable`` (for settings an operator may switch, each field kept read-only by the subclass),
    nothing is changed either and every field but ``hidden_fields`` shows read-only.
    """

    changeable = False
    hidden_fields: tuple[str, ...] = ()
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        declared = list(super().get_readonly_fields(request, obj))
        if self.changeable:
            return declared
        shown = [f.name for f in self.model._meta.fields if f.name not in self.hidden_fields]
        return declared + [name for name in shown if name not in declared]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.changeable and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows shown under their parent, never added, changed or deleted there."""

    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
