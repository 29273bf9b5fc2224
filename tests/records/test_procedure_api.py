"""The procedure records API: record, issue, download, mark, withdraw, return or delete over HTTP; who may."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from access.choices import CaseMemberRole
from evidence.choices import CustodyAction, ItemStatus
from evidence.models import CustodyEvent, EvidenceItem
from exhibits.reports.signing import pdf_signature_check, signer_load
from records.procedure import unrelated_mark
from tests.factories import Team, item, jpeg_bytes, team
from tests.factories import api_client as api

pytestmark = pytest.mark.django_db


def url(t: Team, tail: str) -> str:
    return f"/api/v1/cases/{t.case.number}/{tail}"


def test_the_procedure_records_over_http(tmp_path) -> None:
    t = team()
    photo = item(t, data=jpeg_bytes("coffee"), name="room-post.jpg")
    family = item(t, data=jpeg_bytes("chelsea"), name="family.jpg")
    lead = api(t.lead)
    recorded = lead.post(
        url(t, "scene-confirmations/"),
        {
            "subject": "선별 파일",
            "hashes": [{"name": "room-post.jpg", "algorithm": "SHA-256", "value": photo.blob_id}],
            "computed_by": "김민수",
            "witness_name": "이영희",
            "witness_relation": "변호인",
        },
        format="json",
    )
    assert recorded.status_code == 201, recorded.content
    assert recorded.json()["number"] == "H-001"
    issued = lead.post(
        url(t, "procedure-documents/"), {"kind": "scene_confirmation", "confirmation": "H-001"}, format="json"
    )
    assert issued.status_code == 201, issued.content
    body = issued.json()
    assert body["number"] == "C-001" and body["confirmation"] == "H-001"
    pdf = lead.get(body["download_url"])
    assert pdf.status_code == 200 and pdf["X-Haetae-Document-SHA256"] == body["sha256"]
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf.getvalue())
    assert pdf_signature_check(path, trust_roots=list(signer_load().trust_roots)).ok
    listed = lead.post(
        url(t, "procedure-documents/"),
        {"kind": "seized_list", "acquisition": photo.acquisition_id},
        format="json",
    )
    assert listed.status_code == 201 and listed.json()["number"] == "L-001"
    assert (
        lead.post(url(t, "procedure-documents/"), {"kind": "seized_list"}, format="json").status_code == 400
    )
    marked = lead.post(
        url(t, "unrelated/"), {"items": [family.pk, photo.pk], "reason": "가족 사진"}, format="json"
    )
    assert marked.status_code == 201, marked.content
    photo_mark = next(m for m in marked.json() if m["item"] == photo.pk)
    withdrawn = lead.post(
        url(t, f"unrelated/{photo_mark['id']}/withdraw/"), {"reason": "관련 있음"}, format="json"
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    disposed = lead.post(
        url(t, "unrelated-disposals/"),
        {
            "items": [family.pk],
            "kind": "returned",
            "person_searched": "홍길동",
            "confirmation": "반환 영수증 서명",
            "handover": "USB 1개",
        },
        format="json",
    )
    assert disposed.status_code == 201, disposed.content
    assert disposed.json()["items"][0]["outcome"] == "erased"
    assert EvidenceItem.objects.get(pk=family.pk).status == ItemStatus.DESTROYED
    assert EvidenceItem.objects.get(pk=photo.pk).status == ItemStatus.INGESTED
    assert CustodyEvent.objects.filter(item=family, action=CustodyAction.UNRELATED_RETURNED).exists()
    # The content of the returned item is refused with the reason.
    content = lead.get(f"/api/v1/evidence/{family.pk}/content/", {"reason": "check"})
    assert content.status_code in (400, 409) and "destroyed" in content.json()["detail"]


def test_who_may_read_and_write_procedure_records() -> None:
    t = team()
    photo = item(t)
    support = api(t.member(CaseMemberRole.VICTIM_SUPPORT))
    analyst = api(t.member(CaseMemberRole.ANALYST))
    investigator = api(t.member(CaseMemberRole.INVESTIGATOR))
    assert support.get(url(t, "unrelated/")).status_code == 403
    assert analyst.get(url(t, "unrelated/")).status_code == 200
    body = {"items": [photo.pk], "reason": "x"}
    assert analyst.post(url(t, "unrelated/"), body, format="json").status_code == 403
    assert investigator.post(url(t, "unrelated/"), body, format="json").status_code == 201
    dispose = {"items": [photo.pk], "kind": "deleted", "person_searched": "홍길동", "confirmation": "서명"}
    assert investigator.post(url(t, "unrelated-disposals/"), dispose, format="json").status_code == 403
    outsider = api(team().lead)
    assert outsider.get(url(t, "unrelated/")).status_code == 404


def test_the_mark_list_costs_the_same_queries_for_one_row_or_ten() -> None:
    t = team()
    lead = api(t.lead)
    items = [item(t, data=f"bytes {n}".encode()) for n in range(11)]
    unrelated_mark(case=t.case, actor=t.lead, item_ids=[items[0].pk], reason="x")
    with CaptureQueriesContext(connection) as one:
        assert lead.get(url(t, "unrelated/")).status_code == 200
    unrelated_mark(case=t.case, actor=t.lead, item_ids=[i.pk for i in items[1:]], reason="y")
    with CaptureQueriesContext(connection) as ten:
        assert lead.get(url(t, "unrelated/")).json()["count"] == 11
    assert len(ten) == len(one)
