"""The destruction API: an order through its four steps over HTTP, the retention state, and each refusal
(wrong person at each step, legal hold, not due, double execution) with the command's words and no event."""

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from access.choices import CaseMemberRole, CaseStatus, GlobalRole
from access.models import Case, CaseMember
from access.services import unit_supervisor_add
from evidence.choices import CustodyAction, ItemStatus
from evidence.models import CustodyEvent
from evidence.vault import object_path
from exhibits.reports.pdfa import manifest_extract
from exhibits.reports.signing import pdf_signature_check, signer_load
from tests.factories import Team, custody_actions, item, new_user, team
from tests.factories import api_client as api

pytestmark = pytest.mark.django_db

BASIS = "형사소송법 제219조·제130조, 보존기간 경과"


def url(t: Team, tail: str = "") -> str:
    return f"/api/v1/cases/{t.case.number}/destruction-orders/{tail}"


def closed_long_ago(t: Team) -> None:
    Case.objects.filter(pk=t.case.pk).update(
        status=CaseStatus.CLOSED, closed_at=timezone.now() - timedelta(days=365 * 6)
    )


def unit_supervisor(t: Team) -> User:
    """The supervisor of the case's unit: on the team as ``supervisor`` through the unit (docs/access.md)."""
    boss = new_user()
    boss.groups.add(Group.objects.get(name=GlobalRole.SUPERVISOR))
    assert t.case.unit is not None
    unit_supervisor_add(unit=t.case.unit, user=boss, actor=new_user(is_superuser=True, is_staff=True))
    assert CaseMember.objects.get(case=t.case, user=boss).role == CaseMemberRole.SUPERVISOR
    return boss


def refused(response: Any, status: int, words: str) -> None:
    assert response.status_code == status, response.content
    assert words in response.json()["detail"], response.json()


def unit_team() -> Team:
    return team(unit="서울청 사이버수사대")


def test_an_order_through_its_four_steps_over_http(tmp_path: Path) -> None:
    t = unit_team()
    closed_long_ago(t)
    photo = item(t, data=b"to be destroyed", name="room-post.jpg")
    kept = item(t, data=b"stays", name="other.jpg")
    boss, witness = unit_supervisor(t), t.member(CaseMemberRole.ANALYST)
    lead = api(t.lead)
    retention = lead.get(f"/api/v1/cases/{t.case.number}/retention/")
    assert retention.status_code == 200 and retention.json()["due"] is True
    made = lead.post(url(t), {"legal_basis": BASIS, "items": [photo.pk]}, format="json")
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["number"], body["status"], body["requested_by"]) == ("D-001", "requested", t.lead.username)
    assert [(i["item"], i["sha256"]) for i in body["items"]] == [(photo.pk, photo.blob_id)]
    assert "room-post.jpg" not in made.content.decode()  # items by id and hashes, never by file name
    assert lead.get(f"/api/v1/cases/{t.case.number}/retention/").json()["orders_in_progress"] == ["D-001"]
    authorised = api(boss).post(url(t, "D-001/authorise/"), {"note": "checked"}, format="json")
    assert authorised.status_code == 200 and authorised.json()["authorised_by"] == boss.username
    witnessed = api(witness).post(url(t, "D-001/witness/"))
    assert witnessed.status_code == 200 and witnessed.json()["status"] == "witnessed"
    executed = lead.post(url(t, "D-001/execute/"))
    assert executed.status_code == 200, executed.content
    done = executed.json()
    assert done["status"] == "executed" and done["items"][0]["outcome"] == "erased"
    assert not object_path(photo.blob_id).exists() and object_path(kept.blob_id).exists()
    photo.refresh_from_db()
    assert photo.status == ItemStatus.DESTROYED
    certificate = api(witness).get(done["certificate_url"])
    assert certificate.status_code == 200 and certificate["Content-Type"] == "application/pdf"
    assert certificate["X-Haetae-Document-SHA256"] == done["certificate_sha256"]
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(certificate.getvalue())
    assert pdf_signature_check(pdf, trust_roots=list(signer_load().trust_roots)).ok
    assert json.loads(manifest_extract(pdf))["items"][0]["sha256"] == done["items"][0]["sha256"]
    listed = lead.get(url(t))
    assert listed.status_code == 200
    rows = listed.json()["results"] if isinstance(listed.json(), dict) else listed.json()
    assert [row["number"] for row in rows] == ["D-001"]
    steps = custody_actions(case=t.case)
    for step in ("destruction_ordered", "destruction_authorised", "destruction_witnessed", "destroyed"):
        assert step in steps


