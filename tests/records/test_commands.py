"""manage.py destruction: the four steps and the certificate from the command line, and its refusals."""

import json
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone

from access.choices import CaseMemberRole, CaseStatus, GlobalRole
from access.models import Case
from evidence.choices import CustodyAction
from evidence.models import CustodyEvent
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
    analyst = t.member(CaseMemberRole.ANALYST)
    _run("certificate", number, "D-001", "--out", str(out), "--actor", analyst.username)
    assert out.read_bytes().startswith(b"%PDF") and len(out.read_bytes()) > 1000


def test_command_refuses_the_auditor_the_certificate_and_signs_a_missing_one_again(
    tmp_path: Path, settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    t = team()
    Case.objects.filter(pk=t.case.pk).update(
        status=CaseStatus.CLOSED, closed_at=timezone.now() - timedelta(days=4000)
    )
    item(t, name="victim-name.jpg")
    supervisor = t.member(CaseMemberRole.INVESTIGATOR)
    supervisor.groups.add(Group.objects.get_or_create(name=GlobalRole.SUPERVISOR)[0])
    auditor, analyst = t.member(CaseMemberRole.AUDITOR), t.member(CaseMemberRole.ANALYST)
    number = t.case.number
    _run("request", number, "--legal-basis", "보존기간 경과", "--actor", t.lead.username)
    _run("authorise", number, "D-001", "--actor", supervisor.username)
    _run("witness", number, "D-001", "--actor", auditor.username)
    settings.HAETAE_ALLOW_DEVELOPMENT_SIGNER = False  # signing is misconfigured at execution
    with pytest.raises(SystemExit) as stop:
        call_command("destruction", "execute", number, "D-001", "--actor", t.lead.username)
    assert stop.value.code == 1
    order = DestructionOrder.objects.get()
    assert order.status == "executed" and order.certificate_id is None
    settings.HAETAE_ALLOW_DEVELOPMENT_SIGNER = True
    out = tmp_path / "certificate.pdf"
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        call_command(
            "destruction", "certificate", number, "D-001", "--out", str(out), "--actor", auditor.username
        )
    assert stop.value.code == 1 and "name each item's file" in capsys.readouterr().err
    assert not out.exists() and DestructionOrder.objects.get().certificate_id is None
    signed = _run("certificate", number, "D-001", "--out", str(out), "--actor", analyst.username)
    assert signed["certificate_sha256"] and out.read_bytes().startswith(b"%PDF")
    again = _run("certificate", number, "D-001", "--out", str(out), "--reissue", "--actor", t.lead.username)
    certified = CustodyEvent.objects.filter(
        case=t.case, action=CustodyAction.DESTROYED, details__step="certified"
    )
    assert list(certified.order_by("seq").values_list("details__certificate_sha256", flat=True)) == [
        signed["certificate_sha256"],
        again["certificate_sha256"],
    ]


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
