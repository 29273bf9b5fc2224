"""Destruction orders: three people, legal holds, retention, crypto-erasure, shared bytes, the certificate,
and what verify and a content read say afterwards."""

import hashlib
import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.utils import timezone

from access.choices import CaseMemberRole, CaseStatus, GlobalRole
from access.models import Case
from evidence.choices import CustodyAction, ItemStatus
from evidence.content import item_content_open
from evidence.models import Blob, CustodyEvent, Derivative, EvidenceItem
from evidence.previews import preview_blurred_derivative
from evidence.vault import object_path, read_verified
from evidence.verify import vault_verify
from exhibits.reports.pdfa import manifest_extract
from exhibits.reports.signing import pdf_signature_check, signer_load
from haetae.errors import AccessDenied, RejectedInput
from records.certificate import destruction_certificate_read
from records.choices import DestructionOrderStatus, DestructionOutcome
from records.models import DestructionOrder
from records.procedure import unrelated_mark
from records.retention import retention_state
from records.services import (
    destruction_order_authorise,
    destruction_order_execute,
    destruction_order_refuse,
    destruction_order_request,
    destruction_order_witness,
)
from tests.db_roles import database_owner
from tests.factories import Team, custody_actions, item, jpeg_bytes, team

pytestmark = pytest.mark.django_db

BASIS = "형사소송법 제219조·제130조, 보존기간 경과"


def _closed_long_ago(t: Team) -> None:
    Case.objects.filter(pk=t.case.pk).update(
        status=CaseStatus.CLOSED, closed_at=timezone.now() - timedelta(days=365 * 6)
    )
    t.case.refresh_from_db()


def _closed_team() -> Team:
    """A team whose case closed six years ago: its evidence is due for review for destruction."""
    t = team()
    _closed_long_ago(t)
    return t


def _people(t: Team) -> tuple[User, User]:
    supervisor = t.member(CaseMemberRole.INVESTIGATOR)
    supervisor.groups.add(Group.objects.get_or_create(name=GlobalRole.SUPERVISOR)[0])
    witness = t.member(CaseMemberRole.AUDITOR)
    return supervisor, witness


def _witnessed(t: Team, item_ids: list[int] | None = None) -> tuple[DestructionOrder, User, User]:
    supervisor, witness = _people(t)
    order = destruction_order_request(case=t.case, actor=t.lead, item_ids=item_ids, legal_basis=BASIS)
    destruction_order_authorise(order=order, actor=supervisor)
    destruction_order_witness(order=order, actor=witness)
    return DestructionOrder.objects.get(pk=order.pk), supervisor, witness


def test_executed_order_erases_key_then_ciphertext_and_certifies_each_item(tmp_path: Path) -> None:
    t = _closed_team()
    photo = item(t, data=jpeg_bytes("coffee"), name="coffee.jpg")
    preview = preview_blurred_derivative(item=photo, actor=t.lead)
    sha256 = photo.blob_id
    order, _supervisor, _witness = _witnessed(t)
    done = destruction_order_execute(order=order, actor=t.lead)
    assert done.status == DestructionOrderStatus.EXECUTED
    assert not object_path(sha256).exists() and not object_path(preview.blob_id).exists()
    assert not Derivative.objects.filter(source_id=sha256).exists()
    blob = Blob.objects.get(pk=sha256)
    assert blob.destroyed_at is not None and "D-001" in blob.destruction_reference
    entry = done.entries.get()
    assert entry.outcome == DestructionOutcome.ERASED
    assert entry.details["key_destroyed_at"] <= entry.details["ciphertext_removed_at"]
    photo.refresh_from_db()
    assert photo.status == ItemStatus.DESTROYED and "D-001" in photo.status_reason
    actions = custody_actions(case=t.case)
    for step in ("destruction_ordered", "destruction_authorised", "destruction_witnessed", "destroyed"):
        assert step in actions
    # The certificate: signed like a report, with each item's hashes and what was done, in its manifest.
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(destruction_certificate_read(done))
    assert pdf_signature_check(pdf, trust_roots=list(signer_load().trust_roots)).ok
    import json

    manifest = json.loads(manifest_extract(pdf))
    assert manifest["items"][0]["sha256"] == sha256 and manifest["items"][0]["outcome"] == "erased"
    assert manifest["authorised"]["by"] and manifest["witnessed"]["by"]


def test_a_destroyed_items_text_leaves_the_search_index() -> None:
    from search.models import IndexEntry
    from search.services import index_refresh

    t = _closed_team()
    photo = item(t, data=b"bytes to go", name="졸업사진_유출.jpg")
    index_refresh(kind="item", object_ids=[photo.pk])
    assert IndexEntry.objects.filter(item=photo).exists()
    order, _s, _w = _witnessed(t)
    destruction_order_execute(order=order, actor=t.lead)
    assert not IndexEntry.objects.filter(item=photo).exists()
    index_refresh(kind="item", object_ids=[photo.pk])  # a rebuild indexes nothing of it either
    assert not IndexEntry.objects.filter(item=photo).exists()


