"""Shared machinery for management commands: HaetaeError → exit code, JSON output, progress bars."""

import json
import shutil
import sys
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Self

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from haetae.errors import HaetaeError, UsageError


class HaetaeCommand(BaseCommand):
    """A command whose HaetaeErrors print their message and exit 1 (2 for usage errors).

    A subclass's docstring is its ``--help`` text, unless it sets ``help`` itself.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "help" not in cls.__dict__ and cls.__doc__:
            cls.help = " ".join(cls.__doc__.split())

    def execute(self, *args: Any, **options: Any) -> str | None:
        try:
            return super().execute(*args, **options)
        except HaetaeError as exc:
            self.stderr.write(f"error: {exc.message}")
            sys.exit(exc.exit_code)

    def run_from_argv(self, argv: list[str]) -> None:
        try:
            super().run_from_argv(argv)
        except CommandError as exc:  # argparse-level problems are usage errors: exit 2
            self.stderr.write(f"error: {exc}")
            sys.exit(2)

    def emit_json(self, payload: Any) -> None:
        self.stdout.write(json.dumps(payload, ensure_ascii=False, indent=None, default=str))

    @staticmethod
    def add_actor_and_json(
        parser: Any, *, actor_help: str, required: bool = False, json_help: str = "print one JSON object"
    ) -> None:
        """The two options most commands share: who acts (recorded on the custody events) and JSON output."""
        parser.add_argument("--actor", metavar="USERNAME", required=required, help=actor_help)
        parser.add_argument("--json", action="store_true", help=json_help)

    def actor_of(self, options: dict[str, Any]) -> User | None:
        """The user named by ``--actor``, or None (the system) where the command lets it be left out."""
        return self.get_actor(options["actor"]) if options["actor"] else None

    def get_actor(self, username: str) -> User:
        user_model = get_user_model()
        try:
            return user_model.objects.get(**{user_model.USERNAME_FIELD: username})
        except user_model.DoesNotExist:
            raise UsageError(
                f"no user named '{username}': create one with 'manage.py createsuperuser' or the admin"
            ) from None

    @contextmanager
    def progress(self, *, total: int | None, unit: str, enabled: bool) -> Iterator[tqdm]:
        """A progress bar on stderr when it is a terminal and output is not JSON."""
        bar = tqdm(total=total, unit=unit, disable=not (enabled and sys.stderr.isatty()), file=sys.stderr)
        try:
            yield bar
        finally:
            bar.close()


def id_list(text: str, *, option: str = "--items", required: bool = False) -> list[int]:
    """``12,13,14`` → [12, 13, 14] (blanks skipped); anything else, or nothing where ``required``, is a usage
    error (exit 2)."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if (required and not parts) or not all(part.isdigit() for part in parts):
        raise UsageError(f"{option} takes evidence item ids separated by commas (e.g. 12,13), not {text!r}")
    return [int(part) for part in parts]


def on_terminal() -> bool:
    """Whether progress may be drawn: stdout and stderr are both terminals (not a pipe, not a file)."""
    return sys.stdout.isatty() and sys.stderr.isatty()


class DetectorProgress:
    """One progress bar per detector on stderr, with the share done, the rate and the time left (ETA).

    ``update(totals, finished)`` is the pool's progress callback: runs to do by detector, and the runs
    finished since the last call. Draws nothing unless ``enabled`` and both stdout and stderr are terminals
    (``--json`` and redirected output print no bars).
    """

    BAR_FORMAT = "{desc:<22} {percentage:3.0f}% |{bar}| {n_fmt}/{total_fmt} [{elapsed}, ETA {remaining}]"

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled and on_terminal()
        self.bars: dict[str, tqdm] = {}

    def update(self, totals: Mapping[str, int], finished: Counter[str]) -> None:
        if not self.enabled:
            return
        size = shutil.get_terminal_size((100, 24))
        for name in sorted(totals):
            if name not in self.bars:
                self.bars[name] = tqdm(
                    total=totals[name],
                    desc=name,
                    unit="run",
                    position=len(self.bars),
                    bar_format=self.BAR_FORMAT,
                    file=sys.stderr,
                    # A terminal that reports no size (a pty without one) still gets 100 × 24: tqdm would
                    # otherwise draw no bar and hide every bar below its idea of the last row.
                    ncols=size.columns,
                    nrows=size.lines,
                )
        for name, count in finished.items():
            if name in self.bars:
                self.bars[name].update(count)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        for bar in self.bars.values():
            bar.close()


class RecordingProgress:
    """A source reader's parse on stderr: the bytes of the stored exports read (share done, rate, time left
    (ETA)) and the messages recorded so far. The ingest command hands it to ``evidence_ingest`` as
    ``source_progress`` (``evidence.hooks.SourceProgress``). Draws nothing unless ``enabled`` and both stdout
    and stderr are terminals (``--json`` and redirected output print no bar).
    """

    BAR_FORMAT = (
        "{desc:<22} {percentage:3.0f}% |{bar}| {n_fmt}/{total_fmt} [{elapsed}, ETA {remaining}{postfix}]"
    )

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled and on_terminal()
        self.bar: tqdm | None = None
        self.messages = 0

    def parsing(self, total_bytes: int) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            size = shutil.get_terminal_size((100, 24))
            self.bar = tqdm(
                total=total_bytes,
                desc="reading messages",
                unit="B",
                unit_scale=True,
                bar_format=self.BAR_FORMAT,
                file=sys.stderr,
                ncols=size.columns,
                nrows=size.lines,
            )
        else:
            self.bar.total = (self.bar.total or 0) + total_bytes
            self.bar.refresh()

    def parsed(self, size: int) -> None:
        if self.bar is not None:
            self.bar.update(size)

    def recorded(self, messages: int) -> None:
        self.messages += messages
        if self.bar is not None:
            self.bar.set_postfix_str(f"{self.messages} messages")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        if self.bar is not None:
            self.bar.close()
