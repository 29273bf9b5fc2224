"""The procedure records in the portal: the buttons where a user looks for them (an item's page, an
acquisition's page, a bundle's page, the case's procedure page), who sees them, and a refused form that keeps
what was typed."""

from typing import Any

import pytest
from django.urls import reverse

from access.choices import CaseMemberRole
from evidence.choices import ItemStatus
from evidence.models import EvidenceItem
from records.models import ProcedureDocument
from tests.factories import Team, item, jpeg_bytes, team
from tests.factories import portal_client as client_for

pytestmark = pytest.mark.django_db


def url(name: str, t: Team, *args: Any) -> str:
    return reverse(f"portal:{name}", args=[t.case.number, *args])


def test_an_item_is_marked_unrelated_from_its_page_and_returned_from_the_procedure_page() -> None:
    t = team()
    photo = item(t, data=jpeg_bytes("chelsea"), name="family.jpg")
    lead = client_for(t.lead)
    page = lead.get(reverse("portal:evidence_detail", args=[photo.pk])).content.decode()
    assert url("procedure_mark", t) in page
    analyst_page = client_for(t.member(CaseMemberRole.ANALYST)).get(
        reverse("portal:evidence_detail", args=[photo.pk])
    )
    assert url("procedure_mark", t) not in analyst_page.content.decode()
    marked = lead.post(url("procedure_mark", t), {"items": str(photo.pk), "reason": "가족 사진"})
    assert marked.status_code == 302
    assert EvidenceItem.objects.get(pk=photo.pk).status == ItemStatus.UNRELATED
    procedure = lead.get(url("procedure", t)).content.decode()
    assert "가족 사진" in procedure and url("procedure_dispose", t) in procedure
    # A return without a handover is refused; the page shows why and keeps what was typed.
    refused = lead.post(
        url("procedure_dispose", t),
        {"items": str(photo.pk), "kind": "returned", "person_searched": "홍길동", "confirmation": "서명함"},
    )
    body = refused.content.decode()
    assert refused.status_code == 400 and "handed back" in body and "홍길동" in body and "서명함" in body
    done = lead.post(
        url("procedure_dispose", t),
        {
            "items": str(photo.pk),
            "kind": "returned",
            "person_searched": "홍길동",
            "confirmation": "서명함",
            "handover": "USB 1개",
        },
    )
    assert done.status_code == 302
    assert EvidenceItem.objects.get(pk=photo.pk).status == ItemStatus.DESTROYED


def test_the_detailed_list_is_issued_from_the_acquisition_page_and_downloaded() -> None:
    t = team()
    photo = item(t, data=jpeg_bytes("coffee"))
    lead = client_for(t.lead)
    progress = lead.get(reverse("portal:ingest_progress", args=[photo.acquisition_id])).content.decode()
    assert url("procedure_issue", t) in progress
    issued = lead.post(url("procedure_issue", t), {"kind": "seized_list", "of": str(photo.acquisition_id)})
    assert issued.status_code == 302
    document = ProcedureDocument.objects.get(case=t.case)
    listing = lead.get(url("procedure", t)).content.decode()
    assert url("procedure_download", t, document.number) in listing
    auditor = client_for(t.member(CaseMemberRole.AUDITOR))
    pdf = auditor.get(url("procedure_download", t, document.number))
    assert pdf.status_code == 200 and pdf["X-Haetae-Document-SHA256"] == document.blob_id
    assert pdf.getvalue().startswith(b"%PDF")
    support = client_for(t.member(CaseMemberRole.VICTIM_SUPPORT))
    assert support.get(url("procedure", t)).status_code == 403


def test_a_scene_confirmation_is_recorded_from_the_procedure_page_and_printed() -> None:
    t = team()
    lead = client_for(t.lead)
    case_page = lead.get(reverse("portal:case_detail", args=[t.case.number])).content.decode()
    assert url("procedure", t) in case_page
    bad = lead.post(
        url("procedure_scene", t),
        {"subject": "휴대전화 이미지", "hashes": "phone.E01 SHA-256 abc", "computed_by": "김민수"},
    )
    assert bad.status_code == 400 and "64 hex digits" in bad.content.decode()
    assert "휴대전화 이미지" in bad.content.decode()
    recorded = lead.post(
        url("procedure_scene", t),
        {
            "subject": "휴대전화 이미지",
            "hashes": f"phone.E01 SHA-256 {'ab' * 32}",
            "computed_by": "김민수",
            "witness_name": "이영희",
            "witness_relation": "변호인",
        },
    )
    assert recorded.status_code == 302
    printed = lead.post(url("procedure_issue", t), {"kind": "scene_confirmation", "of": "H-001"})
    assert printed.status_code == 302
    assert ProcedureDocument.objects.get(case=t.case).number == "C-001"


def test_a_done_bundle_offers_the_export_confirmation_to_investigators_only() -> None:
    from exhibits.choices import ReportStatus
    from exhibits.models import ExportBundle

    t = team()
    bundle = ExportBundle.objects.create(
        case=t.case, scope=[], recipient="서울중앙지방검찰청", requested_by=t.lead, status=ReportStatus.DONE
    )
    page = client_for(t.lead).get(url("bundle_detail", t, bundle.pk)).content.decode()
    assert 'value="export_confirmation"' in page
    analyst = client_for(t.member(CaseMemberRole.ANALYST)).get(url("bundle_detail", t, bundle.pk))
    assert 'value="export_confirmation"' not in analyst.content.decode()
