"""Report and bundle jobs through the API, end to end: POST → 202 with the queued row → the Celery job (eager
in tests) → progress → the download streamed and recorded.

These call helper "sign"'s ``exhibits.reports.services.report_request`` / ``report_open`` with
``exhibits.tasks.report_generate_task`` and helper "bundle"'s ``exhibits.bundles.bundle_request`` /
``bundle_open`` with ``exhibits.tasks.bundle_export_task``: they run once those branches are merged.
Who may ask and who sees which rows is tested without them in tests/exhibits/test_exhibits_api.py.
"""

import base64
import hashlib
import io
import zipfile

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.contrib.auth.models import User

from access.choices import CaseMemberRole
from evidence.choices import CustodyAction
from evidence.models import CustodyEvent
from exhibits.models import ExportBundle, Report
from tests.factories import Team, exhibit_to, item, jpeg_bytes, team
from tests.factories import api_client as api

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager")]
# Celery as in the embedded default: the PostgreSQL leg names a broker with no worker behind it.


def shared_case() -> tuple[Team, User]:
    t = team()
    exhibit_to(t, [item(t, jpeg_bytes("astronaut"), name="room-1.jpg")], status="shared")
    exhibit_to(t, [item(t, jpeg_bytes("coffee"), name="room-2.jpg")], status="approved")
    return t, t.member(CaseMemberRole.PROSECUTOR)


def body_of(response: object) -> bytes:
    return b"".join(response.streaming_content)  # type: ignore[attr-defined]


def test_a_report_is_queued_generated_and_downloaded_on_record(django_capture_on_commit_callbacks) -> None:
    t, prosecutor = shared_case()
    lead = api(t.lead)
    with django_capture_on_commit_callbacks(execute=True):
        queued = lead.post(
            f"/api/v1/cases/{t.case.number}/reports/",
            {"exhibits": ["E-001"], "language": "en"},
            format="json",
        )
    assert queued.status_code == 202, queued.content
    row = queued.json()
    assert (row["scope"], row["language"], row["progress_url"]) == (
        ["E-001"],
        "en",
        f"/api/v1/reports/{row['id']}/",
    )
    progress = lead.get(row["progress_url"]).json()
    assert progress["status"] == "done" and progress["progress"] == 100, progress
    assert progress["download_url"] == f"/api/v1/reports/{row['id']}/download/"
    report = Report.objects.get(pk=row["id"])
    assert CustodyEvent.objects.filter(case=t.case, action=CustodyAction.REPORT_GENERATED).exists()

    for who in (t.lead, prosecutor):  # the prosecutor downloads reports of shared exhibits
        response = api(who).get(progress["download_url"], {"reason": "court filing"})
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        pdf = body_of(response)
        assert pdf.startswith(b"%PDF") and hashlib.sha256(pdf).hexdigest() == report.sha256
        assert response["X-Haetae-SHA256"] == report.sha256
    downloads = CustodyEvent.objects.filter(case=t.case, action=CustodyAction.REPORT_DOWNLOADED).order_by(
        "seq"
    )
    assert [e.actor_id for e in downloads] == [t.lead.pk, prosecutor.pk]


def test_a_report_of_every_exhibit_is_not_the_prosecutors(django_capture_on_commit_callbacks) -> None:
    t, prosecutor = shared_case()
    with django_capture_on_commit_callbacks(execute=True):
        queued = api(t.lead).post(
            f"/api/v1/cases/{t.case.number}/reports/", {"language": "ko"}, format="json"
        )
    assert queued.status_code == 202, queued.content
    assert queued.json()["scope"] == ["E-001", "E-002"]
    assert api(prosecutor).get(f"/api/v1/reports/{queued.json()['id']}/download/").status_code == 404
    assert not CustodyEvent.objects.filter(action=CustodyAction.REPORT_DOWNLOADED).exists()


def test_regenerating_makes_a_new_version(django_capture_on_commit_callbacks) -> None:
    t, _ = shared_case()
    versions = []
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            response = api(t.lead).post(
                f"/api/v1/cases/{t.case.number}/reports/",
                {"exhibits": ["E-001"], "language": "ko"},
                format="json",
            )
        assert response.status_code == 202, response.content
        versions.append((response.json()["report_id"], response.json()["version"]))
    assert versions[0][0] == versions[1][0] and versions[1][1] == versions[0][1] + 1


def _x25519_public_b64() -> str:
    raw = X25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize("secret", ["key", "passphrase"])
def test_a_bundle_is_queued_exported_and_downloaded_on_record(
    django_capture_on_commit_callbacks, secret: str
) -> None:
    t, prosecutor = shared_case()
    payload = {"exhibits": ["E-001"], "recipient": "Seoul Central District Prosecutors' Office"}
    if secret == "key":
        payload["recipient_public_key"] = _x25519_public_b64()
    else:
        payload["passphrase"] = "correct horse battery staple"
    with django_capture_on_commit_callbacks(execute=True):
        queued = api(t.lead).post(f"/api/v1/cases/{t.case.number}/bundles/", payload, format="json")
    assert queued.status_code == 202, queued.content
    row = queued.json()
    assert row["scope"] == ["E-001"] and row["progress_url"] == f"/api/v1/bundles/{row['id']}/"
    progress = api(prosecutor).get(row["progress_url"]).json()
    assert progress["status"] == "done", progress
    assert progress["recipient_key"].startswith("x25519:" if secret == "key" else "passphrase")
    response = api(prosecutor).get(progress["download_url"])
    assert response.status_code == 200
    data = body_of(response)
    bundle = ExportBundle.objects.get(pk=row["id"])
    assert hashlib.sha256(data).hexdigest() == bundle.sha256
    assert "manifest.json" in zipfile.ZipFile(io.BytesIO(data)).namelist()
    [event] = CustodyEvent.objects.filter(case=t.case, action=CustodyAction.BUNDLE_DOWNLOADED)
    assert event.actor_id == prosecutor.pk


def test_a_bundle_of_an_unshared_exhibit_is_refused() -> None:
    t, _ = shared_case()
    response = api(t.lead).post(
        f"/api/v1/cases/{t.case.number}/bundles/",
        {"exhibits": ["E-002"], "recipient": "prosecutor", "passphrase": "correct horse battery staple"},
        format="json",
    )
    assert response.status_code in (400, 403) and "E-002" in response.json()["detail"]
    assert not ExportBundle.objects.exists()
