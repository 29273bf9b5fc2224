"""manage.py withdraw_exhibit NUMBER E-001 --reason TEXT --actor USERNAME [--json]"""

from typing import Any

from exhibits.management.exhibit_cli import add_common_arguments, case_of, exhibit_of, report
from exhibits.services import exhibit_withdraw
from haetae.cli import HaetaeCommand


class Command(HaetaeCommand):
    """Withdraw an exhibit, as the case lead, with a reason (exhibit_withdrawn on the case, unexhibited on
    each item); its number is never reused and a shared one stops being visible to the prosecutor. Exit 1
    with an empty reason or if already withdrawn; 2 on usage."""

    def add_arguments(self, parser: Any) -> None:
        add_common_arguments(parser, exhibit=True)
        parser.add_argument("--reason", required=True, help="why it is withdrawn (recorded)")

    def handle(self, *args: Any, **options: Any) -> None:
        actor, case = case_of(self, options, "withdraw exhibits")
        exhibit = exhibit_withdraw(
            exhibit=exhibit_of(case, options["exhibit"]), actor=actor, reason=options["reason"]
        )
        report(self, exhibit, options, "withdrawn")
