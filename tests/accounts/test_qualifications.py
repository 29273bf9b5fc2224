"""Examiners' qualifications: recorded by administrators, kept as history, shown on the report cover as
they stood when the report was made."""

import json
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.choices import AccountAction
from accounts.models import AccountEvent, ExaminerQualification
from accounts.selectors import qualification_as_of
from accounts.services import examiner_qualification_record
from exhibits.reports.data import report_data
from haetae.errors import AccessDenied, RejectedInput
from tests.factories import new_user, pdf_text, render_to, report_case, verified_login

pytestmark = pytest.mark.django_db

COURSE = {"name": "디지털포렌식 전문과정 (경찰수사연수원)", "date": "2023-05-12"}
CERTIFICATE = {"name": "디지털포렌식전문가 2급", "date": "2022-11-01"}


def _admin() -> object:
    return new_user(username="admin-kim", is_staff=True)


def test_a_change_adds_a_row_and_keeps_the_one_before() -> None:
    examiner, admin = new_user(username="examiner-lee"), _admin()
    first = examiner_qualification_record(
        user=examiner,
        actor=admin,
        changes={"title": "경위", "unit": "서울청 사이버수사대", "training": [COURSE]},
    )
    second = examiner_qualification_record(
        user=examiner, actor=admin, changes={"certifications": [CERTIFICATE]}
    )
    first.refresh_from_db()
    assert first.certifications == [] and first.title == "경위"
    assert second.pk != first.pk
    # Fields not named carry over from the row before.
    assert (second.title, second.unit, second.training) == ("경위", "서울청 사이버수사대", [COURSE])
    events = AccountEvent.objects.filter(user=examiner, action=AccountAction.QUALIFICATION_RECORDED)
    assert [e.details["previous"] for e in events.order_by("at", "pk")] == [None, first.pk]


def test_the_qualification_in_force_at_a_moment_is_the_newest_recorded_before_it() -> None:
    examiner, admin = new_user(), _admin()
    old = examiner_qualification_record(user=examiner, actor=admin, changes={"title": "경사"})
    ExaminerQualification.objects.filter(pk=old.pk).update(recorded_at=timezone.now() - timedelta(days=30))
    examiner_qualification_record(user=examiner, actor=admin, changes={"title": "경위"})
    assert qualification_as_of(user_id=examiner.pk, at=timezone.now() - timedelta(days=1)).title == "경사"
    assert qualification_as_of(user_id=examiner.pk, at=timezone.now()).title == "경위"
    assert qualification_as_of(user_id=examiner.pk, at=timezone.now() - timedelta(days=60)) is None


def test_only_an_administrator_records_a_qualification_not_the_examiner() -> None:
    examiner = new_user()
    with pytest.raises(AccessDenied, match="only an administrator"):
        examiner_qualification_record(user=examiner, actor=examiner, changes={"title": "경위"})
    assert not ExaminerQualification.objects.exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"training": [{"name": "course", "date": "12.05.2023"}]}, "write it as YYYY-MM-DD"),
        ({"certifications": [{"name": "", "date": "2023-05-12"}]}, "a name is missing"),
        ({"unit": ""}, "an empty qualification says nothing"),
        ({"rank": "경위"}, "unknown qualification field"),
    ],
)
def test_a_bad_qualification_is_refused_with_what_to_fix(changes: dict, message: str) -> None:
    with pytest.raises(RejectedInput, match=message):
        examiner_qualification_record(user=new_user(), actor=_admin(), changes=changes)
    assert not ExaminerQualification.objects.exists()


def test_recording_the_same_qualification_again_is_refused() -> None:
    examiner, admin = new_user(), _admin()
    examiner_qualification_record(user=examiner, actor=admin, changes={"title": "경위"})
    with pytest.raises(RejectedInput, match="nothing to record"):
        examiner_qualification_record(user=examiner, actor=admin, changes={"title": "경위"})
    assert ExaminerQualification.objects.count() == 1


