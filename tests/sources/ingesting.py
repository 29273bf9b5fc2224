"""The ingest command as the source tests run it: as ``park``, a member of the case, answering in JSON."""

import io
import json

from django.core.management import call_command

from access.models import Case
from tests.factories import CaseFactory, CaseMemberFactory, UserFactory


def case_with_park(number: str) -> Case:
    """A case numbered ``number`` with the user ``park`` on its team."""
    case = CaseFactory(number=number)
    CaseMemberFactory(case=case, user=UserFactory(username="park"))
    return case


def ingest_json(number: str, *args: str) -> tuple[int, dict, str]:
    """``manage.py ingest NUMBER ARGS --actor park --json``: its exit code, its JSON answer and its stderr."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("ingest", number, *args, "--actor", "park", "--json", stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, json.loads(out.getvalue() or "{}"), err.getvalue()