def test_verify_reports_a_destroyed_item_as_destroyed_not_missing() -> None:
    t = _closed_team()
    item(t, data=b"bytes to go")
    order, _s, _w = _witnessed(t)
    destruction_order_execute(order=order, actor=t.lead)
    report = vault_verify(case=t.case)
    assert report.ok, report.failures
    assert report.destroyed == 1
    last = CustodyEvent.objects.filter(action=CustodyAction.VERIFIED).order_by("-seq").first()
    assert "D-001" in last.details["destroyed"]


def test_verify_reports_a_destroyed_item_whose_status_says_it_is_still_there() -> None:
    """A `destroyed` event on the chain while the column says ingested (an UPDATE as the database owner, to
    make the item look presentable) is a discrepancy; so is an item marked unrelated put back without an
    event."""
    t = _closed_team()
    gone, other = item(t, data=b"bytes to go"), item(t, data=b"bytes that stay")
    order, _s, _w = _witnessed(t, item_ids=[gone.pk])
    destruction_order_execute(order=order, actor=t.lead)
    unrelated_mark(case=t.case, actor=t.lead, item_ids=[other.pk], reason="family photos")
    with database_owner():
        EvidenceItem.objects.filter(pk__in=[gone.pk, other.pk]).update(status=ItemStatus.INGESTED)
    report = vault_verify(case=t.case)
    assert not report.ok
    found = {(f["check"], f["item"], f["expected"], f["found"]) for f in report.failures if f["item"]}
    assert ("item_status", gone.pk, ItemStatus.DESTROYED, ItemStatus.INGESTED) in found
    assert ("item_status", other.pk, ItemStatus.UNRELATED, ItemStatus.INGESTED) in found
    destroyed = next(f for f in report.failures if f["check"] == "item_status" and f["item"] == gone.pk)
    assert "`destroyed`" in destroyed["message"]


def test_reading_a_destroyed_item_says_it_was_destroyed_with_the_order() -> None:
    t = _closed_team()
    photo = item(t, data=b"gone")
    order, _s, _w = _witnessed(t)
    destruction_order_execute(order=order, actor=t.lead)
    photo.refresh_from_db()
    with pytest.raises(RejectedInput, match=r"destroyed.*D-001"):
        item_content_open(item=photo, actor=t.lead, purpose="check")
    with pytest.raises(RejectedInput, match="destroyed"):
        preview_blurred_derivative(item=photo)


def test_bytes_another_case_still_needs_are_kept_and_the_certificate_says_so(tmp_path: Path) -> None:
    t, other = team(), team()
    _closed_long_ago(t)
    mine = item(t, data=b"same bytes in two cases")
    theirs = item(other, data=b"same bytes in two cases")
    order, _s, _w = _witnessed(t)
    done = destruction_order_execute(order=order, actor=t.lead)
    assert done.entries.get().outcome == DestructionOutcome.KEPT_SHARED
    assert object_path(theirs.blob_id).exists() and Blob.objects.get(pk=theirs.blob_id).destroyed_at is None
    mine.refresh_from_db()
    assert mine.status == ItemStatus.DESTROYED
    assert b"".join(item_content_open(item=theirs, actor=other.lead, purpose="still needed"))
    import json

    pdf = tmp_path / "c.pdf"
    pdf.write_bytes(destruction_certificate_read(done))
    assert json.loads(manifest_extract(pdf))["items"][0]["outcome"] == "kept_shared"
    assert vault_verify().ok


def test_the_requester_may_not_authorise_or_witness_their_own_order() -> None:
    t = _closed_team()
    item(t)
    t.lead.groups.add(Group.objects.get_or_create(name=GlobalRole.SUPERVISOR)[0])
    supervisor, _witness = _people(t)
    order = destruction_order_request(case=t.case, actor=t.lead, item_ids=None, legal_basis=BASIS)
    with pytest.raises(AccessDenied, match="a different person must authorise"):
        destruction_order_authorise(order=order, actor=t.lead)
    destruction_order_authorise(order=order, actor=supervisor)
    with pytest.raises(AccessDenied, match="third person"):
        destruction_order_witness(order=order, actor=supervisor)
    order.refresh_from_db()
    assert order.status == DestructionOrderStatus.AUTHORISED


def test_an_order_is_carried_out_only_after_authorisation_and_a_witness() -> None:
    t = _closed_team()
    photo = item(t)
    order = destruction_order_request(case=t.case, actor=t.lead, item_ids=[photo.pk], legal_basis=BASIS)
    with pytest.raises(RejectedInput, match="only when it is witnessed"):
        destruction_order_execute(order=order, actor=t.lead)
    assert object_path(photo.blob_id).exists()


