"""Report and export-bundle pages against the real services of helpers "sign" and "bundle"
(``exhibits.reports.services``, ``exhibits.bundles``, ``exhibits.tasks``): generate from the portal, watch the
row's progress reach done, download (logged), and check the files with the public tools the verify page names.

Celery runs eagerly
in these tests (the ``eager`` fixture, also on the PostgreSQL leg), so a job has finished by the time the
portal's redirect is followed.
"""

import hashlib
import subprocess
import sys
import zipfile
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase
from django.urls import reverse

from access.choices import CaseMemberRole, GlobalRole
from evidence import crypto
from evidence.choices import CustodyAction
from evidence.models import CustodyEvent
from exhibits import services
from exhibits.choices import ReportStatus
from exhibits.models import ExportBundle, Report
from tests.factories import Team, item, jpeg_bytes, team
from tests.factories import portal_client as _client
from tests.portal.browser import browser_sign_in
from tests.portal.conftest import screenshot

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager")]
# Celery as in the embedded default (the PostgreSQL leg names a broker with no worker behind it).


@pytest.fixture
def shared() -> dict[str, Any]:
    t = team()
    photo = item(t, jpeg_bytes("coffee", quality=50), name="coffee.jpg")
    boss = t.member(CaseMemberRole.INVESTIGATOR)
    boss.groups.add(Group.objects.get_or_create(name=GlobalRole.SUPERVISOR)[0])
    exhibit = services.exhibit_create(
        case=t.case, item_ids=[photo.pk], description="Posted image", actor=t.lead
    )
    services.exhibit_approve(exhibit=exhibit, actor=boss)
    services.exhibit_share(exhibit=exhibit, actor=t.lead)
    return {"t": t, "photo": photo, "exhibit": exhibit, "prosecutor": t.member(CaseMemberRole.PROSECUTOR)}


def _generate(client: Client, t: Team, language: str = "en") -> Report:
    # The job is queued on commit; the test's transaction never commits, so the callbacks are run here.
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            reverse("portal:report_create", args=[t.case.number]),
            {"exhibits": ["E-001"], "language": language},
        )
    report = Report.objects.filter(case=t.case).latest("pk")
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:report_detail", args=[t.case.number, report.pk])
    return report


def test_generate_report_from_the_portal_then_download_is_logged(
    shared: dict[str, Any], tmp_path: Path
) -> None:
    t = shared["t"]
    client = _client(t.lead)
    report = _generate(client, t)
    report.refresh_from_db()
    assert report.status == ReportStatus.DONE, report.error
    page = client.get(reverse("portal:report_detail", args=[t.case.number, report.pk])).content.decode()
    download_url = reverse("portal:report_download", args=[t.case.number, report.pk])
    assert download_url in page and "hx-trigger" not in page
    response = client.get(download_url)
    pdf = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert response.status_code == 200 and pdf.startswith(b"%PDF")
    assert hashlib.sha256(pdf).hexdigest() == report.sha256 == response["X-Haetae-SHA256"]
    assert CustodyEvent.objects.filter(action=CustodyAction.REPORT_DOWNLOADED, case=t.case).count() == 1
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    checked = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False)
    assert "Signature is Valid" in checked.stdout, checked.stdout + checked.stderr


def test_a_second_request_makes_a_new_version(shared: dict[str, Any]) -> None:
    t = shared["t"]
    client = _client(t.lead)
    first, second = _generate(client, t, "ko"), _generate(client, t, "ko")
    assert (first.report_id, first.version + 1) == (second.report_id, second.version)


def test_prosecutor_downloads_the_shared_report_and_may_not_generate(shared: dict[str, Any]) -> None:
    t = shared["t"]
    report = _generate(_client(t.lead), t)
    prosecutor = _client(shared["prosecutor"])
    page = prosecutor.get(reverse("portal:prosecutor_case", args=[t.case.number])).content.decode()
    download_url = reverse("portal:report_download", args=[t.case.number, report.pk])
    assert download_url in page
    response = prosecutor.get(download_url)
    assert response.status_code == 200
    b"".join(response.streaming_content)  # type: ignore[attr-defined]
    event = CustodyEvent.objects.get(action=CustodyAction.REPORT_DOWNLOADED)
    assert event.actor == shared["prosecutor"]
    refused = prosecutor.post(
        reverse("portal:report_create", args=[t.case.number]), {"exhibits": ["E-001"], "language": "en"}
    )
    assert refused.status_code == 403
    assert Report.objects.count() == 1


