"""Korean procedure records: the detailed list (상세목록), the scene hash confirmation (확인서), selective
seizure (items unrelated to the warrant: marked, then returned or deleted), and the export confirmation
(반출 확인서). The PDFs are read back with poppler's pdftotext and checked for their signature and their
embedded manifest."""

import hashlib
import json
from datetime import datetime
from pathlib import Path

import pytest
from django.utils import timezone

from access.choices import CaseMemberRole
from evidence.choices import CustodyAction, ItemStatus
from evidence.content import item_content_open
from evidence.ingest import evidence_ingest
from evidence.models import Blob, CustodyEvent, EvidenceItem
from evidence.previews import preview_blurred_derivative
from evidence.sources import PathSource
from evidence.vault import object_path
from evidence.verify import vault_verify
from exhibits.bundles import bundle_request
from exhibits.interchange import case_uco_export
from exhibits.manifest import exhibit_manifest
from exhibits.reports.pdfa import manifest_extract
from exhibits.reports.signing import pdf_signature_check, signer_load
from exhibits.services import exhibit_create
from haetae.errors import AccessDenied, RejectedInput
from records.choices import ProcedureDocumentKind, UnrelatedMarkStatus
from records.documents import (
    export_confirmation_issue,
    procedure_document_read,
    scene_confirmation_issue,
    seized_list_issue,
)
from records.models import UnrelatedMark
from records.procedure import (
    scene_confirmation_record,
    scene_record_sha256,
    unrelated_dispose,
    unrelated_mark,
    unrelated_unmark,
)
from tests.factories import Team, custody_actions, item, jpeg_bytes, stored_item, team
from tests.factories.exhibits import pdf_text, pii_calls, scenario, x25519_pair

pytestmark = pytest.mark.django_db
__all__ = ["pii_calls"]  # the fixture, imported so pytest finds it

WARRANT = "서울중앙지방법원 2024-압-1234"


def _flat(text: str) -> str:
    """pdftotext breaks long values across table lines: compare without any whitespace."""
    return "".join(text.split())


