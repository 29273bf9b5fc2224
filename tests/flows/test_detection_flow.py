"""Upload → detectors run as the ingest commits → progress → an investigator reviews a finding → a new
detector version re-scans the case → the ledger still verifies. The embedded default (eager tasks)."""

import io
import json
import zipfile
from typing import Any

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from access.choices import CaseMemberRole
from detection import registry
from evidence.models import EvidenceItem
from tests.detection import conftest as detection_fixtures
from tests.detection.conftest import png
from tests.detection.plugins import BrightnessDetector
from tests.factories import CaseFactory, CaseMemberFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("test_detectors", "eager")]
test_detectors = detection_fixtures.test_detectors


def test_findings_follow_an_upload_and_stay_leads_until_reviewed(
    django_capture_on_commit_callbacks: Any, capsys: Any
) -> None:
    case: Any = CaseFactory()
    investigator = APIClient()
    investigator.force_authenticate(CaseMemberFactory(case=case, role=CaseMemberRole.INVESTIGATOR).user)
    export = io.BytesIO()
    with zipfile.ZipFile(export, "w") as archive:
        archive.writestr("photos/blue.png", png((10, 10, 240)))
    uploads = [
        ("white.png", png((250, 250, 250))),
        ("export.zip", export.getvalue()),
        ("chat.txt", b"channel rules"),
    ]
    files = []
    for name, data in uploads:
        upload = io.BytesIO(data)
        upload.name = name
        files.append(upload)
    with django_capture_on_commit_callbacks(execute=True):
        response = investigator.post(
            f"/api/v1/cases/{case.number}/evidence/",
            {"files": files, "source": "report form"},
            format="multipart",
        )
    assert response.status_code == 201, response.content
    acquisition = response.json()["acquisition"]

    progress = investigator.get(f"/api/v1/acquisitions/{acquisition}/progress/").json()
    assert progress["ingest_status"] == "completed"
    # Two images (one inside the ZIP) × two detectors; the ZIP and the text file are not images.
    assert {k: progress["detection"][k] for k in ("total", "done", "failed", "pending")} == {
        "total": 4,
        "done": 4,
        "failed": 0,
        "pending": 0,
    }
    findings = investigator.get("/api/v1/annotations/", {"case": case.number}).json()["results"]
    labels = sorted((f["finding"]["label"], f["review"]["status"]) for f in findings)
    assert labels == [("bright", "lead"), ("dominant-blue", "lead"), ("dominant-red", "lead")]

    bright = next(f for f in findings if f["finding"]["label"] == "bright")
    reviewed = investigator.post(
        f"/api/v1/annotations/{bright['id']}/confirm/", {"reason": "the photo is overexposed"}, format="json"
    ).json()
    assert reviewed["review"]["status"] == "confirmed" and reviewed["finding"] == bright["finding"]

    item = EvidenceItem.objects.get(pk=bright["item"])
    chain = list(item.custody_events.order_by("seq").values_list("action", flat=True))
    assert chain == ["acquired", "stored", "analysed", "analysed", "finding_reviewed"]

    registry.register_dynamic("v2", lambda: [BrightnessDetector(version="2", bound=20)])
    try:
        with django_capture_on_commit_callbacks(execute=True):
            job = investigator.post(
                "/api/v1/jobs/", {"case": case.number, "detector": "test-brightness"}, format="json"
            ).json()
    finally:
        registry._dynamic.pop("v2")
    detail = investigator.get(f"/api/v1/jobs/{job['id']}/").json()
    assert detail["status"] == "done" and detail["progress"]["done"] == 2
    versions = sorted(
        (f["finding"]["label"], f["provenance"]["version"], f["review"]["status"])
        for f in investigator.get("/api/v1/annotations/", {"label": "bright"}).json()["results"]
    )
    # Version 2 (a lower bound) also calls the blue photo bright; version 1's confirmed finding is kept.
    assert versions == [("bright", "1", "confirmed"), ("bright", "2", "lead"), ("bright", "2", "lead")]

    call_command("verify", "--case", case.number, "--json")
    assert json.loads(capsys.readouterr().out)["ok"] is True
