"""What a court relies on about an item and an acquisition is in the ledger, and `verify` holds the database
columns to it: a column rewritten behind the application's back is named, with its item and field."""

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from evidence.choices import CustodyAction, ItemStatus
from evidence.custody import EventSpec, custody_append_many, event_leaf_data
from evidence.ingest import evidence_ingest
from evidence.models import Acquisition, Blob, CustodyEvent, EvidenceItem
from evidence.records import fact_commitment, item_facts, item_record
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
        ("source_description", "a phone that was never seized"),
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


def test_names_paths_sources_and_participants_are_in_the_ledger_only_as_salted_hashes(
    db: None, tmp_path: Path
) -> None:
    folder = tmp_path / "김지수의 휴대전화"
    folder.mkdir()
    (folder / "김지수.jpg").write_bytes(b"\xff\xd8\xff\xe0 a seized photo" * 20)
    evidence_ingest(
        case=CaseFactory(),
        sources=[PathSource(folder)],
        actor=UserFactory(),
        source_label="phone of 박민지",
        seizure_reference="warrant 2024-1234",
        participants=["참관인 이영희"],
    )
    ledger = "".join(event_leaf_data(event).decode() for event in CustodyEvent.objects.all())
    for identifying in ["김지수", "박민지", "이영희", "김지수".encode().hex()]:
        assert identifying not in ledger
    item, acquisition = EvidenceItem.objects.get(), Acquisition.objects.get()
    assert len(bytes.fromhex(item.record_salt)) == 32 and item.record_salt != acquisition.record_salt
    details = item.custody_events.get(action="acquired").details
    assert details["original_name_sha256"] == fact_commitment(item.record_salt, "김지수.jpg")
    assert details["source_sha256"] == fact_commitment(item.record_salt, "phone of 박민지")
    started = CustodyEvent.objects.get(action=CustodyAction.ACQUISITION_STARTED).details
    assert started["participants_sha256"] == fact_commitment(acquisition.record_salt, ["참관인 이영희"])
    assert started["seizure_reference"] == "warrant 2024-1234"  # a warrant number, in clear
    assert vault_verify().ok


def test_verify_names_a_rewritten_name_without_writing_either_name_into_the_ledger(
    ingested: EvidenceItem,
) -> None:
    EvidenceItem.objects.filter(pk=ingested.pk).update(original_name="박민지.jpg")
    [(_check, _item, message)] = record_failures(vault_verify())
    assert "original_name in the database is not the value its `acquired` custody event" in message
    assert "박민지" not in message and "photo.jpg" not in message
    ledger = "".join(event_leaf_data(event).decode() for event in CustodyEvent.objects.all())
    assert "박민지" not in ledger and "photo.jpg" not in ledger


@pytest.mark.parametrize("salt", ["", "not hex", "00" * 8])
def test_an_erased_or_altered_salt_is_named_by_verify(ingested: EvidenceItem, salt: str) -> None:
    EvidenceItem.objects.filter(pk=ingested.pk).update(record_salt=salt)
    [(_check, item, message)] = record_failures(vault_verify())
    assert item == ingested.pk
    assert message.startswith(f"Item {ingested.pk}'s record_salt in the database is missing or malformed")
    assert "original_name_sha256" in message


def test_a_different_salt_is_named_field_by_field(ingested: EvidenceItem) -> None:
    EvidenceItem.objects.filter(pk=ingested.pk).update(record_salt="ab" * 32)
    named = {message.split(" in the database")[0] for _c, _i, message in record_failures(vault_verify())}
    assert named == {
        f"Item {ingested.pk}'s {field}"
        for field in ("original_name", "original_path", "original_path_raw", "source", "link_target")
    }


def test_a_leaf_written_before_commitments_is_still_compared_in_clear(ingested: EvidenceItem) -> None:
    # An item recorded by an earlier version: its leaf holds the facts in clear, and it has no salt.
    case = ingested.case
    older = EvidenceItem.objects.create(
        case=case,
        acquisition=ingested.acquisition,
        kind=ingested.kind,
        status=ItemStatus.REJECTED,  # as its `rejected` event says (verify compares the two)
        original_name="old.jpg",
        original_path="/old/old.jpg",
        original_path_raw=b"/old/old.jpg",
        locator_sha256="1" * 64,
        acquired_by=ingested.acquired_by,
        record_salt="",
    )
    custody_append_many(
        [
            EventSpec(
                case_id=case.pk,
                item_id=older.pk,
                action=CustodyAction.REJECTED,
                actor=ingested.acquired_by,
                legal_authority=ingested.acquisition.seizure_reference,
                details=item_facts(older),
                new_item=True,
            )
        ]
    )
    assert vault_verify().ok
    EvidenceItem.objects.filter(pk=older.pk).update(original_name="renamed.jpg")
    [(_check, item, message)] = record_failures(vault_verify())
    assert item == older.pk
    assert "original_name in the database is 'renamed.jpg', but its `rejected` custody event" in message
    assert "recorded 'old.jpg'" in message
