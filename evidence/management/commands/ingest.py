"""manage.py ingest NUMBER PATH... --actor USERNAME [--as KIND] [--timezone ZONE] [--source TEXT]
[--seizure-ref TEXT] [--location TEXT] [--seal TEXT]... [--participant TEXT]... [--json]"""

import os
import stat
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from access.policy import Action
from access.selectors import case_for_command
from evidence.hooks import ingest_scope, source_kind_detect, source_readers
from evidence.ingest import PathSource, evidence_ingest
from haetae.cli import HaetaeCommand, RecordingProgress, on_terminal
from haetae.errors import UsageError


def _total_bytes(paths: list[str]) -> int:
    """Bytes of the regular files under ``paths`` (for the progress bar; symlinks are not followed)."""
    total = 0
    for top in paths:
        stack = [os.fsencode(top)]
        while stack:
            path = stack.pop()
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                total += st.st_size
            elif stat.S_ISDIR(st.st_mode):
                try:
                    with os.scandir(path) as listing:
                        stack.extend(entry.path for entry in listing)
                except OSError:
                    continue
    return total


class Command(HaetaeCommand):
    """Ingest files and folders (recursively; ZIP archives are opened) into a case. Exit 0 when nothing was
    rejected, 1 otherwise (everything accepted is still committed), 2 on usage errors."""

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("number", help="case number, e.g. 2024-SEOUL-0001")
        parser.add_argument("paths", nargs="+", metavar="PATH", help="files or folders to ingest")
        parser.add_argument("--actor", required=True, help="username of the person ingesting")
        parser.add_argument("--source", default="", help="where the material comes from, e.g. a device")
        parser.add_argument("--seizure-ref", default="", help="warrant or seizure reference")
        parser.add_argument("--location", default="", help="where the acquisition takes place")
        parser.add_argument("--seal", action="append", default=[], help="seal number (repeatable)")
        parser.add_argument(
            "--participant", action="append", default=[], help="person present, 참관인 (repeatable)"
        )
        parser.add_argument(
            "--as",
            dest="source_kind",
            default="auto",
            help="what the paths are: auto (recognise by layout), files, or a source kind "
            f"({', '.join(source_readers())})",
        )
        parser.add_argument(
            "--timezone",
            default="Asia/Seoul",
            help="IANA zone of dates an export writes without an offset (default Asia/Seoul)",
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = self.get_actor(options["actor"])
        # The actor must be on the case's team with a role that may ingest, exactly as through the API.
        case = case_for_command(
            user=actor, number=options["number"], action=Action.EVIDENCE_INGEST, doing="add evidence to it"
        )
        kind = options["source_kind"]
        known = ["auto", "files", *source_readers()]
        if kind not in known:
            raise UsageError(f"--as {kind}: use one of {', '.join(known)}")
        try:
            ZoneInfo(options["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            raise UsageError(
                f"--timezone {options['timezone']}: name an IANA zone such as Asia/Seoul"
            ) from None
        if kind == "auto":
            kind = source_kind_detect([os.path.abspath(os.fsencode(p)) for p in options["paths"]])  # noqa: PTH100
        show_bar = not options["json"] and on_terminal()
        total = _total_bytes(options["paths"]) if show_bar else None
        # The scope runs detection of the new items once they are in (detection.pool), with its own bars.
        with (
            ingest_scope(show_progress=show_bar),
            self.progress(total=total, unit="B", enabled=show_bar) as bar,
            RecordingProgress(enabled=show_bar) as recording,
        ):

            def advance(size: int) -> None:
                bar.update(size)

            result = evidence_ingest(
                case=case,
                sources=[PathSource(Path(p)) for p in options["paths"]],
                actor=actor,
                source_label=options["source"],
                seizure_reference=options["seizure_ref"],
                seal_numbers=options["seal"],
                location=options["location"],
                participants=options["participant"],
                on_progress=advance,
                source_kind=kind,
                source_options={"time_zone": options["timezone"]},
                source_progress=recording,
            )
        acquisition = result.acquisition
        if options["json"]:
            self.emit_json(
                {
                    "acquisition": acquisition.pk,
                    "source_kind": result.source_kind,
                    "counts": {**result.counts, **result.source_counts},
                    "items": [outcome.as_json() for outcome in result.items],
                }
            )
        else:
            for outcome in result.items:
                if outcome.status == "rejected":
                    self.stderr.write(f"rejected: {outcome.path}: {outcome.reason}")
            counts = result.counts
            self.stdout.write(
                f"acquisition {acquisition.pk} into case {case.number}: {counts['ingested']} ingested, "
                f"{counts['duplicate']} duplicate, {counts['rejected']} rejected; "
                f"manifest sha256 {acquisition.manifest_sha256}"
            )
            if result.source_kind != "files":
                parsed = ", ".join(
                    f"{n} {what.replace('_', ' ')}" for what, n in result.source_counts.items()
                )
                self.stdout.write(f"read as {result.source_kind}: {parsed}")
        if result.counts["rejected"]:
            sys.exit(1)