def _pdf(tmp_path: Path, document, name: str = "doc.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(procedure_document_read(document))
    assert pdf_signature_check(path, trust_roots=list(signer_load().trust_roots)).ok
    return path


def _seized(t: Team, tmp_path: Path, settings) -> list[EvidenceItem]:
    settings.HAETAE_DETECT_ON_INGEST = False
    folder = tmp_path / "phone"
    (folder / "DCIM").mkdir(parents=True)
    (folder / "DCIM" / "room-post.jpg").write_bytes(jpeg_bytes("coffee"))
    (folder / "family.jpg").write_bytes(jpeg_bytes("chelsea"))
    (folder / "notes.txt").write_bytes(b"meeting at 7")
    result = evidence_ingest(
        case=t.case,
        sources=[PathSource(folder)],
        actor=t.lead,
        source_label="suspect's phone",
        seizure_reference=WARRANT,
        seal_numbers=["S-1"],
        location="Seoul",
    )
    return list(EvidenceItem.objects.filter(acquisition=result.acquisition).order_by("original_path"))


def test_detailed_list_names_every_file_with_path_size_times_and_hash(tmp_path: Path, settings) -> None:
    t = team()
    items = _seized(t, tmp_path, settings)
    document = seized_list_issue(acquisition=items[0].acquisition, actor=t.lead)
    assert document.kind == ProcedureDocumentKind.SEIZED_LIST and document.number == "L-001"
    pdf = _pdf(tmp_path, document)
    text = pdf_text(pdf, layout=False)
    flat = _flat(text)
    assert "전자정보상세목록" in flat and "Detailedlistofseizedelectronicinformation" in flat
    assert _flat(WARRANT) in flat and "2011모1839" in flat and "2021모1586" in flat
    for seized in items:
        assert _flat(seized.original_path) in flat
        assert str(seized.blob_id) in flat and str(seized.size) in flat
    # Korean first, then English; signature lines for the investigator and the person searched.
    assert text.index("피압수자") < text.rindex("person searched")
    assert "서명또는날인" in flat and "수정modified" in flat
    manifest = json.loads(manifest_extract(pdf))
    assert sorted(r["sha256"] for r in manifest["seized"]) == sorted(str(i.blob_id) for i in items)
    assert all(r["modified_at"] for r in manifest["seized"])
    event = CustodyEvent.objects.get(case=t.case, action=CustodyAction.PROCEDURE_DOCUMENT)
    assert event.details["acquisition"] == items[0].acquisition_id
    # A defence expert's check: the file and its embedded manifest hash to what the ledger holds.
    assert (
        event.details["document_sha256"] == hashlib.sha256(pdf.read_bytes()).hexdigest() == document.blob_id
    )
    assert event.details["manifest_sha256"] == hashlib.sha256(manifest_extract(pdf)).hexdigest()
    assert event.legal_authority == WARRANT


def test_detailed_list_separates_items_returned_as_unrelated(tmp_path: Path, settings) -> None:
    t = team()
    items = _seized(t, tmp_path, settings)
    family = next(i for i in items if i.original_name == "family.jpg")
    unrelated_mark(case=t.case, actor=t.lead, item_ids=[family.pk], reason="가족 사진, 범죄사실과 무관")
    unrelated_dispose(
        case=t.case,
        actor=t.lead,
        item_ids=[family.pk],
        kind="returned",
        person_searched="홍길동",
        confirmation="반환 영수증에 서명",
        handover="USB 1개에 복사하여 본인에게 교부",
    )
    document = seized_list_issue(acquisition=family.acquisition, actor=t.lead)
    manifest = json.loads(manifest_extract(_pdf(tmp_path, document)))
    assert family.pk not in [r["item"] for r in manifest["seized"]]
    (returned,) = manifest["not_seized"]
    assert returned["item"] == family.pk and returned["unrelated"]["disposal"] == "U-001"
    assert "가족사진" in _flat(pdf_text(tmp_path / "doc.pdf", layout=False))


def test_scene_confirmation_is_stored_then_printed_with_witness_and_refusal(tmp_path: Path, settings) -> None:
    t = team()
    items = _seized(t, tmp_path, settings)
    post = next(i for i in items if i.original_name == "room-post.jpg")
    image_sha256 = "ab" * 32
    confirmation = scene_confirmation_record(
        case=t.case,
        actor=t.lead,
        acquisition_id=post.acquisition_id,
        subject="피의자 휴대전화 선별 파일",
        hashes=[
            {"name": "room-post.jpg", "algorithm": "sha256", "value": post.blob_id.upper()},
            {"name": "phone.E01", "algorithm": "SHA-256", "value": image_sha256},
        ],
        computed_by="수사관 김민수",
        tool="HashCalc 2.1",
        place="서울 강남구",
        person_searched="홍길동",
        witness_name="이영희",
        witness_relation="변호인",
        participant_refused=True,
        refusal_reason="변호인과 상의 후 서명하겠다고 함",
    )
    assert confirmation.number == "H-001" and confirmation.hashes[0]["value"] == post.blob_id
    event = CustodyEvent.objects.get(case=t.case, action=CustodyAction.SCENE_HASH_RECORDED)
    assert {"algorithm": "SHA-256", "value": image_sha256} in event.details["hashes"]
    assert event.details["record_sha256"] == scene_record_sha256(confirmation)
    assert "이영희" not in json.dumps(event.details, ensure_ascii=False)  # names stay out of the ledger
    document = scene_confirmation_issue(confirmation=confirmation, actor=t.lead)
    pdf = _pdf(tmp_path, document)
    flat = _flat(pdf_text(pdf, layout=False))
    for fact in (
        "전자정보확인서",
        "수사관김민수",
        "이영희",
        "변호인",
        "참여인서명거부",
        "변호인과상의후서명하겠다고함",
    ):
        assert fact in flat, fact
    assert "Theparticipantrefusedtosign" in flat
    manifest = json.loads(manifest_extract(pdf))
    checks = {h["name"]: h["vault_items"] for h in manifest["hashes"]}
    assert checks == {"room-post.jpg": [post.pk], "phone.E01": []}
    assert f"matchesitem{post.pk}" in flat and "noiteminthevaulthasthishash" in flat


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"hashes": [{"name": "a", "algorithm": "SHA-256", "value": "abc"}]}, "64 hex digits"),
        ({"hashes": [{"name": "a", "algorithm": "CRC32", "value": "ab" * 32}]}, "not one of"),
        ({"hashes": []}, "at least one hash"),
        ({"witness_name": "이영희", "witness_relation": ""}, "relates to the person searched"),
        ({"participant_refused": True, "refusal_reason": ""}, "record the reason"),
        ({"computed_by": " "}, "who computed"),
        ({"computed_at": datetime(2024, 5, 2, 14, 30)}, "no offset"),
    ],
)
def test_a_scene_confirmation_with_a_gap_is_refused_and_nothing_is_written(change, message) -> None:
    t = team()
    fields = {
        "subject": "phone image",
        "hashes": [{"name": "phone.E01", "algorithm": "SHA-256", "value": "ab" * 32}],
        "computed_by": "김민수",
        **change,
    }
    before = CustodyEvent.objects.count()
    with pytest.raises(RejectedInput, match=message):
        scene_confirmation_record(case=t.case, actor=t.lead, **fields)
    assert CustodyEvent.objects.count() == before


