"""What a court relies on about an item and an acquisition is in the ledger, and `verify` holds the database
columns to it: a column rewritten behind the application's back is named, with its item and field."""

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from evidence.ingest import evidence_ingest
from evidence.models import Acquisition, Blob, EvidenceItem
from evidence.records import item_record
from evidence.sources import PathSource
from evidence.verify import vault_verify
from tests.factories import CaseFactory, UserFactory

REWRITES: dict[str, Any] = {
    "original_name": "innocent.jpg",
    "original_path": "/elsewhere/innocent.jpg",
    "source": "a phone that was never seized",
    "mime": "text/plain",
    "acquired_at": datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC),
}


@pytest.fixture
def ingested(db: None, tmp_path: Path) -> EvidenceItem:
    folder = tmp_path / "seized"
    folder.mkdir()
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 a seized photo" * 20)
    evidence_ingest(
        case=CaseFactory(),
        sources=[PathSource(folder)],
        actor=UserFactory(username="acquirer"),
        source_label="suspect's phone",
        seizure_reference="Seoul Central District Court warrant 2024-1234",
        seal_numbers=["S-1"],
        location="Seoul",
        participants=["witness W-1"],
    )
    item = EvidenceItem.objects.get()
    assert vault_verify().ok
    return item


def record_failures(report: Any) -> list[tuple[str, int | None, str]]:
    return [
        (f["check"], f["item"], f["message"])
        for f in report.failures
        if f["check"] in {"item_record", "acquisition_record"}
    ]


def test_ingest_records_every_fact_of_the_item_in_its_acquired_event(ingested: EvidenceItem) -> None:
    event = ingested.custody_events.get(action="acquired")
    assert item_record(ingested).items() <= event.details.items()
    assert event.legal_authority == "Seoul Central District Court warrant 2024-1234"


@pytest.mark.parametrize("field", sorted(REWRITES))
def test_a_rewritten_item_column_is_named_by_verify(ingested: EvidenceItem, field: str) -> None:
    EvidenceItem.objects.filter(pk=ingested.pk).update(**{field: REWRITES[field]})
    report = vault_verify()
    assert not report.ok
    [(check, item, message)] = record_failures(report)
    assert (check, item) == ("item_record", ingested.pk)
    assert message.startswith(f"Item {ingested.pk}'s {field} in the database is ")


def test_a_rewritten_acquirer_is_named_by_verify(ingested: EvidenceItem) -> None:
    other = UserFactory(username="someone-else")
    EvidenceItem.objects.filter(pk=ingested.pk).update(acquired_by=other)
    [(_check, item, message)] = record_failures(vault_verify())
    assert item == ingested.pk and "acquired_by in the database is 'someone-else'" in message
    assert "recorded 'acquirer'" in message


def test_a_rewritten_blob_digest_is_named_by_verify(ingested: EvidenceItem) -> None:
    Blob.objects.filter(pk=ingested.blob_id).update(md5="0" * 32)
    [(_check, item, message)] = record_failures(vault_verify())
    assert item == ingested.pk and "md5 in the database is '" + "0" * 32 in message


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("seizure_reference", "no warrant"),
        ("location", "Busan"),
        ("seal_numbers", ["S-2"]),
        ("participants", []),
        ("manifest_sha256", "f" * 64),
    ],
)
def test_a_rewritten_acquisition_column_is_named_by_verify(
    ingested: EvidenceItem, field: str, value: Any
) -> None:
    Acquisition.objects.filter(pk=ingested.acquisition_id).update(**{field: value})
    failures = record_failures(vault_verify())
    named = {message.split(" in the database")[0] for _check, _item, message in failures}
    if field == "seizure_reference":  # each item's acquired event recorded the warrant too
        assert named == {
            f"Acquisition {ingested.acquisition_id}'s seizure_reference",
            f"Item {ingested.pk}'s seizure_reference",
        }
    else:
        assert named == {f"Acquisition {ingested.acquisition_id}'s {field}"}


def test_a_record_rewritten_with_its_actor_renamed_is_still_clean(ingested: EvidenceItem) -> None:
    # Renaming a user is legitimate: the acquirer is compared by identity, not by name.
    User.objects.filter(pk=ingested.acquired_by_id).update(username="acquirer-renamed")
    assert vault_verify().ok
