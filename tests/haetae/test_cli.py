"""HaetaeCommand: a command's docstring is its --help text, and every command of ours has one; id_list."""

import pytest
from django.apps import apps
from django.core.management import get_commands, load_command_class

from haetae.cli import HaetaeCommand, id_list
from haetae.errors import UsageError


def test_docstring_becomes_help_with_whitespace_folded() -> None:
    class Command(HaetaeCommand):
        """Do one thing,
        then another."""

    assert Command.help == "Do one thing, then another."


def test_help_set_on_the_class_wins_over_the_docstring() -> None:
    class Command(HaetaeCommand):
        """What a reader of the code needs."""

        help = "What a user of the command needs."

    assert Command.help == "What a user of the command needs."


def test_every_command_of_ours_has_help_in_its_usage() -> None:
    ours = {config.name for config in apps.get_app_configs() if not config.name.startswith("django")}
    commands = {name: app for name, app in get_commands().items() if app in ours}
    assert len(commands) > 30
    for name, app in commands.items():
        command = load_command_class(app, name)
        assert command.help.strip(), name
        assert " ".join(command.help.split()) in " ".join(
            command.create_parser("manage.py", name).format_help().split()
        ), name


def test_id_list_reads_comma_separated_ids_and_refuses_anything_else() -> None:
    assert id_list(" 12, 13,,14 ") == [12, 13, 14]
    assert id_list("") == []
    with pytest.raises(UsageError, match="--items takes evidence item ids"):
        id_list("", required=True)
    with pytest.raises(UsageError, match=r"--items takes evidence item ids .* not '12,x'"):
        id_list("12,x")