def test_an_unrelated_item_leaves_analysis_content_exhibits_and_interchange() -> None:
    t = team()
    kept = item(t, data=jpeg_bytes("coffee"), name="room-post.jpg")
    family = item(t, data=jpeg_bytes("chelsea"), name="family.jpg")
    (mark,) = unrelated_mark(case=t.case, actor=t.lead, item_ids=[family.pk], reason="가족 사진")
    family.refresh_from_db()
    assert family.status == ItemStatus.UNRELATED and mark.sha256 == family.blob_id
    event = CustodyEvent.objects.filter(item=family).latest("seq")
    assert event.action == CustodyAction.MARKED_UNRELATED and event.purpose == "가족 사진"
    # Content and previews: refused with what to do.
    with pytest.raises(RejectedInput, match="unrelated to the warrant"):
        item_content_open(item=family, actor=t.lead, purpose="review")
    with pytest.raises(RejectedInput, match="unrelated to the warrant"):
        preview_blurred_derivative(item=family, actor=t.lead)
    # Exhibits: refused.
    with pytest.raises(RejectedInput, match="unrelated to the warrant"):
        exhibit_create(case=t.case, item_ids=[family.pk], description="x", actor=t.lead)
    # Interchange (CASE/UCO) export: only the kept item.
    export = case_uco_export(case=t.case, actor=t.lead)
    assert export.item_count == 1
    body = export.body.decode().lower()
    assert str(kept.blob_id) in body and str(family.blob_id) not in body


def test_the_detection_worker_skips_an_item_marked_after_its_runs_were_queued(settings) -> None:
    from detection.matching import FILE_HASHES_DETECTOR
    from detection.models import DetectionRun
    from detection.models.runs import RunStatus
    from detection.pipeline import detection_item_process, scan_job_create

    settings.HAETAE_DETECT_ON_INGEST = False
    t = team()
    family = item(t, data=jpeg_bytes("chelsea"), name="family.jpg")
    _job, planned = scan_job_create(
        kind="case", case_id=t.case.pk, detector_name=FILE_HASHES_DETECTOR, actor=t.lead, send=False
    )
    assert planned.get(family.pk)
    unrelated_mark(case=t.case, actor=t.lead, item_ids=[family.pk], reason="가족 사진")
    outcome = detection_item_process(item_id=family.pk, run_ids=planned[family.pk])
    assert not outcome.raised
    run = DetectionRun.objects.get(pk=planned[family.pk][0])
    assert run.status == RunStatus.FAILED and "not analysed" in run.error
    # And a new scan of the case does not take it at all.
    _job, again = scan_job_create(
        kind="case", case_id=t.case.pk, detector_name=None, actor=t.lead, send=False
    )
    assert family.pk not in again


def test_an_exhibited_item_is_taken_out_before_it_can_be_marked() -> None:
    t = team()
    photo = item(t, data=jpeg_bytes("coffee"))
    exhibit_create(case=t.case, item_ids=[photo.pk], description="x", actor=t.lead)
    with pytest.raises(RejectedInput, match="E-001"):
        unrelated_mark(case=t.case, actor=t.lead, item_ids=[photo.pk], reason="unrelated")
    assert not UnrelatedMark.objects.exists()


