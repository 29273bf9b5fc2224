"""manage.py create_exhibit NUMBER --items ID[,ID…] --description TEXT [--opinion TEXT] --actor USERNAME
[--json]"""

from typing import Any

from exhibits.management.exhibit_cli import add_common_arguments, case_of, report
from exhibits.services import exhibit_create
from haetae.cli import HaetaeCommand, id_list


class Command(HaetaeCommand):
    """Draft an exhibit of evidence items of the case (the next number, E-001 …, never reused) and print its
    number. Custody: exhibit_created on the case, exhibited on each item. Exit 1 naming any item that is
    not the case's or has no stored content, or if the actor's role may not draft; 2 on usage."""

    def add_arguments(self, parser: Any) -> None:
        add_common_arguments(parser, exhibit=False)
        parser.add_argument("--items", required=True, help="evidence item ids, comma-separated, in order")
        parser.add_argument("--description", required=True, help="what the items are and why they matter")
        parser.add_argument("--opinion", default="", help="the investigator's opinion (kept apart)")

    def handle(self, *args: Any, **options: Any) -> None:
        item_ids = id_list(options["items"], required=True)
        actor, case = case_of(self, options, "draft exhibits")
        exhibit = exhibit_create(
            case=case,
            item_ids=item_ids,
            description=options["description"],
            opinion=options["opinion"],
            actor=actor,
        )
        report(self, exhibit, options, "created")
