"""Hooks other apps attach to ingest without evidence importing them: ``settings.HAETAE_INGEST_HOOKS``.

Each hook is a dotted path to a function ``hook(*, items, acquisition)``. Ingest calls every hook inside
the transaction that commits a batch of new items, so what a hook writes commits or rolls back with the
items; a hook that sends work elsewhere does it with ``transaction.on_commit``. A hook that raises rolls
the batch back (the acquisition is then interrupted and can be re-run), so hooks must only fail for
reasons that should stop an ingest.

``settings.HAETAE_INGEST_SCOPES`` names context managers ``scope(*, show_progress)`` entered around a
command's whole ingest (``ingest_scope``): detection uses it to gather the new items' runs as batches
commit and, without a broker, to run them on every core once the ingest has finished.
"""

from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from functools import cache
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from evidence.models import Acquisition, EvidenceItem


@cache
def _hooks(paths: tuple[str, ...]) -> list[Callable[..., Any]]:
    return [import_string(path) for path in paths]


def ingest_hooks_run(*, items: Sequence[EvidenceItem], acquisition: Acquisition) -> None:
    """Call every ingest hook with the batch's new items whose content was stored."""
    if not items:
        return
    for hook in _hooks(tuple(getattr(settings, "HAETAE_INGEST_HOOKS", ()))):
        hook(items=items, acquisition=acquisition)


@contextmanager
def ingest_scope(*, show_progress: bool) -> Iterator[None]:
    """Enter every ingest scope around a command's ingest; ``show_progress``: it may draw on a terminal."""
    with ExitStack() as stack:
        for scope in _hooks(tuple(getattr(settings, "HAETAE_INGEST_SCOPES", ()))):
            stack.enter_context(scope(show_progress=show_progress))
        yield
