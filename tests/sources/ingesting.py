"""The ingest command as the source tests run it: as ``park``, a member of the case, answering in JSON."""

import json
from typing import Any, cast

from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile

from access.models import Case
from tests.commands import command_run
from tests.factories import CaseFactory, CaseMemberFactory, UserFactory, api_client


def case_with_park(number: str) -> Case:
    """A case numbered ``number`` with the user ``park`` on its team."""
    case = cast(Case, CaseFactory(number=number))
    CaseMemberFactory(case=case, user=UserFactory(username="park"))
    return case


def ingest_json(number: str, *args: str) -> tuple[int, dict, str]:
    """``manage.py ingest NUMBER ARGS --actor park --json``: its exit code, its JSON answer and its stderr."""
    code, out, err = command_run("ingest", number, *args, "--actor", "park", "--json")
    return code, json.loads(out or "{}"), err


def upload_as_park(number: str, name: str, data: bytes, **fields: str) -> Any:
    """POST one file named ``name`` to the case's evidence API as ``park``, with the form's other fields."""
    client = api_client(User.objects.get(username="park"))
    files = [SimpleUploadedFile(name, data)]
    return client.post(f"/api/v1/cases/{number}/evidence/", {"files": files, **fields}, format="multipart")