def test_command_records_and_lists_the_history() -> None:
    examiner = new_user(username="examiner-park")
    call_command("examiner_profile", "examiner-park", "--title", "경사", "--training", "2023-05-12 기본과정")
    call_command("examiner_profile", "examiner-park", "--title", "경위")
    out = StringIO()
    call_command("examiner_profile", "examiner-park", "--history", "--json", stdout=out)
    shown = json.loads(out.getvalue())
    assert [row["title"] for row in shown["history"]] == ["경위", "경사"]
    assert shown["current"]["training"] == [{"name": "기본과정", "date": "2023-05-12"}]
    assert shown["history"][0]["recorded_by"] is None  # the operator at the command line
    assert ExaminerQualification.objects.filter(user=examiner).count() == 2


def test_command_refuses_a_bad_date_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    new_user(username="examiner-choi")
    with pytest.raises(SystemExit) as stop:
        call_command("examiner_profile", "examiner-choi", "--certification", "last year 자격")
    assert stop.value.code == 1
    assert not ExaminerQualification.objects.exists()


def test_admin_saving_an_old_row_records_a_new_one(client: Client) -> None:
    examiner = new_user(username="examiner-jung")
    admin = new_user(username="root", is_staff=True, is_superuser=True)
    row = examiner_qualification_record(user=examiner, actor=admin, changes={"title": "경사"})
    verified_login(client, admin)  # the admin needs a TOTP session
    url = f"/admin/accounts/examinerqualification/{row.pk}/change/"
    answer = client.post(
        url,
        {
            "title": "경위",
            "unit": "사이버수사대",
            "note": "",
            "training_lines": "",
            "certification_lines": "2022-11-01 자격",
        },
    )
    assert answer.status_code == 302, answer.content[:2000]
    row.refresh_from_db()
    assert row.title == "경사"
    newest = qualification_as_of(user_id=examiner.pk, at=timezone.now())
    assert (newest.title, newest.certifications) == ("경위", [{"name": "자격", "date": "2022-11-01"}])
    assert newest.recorded_by == admin
    bad = client.post(url, {"title": "경위", "unit": "", "note": "", "training_lines": "yesterday x"})
    assert bad.status_code == 200 and "YYYY-MM-DD" in bad.content.decode()
    assert ExaminerQualification.objects.count() == 2


def test_report_cover_names_the_examiners_qualification_as_of_the_report(tmp_path: Path) -> None:
    built = report_case(tmp_path / "seized", detectors=())
    admin = _admin()
    examiner_qualification_record(
        user=built.lead,
        actor=admin,
        changes={
            "title": "경위",
            "unit": "서울청 사이버수사대",
            "training": [COURSE],
            "certifications": [CERTIFICATE],
        },
    )
    english = report_data(case=built.case, exhibits=built.exhibits, language="en")
    assert "경위, 서울청 사이버수사대" in english.cover.examiner.qualification
    assert (
        "training: 디지털포렌식 전문과정 (경찰수사연수원) (2023-05-12)"
        in english.cover.examiner.qualification
    )
    assert english.cover.reviewers[0].qualification == ""  # none recorded: the cover says so
    render_to(tmp_path / "en.pdf", english)
    cover = " ".join(pdf_text(tmp_path / "en.pdf", 1, layout=False).split())
    assert "as recorded in Haetae on" in cover and "not recorded in Haetae" in cover  # the reviewer's
    korean = report_data(case=built.case, exhibits=built.exhibits, language="ko")
    assert "자격증: 디지털포렌식전문가 2급 (2022-11-01)" in korean.cover.examiner.qualification
    # A later change does not reach back into what a report made before it would have said.
    ExaminerQualification.objects.update(recorded_at=timezone.now() - timedelta(days=1))
    examiner_qualification_record(user=built.lead, actor=admin, changes={"title": "경감"})
    later = report_data(case=built.case, exhibits=built.exhibits, language="en")
    assert later.cover.examiner.qualification.startswith("경감")
    assert qualification_as_of(user_id=built.lead.pk, at=timezone.now() - timedelta(hours=1)).title == "경위"
