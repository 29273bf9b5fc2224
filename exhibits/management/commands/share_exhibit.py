"""manage.py share_exhibit NUMBER E-001 --actor USERNAME [--json]"""

from typing import Any

from exhibits.management.exhibit_cli import add_common_arguments, case_of, exhibit_of, report
from exhibits.services import exhibit_share
from haetae.cli import HaetaeCommand


class Command(HaetaeCommand):
    """Share an approved exhibit with the case's prosecutors, as the case lead (an exhibit_shared custody
    event); they then see its items and only those. Exit 1 if it is not approved or the actor is not the
    lead; 2 on usage."""

    def add_arguments(self, parser: Any) -> None:
        add_common_arguments(parser, exhibit=True)

    def handle(self, *args: Any, **options: Any) -> None:
        actor, case = case_of(self, options, "share exhibits")
        exhibit = exhibit_share(exhibit=exhibit_of(case, options["exhibit"]), actor=actor)
        report(self, exhibit, options, "shared")
