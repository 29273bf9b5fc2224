"""The evidence API: item metadata and custody with proofs, only for members of the item's case."""

import base64
import hashlib
import zipfile
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from access.choices import CaseMemberRole
from evidence import crypto, proofcheck
from evidence.choices import CustodyAction
from evidence.custody import custody_append
from evidence.ingest import PathSource, evidence_ingest
from evidence.ledger import checkpoint_create
from evidence.models import EvidenceItem
from tests.factories import CaseMemberFactory, stored_item
from tests.factories import api_client as client_for

pytestmark = pytest.mark.django_db


def ledger_public_key() -> str:
    return crypto.public_key_hex(crypto.ledger_signing_key().public_key())


@pytest.fixture
def team():
    """A case with an investigator on it, and an outsider who is on another case."""
    membership = CaseMemberFactory(role=CaseMemberRole.INVESTIGATOR)
    outsider = CaseMemberFactory(role=CaseMemberRole.LEAD).user
    return membership.case, membership.user, outsider


@pytest.mark.parametrize("suffix", ["", "custody/"])
def test_anonymous_callers_are_refused(team, suffix: str) -> None:
    case, user, _ = team
    item = stored_item(case=case, data=b"bytes", actor=user)
    response = APIClient().get(f"/api/v1/evidence/{item.pk}/{suffix}")
    assert response.status_code == 401


def test_detail_gives_digests_and_provenance_never_content(team, tmp_path: Path) -> None:
    case, user, _ = team
    data = b"MARKER-of-the-original-bytes " * 100
    (tmp_path / "seized").mkdir()
    (tmp_path / "seized" / "photo.jpg").write_bytes(data)
    result = evidence_ingest(
        case=case,
        sources=[PathSource(tmp_path / "seized")],
        actor=user,
        source_label="phone of suspect",
        seizure_reference="2024-압수-0042",
        seal_numbers=["SEAL-1"],
        location="Seoul",
        participants=["witness Park"],
    )
    item_id = result.items[0].id

    response = client_for(user).get(f"/api/v1/evidence/{item_id}/")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == item_id
    assert body["case"] == case.number
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["md5"] == hashlib.md5(data).hexdigest()  # noqa: S324 - forensic digest
    assert body["sha1"] == hashlib.sha1(data).hexdigest()  # noqa: S324 - forensic digest
    assert body["size"] == len(data)
    assert body["kind"] == "file"
    assert body["status"] == "ingested"
    assert body["original_name"] == "photo.jpg"
    assert body["original_path"] == str(tmp_path / "seized" / "photo.jpg")
    assert body["parent"] is None
    assert body["children_count"] == 0
    acquisition = body["acquisition"]
    assert acquisition["id"] == result.acquisition.pk
    assert acquisition["actor"] == user.username
    assert acquisition["seizure_reference"] == "2024-압수-0042"
    assert acquisition["seal_numbers"] == ["SEAL-1"]
    assert acquisition["participants"] == ["witness Park"]
    assert acquisition["location"] == "Seoul"
    assert acquisition["tool_name"] == "haetae"
    assert acquisition["finished_at"] is not None
    assert len(acquisition["manifest_sha256"]) == 64
    assert b"MARKER" not in response.content
    assert base64.b64encode(data[:30]) not in response.content


def test_containers_count_children_and_members_name_their_parent(team, tmp_path: Path) -> None:
    case, user, _ = team
    archive_path = tmp_path / "seized.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        archive.writestr("a.txt", b"member a")
        archive.writestr("b.txt", b"member b")
    result = evidence_ingest(case=case, sources=[PathSource(archive_path)], actor=user)
    container = next(o for o in result.items if o.parent is None)
    member = next(o for o in result.items if o.parent == container.id)
    client = client_for(user)

    container_body = client.get(f"/api/v1/evidence/{container.id}/").json()
    member_body = client.get(f"/api/v1/evidence/{member.id}/").json()

    assert container_body["children_count"] == 2
    assert member_body["parent"] == container.id
    assert member_body["kind"] == "archive_member"
    assert member_body["original_path"].startswith(str(archive_path) + "!/")


