"""item_content_open: need-to-know (membership, role, purpose, legal basis), the look logged before any byte,
verified bytes, damage recorded as an incident; and the content endpoint that serves it."""

from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User

from access.choices import CaseMemberRole
from access.models import Case
from access.policy import POLICY, Action
from evidence.choices import CustodyAction, ItemKind, ItemStatus
from evidence.content import item_content_open
from evidence.crypto import CHUNK_SIZE
from evidence.custody import event_leaf_hash
from evidence.models import CustodyEvent, EvidenceItem
from evidence.vault import object_path
from haetae.errors import AccessDenied, IntegrityFailure, NotFound, RejectedInput
from tests.factories import CaseFactory, CaseMemberFactory, UserFactory, live_grant, stored_item
from tests.factories import api_client as api_for

DATA = bytes(range(256)) * (CHUNK_SIZE // 256) + b"tail of the second chunk"


def make_actor() -> User:
    return get_user_model().objects.get_or_create(username="content-officer")[0]


def case_with_actor(role: str = CaseMemberRole.INVESTIGATOR, **case_fields: object) -> Case:
    case = CaseFactory.create(**case_fields)
    CaseMemberFactory.create(case=case, user=make_actor(), role=role)
    return case


@pytest.fixture
def item(db: None) -> EvidenceItem:
    return stored_item(case=case_with_actor(), data=DATA, actor=make_actor(), name="clip.mp4")


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
    item = stored_item(case=case_with_actor(), data=DATA, actor=actor, name="clip.mp4")
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


# --- need-to-know, in the service (every caller gets it) ------------------------------------------------


@pytest.mark.parametrize("role", sorted(POLICY[Action.CONTENT_VIEW]))
def test_roles_that_may_look_get_the_bytes_and_their_role_is_recorded(db: None, role: str) -> None:
    item = stored_item(case=case_with_actor(role), data=b"photo bytes", actor=make_actor())
    assert b"".join(item_content_open(item=item, actor=make_actor(), purpose="triage")) == b"photo bytes"
    assert CustodyEvent.objects.get(item=item, action=CustodyAction.VIEWED).actor_role == role


@pytest.mark.parametrize(
    ("role", "message"),
    [
        ("victim_support", "never receives evidence content"),
        ("auditor", "never receives evidence content"),
    ],
)
def test_roles_without_content_are_refused_with_what_they_can_see(db: None, role: str, message: str) -> None:
    item = stored_item(case=case_with_actor(role), data=b"photo bytes", actor=make_actor())
    before = CustodyEvent.objects.count()
    with pytest.raises(AccessDenied, match=message) as refused:
        item_content_open(item=item, actor=make_actor(), purpose="I have a good reason")
    assert f"/api/v1/evidence/{item.pk}/" in refused.value.message  # where the hashes are instead
    assert "hashes" in refused.value.message and "pseudonymised" in refused.value.message
    assert CustodyEvent.objects.count() == before  # nothing served, nothing logged as a view


def test_a_prosecutor_is_told_not_found_for_an_item_in_no_shared_exhibit(db: None) -> None:
    # Prosecutors see only shared exhibits' items (tests/evidence/test_prosecutor_access.py); any other
    # item of their case reads exactly like an item of another case.
    item = stored_item(case=case_with_actor("prosecutor"), data=b"photo bytes", actor=make_actor())
    with pytest.raises(NotFound, match=f"no evidence item {item.pk} in your cases"):
        item_content_open(item=item, actor=make_actor(), purpose="I have a good reason")
    assert not CustodyEvent.objects.filter(action=CustodyAction.VIEWED).exists()


def test_non_members_superusers_and_inactive_members_get_not_found(db: None) -> None:
    case = case_with_actor()
    item = stored_item(case=case, data=b"photo bytes", actor=make_actor())
    outsider = UserFactory.create(username="outsider")
    root = UserFactory.create(username="root", is_superuser=True, is_staff=True)
    for actor in (outsider, root):
        with pytest.raises(NotFound, match=f"no evidence item {item.pk} in your cases"):
            item_content_open(item=item, actor=actor, purpose="curious")
    make_actor().__class__.objects.filter(pk=make_actor().pk).update(is_active=False)
    with pytest.raises(NotFound):
        item_content_open(item=item, actor=make_actor(), purpose="after leaving the unit")
    assert not CustodyEvent.objects.filter(action=CustodyAction.VIEWED).exists()


def test_a_break_glass_grant_never_includes_content(db: None) -> None:
    item = stored_item(case=CaseFactory.create(), data=b"photo bytes", actor=make_actor())
    admin = UserFactory.create(username="admin", is_staff=True)
    live_grant(case=item.case, user=admin)
    with pytest.raises(AccessDenied, match="break-glass grant is read-only"):
        item_content_open(item=item, actor=admin, purpose="emergency")


def test_legal_basis_is_required_where_the_case_says_so_and_recorded(db: None) -> None:
    item = stored_item(
        case=case_with_actor(content_requires_legal_basis=True), data=b"photo bytes", actor=make_actor()
    )
    with pytest.raises(RejectedInput, match="requires a legal basis"):
        item_content_open(item=item, actor=make_actor(), purpose="identify the victim")
    assert not CustodyEvent.objects.filter(action=CustodyAction.VIEWED).exists()
    chunks = item_content_open(
        item=item, actor=make_actor(), purpose="identify the victim", legal_basis="warrant 2024-77"
    )
    assert b"".join(chunks) == b"photo bytes"
    viewed = CustodyEvent.objects.get(item=item, action=CustodyAction.VIEWED)
    assert (viewed.purpose, viewed.legal_authority) == ("identify the victim", "warrant 2024-77")


# --- GET /api/v1/evidence/{id}/content/ ----------------------------------------------------------------


def content_url(item_id: int, **params: str) -> str:
    return f"/api/v1/evidence/{item_id}/content/" + (f"?{urlencode(params)}" if params else "")


def test_api_streams_verified_bytes_after_recording_the_view(item: EvidenceItem) -> None:
    response = api_for(make_actor()).get(content_url(item.pk, reason="classify"), HTTP_ACCEPT="video/mp4")
    assert response.status_code == 200
    assert response.streaming
    viewed = CustodyEvent.objects.get(item=item, action=CustodyAction.VIEWED)  # on record before the body
    assert (viewed.purpose, viewed.actor_name, viewed.details) == (
        "classify",
        "content-officer",
        {"served": "original"},
    )
    assert b"".join(response.streaming_content) == DATA  # type: ignore[attr-defined]
    assert response["X-Haetae-SHA256"] == item.blob_id
    assert response["Content-Length"] == str(len(DATA))
    assert response["Cache-Control"] == "no-store, private"
    assert response["Content-Disposition"] == f'attachment; filename="item-{item.pk}"'


def test_api_without_a_reason_is_400_and_nothing_is_recorded(item: EvidenceItem) -> None:
    response = api_for(make_actor()).get(content_url(item.pk))
    assert response.status_code == 400
    assert "stated purpose" in response.json()["detail"]
    assert not CustodyEvent.objects.filter(action=CustodyAction.VIEWED).exists()


def test_api_legal_basis_parameter(db: None) -> None:
    item = stored_item(
        case=case_with_actor(content_requires_legal_basis=True), data=b"jpeg", actor=make_actor()
    )
    client = api_for(make_actor())
    assert client.get(content_url(item.pk, reason="triage")).status_code == 400
    response = client.get(content_url(item.pk, reason="triage", legal_basis="warrant 77"))
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"jpeg"  # type: ignore[attr-defined]
    assert CustodyEvent.objects.get(action=CustodyAction.VIEWED).legal_authority == "warrant 77"


def test_api_refuses_victim_support_with_an_explanation(db: None) -> None:
    item = stored_item(case=case_with_actor("victim_support"), data=b"jpeg", actor=make_actor())
    response = api_for(make_actor()).get(content_url(item.pk, reason="takedown"), HTTP_ACCEPT="image/jpeg")
    assert response.status_code == 403
    body = response.json()
    assert "never receives evidence content" in body["detail"] and body["error"] == "AccessDenied"
    assert body["details"]["instead"] == ["hashes", "custody", "pseudonymised references"]


def test_api_foreign_and_missing_items_get_the_same_404(item: EvidenceItem) -> None:
    outsider = api_for(UserFactory.create(username="outsider"))
    foreign = outsider.get(content_url(item.pk, reason="x"))
    missing = outsider.get(content_url(item.pk + 1000, reason="x"))
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == {
        **missing.json(),
        "detail": missing.json()["detail"].replace(str(item.pk + 1000), str(item.pk)),
    }


def test_api_missing_object_is_409_not_a_cut_stream(item: EvidenceItem) -> None:
    path = object_path(item.blob_id)
    path.chmod(0o600)
    path.unlink()
    response = api_for(make_actor()).get(content_url(item.pk, reason="court preparation"))
    assert response.status_code == 409
    assert "missing" in response.json()["detail"]
    assert CustodyEvent.objects.filter(item=item, action=CustodyAction.INCIDENT).count() == 1