def test_a_legal_hold_blocks_request_and_execution() -> None:
    t = _closed_team()
    photo = item(t)
    Case.objects.filter(pk=t.case.pk).update(legal_hold=True, legal_hold_reason="appeal pending")
    t.case.refresh_from_db()
    with pytest.raises(RejectedInput, match="legal hold"):
        destruction_order_request(case=t.case, actor=t.lead, item_ids=None, legal_basis=BASIS)
    Case.objects.filter(pk=t.case.pk).update(legal_hold=False)
    t.case.refresh_from_db()
    order, _s, _w = _witnessed(t)
    Case.objects.filter(pk=t.case.pk).update(legal_hold=True, legal_hold_reason="new appeal")
    with pytest.raises(RejectedInput, match="legal hold"):
        destruction_order_execute(order=order, actor=t.lead)
    assert object_path(photo.blob_id).exists()
    photo.refresh_from_db()
    assert photo.status == ItemStatus.INGESTED


def test_nothing_is_destroyed_twice() -> None:
    t = _closed_team()
    item(t)
    order, _s, _w = _witnessed(t)
    destruction_order_execute(order=order, actor=t.lead)
    with pytest.raises(RejectedInput, match="already executed"):
        destruction_order_execute(order=order, actor=t.lead)
    with pytest.raises(RejectedInput, match="no item left"):
        destruction_order_request(case=t.case, actor=t.lead, item_ids=None, legal_basis=BASIS)


def test_an_open_case_is_not_due_unless_a_court_orders_destruction() -> None:
    t = team()
    photo = item(t)
    assert not retention_state(case=t.case, now=timezone.now()).due
    with pytest.raises(RejectedInput, match="not due for destruction"):
        destruction_order_request(case=t.case, actor=t.lead, item_ids=None, legal_basis=BASIS)
    order = destruction_order_request(
        case=t.case,
        actor=t.lead,
        item_ids=[photo.pk],
        legal_basis=BASIS,
        court_order="서울중앙지법 2025고단123 몰수",
    )
    assert order.number == "D-001"


def test_retention_counts_years_after_closing_by_outcome_and_class() -> None:
    t = team()
    Case.objects.filter(pk=t.case.pk).update(
        status=CaseStatus.CLOSED, closed_at=timezone.now() - timedelta(days=400)
    )
    t.case.refresh_from_db()
    state = retention_state(case=t.case, now=timezone.now())
    assert not state.due and "5 years" in state.explanation
    assert retention_state(case=t.case, now=timezone.now() + timedelta(days=365 * 5)).due
    Case.objects.filter(pk=t.case.pk).update(retention_class="permanent")
    t.case.refresh_from_db()
    assert not retention_state(case=t.case, now=timezone.now() + timedelta(days=365 * 50)).due


def test_a_withdrawn_order_destroys_nothing_and_frees_its_items() -> None:
    t = _closed_team()
    photo = item(t)
    order = destruction_order_request(case=t.case, actor=t.lead, item_ids=None, legal_basis=BASIS)
    with pytest.raises(RejectedInput, match="already in destruction order D-001"):
        destruction_order_request(case=t.case, actor=t.lead, item_ids=None, legal_basis=BASIS)
    destruction_order_refuse(order=order, actor=t.lead, reason="wrong list")
    assert object_path(photo.blob_id).exists()
    again = destruction_order_request(case=t.case, actor=t.lead, item_ids=None, legal_basis=BASIS)
    assert again.number == "D-002"


def test_only_the_case_lead_requests_destruction() -> None:
    t = _closed_team()
    item(t)
    analyst = t.member(CaseMemberRole.ANALYST)
    with pytest.raises(AccessDenied):
        destruction_order_request(case=t.case, actor=analyst, item_ids=None, legal_basis=BASIS)
    with pytest.raises(RejectedInput, match="legal basis"):
        destruction_order_request(case=t.case, actor=t.lead, item_ids=None, legal_basis=" ")
    assert not DestructionOrder.objects.exists()


class _Crash(BaseException):
    """The process dying at a chosen point (not an error any layer would catch)."""


