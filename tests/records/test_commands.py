"""manage.py destruction: the four steps and the certificate from the command line, and its refusals."""

import json
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone

from access.choices import CaseMemberRole, CaseStatus, GlobalRole
from access.models import Case
from records.models import DestructionOrder
from tests.factories import item, team

pytestmark = pytest.mark.django_db


def _run(*args: str) -> dict:
    out = StringIO()
    call_command("destruction", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_command_walks_request_authorise_witness_execute_and_writes_the_certificate(tmp_path: Path) -> None:
    t = team()
    Case.objects.filter(pk=t.case.pk).update(
        status=CaseStatus.CLOSED, closed_at=timezone.now() - timedelta(days=4000)
    )
    photo = item(t)
    supervisor = t.member(CaseMemberRole.INVESTIGATOR)
    supervisor.groups.add(Group.objects.get_or_create(name=GlobalRole.SUPERVISOR)[0])
    witness = t.member(CaseMemberRole.AUDITOR)
    number = t.case.number
    assert _run("retention", number)["due"] is True
    order = _run("request", number, "--legal-basis", "보존기간 경과", "--actor", t.lead.username)
    assert order["number"] == "D-001" and order["items"][0]["item"] == photo.pk
    _run("authorise", number, "D-001", "--actor", supervisor.username)
    _run("witness", number, "D-001", "--actor", witness.username)
    done = _run("execute", number, "D-001", "--actor", t.lead.username)
    assert done["status"] == "executed" and done["items"][0]["outcome"] == "erased"
    out = tmp_path / "certificate.pdf"
    _run("certificate", number, "D-001", "--out", str(out), "--actor", witness.username)
    assert out.read_bytes().startswith(b"%PDF") and len(out.read_bytes()) > 1000


def test_command_exits_1_when_the_requester_authorises(capsys: pytest.CaptureFixture[str]) -> None:
    t = team()
    Case.objects.filter(pk=t.case.pk).update(
        status=CaseStatus.CLOSED, closed_at=timezone.now() - timedelta(days=4000)
    )
    item(t)
    t.lead.groups.add(Group.objects.get_or_create(name=GlobalRole.SUPERVISOR)[0])
    _run("request", t.case.number, "--legal-basis", "보존기간 경과", "--actor", t.lead.username)
    with pytest.raises(SystemExit) as stop:
        call_command("destruction", "authorise", t.case.number, "D-001", "--actor", t.lead.username)
    assert stop.value.code == 1
    assert "a different person must authorise" in capsys.readouterr().err
    assert DestructionOrder.objects.get().status == "requested"