def test_each_step_refuses_the_wrong_person_and_writes_nothing() -> None:
    t = unit_team()
    closed_long_ago(t)
    photo = item(t)
    boss = unit_supervisor(t)
    investigator, auditor = t.member(CaseMemberRole.INVESTIGATOR), t.member(CaseMemberRole.AUDITOR)
    support, prosecutor = t.member(CaseMemberRole.VICTIM_SUPPORT), t.member(CaseMemberRole.PROSECUTOR)
    refused(
        api(investigator).post(url(t), {"legal_basis": BASIS}, format="json"),
        403,
        "only members with the role lead may request a destruction order",
    )
    for reader in (support, prosecutor):
        refused(api(reader).get(url(t)), 403, "may see destruction orders")
    outsider = api(team().lead).get(url(t))
    assert outsider.status_code == 404
    lead = api(t.lead)
    assert lead.post(url(t), {"legal_basis": BASIS, "items": [photo.pk]}, format="json").status_code == 201
    before = CustodyEvent.objects.count()
    # Authorise: a supervisor, never the requester.
    refused(
        api(investigator).post(url(t, "D-001/authorise/")), 403, "only a supervisor authorises destruction"
    )
    t.lead.groups.add(*boss.groups.all())
    refused(lead.post(url(t, "D-001/authorise/")), 403, "a different person must authorise it")
    refused(api(support).post(url(t, "D-001/authorise/")), 403, "see destruction orders")
    # Witness, execute, before their turn.
    refused(api(auditor).post(url(t, "D-001/witness/")), 400, "you can witness it only when it is authorised")
    refused(lead.post(url(t, "D-001/execute/")), 400, "only when it is witnessed")
    # Refuse and withdraw: a supervisor or the requester; withdrawing is the requester's alone.
    refused(
        api(investigator).post(url(t, "D-001/refuse/"), {"reason": "no"}, format="json"),
        403,
        "only the requester or a supervisor on the team may withdraw or refuse an order",
    )
    refused(
        api(boss).post(url(t, "D-001/withdraw/"), {"reason": "no"}, format="json"),
        403,
        "only the requester of destruction order D-001 (a case lead) withdraws it",
    )
    missing_reason = lead.post(url(t, "D-001/withdraw/"), {"reason": ""}, format="json")
    assert missing_reason.status_code == 400
    assert CustodyEvent.objects.count() == before, "a refused step wrote a custody event"
    assert api(boss).post(url(t, "D-001/authorise/")).status_code == 200
    # Witness: neither the requester nor the authoriser.
    refused(lead.post(url(t, "D-001/witness/")), 403, "the witness must be a third person")
    refused(api(boss).post(url(t, "D-001/witness/")), 403, "the witness must be a third person")
    refused(api(prosecutor).post(url(t, "D-001/witness/")), 403, "see destruction orders")
    assert api(auditor).post(url(t, "D-001/witness/")).status_code == 200
    # Execute: the requester only.
    other_lead = t.member(CaseMemberRole.LEAD)
    refused(api(other_lead).post(url(t, "D-001/execute/")), 403, "is carried out by its requester")
    refused(api(investigator).post(url(t, "D-001/execute/")), 403, "you may not carry out a destruction")
    refused(lead.get(url(t, "D-001/certificate/")), 400, "has no certificate yet")
    assert object_path(photo.blob_id).exists()


def test_a_legal_hold_refuses_every_step_and_nothing_is_destroyed_twice() -> None:
    t = unit_team()
    closed_long_ago(t)
    photo = item(t)
    boss, witness = unit_supervisor(t), t.member(CaseMemberRole.INVESTIGATOR)
    lead = api(t.lead)
    Case.objects.filter(pk=t.case.pk).update(legal_hold=True, legal_hold_reason="appeal pending")
    refused(lead.post(url(t), {"legal_basis": BASIS}, format="json"), 400, "is under a legal hold")
    state = lead.get(f"/api/v1/cases/{t.case.number}/retention/").json()
    assert state["legal_hold"] is True and state["due"] is False and "legal hold" in state["explanation"]
    Case.objects.filter(pk=t.case.pk).update(legal_hold=False)
    assert lead.post(url(t), {"legal_basis": BASIS}, format="json").status_code == 201
    Case.objects.filter(pk=t.case.pk).update(legal_hold=True)
    refused(api(boss).post(url(t, "D-001/authorise/")), 400, "cannot authorise a destruction")
    Case.objects.filter(pk=t.case.pk).update(legal_hold=False)
    assert api(boss).post(url(t, "D-001/authorise/")).status_code == 200
    Case.objects.filter(pk=t.case.pk).update(legal_hold=True)
    refused(api(witness).post(url(t, "D-001/witness/")), 400, "cannot witness a destruction")
    Case.objects.filter(pk=t.case.pk).update(legal_hold=False)
    assert api(witness).post(url(t, "D-001/witness/")).status_code == 200
    Case.objects.filter(pk=t.case.pk).update(legal_hold=True)
    refused(lead.post(url(t, "D-001/execute/")), 400, "cannot carry out a destruction")
    assert object_path(photo.blob_id).exists()
    Case.objects.filter(pk=t.case.pk).update(legal_hold=False)
    assert lead.post(url(t, "D-001/execute/")).status_code == 200
    destroyed = CustodyEvent.objects.filter(item=photo, action=CustodyAction.DESTROYED).count()
    refused(lead.post(url(t, "D-001/execute/")), 400, "nothing is destroyed twice")
    refused(lead.post(url(t, "D-001/refuse/"), {"reason": "late"}, format="json"), 400, "already executed")
    assert CustodyEvent.objects.filter(item=photo, action=CustodyAction.DESTROYED).count() == destroyed


