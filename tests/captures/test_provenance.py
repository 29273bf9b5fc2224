"""A capture's provenance in the report data and the exhibit manifest: who, what address, server, when, and
the trusted time of its manifest (or a plain "no trusted timestamp")."""

from pathlib import Path
from typing import Any

import pytest

from captures.choices import CaptureStatus
from captures.models import Capture
from evidence.ingest import PathSource, evidence_ingest
from evidence.timestamps import acquisition_timestamp
from exhibits.manifest import exhibit_manifest
from exhibits.reports.data import report_data
from exhibits.services import exhibit_create
from tests.factories import pii_calls, team
from tests.tsa import LocalAuthority, tsa_authority, tsa_configured

__all__ = ["pii_calls", "tsa_authority", "tsa_configured"]

pytestmark = pytest.mark.django_db


def captured(tmp_path: Path) -> tuple[Any, Capture, int]:
    """A capture as ``capture_run`` leaves it: its files one acquisition, the row pointing at it."""
    t = team()
    (tmp_path / "screenshot.png").write_bytes(b"\x89PNG page as shown")
    result = evidence_ingest(
        case=t.case, sources=[PathSource(tmp_path / "screenshot.png")], actor=t.lead, source_label="capture"
    )
    capture = Capture.objects.create(
        case=t.case,
        url="https://example.org/post/1",
        status=CaptureStatus.CAPTURED,
        requested_by=t.lead,
        final_url="https://example.org/p/1",
        resolved_ip="93.184.216.34",
        facts={"started_at": "2024-09-17T01:02:03.000Z", "finished_at": "2024-09-17T01:02:09.000Z"},
        acquisition=result.acquisition,
    )
    item_id = result.items[0].id
    assert item_id is not None
    exhibit_create(case=t.case, item_ids=[item_id], description="captured post", actor=t.lead)
    return t, capture, item_id


def test_report_and_manifest_name_the_capture_and_its_trusted_time(
    tmp_path: Path, tsa_configured: LocalAuthority
) -> None:
    t, capture, _ = captured(tmp_path)
    token = acquisition_timestamp(acquisition_id=capture.acquisition_id or 0)
    assert token is not None and token.gen_time is not None
    data = report_data(case=t.case, exhibits=list(t.case.exhibits.all()), language="en")
    acquisition = next(iter(data.exhibits)).items[0].acquisition
    assert acquisition.trusted_time.startswith(str(token.gen_time.year))
    assert "https://example.org/post/1 → https://example.org/p/1 (93.184.216.34)" in acquisition.capture
    manifest = exhibit_manifest(case=t.case, exhibits=list(t.case.exhibits.all()))
    (entry,) = manifest["captures"]
    assert entry["resolved_ip"] == "93.184.216.34" and entry["requested_by"] == t.lead.username
    assert entry["trusted_time"] == acquisition.trusted_time
    assert [ts["subject"] for ts in manifest["timestamps"]] == ["acquisition"]


def test_without_a_tsa_the_report_says_there_is_no_trusted_timestamp(tmp_path: Path) -> None:
    t, _, _ = captured(tmp_path)
    data = report_data(case=t.case, exhibits=list(t.case.exhibits.all()), language="en")
    assert next(iter(data.exhibits)).items[0].acquisition.trusted_time == ""
    manifest = exhibit_manifest(case=t.case, exhibits=list(t.case.exhibits.all()))
    assert manifest["timestamp_note"].startswith("no trusted timestamp")


def test_the_rendered_report_says_who_captured_what_when_from_which_server_under_which_tsa_time(
    tmp_path: Path, tsa_configured: LocalAuthority
) -> None:
    import re
    import subprocess

    from exhibits.reports.render import report_render
    from tests.factories import SIGNER

    t, capture, _ = captured(tmp_path)
    token = acquisition_timestamp(acquisition_id=capture.acquisition_id or 0)
    assert token is not None
    exhibits = list(t.case.exhibits.all())
    data = report_data(case=t.case, exhibits=exhibits, language="en")
    acquisition = next(iter(data.exhibits)).items[0].acquisition
    pdf = tmp_path / "report.pdf"
    with pdf.open("wb") as out:  # the report data is read once, as it is rendered: a fresh one
        report_render(
            data=report_data(case=t.case, exhibits=exhibits, language="en"),
            out=out,
            report_id="R-CAP",
            version=1,
            signer=SIGNER,
        )
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    squashed = re.sub(r"\s+", "", text)  # pdftotext breaks long values across table lines

    def shown(value: str) -> bool:
        return re.sub(r"\s+", "", value) in squashed

    assert shown(acquisition.acquired_by)  # who ran the capture
    assert shown(
        "https://example.org/post/1 → https://example.org/p/1 (93.184.216.34), "
        "2024-09-17T01:02:03.000Z – 2024-09-17T01:02:09.000Z"
    )  # what was asked for and reached, the server's address, start and end
    assert acquisition.trusted_time and shown(acquisition.trusted_time)
