"""Work that must not run inside a web request: run it after the response, off the request's thread.

In the embedded default Celery runs tasks eagerly, in-process; without this, a task queued by a request
(detection of freshly ingested items) would run before the response is sent, holding an upload open for
minutes. ``defer_out_of_request(fn)`` called while a request is being handled keeps ``fn`` until the
response has been delivered (Django closes the response), then hands it to the runner named by
``HAETAE_DEFERRED_RUNNER``:

- ``thread`` (the default): one background worker thread per process runs deferred work in order, one
  job at a time (bounded memory), each with its own database connections;
- ``inline``: the request's own thread runs it after the response was delivered. Tests use it: their
  data lives in the test's transaction, which another thread's connection cannot see.

Outside a request (management commands, Celery workers, tests calling services) ``fn`` runs at once, so
``manage.py ingest`` still waits for its detection. Work lost when the process stops (a queued thread job)
is not lost from the database: detection runs stay ``queued`` and ``manage.py detect`` finishes them.
"""

import logging
import queue
import threading
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connections
from django.http import HttpRequest, HttpResponseBase

logger = logging.getLogger(__name__)

_pending: ContextVar[list[Callable[[], None]] | None] = ContextVar("haetae_deferred", default=None)
_jobs: "queue.Queue[Callable[[], None]]" = queue.Queue()
_worker_lock = threading.Lock()
_worker: threading.Thread | None = None


def in_request() -> bool:
    """True while a web request is being handled on this thread (work is then deferred)."""
    return _pending.get() is not None


def defer_out_of_request(fn: Callable[[], None]) -> None:
    """Run ``fn`` after the current web request's response, or now when there is no request."""
    pending = _pending.get()
    if pending is None:
        fn()
    else:
        pending.append(fn)


def _run_logged(fn: Callable[[], None]) -> None:
    try:
        fn()
    except Exception:  # the request has been answered; the work's own records say what is left to do
        logger.exception("deferred work failed: %r", fn)


def _work() -> None:
    while True:
        fn = _jobs.get()
        try:
            close_old_connections()
            _run_logged(fn)
        finally:
            connections.close_all()  # this thread's connections; the next job opens fresh ones
            _jobs.task_done()


def _hand_over(jobs: list[Callable[[], None]]) -> None:
    global _worker
    if getattr(settings, "HAETAE_DEFERRED_RUNNER", "thread") == "inline":
        for fn in jobs:
            _run_logged(fn)
        return
    with _worker_lock:
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_work, name="haetae-deferred", daemon=True)
            _worker.start()
    for fn in jobs:
        _jobs.put(fn)


def deferred_drain() -> None:
    """Wait until the background thread has finished every job handed to it (for tests and shutdown)."""
    _jobs.join()


class DeferOutOfRequestMiddleware:
    """Collects work deferred while handling a request and releases it once the response is closed."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        jobs: list[Callable[[], None]] = []
        token = _pending.set(jobs)
        try:
            response = self.get_response(request)
        except BaseException:
            _pending.reset(token)
            if jobs:
                _hand_over(jobs)
            raise
        _pending.reset(token)
        if jobs:
            # Django closes the response after the server has written it (WSGI close()).
            response._resource_closers.append(lambda: _hand_over(jobs))  # type: ignore[attr-defined]
        return response
