"""manage.py search_reindex [--case CASE] [--json]"""

import time
from typing import Any

from access.services import case_get
from haetae.cli import HaetaeCommand
from search.services import search_reindex


class Command(HaetaeCommand):
    """Rebuild the text index from the items, their findings and the registered providers (all cases, or one).
    The index is derived data: rebuilding changes no evidence and writes no custody event."""

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--case", help="only this case number")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        case = case_get(number=options["case"]) if options["case"] else None
        started = time.perf_counter()
        stored = search_reindex(case=case)
        seconds = round(time.perf_counter() - started, 3)
        if options["json"]:
            self.emit_json({"case": case.number if case else None, "entries": stored, "seconds": seconds})
        else:
            where = f"case {case.number}" if case else "all cases"
            self.stdout.write(f"indexed {stored} text(s) of {where} in {seconds} s")
