"""manage.py create_case NUMBER --title TEXT [--actor USERNAME] [--unit TEXT] [--jurisdiction TEXT]
[--offence CODE …] [--retention CLASS] [--json]"""

from typing import Any

from access.choices import CaseRetention
from access.services import case_create
from haetae.cli import HaetaeCommand


class Command(HaetaeCommand):
    """Open a case. Exit 1 with a message if the number is taken or invalid, or an offence code unknown."""

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("number", help="case number, e.g. 2024-SEOUL-0001")
        parser.add_argument("--title", required=True)
        parser.add_argument("--actor", help="username of the lead investigator (joins the case as lead)")
        parser.add_argument("--unit", default="", help="investigating unit")
        parser.add_argument("--jurisdiction", default="", help="prosecutors' office or court district")
        parser.add_argument(
            "--offence",
            action="append",
            default=[],
            dest="offences",
            help="offence code (repeat; list them with GET /api/v1/offences/), e.g. sc-14-2-distribute",
        )
        parser.add_argument("--retention", choices=CaseRetention.values, default=CaseRetention.STANDARD)
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = self.actor_of(options)
        case = case_create(
            number=options["number"],
            title=options["title"],
            actor=actor,
            unit=options["unit"],
            jurisdiction=options["jurisdiction"],
            offences=options["offences"],
            retention_class=options["retention"],
        )
        if options["json"]:
            self.emit_json(
                {
                    "id": case.pk,
                    "number": case.number,
                    "title": case.title,
                    "status": case.status,
                    "offences": list(case.offences.values_list("code", flat=True)),
                    "lead_investigator": actor.get_username() if actor else None,
                }
            )
        else:
            self.stdout.write(f"created case {case.number}: {case.title}")