def test_a_report_or_bundle_manifest_refuses_an_unrelated_item_whatever_path_it_took() -> None:
    t = team()
    photo = item(t, data=jpeg_bytes("coffee"))
    exhibit = exhibit_create(case=t.case, item_ids=[photo.pk], description="x", actor=t.lead)
    EvidenceItem.objects.filter(pk=photo.pk).update(status=ItemStatus.UNRELATED)
    with pytest.raises(RejectedInput, match="unrelated to the warrant"):
        exhibit_manifest(case=t.case, exhibits=[exhibit])


def test_a_withdrawn_mark_puts_the_item_back() -> None:
    t = team()
    photo = item(t, data=jpeg_bytes("coffee"))
    (mark,) = unrelated_mark(case=t.case, actor=t.lead, item_ids=[photo.pk], reason="looked unrelated")
    unrelated_unmark(mark=mark, actor=t.lead, reason="the room's logo is in the corner")
    photo.refresh_from_db()
    assert photo.status == ItemStatus.INGESTED
    assert b"".join(item_content_open(item=photo, actor=t.lead, purpose="review")) == jpeg_bytes("coffee")
    actions = custody_actions(item=photo)
    assert actions[-3:-1] == [CustodyAction.MARKED_UNRELATED, CustodyAction.UNRELATED_UNMARKED]
    with pytest.raises(RejectedInput, match="only an open mark"):
        unrelated_unmark(mark=mark, actor=t.lead, reason="again")


def test_deleting_an_unrelated_item_crypto_erases_it_and_verify_reports_it_destroyed() -> None:
    t = team()
    family = item(t, data=jpeg_bytes("chelsea"), name="family.jpg")
    preview = preview_blurred_derivative(item=family, actor=t.lead)
    sha256 = family.blob_id
    unrelated_mark(case=t.case, actor=t.lead, item_ids=[family.pk], reason="가족 사진")
    disposal = unrelated_dispose(
        case=t.case,
        actor=t.lead,
        item_ids=[family.pk],
        kind="deleted",
        person_searched="홍길동",
        person_refused=True,
        refusal_reason="확인을 거부함",
    )
    assert disposal.number == "U-001"
    assert not object_path(sha256).exists() and not object_path(preview.blob_id).exists()
    assert Blob.objects.get(pk=sha256).destroyed_at is not None
    family.refresh_from_db()
    assert family.status == ItemStatus.DESTROYED and "U-001" in family.status_reason
    mark = UnrelatedMark.objects.get(item=family)
    assert mark.status == UnrelatedMarkStatus.DELETED and mark.outcome == "erased"
    assert mark.details["key_destroyed_at"] <= mark.details["ciphertext_removed_at"]
    event = CustodyEvent.objects.filter(item=family).latest("seq")
    assert event.action == CustodyAction.UNRELATED_DELETED and event.sha256_before == sha256
    assert event.details["person_refused"] is True and "홍길동" not in json.dumps(event.details)
    # The ledger keeps every event, and verify reports the item destroyed, not missing.
    actions = set(custody_actions(item=family))
    assert {
        CustodyAction.ACQUIRED,
        CustodyAction.MARKED_UNRELATED,
        CustodyAction.UNRELATED_DELETED,
    } <= actions
    result = vault_verify(case=t.case, actor=t.lead)
    assert result.ok and result.destroyed == 1


def test_bytes_another_case_still_holds_are_kept_when_an_unrelated_copy_is_deleted() -> None:
    t, other = team(), team()
    data = jpeg_bytes("chelsea")
    family = item(t, data=data)
    stored_item(case=other.case, data=data, actor=other.lead)
    unrelated_mark(case=t.case, actor=t.lead, item_ids=[family.pk], reason="unrelated")
    unrelated_dispose(
        case=t.case,
        actor=t.lead,
        item_ids=[family.pk],
        kind="deleted",
        person_searched="홍길동",
        confirmation="서명",
    )
    assert object_path(family.blob_id).exists()
    assert UnrelatedMark.objects.get(item=family).outcome == "kept_shared"


