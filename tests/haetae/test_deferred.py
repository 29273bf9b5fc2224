"""Work deferred out of web requests: an upload answers once its items are committed, its detection runs
after the response (on a background thread by default), and commands still run it at once."""

import io
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.core.management import call_command
from PIL import Image
from rest_framework.test import APIClient

from access.choices import CaseMemberRole
from detection.models import DetectionRun
from detection.models.runs import RunStatus
from haetae import deferred
from tests.detection import conftest as detection_fixtures
from tests.factories import CaseFactory, CaseMemberFactory

test_detectors = detection_fixtures.test_detectors


def _png() -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.full((16, 16, 3), 250, dtype=np.uint8)).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("test_detectors", "eager")
def test_upload_answers_before_detection_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    handed: list[Any] = []
    monkeypatch.setattr(deferred, "_hand_over", handed.extend)
    case: Any = CaseFactory()
    client = APIClient()
    client.force_authenticate(CaseMemberFactory(case=case, role=CaseMemberRole.INVESTIGATOR).user)
    upload = io.BytesIO(_png())
    upload.name = "white.png"

    response = client.post(f"/api/v1/cases/{case.number}/evidence/", {"files": [upload]}, format="multipart")

    assert response.status_code == 201, response.content
    # The items are committed and their runs queued, but nothing was analysed inside the request.
    runs = DetectionRun.objects.filter(item__case=case)
    assert runs.count() == 2 and set(runs.values_list("status", flat=True)) == {RunStatus.QUEUED}
    assert len(handed) == 1
    handed[0]()  # what the background thread does once the response is out
    assert set(runs.values_list("status", flat=True)) == {RunStatus.DONE}


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("test_detectors", "eager")
def test_cli_ingest_still_waits_for_its_findings(tmp_path: Path) -> None:
    case: Any = CaseFactory()
    member: Any = CaseMemberFactory(case=case, role=CaseMemberRole.INVESTIGATOR)
    photo = tmp_path / "white.png"
    photo.write_bytes(_png())

    call_command("ingest", case.number, str(photo), "--actor", member.user.username, stdout=io.StringIO())

    runs = DetectionRun.objects.filter(item__case=case)
    assert runs.count() == 2 and set(runs.values_list("status", flat=True)) == {RunStatus.DONE}


def test_outside_a_request_work_runs_at_once() -> None:
    ran: list[str] = []
    assert not deferred.in_request()
    deferred.defer_out_of_request(lambda: ran.append("now"))
    assert ran == ["now"]


def test_background_thread_runs_deferred_work_off_the_request_thread(settings) -> None:
    settings.HAETAE_DEFERRED_RUNNER = "thread"
    seen: list[str] = []

    def job() -> None:
        seen.append(threading.current_thread().name)

    def failing() -> None:
        raise RuntimeError("a broken job is logged, never fatal to the next")

    deferred._hand_over([failing, job])
    deferred.deferred_drain()

    assert seen == ["haetae-deferred"]
