"""manage.py create_exhibit, approve_exhibit, share_exhibit, withdraw_exhibit: output and exit codes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from evidence.choices import CustodyAction
from evidence.models import CustodyEvent
from exhibits.models import Exhibit
from tests.factories import Team, item, new_user, supervisor, team

REPO = Path(__file__).resolve().parents[2]


def exits(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exited:
        call_command(*args)
    return int(exited.value.code or 0), capsys.readouterr().err


def create(t: Team, ids: str, *extra: str) -> None:
    call_command("create_exhibit", t.case.number, "--items", ids, "--description", "room photos", *extra)


@pytest.mark.django_db
def test_the_lifecycle_by_command_prints_numbers_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    t = team()
    a, b = item(t, b"a"), item(t, b"b")
    create(t, f"{a.pk},{b.pk}", "--opinion", "same face", "--actor", t.lead.username)
    assert capsys.readouterr().out.strip() == "E-001"
    exhibit = Exhibit.objects.get(case=t.case, number="E-001")
    assert list(exhibit.exhibit_items.values_list("item_id", flat=True)) == [a.pk, b.pk]
    assert exhibit.opinion == "same face"
    boss = supervisor(t)
    call_command(
        "approve_exhibit", t.case.number, "E-001", "--actor", boss.username, "--note", "ok", "--json"
    )
    approved = json.loads(capsys.readouterr().out)
    assert (approved["number"], approved["status"], approved["approved_by"]) == (
        "E-001",
        "approved",
        boss.username,
    )
    call_command("share_exhibit", t.case.number, "E-001", "--actor", t.lead.username)
    assert capsys.readouterr().out.strip() == f"{t.case.number} E-001 shared (shared)"
    call_command(
        "withdraw_exhibit", t.case.number, "e-001", "--reason", "better copy", "--actor", t.lead.username
    )
    assert "withdrawn" in capsys.readouterr().out
    create(t, str(a.pk), "--actor", t.lead.username, "--json")
    assert json.loads(capsys.readouterr().out)["number"] == "E-002"  # never reused
    approvals = CustodyEvent.objects.get(case=t.case, action=CustodyAction.EXHIBIT_APPROVED)
    assert (approvals.actor_id, approvals.purpose) == (boss.pk, "ok")


@pytest.mark.django_db
def test_rejected_input_exits_1_with_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    t, other = team(), team()
    foreign = item(other, b"elsewhere")
    code, err = exits(
        capsys,
        "create_exhibit",
        t.case.number,
        "--items",
        str(foreign.pk),
        "--description",
        "d",
        "--actor",
        t.lead.username,
    )
    assert code == 1 and f"no evidence item {foreign.pk} in case {t.case.number}" in err
    code, err = exits(
        capsys,
        "create_exhibit",
        "2024-NOWHERE-1",
        "--items",
        "1",
        "--description",
        "d",
        "--actor",
        t.lead.username,
    )
    assert code == 1 and "no case numbered '2024-NOWHERE-1'" in err
    code, err = exits(
        capsys,
        "create_exhibit",
        t.case.number,
        "--items",
        "1",
        "--description",
        "d",
        "--actor",
        new_user().username,
    )
    assert code == 1 and f"is not on the team of case {t.case.number}" in err
    create(t, str(item(t).pk), "--actor", t.lead.username)
    capsys.readouterr()
    code, err = exits(capsys, "approve_exhibit", t.case.number, "E-001", "--actor", t.lead.username)
    assert code == 1 and "only a supervisor approves exhibits" in err
    code, err = exits(capsys, "share_exhibit", t.case.number, "E-001", "--actor", t.lead.username)
    assert code == 1 and "a supervisor approves an exhibit before it is shared" in err
    code, err = exits(
        capsys, "withdraw_exhibit", t.case.number, "E-001", "--reason", " ", "--actor", t.lead.username
    )
    assert code == 1 and "say why the exhibit is withdrawn" in err
    code, err = exits(capsys, "approve_exhibit", t.case.number, "E-009", "--actor", t.lead.username)
    assert code == 1 and "no exhibit E-009" in err
    assert Exhibit.objects.get(case=t.case).status == "draft"


@pytest.mark.django_db
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    t = team()
    code, err = exits(
        capsys,
        "create_exhibit",
        t.case.number,
        "--items",
        "12,x",
        "--description",
        "d",
        "--actor",
        t.lead.username,
    )
    assert code == 2 and "--items takes evidence item ids" in err
    code, err = exits(capsys, "approve_exhibit", t.case.number, "E-001", "--actor", "nobody.here")
    assert code == 2 and "no user named 'nobody.here'" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["create_exhibit", "2024-X-0001", "--items", "1", "--description", "d"],  # no --actor
        ["create_exhibit", "2024-X-0001", "--description", "d", "--actor", "kim"],  # no --items
        ["approve_exhibit", "2024-X-0001", "--actor", "kim"],  # no exhibit number
        ["withdraw_exhibit", "2024-X-0001", "E-001", "--actor", "kim"],  # no --reason
    ],
)
def test_missing_arguments_exit_2(tmp_path: Path, argv: list[str]) -> None:
    env = {**os.environ, "HAETAE_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", *argv], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2, result.stderr
    assert "error:" in result.stderr