def test_a_failure_after_the_erase_step_leaves_rows_and_bytes_as_they_were(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import records.services

    t = _closed_team()
    photo = item(t, data=jpeg_bytes("coffee"), name="coffee.jpg")
    order, _s, _w = _witnessed(t)

    def fail(**_: object) -> None:
        raise RuntimeError("the search index is down")

    monkeypatch.setattr(records.services, "index_forget", fail)  # runs after each item's erase step
    with pytest.raises(RuntimeError, match="index is down"):
        destruction_order_execute(order=order, actor=t.lead)

    order.refresh_from_db()
    photo.refresh_from_db()
    assert order.status == DestructionOrderStatus.WITNESSED and photo.status != ItemStatus.DESTROYED
    assert Blob.objects.get(pk=photo.blob_id).destroyed_at is None
    assert hashlib.sha256(b"".join(read_verified(photo.blob_id))).hexdigest() == photo.blob_id
    monkeypatch.undo()
    assert destruction_order_execute(order=order, actor=t.lead).status == DestructionOrderStatus.EXECUTED
    assert not object_path(photo.blob_id).exists()


def test_a_crash_between_commit_and_erasure_is_reported_and_finished_by_running_the_order_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import records.services

    t = _closed_team()
    photo = item(t, data=jpeg_bytes("coffee"), name="coffee.jpg")
    preview = preview_blurred_derivative(item=photo, actor=t.lead)
    order, _s, _w = _witnessed(t)
    real_erase = records.services.blob_bytes_erase
    erased: list[str] = []

    def erase_one_then_crash(sha256: str) -> dict[str, str]:
        if erased:
            raise _Crash
        erased.append(sha256)
        return real_erase(sha256)

    monkeypatch.setattr(records.services, "blob_bytes_erase", erase_one_then_crash)
    with pytest.raises(_Crash):
        destruction_order_execute(order=order, actor=t.lead)
    monkeypatch.undo()

    order.refresh_from_db()
    assert order.status == DestructionOrderStatus.EXECUTED and order.certificate_id is None
    left = {photo.blob_id, preview.blob_id} - set(erased)
    assert len(left) == 1 and object_path(left.pop()).exists()
    report = vault_verify(case=t.case)
    (pending,) = [f for f in report.failures if f["check"] == "erasure_pending"]
    assert "destruction finish" in pending["message"] and "D-001" in pending["message"]

    done = destruction_order_execute(order=order, actor=t.lead)  # the documented way to finish it

    assert not object_path(photo.blob_id).exists() and not object_path(preview.blob_id).exists()
    assert done.certificate_id is not None
    (finished,) = CustodyEvent.objects.filter(
        case=t.case, action=CustodyAction.DESTROYED, details__step="erased"
    )
    outcomes = {blob["sha256"]: blob for blob in finished.details["blobs"]}
    assert set(outcomes[erased[0]]) == {"sha256", "object_absent_at"}  # erased before the crash: found gone
    (other,) = set(outcomes) - {erased[0]}
    assert outcomes[other]["key_destroyed_at"] <= outcomes[other]["ciphertext_removed_at"]
    entry = done.entries.get()
    assert any(key in entry.details for key in ("key_destroyed_at", "object_absent_at"))
    assert entry.details["erasure"] == "done"
    assert vault_verify(case=t.case).ok
    with pytest.raises(RejectedInput, match="already executed"):
        destruction_order_execute(order=order, actor=t.lead)
    steps = [
        e.details.get("step")
        for e in CustodyEvent.objects.filter(case=t.case, action=CustodyAction.DESTROYED)
    ]
    assert steps.count("erased") == 1 and steps.count("certified") == 1


def test_erasing_bytes_twice_is_harmless_and_an_unmarked_blob_is_never_erased() -> None:
    from evidence.destruction import blob_bytes_erase

    t = _closed_team()
    photo = item(t, data=jpeg_bytes("coffee"), name="coffee.jpg")
    other = item(t, data=jpeg_bytes("camera"), name="camera.jpg")
    order, _s, _w = _witnessed(t, item_ids=[photo.pk])
    destruction_order_execute(order=order, actor=t.lead)

    assert set(blob_bytes_erase(photo.blob_id)) == {"object_absent_at"}
    with pytest.raises(RejectedInput, match="not marked destroyed"):
        blob_bytes_erase(other.blob_id)
    assert object_path(other.blob_id).exists()


def test_destruction_finish_completes_an_interrupted_erasure_from_the_command_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import records.services

    t = _closed_team()
    photo = item(t, data=jpeg_bytes("coffee"), name="coffee.jpg")
    order, _s, _w = _witnessed(t)

    def crash(sha256: str) -> dict[str, str]:
        raise _Crash

    monkeypatch.setattr(records.services, "blob_bytes_erase", crash)
    with pytest.raises(_Crash):
        destruction_order_execute(order=order, actor=t.lead)
    monkeypatch.undo()
    assert object_path(photo.blob_id).exists()

    out = io.StringIO()
    call_command("destruction", "finish", t.case.number, "D-001", "--actor", t.lead.username, stdout=out)

    assert "1 pending erasure(s) finished" in out.getvalue()
    assert not object_path(photo.blob_id).exists()
    assert DestructionOrder.objects.get(pk=order.pk).certificate_id is not None
    out = io.StringIO()
    call_command("destruction", "finish", t.case.number, "D-001", "--actor", t.lead.username, stdout=out)
    assert "no erasure was pending" in out.getvalue()
