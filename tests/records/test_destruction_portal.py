"""Destruction in the portal: the list with the retention state and the lead's request form, an order's page
with the one button each viewer's step allows, the typed confirmation before execution, the certificate, and
no item names for the auditor or victim support."""

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse
from django.utils import timezone

from access.choices import CaseMemberRole, CaseStatus, GlobalRole
from access.models import Case
from access.services import unit_supervisor_add
from evidence.choices import ItemStatus
from evidence.vault import object_path
from records.models import DestructionOrder
from tests.factories import Team, item, new_user, team
from tests.factories import portal_client as client_for

pytestmark = pytest.mark.django_db

BASIS = "형사소송법 제219조·제130조, 보존기간 경과"


def url(name: str, t: Team, *args: Any) -> str:
    return reverse(f"portal:{name}", args=[t.case.number, *args])


def due_team() -> Team:
    t = team(unit="서울청 사이버수사대")
    Case.objects.filter(pk=t.case.pk).update(
        status=CaseStatus.CLOSED, closed_at=timezone.now() - timedelta(days=365 * 6)
    )
    return t


def unit_supervisor(t: Team) -> User:
    boss = new_user()
    boss.groups.add(Group.objects.get(name=GlobalRole.SUPERVISOR))
    assert t.case.unit is not None
    unit_supervisor_add(unit=t.case.unit, user=boss, actor=new_user(is_superuser=True, is_staff=True))
    return boss


def test_an_order_is_requested_authorised_witnessed_and_carried_out_in_the_portal() -> None:
    t = due_team()
    photo = item(t, data=b"to be destroyed", name="room-post.jpg")
    boss, auditor = unit_supervisor(t), t.member(CaseMemberRole.AUDITOR)
    lead = client_for(t.lead)
    case_page = lead.get(reverse("portal:case_detail", args=[t.case.number])).content.decode()
    assert url("destruction", t) in case_page
    listing = lead.get(url("destruction", t)).content.decode()
    assert "room-post.jpg" in listing and url("destruction_request", t) in listing  # the lead's form
    # A refused request shows the page again with the message and what was typed.
    refused = lead.post(url("destruction_request", t), {"legal_basis": " ", "reason": "kept text"})
    assert refused.status_code == 400
    assert "legal basis" in refused.content.decode() and "kept text" in refused.content.decode()
    made = lead.post(url("destruction_request", t), {"legal_basis": BASIS, "items": [str(photo.pk)]})
    assert made.status_code == 302 and made["Location"] == url("destruction_order", t, "D-001")
    order_page = url("destruction_order", t, "D-001")
    seen_by_lead = lead.get(order_page).content.decode()
    assert url("destruction_withdraw", t, "D-001") in seen_by_lead
    assert url("destruction_authorise", t, "D-001") not in seen_by_lead  # never the requester's step
    # The auditor reads the order without the item's file name, and may not request.
    seen_by_auditor = client_for(auditor).get(order_page).content.decode()
    assert "room-post.jpg" not in seen_by_auditor and str(photo.blob_id) in seen_by_auditor
    assert url("destruction_witness", t, "D-001") not in seen_by_auditor  # not yet authorised
    auditor_list = client_for(auditor).get(url("destruction", t)).content.decode()
    assert "room-post.jpg" not in auditor_list and url("destruction_request", t) not in auditor_list
    supervising = client_for(boss)
    assert url("destruction_authorise", t, "D-001") in supervising.get(order_page).content.decode()
    assert supervising.post(url("destruction_authorise", t, "D-001"), {"note": ""}).status_code == 302
    witnessing = client_for(auditor)
    assert url("destruction_witness", t, "D-001") in witnessing.get(order_page).content.decode()
    assert witnessing.post(url("destruction_witness", t, "D-001")).status_code == 302
    # Execution asks for the order's number typed out.
    assert url("destruction_execute", t, "D-001") in lead.get(order_page).content.decode()
    unconfirmed = lead.post(url("destruction_execute", t, "D-001"), {"confirm": "yes"})
    assert (
        unconfirmed.status_code == 400
        and "type the order&#x27;s number (D-001)" in unconfirmed.content.decode()
    )
    assert object_path(photo.blob_id).exists()
    assert lead.post(url("destruction_execute", t, "D-001"), {"confirm": "d-001"}).status_code == 302
    photo.refresh_from_db()
    assert photo.status == ItemStatus.DESTROYED and not object_path(photo.blob_id).exists()
    order = DestructionOrder.objects.get(case=t.case, number="D-001")
    certificate = lead.get(url("destruction_certificate", t, "D-001"))
    assert certificate.status_code == 200 and certificate["Content-Type"] == "application/pdf"
    assert certificate["X-Haetae-Document-SHA256"] == order.certificate_id
    assert url("destruction_certificate", t, "D-001") in lead.get(order_page).content.decode()


