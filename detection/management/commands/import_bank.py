"""manage.py import_bank FILE --bank NAME --kind pdq|md5|sha256 [--bank-kind KIND] [--actor USER] [--json]"""

from pathlib import Path
from typing import Any

from detection.banks import IMPORT_KINDS, bank_import
from detection.models.banks import HashBankKind
from haetae.cli import HaetaeCommand


class Command(HaetaeCommand):
    """Import a hash list (text, CSV, JSON or VICS JSON; see docs/hash-banks.md) into a hash bank, creating
    the bank if it does not exist. All or nothing: a file with a bad row imports nothing and names the
    lines. Hashes already in the bank are skipped. Exit 0 on success, 1 on rejected input."""

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", metavar="FILE", help="the hash list")
        parser.add_argument("--bank", metavar="NAME", required=True, help="bank to import into")
        parser.add_argument("--kind", required=True, choices=IMPORT_KINDS, help="the hash the file lists")
        parser.add_argument(
            "--bank-kind",
            default=HashBankKind.IMPORTED,
            choices=HashBankKind.values,
            help="kind of bank to create when it does not exist (default: imported)",
        )
        parser.add_argument("--source", default="", help="where the list came from (default: the file name)")
        self.add_actor_and_json(
            parser,
            actor_help="user recorded as having added the entries",
            json_help='print {"bank", "rows", "created", ...}',
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = self.actor_of(options)
        result = bank_import(
            path=Path(options["file"]),
            bank_name=options["bank"],
            kind=options["kind"],
            actor=actor,
            bank_kind=options["bank_kind"],
            source=options["source"],
        )
        if options["json"]:
            self.emit_json(result.as_json())
            return
        self.stdout.write(
            f"{result.created} {options['kind']} hash(es) added to bank {result.bank.name!r} "
            f"({result.bank.kind}); {result.duplicates} already there; {result.rows} row(s) read; "
            f"{result.matches} match(es) with evidence already in the vault"
        )
