"""manage.py verify [--case NUMBER] [--json] [--actor USERNAME] [--witness-bundle PATH …]"""

import sys
from typing import Any

from access.models import Case
from access.selectors import case_for_command
from evidence.verify import vault_verify
from haetae.cli import HaetaeCommand
from haetae.errors import RejectedInput

_PHASES = {
    "content": "re-reading blobs",
    "ledger": "checking the ledger",
    "recording": "recording results",
}


class Command(HaetaeCommand):
    """Re-read every blob (decrypting and hashing), check every custody chain, recompute the Merkle root at
    every checkpoint and check its signature and consistency. Exit 0 when clean, 1 on any failure."""

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--case", metavar="NUMBER", help="check only this case's items and chains")
        parser.add_argument(
            "--json",
            action="store_true",
            help='print {"ok", "checked", "failures", "timestamps"} (and "destroyed" if any item was, '
            '"timestamp_note" when there is no trusted timestamp)',
        )
        parser.add_argument("--actor", metavar="USERNAME", help="user recorded on the verified events")
        parser.add_argument(
            "--witness-bundle",
            metavar="PATH",
            nargs="+",
            default=[],
            help="export bundle ZIPs exported earlier: the ledger must still contain each signed tree head "
            "they carry (a rollback of the newest history fails as bundle_rollback)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = self.actor_of(options)
        case = None
        if options["case"] and actor is not None:
            # Verifying one case for a person: they must be able to see it (any team role, e.g. auditor).
            case = case_for_command(user=actor, number=options["case"], action=None, doing="verify it")
        elif options["case"]:
            case = Case.objects.filter(number=options["case"]).first()
            if case is None:
                raise RejectedInput(
                    f"no case numbered {options['case']!r}: check the number (GET /api/v1/cases/ lists them)"
                )
        with self.progress(total=None, unit="", enabled=not options["json"]) as bar:
            phase = [""]

            def on_progress(name: str, done: int, total: int) -> None:
                if name != phase[0]:
                    phase[0] = name
                    bar.reset(total=total)
                    bar.set_description(_PHASES.get(name, name))
                bar.update(done - bar.n)

            report = vault_verify(
                case=case, actor=actor, on_progress=on_progress, witness_bundles=options["witness_bundle"]
            )
        if options["json"]:
            self.emit_json(report.as_json())
        else:
            self._print_human(report, scope=f"case {case.number}" if case is not None else "the whole vault")
        if not report.ok:
            sys.exit(1)

    def _print_human(self, report: Any, *, scope: str) -> None:
        for failure in report.failures:
            where = [
                f"{label} {failure[key]}"
                for label, key in (("item", "item"), ("event", "event"), ("checkpoint", "checkpoint"))
                if failure[key] is not None
            ]
            self.stdout.write(f"FAIL {failure['check']}" + (f" ({', '.join(where)})" if where else ""))
            self.stdout.write(f"  {failure['message']}")
            self.stdout.write(f"  expected: {failure['expected']}")
            self.stdout.write(f"  found:    {failure['found']}")
        for token in report.timestamps:
            state = "ok  " if token["ok"] else ("FAIL" if token["status"] == "granted" else "none")
            self.stdout.write(
                f"{state} trusted timestamp {token['id']} of {token['subject']} {token['subject_id']}: "
                f"{token['message']}"
            )
        if report.timestamp_note:
            self.stdout.write(report.timestamp_note)
        if report.destroyed:
            self.stdout.write(
                f"{report.destroyed} item(s) destroyed under a destruction order: their content is gone by "
                "order, not missing; their hashes and custody chains were checked"
            )
        if report.ok:
            self.stdout.write(
                f"verified {report.checked} items in {scope}: all checks passed (run {report.run})"
            )
        else:
            self.stdout.write(
                f"verified {report.checked} items in {scope}: {len(report.failures)} failure(s) "
                f"(run {report.run}); each is recorded on the item's custody chain"
            )