def test_the_wrong_person_is_refused_with_the_services_words_and_victim_support_sees_nothing() -> None:
    t = due_team()
    item(t, name="room-post.jpg")
    investigator = t.member(CaseMemberRole.INVESTIGATOR)
    support = t.member(CaseMemberRole.VICTIM_SUPPORT)
    lead = client_for(t.lead)
    assert lead.post(url("destruction_request", t), {"legal_basis": BASIS}).status_code == 302
    denied = client_for(support).get(url("destruction", t))
    assert denied.status_code == 403 and "room-post.jpg" not in denied.content.decode()
    assert client_for(support).get(url("destruction_order", t, "D-001")).status_code == 403
    refused = client_for(investigator).post(url("destruction_authorise", t, "D-001"))
    assert (
        refused.status_code == 403 and "only a supervisor authorises destruction" in refused.content.decode()
    )
    withdrawn = client_for(investigator).post(url("destruction_withdraw", t, "D-001"), {"reason": "no"})
    assert withdrawn.status_code == 403
    assert lead.post(url("destruction_withdraw", t, "D-001"), {"reason": "wrong list"}).status_code == 302
    assert DestructionOrder.objects.get(case=t.case, number="D-001").status == "refused"


def test_a_certificate_signing_failed_at_execution_is_signed_again_from_the_order_page(settings: Any) -> None:
    t = due_team()
    item(t, data=b"to be destroyed", name="room-post.jpg")
    boss, analyst, auditor = (
        unit_supervisor(t),
        t.member(CaseMemberRole.ANALYST),
        t.member(CaseMemberRole.AUDITOR),
    )
    lead = client_for(t.lead)
    assert lead.post(url("destruction_request", t), {"legal_basis": BASIS}).status_code == 302
    assert client_for(boss).post(url("destruction_authorise", t, "D-001"), {"note": ""}).status_code == 302
    assert client_for(analyst).post(url("destruction_witness", t, "D-001")).status_code == 302
    settings.HAETAE_ALLOW_DEVELOPMENT_SIGNER = False  # signing is misconfigured at execution
    failed = lead.post(url("destruction_execute", t, "D-001"), {"confirm": "D-001"})
    assert failed.status_code == 400
    order = DestructionOrder.objects.get(case=t.case, number="D-001")
    assert order.status == "executed" and order.certificate_id is None
    settings.HAETAE_ALLOW_DEVELOPMENT_SIGNER = True
    order_page = url("destruction_order", t, "D-001")
    reissue = url("destruction_reissue", t, "D-001")
    assert reissue in client_for(analyst).get(order_page).content.decode()
    assert reissue not in client_for(auditor).get(order_page).content.decode()
    assert client_for(auditor).post(reissue).status_code == 403
    assert client_for(analyst).post(reissue).status_code == 302
    order.refresh_from_db()
    assert order.certificate_id is not None
    seen_by_lead = lead.get(order_page).content.decode()
    assert reissue not in seen_by_lead and url("destruction_certificate", t, "D-001") in seen_by_lead
    # The certificate names each item's file: the auditor sees its hash, neither a link nor the PDF.
    seen_by_auditor = client_for(auditor).get(order_page).content.decode()
    assert order.certificate_id in seen_by_auditor
    assert url("destruction_certificate", t, "D-001") not in seen_by_auditor
    assert client_for(auditor).get(url("destruction_certificate", t, "D-001")).status_code == 403
    assert client_for(analyst).get(url("destruction_certificate", t, "D-001")).status_code == 200


def test_a_large_case_lists_no_checkboxes_and_takes_typed_numbers_and_ranges(monkeypatch: Any) -> None:
    from portal.views import destruction as pages

    monkeypatch.setattr(pages, "LISTED_ITEMS", 3)
    t = due_team()
    photos = [item(t, data=f"photo {n}".encode(), name=f"p{n}.jpg") for n in range(5)]
    lead = client_for(t.lead)
    listing = lead.get(url("destruction", t)).content.decode()
    assert 'name="items"' not in listing and "p0.jpg" not in listing  # five live items: more than three
    assert 'name="item_numbers"' in listing and "5" in listing
    first, second, _, _, fifth = (photo.pk for photo in photos)
    typed = f"{first}-{second}, {fifth}"
    made = lead.post(url("destruction_request", t), {"legal_basis": BASIS, "item_numbers": typed})
    assert made.status_code == 302, made.content.decode()
    order = DestructionOrder.objects.get(case=t.case, number="D-001")
    assert sorted(order.entries.values_list("item_id", flat=True)) == [first, second, fifth]
    # Below the limit the items are listed to tick again.
    monkeypatch.setattr(pages, "LISTED_ITEMS", 200)
    assert 'name="items"' in lead.get(url("destruction", t)).content.decode()


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("12; 14", "is not an item number or a range"),
        ("9-3", "runs backwards"),
        ("1-20000", "more than 10,000 items named"),
        ("٣", "is not an item number"),  # a digit, but not one an item number is written with
        ("99999", "items 99999 are not live items"),
        (
            "90001-90030",
            "items 90001, 90002, 90003, 90004, 90005, 90006, 90007, 90008, 90009, 90010, 90011, 90012, "
            "90013, 90014, 90015, 90016, 90017, 90018, 90019, 90020 and 10 more are not live",
        ),
    ],
)
def test_typed_numbers_that_are_not_items_are_refused_with_what_to_type(typed: str, words: str) -> None:
    t = due_team()
    item(t, data=b"kept", name="kept.jpg")
    refused = client_for(t.lead).post(
        url("destruction_request", t), {"legal_basis": BASIS, "item_numbers": typed, "reason": "kept text"}
    )
    assert refused.status_code == 400
    page = refused.content.decode()
    assert words in page and "kept text" in page and typed.split(";")[0] in page  # what was typed stays
    assert not DestructionOrder.objects.filter(case=t.case).exists()
