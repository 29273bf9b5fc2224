"""Management commands as the tests run them: their exit status and what they wrote, never an exception."""

import io
import json
from typing import Any

from django.core.management import call_command


def command_run(name: str, *args: str) -> tuple[int, str, str]:
    """``manage.py NAME ARGS``: its exit status (0 unless it exited otherwise), its stdout and its stderr."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(name, *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def command_json(name: str, *args: str) -> tuple[int, dict[str, Any], str]:
    """``manage.py NAME ARGS --json``: its exit status, the object it printed ({} if none) and its stderr."""
    code, out, err = command_run(name, *args, "--json")
    return code, (json.loads(out) if out.strip() else {}), err
