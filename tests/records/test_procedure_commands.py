"""manage.py procedure: the Korean procedure records from the command line, as JSON, and their refusals."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from access.choices import CaseMemberRole
from evidence.choices import ItemStatus
from evidence.models import EvidenceItem
from tests.factories import item, jpeg_bytes, team
from tests.factories.exhibits import pdf_text

pytestmark = pytest.mark.django_db


def _run(*args: str) -> dict:
    out = StringIO()
    call_command("procedure", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_command_records_prints_marks_and_deletes(tmp_path: Path) -> None:
    t = team()
    photo = item(t, data=jpeg_bytes("coffee"), name="room-post.jpg")
    family = item(t, data=jpeg_bytes("chelsea"), name="family.jpg")
    number, lead = t.case.number, t.lead.username
    out = tmp_path / "list.pdf"
    listed = _run("seized-list", number, str(photo.acquisition_id), "--out", str(out), "--actor", lead)
    assert listed["number"] == "L-001" and listed["kind"] == "seized_list"
    assert str(photo.blob_id) in "".join(pdf_text(out, layout=False).split())
    recorded = _run(
        "scene-record",
        number,
        "--subject",
        "선별 파일",
        "--hash",
        f"room-post.jpg:SHA-256:{photo.blob_id}",
        "--computed-by",
        "김민수",
        "--computed-at",
        "2024-05-02T14:30+09:00",
        "--witness-name",
        "이영희",
        "--witness-relation",
        "변호인",
        "--actor",
        lead,
    )
    assert recorded["number"] == "H-001" and recorded["computed_at"].startswith("2024-05-02T05:30:00")
    printed = _run("scene-print", number, "H-001", "--out", str(tmp_path / "h.pdf"), "--actor", lead)
    assert printed["number"] == "C-001" and printed["confirmation"] == "H-001"
    marks = _run("mark", number, "--items", str(family.pk), "--reason", "가족 사진", "--actor", lead)["marks"]
    assert marks[0]["item"] == family.pk and marks[0]["status"] == "marked"
    disposal = _run(
        "dispose",
        number,
        "--items",
        str(family.pk),
        "--kind",
        "deleted",
        "--person-searched",
        "홍길동",
        "--confirmation",
        "확인서에 서명",
        "--actor",
        lead,
    )
    assert disposal["number"] == "U-001" and disposal["items"][0]["outcome"] == "erased"
    assert EvidenceItem.objects.get(pk=family.pk).status == ItemStatus.DESTROYED
    auditor = t.member(CaseMemberRole.AUDITOR)
    listing = _run("list", number, "--actor", auditor.username)
    assert [d["number"] for d in listing["documents"]] == ["L-001", "C-001"]
    assert listing["marks"][0]["status"] == "deleted"
    again = tmp_path / "again.pdf"
    _run("document", number, "L-001", "--out", str(again), "--actor", auditor.username)
    assert again.read_bytes() == out.read_bytes()


def test_command_exits_1_when_an_analyst_marks_and_2_for_a_bad_hash(
    capsys: pytest.CaptureFixture[str],
) -> None:
    t = team()
    photo = item(t)
    analyst = t.member(CaseMemberRole.ANALYST)
    with pytest.raises(SystemExit) as exited:
        call_command(
            "procedure",
            "mark",
            t.case.number,
            "--items",
            str(photo.pk),
            "--reason",
            "x",
            "--actor",
            analyst.username,
        )
    assert exited.value.code == 1 and "mark items unrelated" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        call_command(
            "procedure",
            "scene-record",
            t.case.number,
            "--subject",
            "x",
            "--hash",
            "no-colons",
            "--computed-by",
            "k",
            "--actor",
            t.lead.username,
        )
    assert exited.value.code == 2
    assert EvidenceItem.objects.get(pk=photo.pk).status == ItemStatus.INGESTED
