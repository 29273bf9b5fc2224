"""The detector admin: an administrator turns a version off for automatic runs; provenance stays read-only."""

import pytest

from detection.models import Detector
from detection.pipeline import detectors_enabled

pytestmark = pytest.mark.django_db


def test_an_administrator_disables_a_detector_version(admin_client, test_detectors) -> None:
    row = Detector.objects.create(name="test-brightness", version="1", model_sha256="ab" * 32)
    assert admin_client.get("/admin/detection/detector/").status_code == 200
    response = admin_client.post(f"/admin/detection/detector/{row.pk}/change/", {"enabled": ""})
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.enabled, row.model_sha256) == (False, "ab" * 32)
    assert [d.info.name for d in detectors_enabled()] == ["test-channel"]
    assert admin_client.get("/admin/detection/detector/add/").status_code == 403