def test_a_rejected_item_has_a_reason_and_no_digests(team, tmp_path: Path) -> None:
    case, user, _ = team
    (tmp_path / "link").symlink_to("/etc/hostname")
    result = evidence_ingest(case=case, sources=[PathSource(tmp_path / "link")], actor=user)
    body = client_for(user).get(f"/api/v1/evidence/{result.items[0].id}/").json()
    assert body["status"] == "rejected"
    assert body["kind"] == "symlink"
    assert "symbolic link" in body["reason"]
    assert body["link_target"] == "/etc/hostname"
    assert body["sha256"] is body["md5"] is body["sha1"] is None


def test_items_of_other_cases_are_not_found_like_missing_ones(team) -> None:
    case, user, outsider = team
    item = stored_item(case=case, data=b"not for outsiders", actor=user)
    client = client_for(outsider)
    missing_id = EvidenceItem.objects.order_by("-pk").first().pk + 1000
    for suffix in ["", "custody/"]:
        hidden = client.get(f"/api/v1/evidence/{item.pk}/{suffix}")
        missing = client.get(f"/api/v1/evidence/{missing_id}/{suffix}")
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json()["detail"].replace(str(item.pk), "N") == missing.json()["detail"].replace(
            str(missing_id), "N"
        )


def test_every_role_on_the_case_reads_metadata(team) -> None:
    case, user, _ = team
    item = stored_item(case=case, data=b"bytes", actor=user)
    auditor = CaseMemberFactory(case=case, role=CaseMemberRole.AUDITOR).user
    assert client_for(auditor).get(f"/api/v1/evidence/{item.pk}/custody/").status_code == 200
    assert client_for(auditor).get(f"/api/v1/evidence/{item.pk}/").status_code == 200


def test_detail_query_count_does_not_grow_with_children(team, tmp_path: Path, django_assert_num_queries):
    case, user, _ = team
    client = client_for(user)
    few = tmp_path / "few.zip"
    many = tmp_path / "many.zip"
    for path, n in [(few, 1), (many, 12)]:
        with zipfile.ZipFile(path, "w") as archive:
            for index in range(n):
                archive.writestr(f"{index}.txt", f"{path.name} {index}".encode())
    result = evidence_ingest(case=case, sources=[PathSource(few), PathSource(many)], actor=user)
    containers = [o.id for o in result.items if o.parent is None]
    with django_assert_num_queries(1):
        assert client.get(f"/api/v1/evidence/{containers[0]}/").json()["children_count"] == 1
    with django_assert_num_queries(1):
        assert client.get(f"/api/v1/evidence/{containers[1]}/").json()["children_count"] == 12


# Custody


def test_custody_before_any_checkpoint_is_pending(team) -> None:
    case, user, _ = team
    item = stored_item(case=case, data=b"bytes", actor=user)
    body = client_for(user).get(f"/api/v1/evidence/{item.pk}/custody/").json()
    assert body["item"] == item.pk
    assert body["case"] == case.number
    assert body["checkpoint"] is None
    assert body["pending_checkpoint"] is True
    assert [e["action"] for e in body["events"]] == ["acquired", "stored"]
    assert all(e["proof"] is None for e in body["events"])


def test_custody_events_come_in_order_with_chain_hashes_and_verifiable_proofs(team) -> None:
    case, user, _ = team
    item = stored_item(case=case, data=b"the original", actor=user)
    stored_item(case=case, data=b"another item: its events are not this item's", actor=user)
    custody_append(
        case_id=case.pk,
        item_id=item.pk,
        action=CustodyAction.SEALED,
        actor=user,
        seal_numbers=["SEAL-9"],
        purpose="sealed for transfer",
    )
    checkpoint = checkpoint_create()

    body = client_for(user).get(f"/api/v1/evidence/{item.pk}/custody/").json()

    events = body["events"]
    assert [e["action"] for e in events] == ["acquired", "stored", "sealed"]
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    assert events[0]["prev_hash"] == "0" * 64
    assert events[1]["prev_hash"] == events[0]["leaf_hash"]
    assert events[2]["prev_hash"] == events[1]["leaf_hash"]
    sealed = events[2]
    assert sealed["seal_numbers"] == ["SEAL-9"]
    assert sealed["purpose"] == "sealed for transfer"
    assert sealed["actor_name"] == user.username
    assert sealed["actor_role"] == "investigator"
    assert sealed["occurred_at"]
    assert {e["item"] for e in events} == {item.pk}
    assert body["pending_checkpoint"] is False
    assert body["checkpoint"]["id"] == checkpoint.pk
    assert body["checkpoint"]["tree_size"] == checkpoint.tree_size
    trusted = ledger_public_key()
    for event in events:
        leaf_data = event["leaf_data"].encode()
        assert hashlib.sha256(b"\x00" + leaf_data).hexdigest() == event["leaf_hash"]
        assert event["proof"]["leaf_index"] == event["seq"]
        assert (
            proofcheck.inclusion_proof_problems(
                event["proof"], trusted_public_key=trusted, leaf_data=leaf_data
            )
            == []
        )
    # The same proof fails for another event's data: the check can fail.
    assert proofcheck.inclusion_proof_problems(
        events[0]["proof"], trusted_public_key=trusted, leaf_data=events[1]["leaf_data"].encode()
    )