def test_an_open_case_needs_a_court_order_and_a_withdrawn_order_frees_its_items() -> None:
    t = unit_team()
    photo = item(t)
    lead = api(t.lead)
    refused(lead.post(url(t), {"legal_basis": BASIS}, format="json"), 400, "it is not due for destruction")
    made = lead.post(
        url(t),
        {"legal_basis": BASIS, "items": [photo.pk], "court_order": "서울중앙지법 2025고단123"},
        format="json",
    )
    assert made.status_code == 201
    ordered = CustodyEvent.objects.get(item=photo, action=CustodyAction.DESTRUCTION_ORDERED)
    assert ordered.details["court_order"] == "서울중앙지법 2025고단123"
    refused(
        lead.post(url(t), {"legal_basis": BASIS, "court_order": "x"}, format="json"),
        400,
        "is already in destruction order D-001",
    )
    withdrawn = lead.post(url(t, "D-001/withdraw/"), {"reason": "wrong list"}, format="json")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "refused"
    event = CustodyEvent.objects.filter(case=t.case, action=CustodyAction.DESTRUCTION_REFUSED).get()
    assert event.details["step"] == "withdrawn"
    again = lead.post(url(t), {"legal_basis": BASIS, "court_order": "x"}, format="json")
    assert again.status_code == 201 and again.json()["number"] == "D-002"
    assert lead.get(url(t, "D-009/")).status_code == 404


def test_a_certificate_signing_failed_at_execution_is_signed_again_and_never_reaches_the_auditor(
    settings: Any,
) -> None:
    t = unit_team()
    closed_long_ago(t)
    photo = item(t, data=b"to be destroyed", name="victim-name.jpg")
    other = item(t, data=b"later", name="other.jpg")
    boss, analyst, auditor = (
        unit_supervisor(t),
        t.member(CaseMemberRole.ANALYST),
        t.member(CaseMemberRole.AUDITOR),
    )
    lead = api(t.lead)
    assert lead.post(url(t), {"legal_basis": BASIS, "items": [photo.pk]}, format="json").status_code == 201
    assert api(boss).post(url(t, "D-001/authorise/"), {}, format="json").status_code == 200
    assert api(analyst).post(url(t, "D-001/witness/")).status_code == 200
    settings.HAETAE_ALLOW_DEVELOPMENT_SIGNER = False  # signing is misconfigured at execution
    failed = lead.post(url(t, "D-001/execute/"))
    assert failed.status_code == 400, failed.content
    order = lead.get(url(t, "D-001/")).json()
    assert order["status"] == "executed" and order["certificate_sha256"] is None  # the destruction stands
    refused(lead.get(url(t, "D-001/certificate/")), 400, "no certificate yet")
    settings.HAETAE_ALLOW_DEVELOPMENT_SIGNER = True
    # The auditor reads the order's ids, hashes and steps, but neither downloads nor signs its certificate.
    seen = api(auditor).get(url(t, "D-001/"))
    assert seen.status_code == 200 and seen.json()["items"][0]["sha256"] == photo.blob_id
    refused(api(auditor).post(url(t, "D-001/certificate/reissue/")), 403, "auditor")
    certified = CustodyEvent.objects.filter(
        case=t.case, action=CustodyAction.DESTROYED, details__step="certified"
    )
    assert not certified.exists()
    reissued = lead.post(url(t, "D-001/certificate/reissue/"))
    assert reissued.status_code == 200, reissued.content
    sha256 = reissued.json()["certificate_sha256"]
    assert sha256 and list(certified.values_list("details__certificate_sha256", flat=True)) == [sha256]
    refused(api(auditor).get(url(t, "D-001/certificate/")), 403, "auditor")
    downloaded = api(analyst).get(url(t, "D-001/certificate/"))
    assert downloaded.status_code == 200 and downloaded["X-Haetae-Document-SHA256"] == sha256
    # An order not carried out has no certificate to sign again.
    assert lead.post(url(t), {"legal_basis": BASIS, "items": [other.pk]}, format="json").status_code == 201
    refused(lead.post(url(t, "D-002/certificate/reissue/")), 400, "has not been executed")
    assert certified.count() == 1
