"""item_content_open: a purpose is required, the look is logged before any byte, damage is an incident."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User

from evidence.choices import CustodyAction, ItemKind, ItemStatus
from evidence.content import item_content_open
from evidence.crypto import CHUNK_SIZE
from evidence.custody import event_leaf_hash
from evidence.models import CustodyEvent, EvidenceItem
from evidence.vault import object_path
from haetae.errors import IntegrityFailure, RejectedInput
from tests.factories import CaseFactory, stored_item

DATA = bytes(range(256)) * (CHUNK_SIZE // 256) + b"tail of the second chunk"


def make_actor() -> User:
    return get_user_model().objects.get_or_create(username="content-officer")[0]


@pytest.fixture
def item(db: None) -> EvidenceItem:
    return stored_item(case=CaseFactory.create(), data=DATA, actor=make_actor(), name="clip.mp4")


def test_reads_plaintext_after_logging_the_look_with_its_purpose(item: EvidenceItem) -> None:
    actor = make_actor()
    chunks = item_content_open(item=item, actor=actor, purpose="classify for charge sheet")
    # logged before a single byte is taken
    viewed = CustodyEvent.objects.get(item=item, action=CustodyAction.VIEWED)
    assert viewed.purpose == "classify for charge sheet"
    assert viewed.actor_name == actor.username
    assert viewed.sha256_after == item.blob_id
    assert viewed.prev_hash == CustodyEvent.objects.get(item=item, action=CustodyAction.STORED).leaf_hash
    assert viewed.leaf_hash == event_leaf_hash(viewed)
    assert b"".join(chunks) == DATA
    assert not CustodyEvent.objects.filter(action=CustodyAction.INCIDENT).exists()


@pytest.mark.parametrize("purpose", ["", "   "])
def test_refuses_without_a_purpose_and_logs_nothing(item: EvidenceItem, purpose: str) -> None:
    before = CustodyEvent.objects.count()
    with pytest.raises(RejectedInput, match="stated purpose"):
        item_content_open(item=item, actor=make_actor(), purpose=purpose)
    assert CustodyEvent.objects.count() == before


def test_item_without_content_is_refused(item: EvidenceItem) -> None:
    rejected = EvidenceItem.objects.create(
        case=item.case,
        acquisition=item.acquisition,
        kind=ItemKind.SYMLINK,
        status=ItemStatus.REJECTED,
        status_reason="symbolic link, not followed",
        original_name="link",
        original_path="/evidence/link",
        original_path_raw=b"/evidence/link",
        locator_sha256="ef" * 32,
        acquired_by=make_actor(),
    )
    with pytest.raises(RejectedInput, match="symbolic link, not followed"):
        item_content_open(item=rejected, actor=make_actor(), purpose="look")


@pytest.mark.django_db(transaction=True)
def test_damage_raises_and_the_incident_is_committed() -> None:
    actor = make_actor()
    item = stored_item(case=CaseFactory.create(), data=DATA, actor=actor, name="clip.mp4")
    path = object_path(item.blob_id)
    path.chmod(0o600)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF  # in the last chunk: the first chunk still arrives, then the read fails
    path.write_bytes(bytes(data))
    chunks = item_content_open(item=item, actor=actor, purpose="prepare exhibit")
    assert len(next(chunks)) == CHUNK_SIZE
    with pytest.raises(IntegrityFailure, match="chunk 1 fails its authentication tag"):
        next(chunks)
    viewed = CustodyEvent.objects.get(item=item, action=CustodyAction.VIEWED)
    incident = CustodyEvent.objects.get(item=item, action=CustodyAction.INCIDENT)
    assert incident.prev_hash == viewed.leaf_hash
    assert incident.details["viewed_event"] == viewed.seq
    assert "chunk 1" in incident.details["message"]
    assert incident.sha256_before == item.blob_id


def test_missing_object_raises_and_records_an_incident(item: EvidenceItem) -> None:
    path = object_path(item.blob_id)
    path.chmod(0o600)
    path.unlink()
    with pytest.raises(IntegrityFailure, match="missing"):
        b"".join(item_content_open(item=item, actor=make_actor(), purpose="court preparation"))
    incident = CustodyEvent.objects.get(item=item, action=CustodyAction.INCIDENT)
    assert incident.details["problem"] == "missing"
