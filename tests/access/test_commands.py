"""manage.py create_case, create_user, add_member: exit codes and output that scripts depend on."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from access.models import Case, CaseMember
from evidence.models import CustodyEvent

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_create_case_json(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("create_case", "2024-BUSAN-0007", "--title", "Teen chat room", "--json")
    payload = json.loads(capsys.readouterr().out)
    assert payload["number"] == "2024-BUSAN-0007"
    assert payload["status"] == "open"
    assert Case.objects.filter(number="2024-BUSAN-0007").exists()


@pytest.mark.django_db
def test_create_case_existing_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("create_case", "2024-BUSAN-0008", "--title", "t")
    with pytest.raises(SystemExit) as exited:
        call_command("create_case", "2024-BUSAN-0008", "--title", "t")
    assert exited.value.code == 1
    assert "already exists" in capsys.readouterr().err


def test_create_case_usage_error_exits_2(tmp_path: Path) -> None:
    env = {**os.environ, "HAETAE_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "create_case", "2024-X-0001"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "--title" in result.stderr


# add_member and create_user


@pytest.mark.django_db
def test_create_user_prints_a_first_password_once_and_sets_the_group(
    capsys: pytest.CaptureFixture[str],
) -> None:
    call_command("create_user", "kim.investigator", "--role", "investigator", "--json")
    payload = json.loads(capsys.readouterr().out)
    assert payload["username"] == "kim.investigator" and payload["role"] == "investigator"
    user = get_user_model().objects.get(username="kim.investigator")
    assert user.check_password(payload["password"]) and len(payload["password"]) >= 16
    assert list(user.groups.values_list("name", flat=True)) == ["investigator"]
    assert not user.is_staff and not user.is_superuser
    assert payload["password"] not in user.password  # stored hashed, never in clear

    call_command("create_user", "ops", "--role", "admin")
    out = capsys.readouterr().out
    assert "First password, shown only now:" in out
    admin = get_user_model().objects.get(username="ops")
    assert admin.is_staff and admin.is_superuser


@pytest.mark.django_db
def test_create_user_taken_name_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("create_user", "lee", "--role", "auditor")
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        call_command("create_user", "lee", "--role", "prosecutor")
    assert exited.value.code == 1
    assert "already exists" in capsys.readouterr().err


@pytest.mark.django_db
def test_add_member_puts_a_user_on_the_team_with_an_event(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("create_case", "2024-BUSAN-0100", "--title", "t")
    call_command("create_user", "park", "--role", "victim_support")
    capsys.readouterr()
    call_command("add_member", "2024-BUSAN-0100", "park", "victim_support", "--json")
    assert json.loads(capsys.readouterr().out) == {
        "case": "2024-BUSAN-0100",
        "username": "park",
        "role": "victim_support",
        "added": True,
    }
    assert CaseMember.objects.get(user__username="park").role == "victim_support"
    event = CustodyEvent.objects.get(action="member_added")
    assert event.actor_name == "system" and event.details["user"] == "park"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["2099-NOPE-0001", "park", "analyst"], "no case numbered"),
        (["2024-BUSAN-0101", "nobody", "analyst"], "create_user nobody"),
        (["2024-BUSAN-0101", "park", "lead"], "may take the case roles victim_support, not lead"),
    ],
)
def test_add_member_refusals_exit_1_and_add_nothing(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("create_case", "2024-BUSAN-0101", "--title", "t")
    call_command("create_user", "park", "--role", "victim_support")
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        call_command("add_member", *args)
    assert exited.value.code == 1
    assert message in capsys.readouterr().err
    assert not CaseMember.objects.exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["add_member", "2024-X-0001", "someone", "boss"],
        ["add_member", "2024-X-0001"],
        ["create_user", "someone", "--role", "chief"],
        ["create_user", "someone"],
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, argv: list[str]) -> None:
    env = {**os.environ, "HAETAE_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", *argv], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert result.returncode == 2, result.stderr


@pytest.mark.django_db
def test_create_case_with_offences_and_unit(capsys: pytest.CaptureFixture[str]) -> None:
    call_command(
        "create_case",
        "2024-BUSAN-0200",
        "--title",
        "t",
        "--unit",
        "부산청 사이버수사대",
        "--offence",
        "sc-14-2-distribute",
        "--offence",
        "cy-11-distribute",
        "--json",
    )
    payload = json.loads(capsys.readouterr().out)
    assert sorted(payload["offences"]) == ["cy-11-distribute", "sc-14-2-distribute"]
    assert str(Case.objects.get(number="2024-BUSAN-0200").unit) == "부산청 사이버수사대"
    with pytest.raises(SystemExit) as exited:
        call_command("create_case", "2024-BUSAN-0201", "--title", "t", "--offence", "sc-99")
    assert exited.value.code == 1
    assert "unknown offence code(s) sc-99" in capsys.readouterr().err
    assert not Case.objects.filter(number="2024-BUSAN-0201").exists()