def test_victim_support_and_auditor_cannot_download(shared: dict[str, Any]) -> None:
    t = shared["t"]
    report = _generate(_client(t.lead), t)
    url = reverse("portal:report_download", args=[t.case.number, report.pk])
    # Victim support never sees a report at all (as for a report of another case); the auditor sees the row.
    assert _client(t.member(CaseMemberRole.VICTIM_SUPPORT)).get(url).status_code == 404
    assert _client(t.member(CaseMemberRole.AUDITOR)).get(url).status_code == 403
    assert not CustodyEvent.objects.filter(action=CustodyAction.REPORT_DOWNLOADED).exists()


def test_bundle_with_a_public_key_verifies_offline(shared: dict[str, Any], tmp_path: Path) -> None:
    t = shared["t"]
    private = X25519PrivateKey.generate()
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    key_file = tmp_path / "recipient.pem"
    key_file.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    client = _client(t.lead)
    report = _generate(client, t)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            reverse("portal:bundle_create", args=[t.case.number]),
            {
                "exhibits": ["E-001"],
                "report": str(report.pk),
                "language": "en",
                "recipient": "Prosecutor Han, Seoul Central District Prosecutors' Office",
                "protection": "key",
                "public_key": SimpleUploadedFile("recipient.pub.pem", public_pem),
            },
        )
    bundle = ExportBundle.objects.get(case=t.case)
    assert response.status_code == 302, response.content.decode()[:800]
    bundle.refresh_from_db()
    assert bundle.status == ReportStatus.DONE, bundle.error
    download = client.get(reverse("portal:bundle_download", args=[t.case.number, bundle.pk]))
    data = b"".join(download.streaming_content)  # type: ignore[attr-defined]
    assert hashlib.sha256(data).hexdigest() == bundle.sha256
    assert CustodyEvent.objects.filter(action=CustodyAction.BUNDLE_DOWNLOADED).count() == 1
    assert "manifest.json" in zipfile.ZipFile(BytesIO(data)).namelist()
    path = tmp_path / "bundle.zip"
    path.write_bytes(data)
    ledger = crypto.public_key_hex(crypto.ledger_signing_key().public_key())  # the anchor, from the agency
    verified = subprocess.run(
        [sys.executable, "-m", "evidence.bundle", str(path), "--key", str(key_file), "--ledger-key", ledger],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_bundle_with_a_passphrase_is_created(shared: dict[str, Any]) -> None:
    t = shared["t"]
    client = _client(t.lead)
    with TestCase.captureOnCommitCallbacks(execute=True):  # no report chosen: the job makes one of E-001
        response = client.post(
            reverse("portal:bundle_create", args=[t.case.number]),
            {
                "exhibits": ["E-001"],
                "report": "",
                "language": "ko",
                "recipient": "Prosecutor Han",
                "protection": "passphrase",
                "passphrase": "given by telephone 7731",
                "passphrase_again": "given by telephone 7731",
            },
        )
    assert response.status_code == 302
    bundle = ExportBundle.objects.get(case=t.case)
    assert bundle.status == ReportStatus.DONE, bundle.error
    assert bundle.recipient_key == "passphrase"
    assert bundle.report is not None and bundle.report.scope == ["E-001"] and bundle.report.language == "ko"


@pytest.mark.django_db(transaction=True)
def test_browser_generates_a_report_watches_progress_and_downloads(page: Any, shared: dict[str, Any]) -> None:
    t = shared["t"]
    browser_sign_in(page, t.lead)
    page.goto(page.base + reverse("portal:exhibit_list", args=[t.case.number]))
    page.check("input[name=exhibits][value=E-001]")
    page.select_option("#id_language", "ko")
    page.click(f"form[action='{reverse('portal:report_create', args=[t.case.number])}'] button[type=submit]")
    page.wait_for_selector(".job-bar[data-status=done]", timeout=120_000)
    screenshot(page, "report-done")
    with page.expect_download() as download:
        page.click("#report-download")
    assert download.value.suggested_filename.endswith(".pdf")
    assert CustodyEvent.objects.filter(action=CustodyAction.REPORT_DOWNLOADED).count() == 1
