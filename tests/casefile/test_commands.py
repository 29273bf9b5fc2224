"""manage.py create_case: exit codes and output that scripts depend on."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from casefile.models import Case

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
