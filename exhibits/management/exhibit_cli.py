"""What the exhibit commands share: the actor's case and exhibit, looked up as the API looks them up, and
their output (the exhibit number, or with --json the same object as the API's)."""

from typing import Any

from django.contrib.auth.models import User

from access.models import Case
from access.selectors import case_for_command
from exhibits.api.serializers import ExhibitSerializer
from exhibits.models import Exhibit
from exhibits.selectors import exhibit_get
from haetae.cli import HaetaeCommand


def add_common_arguments(parser: Any, *, exhibit: bool) -> None:
    parser.add_argument("number", help="case number, e.g. 2024-SEOUL-0001")
    if exhibit:
        parser.add_argument("exhibit", help="exhibit number, e.g. E-001")
    HaetaeCommand.add_actor_and_json(
        parser,
        actor_help="username of who takes the step (recorded)",
        required=True,
        json_help="print the exhibit as one JSON object",
    )


def case_of(command: HaetaeCommand, options: dict[str, Any], action: str) -> tuple[User, Case]:
    actor = command.get_actor(options["actor"])
    return actor, case_for_command(user=actor, number=options["number"], action=None, doing=action)


def exhibit_of(case: Case, number: str) -> Exhibit:
    return exhibit_get(case=case, number=number)


def report(command: HaetaeCommand, exhibit: Exhibit, options: dict[str, Any], verb: str) -> None:
    if options["json"]:
        command.emit_json(dict(ExhibitSerializer(exhibit).data))
    elif verb == "created":
        command.stdout.write(exhibit.number)  # scripts read the number from stdout
    else:
        command.stdout.write(f"{exhibit.case.number} {exhibit.number} {verb} ({exhibit.status})")
