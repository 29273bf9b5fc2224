"""manage.py unit list | supervise UNIT USER | unsupervise UNIT USER --reason … [--actor ADMIN] [--json]"""

from typing import Any

from django.contrib.auth import get_user_model

from access.models import Unit, UnitSupervisor
from access.services import unit_for_name, unit_supervisor_add, unit_supervisor_remove
from haetae.cli import HaetaeCommand
from haetae.errors import RejectedInput


class Command(HaetaeCommand):
    """Units and their supervisors. 'list' prints each unit with its supervisors and cases. 'supervise' makes
    a user with the supervisor global role the supervisor of a unit (made on first use): they join every
    case of the unit with the supervisor role, one member_added custody event per case. 'unsupervise' ends
    it (member_removed on each case, with --reason). Administrators only. Exit 1 with a message on an
    unknown user or unit, a user without the supervisor role, or a supervision that exists already or does
    not exist."""

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("verb", choices=["list", "supervise", "unsupervise"])
        parser.add_argument("unit", nargs="?", default="", help="the unit's name, e.g. 서울청 사이버수사대")
        parser.add_argument("username", nargs="?", default="", help="the supervisor")
        parser.add_argument("--reason", default="", help="why a supervision ends (unsupervise)")
        self.add_actor_and_json(parser, actor_help="the administrator who makes the change (recorded)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verb"] == "list":
            self._list(options)
            return
        if not options["unit"] or not options["username"]:
            raise RejectedInput(f"'unit {options['verb']}' needs a unit name and a username")
        if not options["actor"]:
            raise RejectedInput("name the administrator who makes the change with --actor")
        actor = self.get_actor(options["actor"])
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise RejectedInput(f"no user named {options['username']!r}")
        if options["verb"] == "supervise":
            unit = unit_for_name(options["unit"])
            assert unit is not None
            unit_supervisor_add(unit=unit, user=user, actor=actor)
        else:
            found = Unit.objects.filter(name=options["unit"].strip()).first()
            if found is None:
                raise RejectedInput(f"no unit named {options['unit']!r}: 'manage.py unit list' shows them")
            unit = found
            unit_supervisor_remove(unit=unit, user=user, actor=actor, reason=options["reason"])
        supervising = options["verb"] == "supervise"
        cases = sorted(unit.cases.values_list("number", flat=True))
        if options["json"]:
            self.emit_json(
                {
                    "unit": unit.name,
                    "username": user.get_username(),
                    "supervises": supervising,
                    "cases": cases,
                }
            )
        else:
            verb = "now supervises" if supervising else "no longer supervises"
            self.stdout.write(f"{user.get_username()} {verb} unit {unit.name} ({len(cases)} cases)")

    def _list(self, options: dict[str, Any]) -> None:
        rows = []
        for unit in Unit.objects.order_by("name"):
            supervisors = sorted(
                UnitSupervisor.objects.filter(unit=unit).values_list("user__username", flat=True)
            )
            cases = sorted(unit.cases.values_list("number", flat=True))
            rows.append({"unit": unit.name, "supervisors": supervisors, "cases": cases})
        if options["json"]:
            self.emit_json(rows)
            return
        for row in rows:
            names = ", ".join(row["supervisors"]) or "-"
            self.stdout.write(f"{row['unit']}: supervisors {names}; {len(row['cases'])} cases")
