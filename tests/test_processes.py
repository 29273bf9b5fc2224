"""The forked children of tests/processes.py behave as `python …` would: their own environment, folder,
output, exit status, and a negative signal number when killed."""

import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.processes import Forked, forked

REPO = Path(__file__).resolve().parents[1]


def test_a_forked_child_has_only_the_environment_and_folder_it_is_given(tmp_path: Path) -> None:
    code = (
        "import os, sys\nprint(os.getcwd(), os.environ.get('ONLY_HERE'), 'PATH' in os.environ, sys.argv[1:])"
    )
    done = forked(["-c", code, "a", "b"], env={"ONLY_HERE": "yes"}, cwd=tmp_path, timeout=60, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{tmp_path} yes False ['a', 'b']"
    assert done.stderr == ""


def test_exit_status_and_error_output_are_those_of_the_code(tmp_path: Path) -> None:
    done = forked(
        ["-c", "import sys\nsys.stderr.write('refused\\n')\nsys.exit(3)"], env={}, cwd=tmp_path, timeout=60
    )
    assert (done.returncode, done.stderr) == (3, b"refused\n")
    crashed = forked(["-c", "raise ValueError('bad input')"], env={}, cwd=tmp_path, timeout=60, text=True)
    assert crashed.returncode == 1 and "ValueError: bad input" in crashed.stderr


def test_a_management_command_runs_as_manage_py_runs_it(tmp_path: Path) -> None:
    env = {**os.environ, "HAETAE_DATA_DIR": str(tmp_path)}
    done = forked(["manage.py", "no_such_command"], env=env, cwd=REPO, timeout=120, text=True)
    assert done.returncode == 1 and "Unknown command: 'no_such_command'" in done.stderr


def test_a_child_killed_by_a_signal_reports_its_negative_number(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    child = Forked(
        ["-c", f"import pathlib, time\npathlib.Path({str(ready)!r}).touch()\ntime.sleep(60)"],
        env={},
        cwd=tmp_path,
    )
    while not ready.exists():
        assert child.poll() is None
    assert child.pid != os.getpid()
    child.send_signal(signal.SIGKILL)
    assert child.wait(timeout=30) == -signal.SIGKILL


def test_a_child_past_its_time_is_killed_and_the_caller_told(tmp_path: Path) -> None:
    with pytest.raises(subprocess.TimeoutExpired):
        forked(["-c", "import time\ntime.sleep(60)"], env={}, cwd=tmp_path, timeout=0.5)
