"""Hooks other apps attach to ingest without evidence importing them: ``settings.HAETAE_INGEST_HOOKS`` and
``settings.HAETAE_SOURCE_KINDS`` (source readers, below).

Each hook is a dotted path to a function ``hook(*, items, acquisition)``. Ingest calls every hook inside
the transaction that commits a batch of new items, so what a hook writes commits or rolls back with the
items; a hook that sends work elsewhere does it with ``transaction.on_commit``. A hook that raises rolls
the batch back (the acquisition is then interrupted and can be re-run), so hooks must only fail for
reasons that should stop an ingest.

``settings.HAETAE_INGEST_SCOPES`` names context managers ``scope(*, show_progress)`` entered around a
command's whole ingest (``ingest_scope``): detection uses it to gather the new items' runs as batches
commit and, without a broker, to run them on every core once the ingest has finished.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any, BinaryIO, Protocol

from django.conf import settings
from django.contrib.auth.models import User
from django.utils.module_loading import import_string

from access.models import Case
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


# -- source readers ------------------------------------------------------------------------------------------
#
# A source reader turns what an ingest stored into records of its own (a messenger export's messages, an
# extraction report's device paths). ``settings.HAETAE_SOURCE_KINDS`` maps a kind ("telegram", "ufdr", …)
# to the dotted path of a reader object; ``evidence_ingest`` calls the reader's ``record`` after every file
# has been committed as an item, and before the acquisition completes, so that what the reader returns goes
# into the ``acquisition_completed`` event. The reader reads from the vault (what it parses is what was
# stored) and commits its own batches; it never makes items of its own.


@dataclass(frozen=True)
class SourceFile:
    """One committed finding of the run, as a reader sees it: its item, its place and its digest."""

    item_id: int
    path: str  # the display path: absolute path, or container path + "!/" + member name
    status: str  # ingested, duplicate or rejected
    sha256: str | None
    reason: str


class SourceProgress(Protocol):
    """What a reader reports while it parses, for a command's progress bar (the API passes nothing)."""

    def parsing(self, total_bytes: int) -> None:
        """The reader is about to parse stored files of this many bytes (may be called again, adding)."""
        ...

    def parsed(self, size: int) -> None:
        """The parser has read this many more bytes of them."""
        ...

    def recorded(self, messages: int) -> None:
        """This many more messages were committed (new ones and ones already recorded)."""
        ...


class NoProgress:
    """Reports to no one: the default where nothing draws (uploads, tests)."""

    def parsing(self, total_bytes: int) -> None:
        pass

    def parsed(self, size: int) -> None:
        pass

    def recorded(self, messages: int) -> None:
        pass


@dataclass
class SourceContext:
    """What a reader gets: the run's case, actor and acquisition, its files, and the operator's options."""

    case: Case
    actor: User
    acquisition: Acquisition
    files: Sequence[SourceFile]
    roots: Sequence[str]  # the sources as given, absolute, as display paths
    options: Mapping[str, str]
    store_text: Callable[[BinaryIO, str], str]  # puts a stream in the vault (a Blob); returns its SHA-256
    fault_point: Callable[[str], None]  # the crash-test seam of ingest, for resumability tests
    progress: SourceProgress = field(default_factory=NoProgress)  # a command's bar, where one is drawn


@dataclass
class SourceSummary:
    """What a reader recorded: counts for the ingest's output and facts for the completion event."""

    counts: dict[str, int] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


class SourceReader(Protocol):
    """Recognises a source by its layout and records what it parses from the vault."""

    label: str

    def recognises(self, path: bytes) -> bool: ...

    def recognises_stored(self, files: Sequence[SourceFile]) -> bool:
        """Whether what a run stored (an upload, known only once stored) has this source's layout."""
        ...

    def record(self, context: SourceContext) -> SourceSummary: ...


@cache
def _readers(pairs: tuple[tuple[str, str], ...]) -> dict[str, SourceReader]:
    return {kind: import_string(path) for kind, path in pairs}


def source_readers() -> dict[str, SourceReader]:
    """Every configured reader by kind, in the order auto-detection tries them."""
    return _readers(tuple(dict(getattr(settings, "HAETAE_SOURCE_KINDS", {})).items()))


def source_kind_detect(paths: Sequence[bytes]) -> str:
    """The first kind whose reader recognises every path, or "files" (plain files and folders)."""
    for kind, reader in source_readers().items():
        if paths and all(reader.recognises(path) for path in paths):
            return kind
    return "files"


@contextmanager
def ingest_scope(*, show_progress: bool) -> Iterator[None]:
    """Enter every ingest scope around a command's ingest; ``show_progress``: it may draw on a terminal."""
    with ExitStack() as stack:
        for scope in _hooks(tuple(getattr(settings, "HAETAE_INGEST_SCOPES", ()))):
            stack.enter_context(scope(show_progress=show_progress))
        yield


def source_kind_detect_stored(files: Sequence[SourceFile]) -> str:
    """The first kind whose reader recognises what a run stored (for uploads), or "files"."""
    for kind, reader in source_readers().items():
        if files and reader.recognises_stored(files):
            return kind
    return "files"
