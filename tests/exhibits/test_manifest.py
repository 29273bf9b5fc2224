"""exhibits.manifest: what the exhibit manifest holds, checked with the server's own proof checker too."""

import json
from pathlib import Path

import pytest

from evidence import crypto, proofcheck
from evidence.ledger import checkpoint_create
from evidence.models import Checkpoint, CustodyEvent
from exhibits.manifest import exhibit_manifest
from haetae.errors import RejectedInput
from parties.services.links import Assertion, link_assert_item_person
from tests.factories import IDENTITY, scenario, team, victim

pytestmark = pytest.mark.django_db


def test_manifest_makes_a_checkpoint_when_none_covers_the_events(tmp_path: Path) -> None:
    s = scenario(tmp_path)
    assert not Checkpoint.objects.exists()
    manifest = exhibit_manifest(case=s.t.case, exhibits=s.exhibits)
    checkpoint = Checkpoint.objects.get()
    assert [c["id"] for c in manifest["checkpoints"]] == [checkpoint.pk]
    assert manifest["consistency"] == []
    assert manifest["format"] == "haetae-exhibit-manifest" and manifest["format_version"] == 1
    assert manifest["case"]["number"] == s.t.case.number
    assert [e["number"] for e in manifest["exhibits"]] == ["E-001", "E-002"]
    assert manifest["exhibits"][1]["items"] == [s.items[1].pk, s.items[0].pk]
    photo = next(i for i in manifest["items"] if i["id"] == s.items[0].pk)
    assert photo["sha256"] == s.items[0].blob_id and len(photo["md5"]) == 32 and len(photo["sha1"]) == 40
    assert photo["name"] == "astronaut.jpg" and photo["acquired_by"] == s.t.lead.username
    key = crypto.public_key_hex(crypto.ledger_signing_key().public_key())
    assert manifest["ledger_public_key"] == key
    # Every event of the items, plus the exhibits' own case-level events, and nothing else of the case.
    item_events = set(CustodyEvent.objects.filter(item__in=s.items).values_list("seq", flat=True))
    exhibit_events = set(
        CustodyEvent.objects.filter(item__isnull=True, details__exhibit__in=["E-001", "E-002"]).values_list(
            "seq", flat=True
        )
    )
    assert {e["seq"] for e in manifest["events"]} == item_events | exhibit_events
    assert "case_created" not in {e["action"] for e in manifest["events"]}
    for entry in manifest["events"]:
        event = CustodyEvent.objects.get(seq=entry["seq"])
        assert entry["leaf_hash"] == event.leaf_hash
        proof = {
            **entry["inclusion"],
            "leaf_hash": entry["leaf_hash"],
            "checkpoint": manifest["checkpoints"][0],
        }
        assert (
            proofcheck.inclusion_proof_problems(
                proof, trusted_public_key=key, leaf_data=entry["leaf_data"].encode()
            )
            == []
        )
    json.dumps(manifest)  # JSON-able as it stands


def test_events_first_signed_earlier_carry_a_consistency_proof(tmp_path: Path) -> None:
    s = scenario(tmp_path)
    early = checkpoint_create()
    t2 = team()  # more ledger activity after the first checkpoint
    victim(t2)
    checkpoint_create()  # Celery beat signs again: the newest checkpoint is now a later one
    manifest = exhibit_manifest(case=s.t.case, exhibits=s.exhibits)
    newest = Checkpoint.objects.order_by("-tree_size").first()
    assert newest is not None and newest.pk != early.pk
    assert {c["id"] for c in manifest["checkpoints"]} == {early.pk, newest.pk}
    assert {e["first_signed_by"] for e in manifest["events"]} == {early.pk}
    assert all(e["inclusion"]["checkpoint"] == newest.pk for e in manifest["events"])
    [consistency] = manifest["consistency"]
    assert (consistency["old_checkpoint"], consistency["new_checkpoint"]) == (early.pk, newest.pk)
    by_id = {c["id"]: c for c in manifest["checkpoints"]}
    key = manifest["ledger_public_key"]
    assert (
        proofcheck.consistency_proof_problems(
            {**consistency, "old_checkpoint": by_id[early.pk], "new_checkpoint": by_id[newest.pk]},
            trusted_public_key=key,
        )
        == []
    )


def test_victims_appear_only_by_pseudonym(tmp_path: Path) -> None:
    s = scenario(tmp_path)
    person = victim(s.t, identity=IDENTITY, is_minor=True)
    link_assert_item_person(
        item=s.items[0],
        person=person,
        relation="depicts",
        assertion=Assertion(confidence="confirmed"),
        actor=s.t.lead,
    )
    manifest = exhibit_manifest(case=s.t.case, exhibits=s.exhibits[:1])
    assert manifest["victims"] == [{"pseudonym": "V-1", "minor": True}]
    text = json.dumps(manifest, ensure_ascii=False)
    for value in (IDENTITY.name, IDENTITY.birth_date, IDENTITY.contact, "@jisu.kim"):
        assert value not in text


def test_refuses_foreign_or_no_exhibits(tmp_path: Path) -> None:
    s = scenario(tmp_path)
    other = team()
    with pytest.raises(RejectedInput, match="at least one exhibit"):
        exhibit_manifest(case=s.t.case, exhibits=[])
    with pytest.raises(RejectedInput, match="not an exhibit of case"):
        exhibit_manifest(case=other.case, exhibits=s.exhibits)


def test_queries_do_not_grow_with_items(tmp_path: Path) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from exhibits.services import exhibit_create
    from tests.factories import item

    s = scenario(tmp_path)
    one = exhibit_create(case=s.t.case, item_ids=[s.items[0].pk], description="one", actor=s.t.lead)
    many_items = [item(s.t, data=f"bytes {n}".encode(), name=f"f{n}.jpg") for n in range(8)]
    many = exhibit_create(
        case=s.t.case, item_ids=[i.pk for i in many_items], description="many", actor=s.t.lead
    )
    checkpoint_create()
    exhibit_manifest(case=s.t.case, exhibits=[one])  # builds and caches the signed tree once
    counts = []
    for exhibit in (one, many):
        with CaptureQueriesContext(connection) as queries:
            manifest = exhibit_manifest(case=s.t.case, exhibits=[exhibit])
        counts.append(len(queries))
    assert len(manifest["items"]) == 8
    assert counts[0] == counts[1], counts
