"""manage.py create_case NUMBER --title TEXT [--actor USERNAME] [--json]"""

from typing import Any

from casefile.services import case_create
from haetae.cli import HaetaeCommand


class Command(HaetaeCommand):
    help = "Open a case. Exit 1 with a message if the number is taken or invalid."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("number", help="case number, e.g. 2024-SEOUL-0001")
        parser.add_argument("--title", required=True)
        parser.add_argument("--actor", help="username of the lead investigator (joins the case as lead)")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = self.get_actor(options["actor"]) if options["actor"] else None
        case = case_create(number=options["number"], title=options["title"], actor=actor)
        if options["json"]:
            self.emit_json({"id": case.pk, "number": case.number, "title": case.title, "status": case.status})
        else:
            self.stdout.write(f"created case {case.number}: {case.title}")
