"""manage.py detect and manage.py rescan: what they run, their JSON, exit codes and access checks."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from access.choices import CaseMemberRole
from detection.models import Annotation, DetectionRun, ScanJob
from detection.models.runs import JobKind, RunStatus
from evidence.choices import CustodyAction
from evidence.models import CustodyEvent
from tests.commands import command_json
from tests.detection.conftest import png
from tests.factories import CaseFactory, UserFactory, stored_item

pytestmark = pytest.mark.django_db

ROLES = CaseMemberRole


def test_detect_runs_every_detector_on_the_case_and_reports_findings(team, test_detectors) -> None:
    case = team["case"]
    item = stored_item(
        case=case, data=png((250, 250, 250)), actor=team[ROLES.LEAD], name="w.png", mime="image/png"
    )
    stored_item(case=case, data=b"a note", actor=team[ROLES.LEAD], name="n.txt", mime="text/plain")
    stored_item(case=CaseFactory(), data=png((240, 240, 240)), actor=team[ROLES.LEAD], name="o.png")

    code, payload, _ = command_json("detect", case.number)

    assert code == 0
    assert payload["case"] == case.number and payload["items"] == 1
    assert payload["detectors"] == [
        {"name": "test-brightness", "version": "1"},
        {"name": "test-channel", "version": "1"},
    ]
    assert payload["runs"] == {"queued": 0, "running": 0, "done": 2, "failed": 0, "skipped": 0}
    assert payload["findings"] == {"bright": 1, "dominant-red": 1}
    assert payload["failures"] == []
    job = ScanJob.objects.get(pk=payload["job"])
    assert (job.kind, job.case_id, job.status) == (JobKind.MANUAL, case.pk, "done")
    events = CustodyEvent.objects.filter(item=item, action=CustodyAction.ANALYSED)
    assert events.count() == 2 and {e.actor_role for e in events} == {"system"}

    code, again, _ = command_json("detect", case.number)  # nothing new: the same versions already ran
    assert (code, again["items"], Annotation.objects.count()) == (0, 0, 2)


def test_detect_one_detector_as_a_named_member(team, test_detectors) -> None:
    case = team["case"]
    item = stored_item(
        case=case, data=png((250, 250, 250)), actor=team[ROLES.LEAD], name="w.png", mime="image/png"
    )
    analyst = team[ROLES.ANALYST]
    code, payload, _ = command_json(
        "detect", case.number, "--detector", "test-channel", "--actor", analyst.username
    )
    assert code == 0 and payload["findings"] == {"dominant-red": 1}
    event = CustodyEvent.objects.get(item=item, action=CustodyAction.ANALYSED)
    assert (event.actor_id, event.actor_role) == (analyst.pk, ROLES.ANALYST)


@pytest.mark.parametrize("role", [ROLES.VICTIM_SUPPORT, ROLES.AUDITOR, ROLES.PROSECUTOR])
def test_detect_refuses_members_who_may_not_run_detectors(team, test_detectors, role) -> None:
    stored_item(case=team["case"], data=png((250, 250, 250)), actor=team[ROLES.LEAD], name="w.png")
    code, _, err = command_json("detect", team["case"].number, "--actor", team[role].username)
    assert code == 1 and "may run detectors" in err
    assert not DetectionRun.objects.exists()


def test_detect_for_an_outsider_or_an_unknown_case_says_no_such_case(team, test_detectors) -> None:
    code, _, err = command_json("detect", team["case"].number, "--actor", team["outsider"].username)
    assert code == 1 and "no case numbered" in err
    code, _, err = command_json("detect", "2099-NOPE-0001")
    assert code == 1 and "no case numbered" in err


def test_detect_with_an_unknown_detector_names_the_available_ones(team, test_detectors) -> None:
    code, _, err = command_json("detect", team["case"].number, "--detector", "nudity")
    assert code == 1 and "no detector named 'nudity'" in err and "test-brightness, test-channel" in err


def test_detect_exits_1_with_each_failure_and_retries_it_next_time(team, test_detectors) -> None:
    case = team["case"]
    stored_item(case=case, data=b"\x89PNG cut short", actor=team[ROLES.LEAD], name="c.png", mime="image/png")
    code, payload, _ = command_json("detect", case.number, "--detector", "test-brightness")
    assert code == 1
    (failure,) = payload["failures"]
    assert "cannot decode as an image" in failure["error"]
    code, again, _ = command_json("detect", case.number, "--detector", "test-brightness")
    assert (
        code == 1 and again["items"] == 1
    )  # a failed run is tried again (a person may have fixed the cause)
    assert DetectionRun.objects.get().attempts == 2


def test_detect_human_output(team, test_detectors, capsys) -> None:
    stored_item(case=team["case"], data=png((250, 250, 250)), actor=team[ROLES.LEAD], name="w.png")
    call_command("detect", team["case"].number)
    out = capsys.readouterr().out
    assert f"case {team['case'].number}: job " in out and "1 items, runs: 2 done" in out
    assert "findings (investigative leads, not conclusions): bright ×1, dominant-red ×1" in out
    call_command("detect", team["case"].number)
    assert "nothing to do" in capsys.readouterr().out


def test_detect_picks_up_runs_whose_tasks_were_lost(team, test_detectors, tmp_path) -> None:
    from tests.detection.conftest import ingest_files

    # Ingest in a test transaction: runs are queued, tasks never sent (as if the broker had lost them).
    ingest_files(team["case"], team[ROLES.LEAD], tmp_path, {"w.png": png((250, 250, 250))})
    assert set(DetectionRun.objects.values_list("status", flat=True)) == {RunStatus.QUEUED}
    code, payload, _ = command_json("detect", team["case"].number)
    assert code == 0 and payload["runs"]["done"] == 2
    assert DetectionRun.objects.count() == 2


def test_rescan_a_case_and_the_whole_vault(
    team, test_detectors, eager, django_capture_on_commit_callbacks
) -> None:
    stored_item(case=team["case"], data=png((250, 250, 250)), actor=team[ROLES.LEAD], name="w.png")
    stored_item(case=CaseFactory(), data=png((240, 240, 240)), actor=team[ROLES.LEAD], name="o.png")
    with django_capture_on_commit_callbacks(execute=True):
        code, payload, _ = command_json(
            "rescan",
            "--case",
            team["case"].number,
            "--detector",
            "test-brightness",
            "--actor",
            team[ROLES.LEAD].username,
        )
    assert code == 0
    assert (payload["scope"], payload["items"]) == (team["case"].number, 1)
    assert payload["progress"]["total"] == 1  # printed before the test's transaction ran the eager task
    assert DetectionRun.objects.get(job_id=payload["job"]).status == RunStatus.DONE
    with django_capture_on_commit_callbacks(execute=True):
        code, payload, _ = command_json("rescan", "--detector", "test-brightness")
    assert (
        code == 0 and payload["scope"] is None and payload["items"] == 1
    )  # only the other case's item is new
    assert Annotation.objects.filter(label="bright").count() == 2


def test_rescan_of_the_whole_vault_needs_an_administrator(team, test_detectors) -> None:
    code, _, err = command_json(
        "rescan", "--detector", "test-brightness", "--actor", team[ROLES.LEAD].username
    )
    assert code == 1 and "only an administrator may re-scan the whole vault" in err
    admin = UserFactory(is_superuser=True)
    code, payload, _ = command_json("rescan", "--detector", "test-brightness", "--actor", admin.username)
    assert code == 0 and ScanJob.objects.get(pk=payload["job"]).requested_by == admin


def test_rescan_needs_a_detector() -> None:
    with pytest.raises(CommandError, match="--detector"):
        call_command("rescan")