def test_return_or_deletion_needs_a_mark_a_confirmation_the_lead_and_no_legal_hold() -> None:
    t = team()
    photo = item(t, data=jpeg_bytes("coffee"))
    base = {"case": t.case, "item_ids": [photo.pk], "kind": "deleted", "person_searched": "홍길동"}
    with pytest.raises(RejectedInput, match="not marked unrelated"):
        unrelated_dispose(actor=t.lead, confirmation="서명", **base)
    unrelated_mark(case=t.case, actor=t.lead, item_ids=[photo.pk], reason="unrelated")
    with pytest.raises(RejectedInput, match="confirmed"):
        unrelated_dispose(actor=t.lead, **base)
    with pytest.raises(RejectedInput, match="handed back"):
        unrelated_dispose(actor=t.lead, confirmation="서명", **{**base, "kind": "returned"})
    investigator = t.member(CaseMemberRole.INVESTIGATOR)
    with pytest.raises(AccessDenied):
        unrelated_dispose(actor=investigator, confirmation="서명", **base)
    t.case.legal_hold, t.case.legal_hold_reason = True, "appeal pending"
    t.case.save(update_fields=["legal_hold", "legal_hold_reason"])
    with pytest.raises(RejectedInput, match="legal hold"):
        unrelated_dispose(actor=t.lead, confirmation="서명", **base)
    assert object_path(photo.blob_id).exists()


def test_only_investigators_mark_and_the_analyst_may_not_issue_documents(tmp_path: Path, settings) -> None:
    t = team()
    items = _seized(t, tmp_path, settings)
    analyst = t.member(CaseMemberRole.ANALYST)
    with pytest.raises(AccessDenied):
        unrelated_mark(case=t.case, actor=analyst, item_ids=[items[0].pk], reason="x")
    with pytest.raises(AccessDenied):
        seized_list_issue(acquisition=items[0].acquisition, actor=analyst)


def test_export_confirmation_names_who_when_what_hashes_and_recipient(
    tmp_path: Path, pii_calls: list[list[str]]
) -> None:
    from exhibits.bundles import bundle_export

    s = scenario(tmp_path)
    _private, public = x25519_pair(tmp_path / "keys")
    bundle = bundle_request(
        case=s.t.case, exhibit_numbers=["E-001", "E-002"], recipient="서울중앙지방검찰청", actor=s.t.lead
    )
    with pytest.raises(RejectedInput, match="nothing has left the vault"):
        export_confirmation_issue(bundle=bundle, actor=s.t.lead)
    bundle = bundle_export(
        bundle=bundle,
        out=tmp_path / "out" / "bundle.zip",
        recipient_public_key=public.read_bytes(),
        passphrase=None,
        report=s.report,
    )
    document = export_confirmation_issue(bundle=bundle, actor=s.t.lead)
    assert document.number == "X-001" and document.bundle_id == bundle.pk
    pdf = _pdf(tmp_path, document)
    flat = _flat(pdf_text(pdf, layout=False))
    assert "반출확인서" in flat and "서울중앙지방검찰청" in flat and bundle.sha256 in flat
    for exported in s.items:
        assert exported.blob_id in flat and exported.blob.md5 in flat
    assert "인수자" in flat and "receivedby" in flat
    manifest = json.loads(manifest_extract(pdf))
    assert manifest["bundle"]["sha256"] == bundle.sha256
    assert manifest["bundle"]["exported_at"] and manifest["bundle"]["exported_by"]
    event = CustodyEvent.objects.filter(case=s.t.case, action=CustodyAction.PROCEDURE_DOCUMENT).get()
    assert event.details["bundle_sha256"] == bundle.sha256


def test_numbers_follow_per_kind_and_times_print_in_seoul_time(tmp_path: Path, settings) -> None:
    t = team()
    items = _seized(t, tmp_path, settings)
    first = seized_list_issue(acquisition=items[0].acquisition, actor=t.lead)
    second = seized_list_issue(acquisition=items[0].acquisition, actor=t.lead)
    assert (first.number, second.number) == ("L-001", "L-002")
    assert "+09:00" in pdf_text(_pdf(tmp_path, second))
    assert timezone.now()
