"""Shared body of the interchange export commands (export_vics, export_case_uco)."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from access.policy import Action
from access.selectors import case_for_command
from exhibits.interchange import InterchangeExport
from haetae.cli import HaetaeCommand
from haetae.errors import UsageError


class InterchangeCommand(HaetaeCommand):
    """NUMBER --out FILE [--exhibits E-001,…] [--recipient TEXT] --actor USERNAME [--json]."""

    export_name = ""
    # Set by each command: the interchange service that builds and logs its export.
    service: Callable[..., InterchangeExport]

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("number", help="case number, e.g. 2024-SEOUL-0001")
        parser.add_argument("--out", required=True, help="the file to write (refused if it exists)")
        parser.add_argument("--exhibits", default="", help="only these exhibits, e.g. E-001,E-002")
        parser.add_argument("--recipient", default="", help="who receives the file (recorded)")
        self.add_actor_and_json(
            parser, actor_help="username of who exports (a lead or investigator)", required=True
        )

    def handle(self, *args: Any, **options: Any) -> None:
        out = Path(options["out"])
        if out.exists():
            raise UsageError(f"{out} exists: give a new file name (an export never overwrites a file)")
        if not out.parent.is_dir():
            raise UsageError(f"{out.parent} is not a directory: create it first")
        actor = self.get_actor(options["actor"])
        case = case_for_command(
            user=actor,
            number=options["number"],
            action=Action.INTERCHANGE_EXPORT,
            doing="export items for other tools",
        )
        exhibits = [n.strip() for n in options["exhibits"].split(",") if n.strip()] or None
        export = type(self).service(
            case=case, actor=actor, exhibit_numbers=exhibits, recipient=options["recipient"]
        )
        partial = out.with_name(out.name + ".partial")
        partial.write_bytes(export.body)
        partial.replace(out)
        summary = {
            "case": case.number,
            "format": self.export_name,
            "out": str(out),
            "sha256": export.sha256,
            "items": export.item_count,
            "media": export.media_count,
        }
        if options["json"]:
            self.emit_json(summary)
        else:
            self.stdout.write(
                f"wrote {out} ({self.export_name}, {export.item_count} items, sha256 {export.sha256}); each "
                "item has an 'exported' custody event"
            )
