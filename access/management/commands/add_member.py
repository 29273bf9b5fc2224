"""manage.py add_member NUMBER USERNAME ROLE [--actor USERNAME] [--json]"""

from typing import Any

from django.contrib.auth import get_user_model

from access.choices import CaseMemberRole
from access.policy import Action
from access.selectors import case_for_command
from access.services import case_get, member_add
from haetae.cli import HaetaeCommand
from haetae.errors import RejectedInput


class Command(HaetaeCommand):
    """Put a user on a case team with a case role (a member_added custody event). Exit 1 with a message if the
    case or user is unknown, the user is already on the team, or their global role forbids the role."""

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("number", help="case number, e.g. 2024-SEOUL-0001")
        parser.add_argument("username", help="the user to add")
        parser.add_argument("role", choices=CaseMemberRole.values, help="case role")
        self.add_actor_and_json(
            parser,
            actor_help="who makes the change: their role must allow it (recorded); default: system",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = self.actor_of(options)
        if actor is None:  # the operator at the server, recorded as the system
            case = case_get(number=options["number"])
        else:  # acting for a person: they may change the team only as the API lets them
            case = case_for_command(
                user=actor, number=options["number"], action=Action.TEAM_CHANGE, doing="change the team"
            )
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise RejectedInput(
                f"no user named {options['username']!r}: create one with 'manage.py create_user "
                f"{options['username']} --role ROLE'"
            )
        member = member_add(case=case, user=user, role=options["role"], actor=actor)
        if options["json"]:
            self.emit_json(
                {"case": case.number, "username": user.get_username(), "role": member.role, "added": True}
            )
        else:
            self.stdout.write(f"added {user.get_username()} to case {case.number} as {member.role}")