def test_events_after_the_checkpoint_wait_for_the_next_one(team) -> None:
    case, user, _ = team
    item = stored_item(case=case, data=b"bytes", actor=user)
    first = checkpoint_create()
    custody_append(case_id=case.pk, item_id=item.pk, action=CustodyAction.VERIFIED, actor=user)
    client = client_for(user)

    body = client.get(f"/api/v1/evidence/{item.pk}/custody/").json()
    assert body["pending_checkpoint"] is True
    assert [e["proof"] is None for e in body["events"]] == [False, False, True]

    second = checkpoint_create()
    body = client.get(f"/api/v1/evidence/{item.pk}/custody/").json()
    assert body["pending_checkpoint"] is False
    assert body["checkpoint"]["id"] == second.pk

    against_first = client.get(f"/api/v1/evidence/{item.pk}/custody/?checkpoint={first.pk}").json()
    assert against_first["checkpoint"]["id"] == first.pk
    assert against_first["pending_checkpoint"] is True
    assert against_first["events"][0]["proof"]["tree_size"] == first.tree_size


def test_a_bad_checkpoint_parameter_says_what_is_wrong(team) -> None:
    case, user, _ = team
    item = stored_item(case=case, data=b"bytes", actor=user)
    client = client_for(user)
    assert client.get(f"/api/v1/evidence/{item.pk}/custody/?checkpoint=latest").status_code == 400
    missing = client.get(f"/api/v1/evidence/{item.pk}/custody/?checkpoint=999999")
    assert missing.status_code == 404
    assert "manage.py checkpoint" in missing.json()["detail"]


def test_custody_query_count_does_not_grow_with_events(team, django_assert_num_queries) -> None:
    case, user, _ = team
    client = client_for(user)
    few = stored_item(case=case, data=b"few events", actor=user)
    many = stored_item(case=case, data=b"many events", actor=user)
    for _ in range(10):
        custody_append(case_id=case.pk, item_id=many.pk, action=CustodyAction.VERIFIED, actor=user)
    checkpoint_create()
    client.get(f"/api/v1/evidence/{few.pk}/custody/")  # builds (and caches) the checkpoint's tree
    with django_assert_num_queries(3) as baseline:  # the item with its case, its events, the checkpoint
        assert len(client.get(f"/api/v1/evidence/{few.pk}/custody/").json()["events"]) == 2
    with django_assert_num_queries(len(baseline.captured_queries)):
        assert len(client.get(f"/api/v1/evidence/{many.pk}/custody/").json()["events"]) == 12


def test_victim_support_sees_a_pseudonymised_reference_with_hashes_and_no_custody() -> None:
    membership = CaseMemberFactory(role=CaseMemberRole.VICTIM_SUPPORT)
    item = stored_item(case=membership.case, data=b"bytes", actor=membership.user, name="kim-jiyoung.jpg")
    client = APIClient()
    client.force_authenticate(membership.user)
    response = client.get(f"/api/v1/evidence/{item.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["original_name"] == f"item-{item.pk}" and body["original_path"] == ""
    assert body["sha256"] == item.blob_id and body["md5"]
    assert "kim-jiyoung" not in response.content.decode()
    custody = client.get(f"/api/v1/evidence/{item.pk}/custody/")
    assert custody.status_code == 403 and "pseudonymised references" in custody.json()["detail"]
    assert "kim-jiyoung" not in custody.content.decode()
