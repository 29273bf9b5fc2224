"""The foundation pieces fit together: a stored item reads back verified and its events chain."""

import pytest

from evidence.custody import GENESIS_HASH, event_leaf_hash
from evidence.vault import read_verified
from tests.factories import CaseFactory, UserFactory, stored_item


@pytest.mark.django_db
def test_stored_item_reads_back_and_chains() -> None:
    actor = UserFactory()
    case = CaseFactory()
    item = stored_item(case=case, data=b"evidence bytes" * 1000, actor=actor)
    assert b"".join(read_verified(item.blob_id)) == b"evidence bytes" * 1000
    events = list(item.custody_events.order_by("seq"))
    assert [e.action for e in events] == ["acquired", "stored"]
    assert events[0].prev_hash == GENESIS_HASH
    assert events[1].prev_hash == events[0].leaf_hash
    assert all(event_leaf_hash(e) == e.leaf_hash for e in events)
