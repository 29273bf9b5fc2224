"""manage.py approve_exhibit NUMBER E-001 --actor USERNAME [--note TEXT] [--json]"""

from typing import Any

from exhibits.management.exhibit_cli import add_common_arguments, case_of, exhibit_of, report
from exhibits.services import exhibit_approve
from haetae.cli import HaetaeCommand


class Command(HaetaeCommand):
    """Approve a draft or pending exhibit, as a supervisor on the case team who did not draft it (an
    exhibit_approved custody event). Exit 1 if the actor is not such a supervisor or the exhibit is already
    approved, shared or withdrawn; 2 on usage."""

    def add_arguments(self, parser: Any) -> None:
        add_common_arguments(parser, exhibit=True)
        parser.add_argument("--note", default="", help="recorded with the approval")

    def handle(self, *args: Any, **options: Any) -> None:
        actor, case = case_of(self, options, "approve exhibits")
        exhibit = exhibit_approve(
            exhibit=exhibit_of(case, options["exhibit"]), actor=actor, note=options["note"]
        )
        report(self, exhibit, options, "approved")
