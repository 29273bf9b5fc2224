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


def test_banks_entries_and_model_packs_are_listed_and_only_bank_settings_change(admin_client) -> None:
    from detection.banks import bank_create, bank_entry_add
    from detection.models import BankEntry, HashBank
    from detection.models.banks import HashBankKind

    bank = bank_create(name="known", kind=HashBankKind.KNOWN_MATERIAL, actor=None)
    entry = bank_entry_add(bank=bank, actor=None, md5="0" * 32)
    for page in ("/admin/detection/hashbank/", "/admin/detection/bankentry/", "/admin/detection/modelpack/"):
        assert admin_client.get(page).status_code == 200, page
    assert admin_client.get("/admin/detection/bankentry/add/").status_code == 403
    response = admin_client.post(
        f"/admin/detection/hashbank/{bank.pk}/change/", {"description": "NCMEC list", "pdq_threshold": 20}
    )
    assert response.status_code == 302
    bank.refresh_from_db()
    assert (bank.description, bank.pdq_threshold, bank.active, bank.name) == (
        "NCMEC list",
        20,
        False,
        "known",
    )
    assert (
        admin_client.post(f"/admin/detection/bankentry/{entry.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert BankEntry.objects.filter(pk=entry.pk).exists() and HashBank.objects.count() == 1
