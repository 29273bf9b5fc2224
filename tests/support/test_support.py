"""support.services: support files, consents, sealed notes, takedown steps, the overdue rule, hash export."""

import csv
import hashlib
import io
import json
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from access.policy import Action
from access.selectors import case_get_for
from detection.models import Annotation
from evidence.choices import CustodyAction
from evidence.models import CustodyEvent, EvidenceItem
from haetae.errors import AccessDenied, HaetaeError, IntegrityFailure, NotFound, RejectedInput
from haetae.settings import _takedown_overdue_days
from parties.choices import LinkConfidence, PersonKind
from support import renderers as support_renderers
from support import selectors as support_selectors
from support import services as support
from support.choices import (
    ConsentGivenBy,
    ConsentKind,
    SupportStatus,
    TakedownAddressee,
    TakedownPlatform,
    TakedownStatus,
)
from support.models import SupportConsent, SupportFile, SupportNote, TakedownReappearance, TakedownRequest
from tests.factories import (
    CaseFactory,
    UserFactory,
    frame_pdq_annotate,
    full_team,
    link,
    pdq_annotate,
    person,
    photo_item,
    stored_item,
)

pytestmark = pytest.mark.django_db


def support_events(case, action=CustodyAction.SUPPORT_CHANGED):
    return list(CustodyEvent.objects.filter(case=case, action=action).order_by("seq"))


def draft(t, sfile, **kwargs):
    fields = {
        "addressee": TakedownAddressee.PLATFORM,
        "platform": TakedownPlatform.TELEGRAM,
        "target_url": "https://t.me/somechannel/123",
    }
    fields.update(kwargs)
    return support.takedown_create(case=t.case, support_file=sfile, actor=t.support, **fields)


# --- access --------------------------------------------------------------------------------------------


def test_support_case_get_lets_support_and_lead_read_and_refuses_the_other_roles(t):
    for user in (t.support, t.lead):
        case = support_selectors.support_case_get(user=user, number=t.case.number, action=Action.SUPPORT_READ)
        assert case.pk == t.case.pk
    for user in (t.investigator, t.analyst, t.prosecutor, t.auditor):
        with pytest.raises(AccessDenied, match="victim_support"):
            support_selectors.support_case_get(user=user, number=t.case.number, action=Action.SUPPORT_READ)
    with pytest.raises(NotFound):
        support_selectors.support_case_get(
            user=UserFactory(), number=t.case.number, action=Action.SUPPORT_READ
        )


def test_only_support_workers_write(t):
    with pytest.raises(AccessDenied, match=r"your role on case .* is lead"):
        support_selectors.support_case_get(user=t.lead, number=t.case.number, action=Action.SUPPORT_WRITE)


# --- support files -------------------------------------------------------------------------------------


def test_opening_a_support_file_is_a_case_level_custody_event(t, victim):
    sfile = support.support_file_open(case=t.case, person=victim, actor=t.support, assigned_worker=t.support2)

    assert sfile.status == SupportStatus.INTAKE
    assert sfile.assigned_worker == t.support2
    (event,) = support_events(t.case)
    assert event.item_id is None
    assert event.actor == t.support
    assert event.actor_role == "victim_support"
    assert event.details == {
        "support_file": sfile.pk,
        "person": "V-1",
        "change": "opened",
        "status": "intake",
        "assigned_worker": t.support2.username,
    }


def test_a_support_file_is_only_for_a_victim_of_the_case_and_only_one(t, victim):
    suspect = person(t.case, pseudonym="S-1", kind=PersonKind.SUSPECT)
    with pytest.raises(RejectedInput, match="not a victim") as refused:
        support.support_file_open(case=t.case, person=suspect, actor=t.support)
    assert "person" in refused.value.details

    other_victim = person(CaseFactory(), pseudonym="V-1")
    with pytest.raises(RejectedInput, match="not a person of case"):
        support.support_file_open(case=t.case, person=other_victim, actor=t.support)

    support.support_file_open(case=t.case, person=victim, actor=t.support)
    with pytest.raises(RejectedInput, match="already has a support file"):
        support.support_file_open(case=t.case, person=victim, actor=t.support)
    assert SupportFile.objects.count() == 1
    assert len(support_events(t.case)) == 1


def test_the_assigned_worker_must_be_a_support_member_of_the_case(t, victim):
    for not_support in (t.lead, t.investigator, UserFactory()):
        with pytest.raises(RejectedInput, match="not a victim_support member") as refused:
            support.support_file_open(
                case=t.case, person=victim, actor=t.support, assigned_worker=not_support
            )
        assert "assigned_worker" in refused.value.details
    assert not SupportFile.objects.exists()
    assert not support_events(t.case)


def test_nothing_is_written_when_the_custody_append_fails(t, victim):
    with (
        mock.patch("support.services.custody_append_many", side_effect=RuntimeError("ledger down")),
        pytest.raises(RuntimeError),
    ):
        support.support_file_open(case=t.case, person=victim, actor=t.support)
    assert not SupportFile.objects.exists()


def test_status_moves_along_allowed_paths_each_logged(t, sfile):
    support.support_file_set_status(support_file=sfile, status=SupportStatus.ACTIVE, actor=t.support)
    support.support_file_set_status(support_file=sfile, status=SupportStatus.MONITORING, actor=t.support2)
    support.support_file_set_status(
        support_file=sfile, status=SupportStatus.CLOSED, actor=t.support, reason="done"
    )
    reopened = support.support_file_set_status(
        support_file=sfile, status=SupportStatus.ACTIVE, actor=t.support, reason="victim asked again"
    )
    assert reopened.status == SupportStatus.ACTIVE
    assert reopened.status_changed_by == t.support
    moves = [
        (e.details["from"], e.details["to"])
        for e in support_events(t.case)
        if e.details["change"] == "status"
    ]
    assert moves == [
        ("intake", "active"),
        ("active", "monitoring"),
        ("monitoring", "closed"),
        ("closed", "active"),
    ]


def test_a_status_move_outside_the_paths_is_refused_and_nothing_changes(t, sfile):
    with pytest.raises(RejectedInput, match="intake cannot become monitoring") as refused:
        support.support_file_set_status(support_file=sfile, status=SupportStatus.MONITORING, actor=t.support)
    assert refused.value.details["status"]
    support.support_file_set_status(support_file=sfile, status=SupportStatus.CLOSED, actor=t.support)
    with pytest.raises(RejectedInput, match="needs a reason"):
        support.support_file_set_status(support_file=sfile, status=SupportStatus.ACTIVE, actor=t.support)
    sfile.refresh_from_db()
    assert sfile.status == SupportStatus.CLOSED
    assert len(support_events(t.case)) == 2  # opened, closed


def test_a_file_is_not_closed_while_a_takedown_awaits_an_answer(t, sfile):
    support.support_file_set_status(support_file=sfile, status=SupportStatus.ACTIVE, actor=t.support)
    request = draft(t, sfile)
    draft(t, sfile)  # a draft does not hold the file open
    support.takedown_send(takedown=request, actor=t.support)
    with pytest.raises(RejectedInput, match=f"takedown requests {request.pk} still await an answer"):
        support.support_file_set_status(support_file=sfile, status=SupportStatus.CLOSED, actor=t.support)
    support.takedown_refuse(takedown=request, actor=t.support, reason="not against our terms")
    closed = support.support_file_set_status(support_file=sfile, status=SupportStatus.CLOSED, actor=t.support)
    assert closed.status == SupportStatus.CLOSED


def test_assigning_and_unassigning_a_worker(t, sfile):
    support.support_file_assign(support_file=sfile, worker=t.support2, actor=t.support)
    support.support_file_assign(support_file=sfile, worker=None, actor=t.support)
    sfile.refresh_from_db()
    assert sfile.assigned_worker is None
    changes = [e.details for e in support_events(t.case) if e.details["change"] == "assigned_worker"]
    assert [(c["from"], c["to"]) for c in changes] == [
        (t.support.username, t.support2.username),
        (t.support2.username, ""),
    ]
    with pytest.raises(RejectedInput, match="not a victim_support member"):
        support.support_file_assign(support_file=sfile, worker=t.prosecutor, actor=t.support)


# --- consents --------------------------------------------------------------------------------------------


def test_consents_are_given_and_withdrawn_with_who_and_when(t, sfile):
    given_at = timezone.now() - timedelta(days=2)
    consent = support.consent_give(
        support_file=sfile,
        kind=ConsentKind.SHARE_HASHES,
        given_by=ConsentGivenBy.GUARDIAN,
        given_at=given_at,
        how="signed form",
        actor=t.support,
    )
    assert consent.in_force
    assert consent.given_at == given_at
    assert consent.given_recorded_by == t.support
    assert support_selectors.consent_in_force(support_file=sfile, kind=ConsentKind.SHARE_HASHES) == consent

    withdrawn = support.consent_withdraw(consent=consent, actor=t.support2, how="phone call")
    assert not withdrawn.in_force
    assert withdrawn.withdrawn_recorded_by == t.support2
    assert support_selectors.consent_in_force(support_file=sfile, kind=ConsentKind.SHARE_HASHES) is None

    again = support.consent_give(
        support_file=sfile, kind=ConsentKind.SHARE_HASHES, given_by=ConsentGivenBy.VICTIM, actor=t.support
    )
    assert support_selectors.consent_in_force(support_file=sfile, kind=ConsentKind.SHARE_HASHES) == again
    assert SupportConsent.objects.filter(support_file=sfile).count() == 2  # history kept
    changes = [e.details["change"] for e in support_events(t.case)]
    assert changes == ["opened", "consent_given", "consent_withdrawn", "consent_given"]


def test_consent_failures_leave_nothing_behind(t, sfile):
    support.consent_give(support_file=sfile, kind=ConsentKind.CONTACT, given_by="victim", actor=t.support)
    with pytest.raises(RejectedInput, match="already in force"):
        support.consent_give(support_file=sfile, kind=ConsentKind.CONTACT, given_by="victim", actor=t.support)
    with pytest.raises(RejectedInput, match="in the future"):
        support.consent_give(
            support_file=sfile,
            kind=ConsentKind.SHARE_HASHES,
            given_by="victim",
            given_at=timezone.now() + timedelta(days=1),
            actor=t.support,
        )
    assert SupportConsent.objects.count() == 1
    assert len(support_events(t.case)) == 2


def test_a_consent_is_withdrawn_once_and_not_before_it_was_given(t, sfile):
    consent = support.consent_give(
        support_file=sfile, kind=ConsentKind.CONTACT, given_by="victim", actor=t.support
    )
    with pytest.raises(RejectedInput, match="before the consent was given"):
        support.consent_withdraw(
            consent=consent, actor=t.support, withdrawn_at=consent.given_at - timedelta(hours=1)
        )
    support.consent_withdraw(consent=consent, actor=t.support)
    with pytest.raises(RejectedInput, match="already withdrawn"):
        support.consent_withdraw(consent=consent, actor=t.support)


# --- restricted notes ------------------------------------------------------------------------------------


def _case_as(user, case):
    return case_get_for(user=user, number=case.number)


def test_notes_are_sealed_at_rest_and_open_for_support_workers(t, sfile):
    secret = "피해자 연락처는 어머니 휴대폰으로만 — contact only through her mother"
    view = support.note_add(
        case=_case_as(t.support, t.case), support_file=sfile, text=secret, actor=t.support
    )
    note = SupportNote.objects.get(pk=view.note.pk)
    assert secret.encode() not in bytes(note.sealed)
    with connection.cursor() as cursor:
        cursor.execute("SELECT sealed FROM support_supportnote")
        (raw,) = cursor.fetchone()
    assert secret.encode() not in bytes(raw)
    assert "피해자".encode() not in bytes(raw)

    notes = support.note_list(case=_case_as(t.support2, t.case), support_file=sfile)
    assert [n.text for n in notes] == [secret]
    (event,) = [e for e in support_events(t.case) if e.details["change"] == "note_added"]
    assert event.details == {
        "support_file": sfile.pk,
        "person": "V-1",
        "change": "note_added",
        "note": note.pk,
    }
    assert "contact" not in json.dumps(event.details)


def test_the_lead_may_neither_read_nor_write_notes(t, sfile):
    support.note_add(case=_case_as(t.support, t.case), support_file=sfile, text="restricted", actor=t.support)
    lead_case = _case_as(t.lead, t.case)
    with pytest.raises(AccessDenied, match="restricted support notes"):
        support.note_list(case=lead_case, support_file=sfile)
    with pytest.raises(AccessDenied):
        support.note_add(case=lead_case, support_file=sfile, text="x", actor=t.lead)
    assert SupportNote.objects.count() == 1


def test_a_note_moved_to_another_file_or_altered_fails_its_check(t, sfile):
    other = support.support_file_open(case=t.case, person=person(t.case, pseudonym="V-2"), actor=t.support)
    case = _case_as(t.support, t.case)
    view = support.note_add(case=case, support_file=sfile, text="only for V-1", actor=t.support)
    # Direct writes simulate tampering at rest (the services never move or edit notes).
    SupportNote.objects.filter(pk=view.note.pk).update(support_file=other)
    with pytest.raises(IntegrityFailure, match="authentication tag"):
        support.note_list(case=case, support_file=other)
    SupportNote.objects.filter(pk=view.note.pk).update(support_file=sfile)
    assert support.note_list(case=case, support_file=sfile)[0].text == "only for V-1"
    sealed = bytearray(bytes(SupportNote.objects.get(pk=view.note.pk).sealed))
    sealed[-1] ^= 1
    SupportNote.objects.filter(pk=view.note.pk).update(sealed=bytes(sealed))
    with pytest.raises(IntegrityFailure):
        support.note_list(case=case, support_file=sfile)


def test_a_note_sealed_under_another_master_key_says_which_key(t, sfile):
    case = _case_as(t.support, t.case)
    view = support.note_add(case=case, support_file=sfile, text="x", actor=t.support)
    SupportNote.objects.filter(pk=view.note.pk).update(key_id="0123456789abcdef")
    with pytest.raises(HaetaeError, match="HAETAE_MASTER_KEY_FILE"):
        support.note_list(case=case, support_file=sfile)


def test_a_blank_note_is_refused(t, sfile):
    with pytest.raises(RejectedInput, match="needs some text"):
        support.note_add(case=_case_as(t.support, t.case), support_file=sfile, text="  ", actor=t.support)


# --- takedown requests -----------------------------------------------------------------------------------


def test_a_takedown_walks_draft_sent_acknowledged_removed_with_who_and_when(t, sfile):
    item = photo_item(t.case, t.investigator)
    request = draft(t, sfile, item_ids=[item.pk], channel_reference="t.me/somechannel")
    assert request.status == TakedownStatus.DRAFT
    assert list(request.items.all()) == [item]

    sent_at = timezone.now() - timedelta(hours=5)
    support.takedown_send(takedown=request, actor=t.support, sent_at=sent_at, reference_number="OUR-1")
    support.takedown_acknowledge(takedown=request, actor=t.support2, reference_number="TG-99")
    removed = support.takedown_mark_removed(takedown=request, actor=t.support)

    assert removed.status == TakedownStatus.REMOVED
    assert removed.sent_at == sent_at and removed.sent_by == t.support
    assert removed.acknowledged_by == t.support2
    assert removed.removed_recorded_by == t.support and removed.removed_at is not None
    assert removed.reference_number == "TG-99"
    events = support_events(t.case, CustodyAction.TAKEDOWN_CHANGED)
    assert [e.details["change"] for e in events] == ["drafted", "sent", "acknowledged", "removed"]
    assert all(e.item_id is None for e in events)
    assert events[0].details["items"] == [{"id": item.pk, "sha256": item.blob_id}]
    assert events[2].details["reference_number"] == {"from": "OUR-1", "to": "TG-99"}


def test_steps_out_of_order_are_refused(t, sfile):
    request = draft(t, sfile)
    with pytest.raises(RejectedInput, match="can be acknowledged only when it is sent"):
        support.takedown_acknowledge(takedown=request, actor=t.support)
    with pytest.raises(RejectedInput, match="marked removed"):
        support.takedown_mark_removed(takedown=request, actor=t.support)
    sent = support.takedown_send(takedown=request, actor=t.support)
    assert sent.sent_at is not None
    with pytest.raises(RejectedInput, match="can be sent only when it is draft"):
        support.takedown_send(takedown=request, actor=t.support)
    with pytest.raises(RejectedInput, match="before it was sent"):
        support.takedown_acknowledge(
            takedown=request, actor=t.support, acknowledged_at=sent.sent_at - timedelta(days=1)
        )
    with pytest.raises(RejectedInput, match="reason the addressee gave"):
        support.takedown_refuse(takedown=request, actor=t.support, reason=" ")
    support.takedown_refuse(takedown=request, actor=t.support, reason="no violation found")
    with pytest.raises(RejectedInput, match="recorded as reappeared"):
        support.takedown_record_reappearance(
            case=t.case, takedown=request, actor=t.support, url="https://t.me/other/1"
        )
    request.refresh_from_db()
    assert request.status == TakedownStatus.REFUSED
    assert request.refusal_reason == "no violation found"
    changes = [e.details["change"] for e in support_events(t.case, CustodyAction.TAKEDOWN_CHANGED)]
    assert changes == ["drafted", "sent", "refused"]


def test_a_takedown_references_only_stored_items_of_its_own_case(t, sfile):
    foreign = stored_item(case=CaseFactory(), data=b"another case", actor=t.lead)
    with pytest.raises(RejectedInput, match=f"items {foreign.pk} are not stored items") as refused:
        draft(t, sfile, item_ids=[foreign.pk])
    assert "items" in refused.value.details
    assert not TakedownRequest.objects.exists()
    assert not support_events(t.case, CustodyAction.TAKEDOWN_CHANGED)


def test_only_a_draft_is_edited(t, sfile):
    item = photo_item(t.case, t.investigator)
    request = draft(t, sfile)
    support.takedown_update_draft(
        case=t.case,
        takedown=request,
        actor=t.support,
        changes={
            "addressee": TakedownAddressee.KCSC,
            "items": [item.pk],
            "description": "pinned post, V-1's face",
        },
    )
    request.refresh_from_db()
    assert request.addressee == TakedownAddressee.KCSC
    assert list(request.items.all()) == [item]
    (edit,) = [
        e
        for e in support_events(t.case, CustodyAction.TAKEDOWN_CHANGED)
        if e.details["change"] == "draft_edited"
    ]
    assert edit.details["changes"]["addressee"] == {"from": "platform", "to": "kcsc"}
    assert (
        edit.details["changes"]["description"]["to_sha256"]
        == hashlib.sha256(b"pinned post, V-1's face").hexdigest()
    )
    assert "pinned post" not in json.dumps(edit.details)  # free text stays out of the append-only ledger

    support.takedown_send(takedown=request, actor=t.support)
    with pytest.raises(RejectedInput, match="only drafts can be edited"):
        support.takedown_update_draft(
            case=t.case, takedown=request, actor=t.support, changes={"description": "x"}
        )


def _removed(t, sfile, **kwargs):
    request = draft(t, sfile, **kwargs)
    support.takedown_send(takedown=request, actor=t.support, sent_at=timezone.now() - timedelta(days=2))
    return support.takedown_mark_removed(
        takedown=request, actor=t.support, removed_at=timezone.now() - timedelta(days=1)
    )


def test_a_reappearance_reopens_monitoring_on_a_closed_file_and_can_draft_a_follow_up(t, sfile):
    item = photo_item(t.case, t.investigator)
    request = _removed(t, sfile, item_ids=[item.pk])
    support.support_file_set_status(support_file=sfile, status=SupportStatus.CLOSED, actor=t.support)

    result = support.takedown_record_reappearance(
        case=t.case,
        takedown=request,
        actor=t.support2,
        url="https://t.me/mirrorchannel/7",
        note="re-uploaded in a mirror channel",
        draft_follow_up=True,
    )

    assert result.support_file_reopened
    sfile.refresh_from_db()
    assert sfile.status == SupportStatus.MONITORING
    follow_up = result.follow_up
    assert follow_up is not None and follow_up.status == TakedownStatus.DRAFT
    assert follow_up.target_url == "https://t.me/mirrorchannel/7"
    assert follow_up.follows_up == result.reappearance
    assert list(follow_up.items.all()) == [item]
    request.refresh_from_db()
    assert request.status == TakedownStatus.REMOVED  # the removal stays recorded; the reappearance is added
    assert TakedownReappearance.objects.get().recorded_by == t.support2
    status_event = [e for e in support_events(t.case) if e.details["change"] == "status"][-1]
    assert (status_event.details["from"], status_event.details["to"]) == ("closed", "monitoring")


def test_a_reappearance_on_an_open_file_leaves_its_status(t, sfile):
    request = _removed(t, sfile)
    support.support_file_set_status(support_file=sfile, status=SupportStatus.ACTIVE, actor=t.support)
    result = support.takedown_record_reappearance(
        case=t.case, takedown=request, actor=t.support, url="https://x.com/a/1"
    )
    assert not result.support_file_reopened and result.follow_up is None
    sfile.refresh_from_db()
    assert sfile.status == SupportStatus.ACTIVE


def test_a_reappearance_before_the_removal_is_refused(t, sfile):
    request = _removed(t, sfile)
    with pytest.raises(RejectedInput, match="before it was removed"):
        support.takedown_record_reappearance(
            case=t.case,
            takedown=request,
            actor=t.support,
            url="https://x.com/a/1",
            seen_at=request.removed_at - timedelta(hours=1),
        )
    assert not TakedownReappearance.objects.exists()


# --- overdue ---------------------------------------------------------------------------------------------


def test_overdue_days_come_from_the_setting_per_addressee(settings):
    settings.HAETAE_TAKEDOWN_OVERDUE_DAYS = {"default": 3, "kcsc": 7}
    assert support_selectors.takedown_overdue_days() == {"platform": 3, "kcsc": 7, "support_center": 3}
    settings.HAETAE_TAKEDOWN_OVERDUE_DAYS = {"default": 3, "kcc": 7}
    with pytest.raises(HaetaeError, match="unknown addressees kcc"):
        support_selectors.takedown_overdue_days()


def test_the_environment_variable_parser():
    assert _takedown_overdue_days("3") == {"default": 3}
    assert _takedown_overdue_days("5, kcsc=10,platform=2") == {"default": 5, "kcsc": 10, "platform": 2}
    for bad in ("three", "kcsc=0", "kcsc=", "-1"):
        with pytest.raises(ValueError, match="HAETAE_TAKEDOWN_OVERDUE_DAYS"):
            _takedown_overdue_days(bad)


def test_overdue_lists_unanswered_and_unresolved_requests_past_their_addressees_limit(t, sfile, settings):
    settings.HAETAE_TAKEDOWN_OVERDUE_DAYS = {"default": 3, "kcsc": 7}
    now = timezone.now()

    def sent(addressee, days_ago, *, acknowledged_days_ago=None, removed=False):
        request = draft(t, sfile, addressee=addressee)
        support.takedown_send(takedown=request, actor=t.support, sent_at=now - timedelta(days=days_ago))
        if acknowledged_days_ago is not None:
            support.takedown_acknowledge(
                takedown=request, actor=t.support, acknowledged_at=now - timedelta(days=acknowledged_days_ago)
            )
        if removed:
            support.takedown_mark_removed(takedown=request, actor=t.support)
        return request

    platform_late = sent(TakedownAddressee.PLATFORM, 4)
    sent(TakedownAddressee.PLATFORM, 2)  # within 3 days
    sent(TakedownAddressee.KCSC, 5)  # within KCSC's 7 days
    kcsc_late = sent(TakedownAddressee.KCSC, 8)
    acknowledged_late = sent(TakedownAddressee.SUPPORT_CENTER, 10, acknowledged_days_ago=4)
    sent(TakedownAddressee.SUPPORT_CENTER, 10, acknowledged_days_ago=1)  # acknowledged recently
    sent(TakedownAddressee.PLATFORM, 20, removed=True)  # resolved
    draft(t, sfile)  # never sent

    overdue = list(support_selectors.takedown_overdue(case=t.case, now=now))
    assert [r.pk for r in overdue] == [acknowledged_late.pk, kcsc_late.pk, platform_late.pk]
    assert all(support_selectors.takedown_is_overdue(r, now=now) for r in overdue)
    assert not support_selectors.takedown_is_overdue(
        sfile.takedowns.filter(status=TakedownStatus.DRAFT).first(), now=now
    )
    # Another case's overdue request never shows here.
    other = full_team()
    other_file = support.support_file_open(
        case=other.case, person=person(other.case, pseudonym="V-1"), actor=other.support
    )
    late = support.takedown_create(
        case=other.case,
        support_file=other_file,
        actor=other.support,
        addressee=TakedownAddressee.PLATFORM,
        platform=TakedownPlatform.X,
        target_url="https://x.com/y/1",
    )
    support.takedown_send(takedown=late, actor=other.support, sent_at=now - timedelta(days=30))
    assert late.pk not in {r.pk for r in support_selectors.takedown_overdue(case=t.case, now=now)}


# --- hash export -----------------------------------------------------------------------------------------


@pytest.fixture
def depicted(t, victim):
    """Two photos confirmed as depicting V-1 (one with PDQ), one suspected, one withdrawn, one of V-2."""
    astronaut = photo_item(t.case, t.investigator, which="astronaut")
    coffee = photo_item(t.case, t.investigator, which="coffee")
    suspected = photo_item(t.case, t.investigator, which="camera")
    withdrawn = photo_item(t.case, t.investigator, which="chelsea")
    copy = stored_item(
        case=t.case, data=b"x", actor=t.investigator, name="dup.bin", mime="application/octet-stream"
    )
    link(astronaut, victim, actor=t.investigator)
    link(coffee, victim, actor=t.investigator)
    link(suspected, victim, confidence=LinkConfidence.SUSPECTED, actor=t.investigator)
    gone = link(withdrawn, victim, actor=t.investigator)
    gone.withdrawn_at = timezone.now()
    gone.save()
    link(copy, person(t.case, pseudonym="V-2"), actor=t.investigator)
    pdq = pdq_annotate(astronaut)
    return {
        "astronaut": astronaut,
        "coffee": coffee,
        "suspected": suspected,
        "withdrawn": withdrawn,
        "pdq": pdq,
    }


def _consent(t, sfile):
    return support.consent_give(
        support_file=sfile, kind=ConsentKind.SHARE_HASHES, given_by="victim", actor=t.support
    )


def test_hash_export_needs_the_share_hashes_consent(t, sfile, depicted):
    support.consent_give(support_file=sfile, kind=ConsentKind.CONTACT, given_by="victim", actor=t.support)
    with pytest.raises(AccessDenied, match="has not consented") as refused:
        support.hash_export(
            case=t.case, support_file=sfile, actor=t.support, export_format="json", recipient="StopNCII"
        )
    assert f"/support-files/{sfile.pk}/consents/" in refused.value.message
    assert '"kind": "share_hashes"' in refused.value.message
    assert not support_events(t.case, CustodyAction.HASHES_EXPORTED)

    consent = _consent(t, sfile)
    support.hash_export(
        case=t.case, support_file=sfile, actor=t.support, export_format="json", recipient="StopNCII"
    )
    support.consent_withdraw(consent=consent, actor=t.support)
    with pytest.raises(AccessDenied, match="withdrawn consent"):
        support.hash_export(
            case=t.case, support_file=sfile, actor=t.support, export_format="json", recipient="X"
        )
    assert len(support_events(t.case, CustodyAction.HASHES_EXPORTED)) == 1


def test_json_export_holds_confirmed_depicts_hashes_only_and_is_logged(t, sfile, depicted):
    _consent(t, sfile)
    export = support.hash_export(
        case=t.case, support_file=sfile, actor=t.support, export_format="json", recipient="StopNCII"
    )
    document = json.loads(export.body)
    assert document["format"] == "haetae-hash-list/1"
    assert document["subject"] is None
    assert document["confirmed_links_only"] is True
    by_sha = {f["sha256"]: f for f in document["files"]}
    astronaut, coffee = depicted["astronaut"], depicted["coffee"]
    assert set(by_sha) == {astronaut.blob_id, coffee.blob_id}
    assert by_sha[astronaut.blob_id]["md5"] == astronaut.blob.md5
    assert by_sha[astronaut.blob_id]["content_type"] == "photo"
    (pdq,) = by_sha[astronaut.blob_id]["pdq"]
    assert pdq["hash"] == depicted["pdq"] and len(pdq["hash"]) == 64
    assert isinstance(pdq["quality"], int)
    assert by_sha[coffee.blob_id]["pdq"] == []  # no PDQ annotation on it: nothing invented

    text = export.body.decode()
    for leaked in ("V-1", "astronaut.jpg", "/evidence/", t.case.number, depicted["suspected"].blob_id):
        assert leaked not in text

    (event,) = support_events(t.case, CustodyAction.HASHES_EXPORTED)
    assert event.item_id is None and event.actor == t.support
    assert event.details["export_sha256"] == hashlib.sha256(export.body).hexdigest() == export.sha256
    assert event.details["recipient"] == "StopNCII"
    assert event.details["files"] == 2 and event.details["pdq_hashes"] == 1
    assert sorted(event.details["file_sha256s"]) == sorted(by_sha)


def test_csv_export_has_one_row_per_signal(t, sfile, depicted):
    _consent(t, sfile)
    export = support.hash_export(
        case=t.case,
        support_file=sfile,
        actor=t.support,
        export_format="csv",
        recipient="KCSC",
        include_pseudonym=True,
    )
    rows = list(csv.DictReader(io.StringIO(export.body.decode())))
    assert list(rows[0]) == support_renderers.HASH_EXPORT_CSV_COLUMNS
    signals = {(r["signal_type"], r["signal"]) for r in rows}
    astronaut, coffee = depicted["astronaut"], depicted["coffee"]
    assert signals == {
        ("sha256", astronaut.blob_id),
        ("md5", astronaut.blob.md5),
        ("pdq", depicted["pdq"]),
        ("sha256", coffee.blob_id),
        ("md5", coffee.blob.md5),
    }
    (pdq_row,) = [r for r in rows if r["signal_type"] == "pdq"]
    assert pdq_row["file_sha256"] == astronaut.blob_id and pdq_row["pdq_quality"].isdigit()
    assert export.filename.startswith("hashes-V-1-") and export.filename.endswith(".csv")


def test_two_items_with_the_same_bytes_are_one_file_and_bad_pdq_rows_are_skipped(t, sfile, victim, depicted):
    same = stored_item(case=t.case, data=b"one content", actor=t.investigator, name="a.png", mime="image/png")
    twin = EvidenceItem.objects.get(pk=same.pk)
    twin.pk = None  # the same bytes found at a second place in the case
    twin.locator_sha256 = "f" * 64
    twin.original_name = "b.png"
    twin.save()
    link(same, victim)
    link(twin, victim)
    run = Annotation.objects.get(item=depicted["astronaut"]).run
    Annotation.objects.create(
        run=run,
        item=depicted["astronaut"],
        label="pdq",
        details={"hash": "not-hex", "quality": 90},
        detector_name="pdq",
        detector_version="test-1",
        input_sha256=depicted["astronaut"].blob_id,
        ran_at=timezone.now(),
    )
    _consent(t, sfile)
    entries = support.hash_list_entries(support_file=sfile)
    assert len(entries) == 3  # astronaut, coffee, and the one content shared by two items
    assert [p.hash for e in entries for p in e.pdq] == [depicted["pdq"]]


def test_export_without_confirmed_links_is_refused_and_not_logged(t, sfile):
    _consent(t, sfile)
    suspected = photo_item(t.case, t.investigator)
    link(suspected, sfile.person, confidence=LinkConfidence.SUSPECTED)
    with pytest.raises(RejectedInput, match="confirm the links"):
        support.hash_export(
            case=t.case, support_file=sfile, actor=t.support, export_format="json", recipient="X"
        )
    assert not support_events(t.case, CustodyAction.HASHES_EXPORTED)


def test_export_input_is_checked(t, sfile, depicted):
    _consent(t, sfile)
    with pytest.raises(RejectedInput, match="json or csv"):
        support.hash_export(
            case=t.case, support_file=sfile, actor=t.support, export_format="xml", recipient="X"
        )
    with pytest.raises(RejectedInput, match="name who the hashes go to"):
        support.hash_export(
            case=t.case, support_file=sfile, actor=t.support, export_format="json", recipient=" "
        )


# --- races (PostgreSQL: row locks) -----------------------------------------------------------------------


def _race(*calls):
    """Run the calls at the same moment on separate connections; returns each one's result or error."""
    import threading

    from django.db import connections

    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            outcomes[index] = call()
        except Exception as exc:  # the outcome is what the test inspects
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_recording_the_same_step_at_once_record_it_once():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: row locks (SELECT … FOR UPDATE) are what this checks")
    t = full_team()
    sfile = support.support_file_open(case=t.case, person=person(t.case, pseudonym="V-1"), actor=t.support)
    request = draft(t, sfile)

    sends = _race(
        lambda: support.takedown_send(takedown=request, actor=t.support, reference_number="A"),
        lambda: support.takedown_send(takedown=request, actor=t.support2, reference_number="B"),
    )
    assert sorted(type(o).__name__ for o in sends) == ["RejectedInput", "TakedownRequest"]
    consents = _race(
        lambda: support.consent_give(
            support_file=sfile, kind=ConsentKind.SHARE_HASHES, given_by="victim", actor=t.support
        ),
        lambda: support.consent_give(
            support_file=sfile, kind=ConsentKind.SHARE_HASHES, given_by="victim", actor=t.support2
        ),
    )
    assert sorted(type(o).__name__ for o in consents) == ["RejectedInput", "SupportConsent"]

    changes = [
        e.details["change"] for e in CustodyEvent.objects.filter(case=t.case).order_by("seq") if e.details
    ]
    assert changes.count("sent") == 1
    assert changes.count("consent_given") == 1
    assert SupportConsent.objects.filter(support_file=sfile).count() == 1


def test_services_refuse_a_support_file_of_another_case(t, sfile):
    other = full_team()
    other_case = case_get_for(user=other.support, number=other.case.number)
    with pytest.raises(RejectedInput, match="not a support file of case"):
        support.note_add(case=other_case, support_file=sfile, text="x", actor=other.support)
    with pytest.raises(RejectedInput, match="not a support file of case"):
        support.note_list(case=other_case, support_file=sfile)
    with pytest.raises(RejectedInput, match="not a support file of case"):
        draft(other, sfile)
    with pytest.raises(RejectedInput, match="not a support file of case"):
        support.hash_export(
            case=other.case, support_file=sfile, actor=other.support, export_format="json", recipient="X"
        )
    assert not SupportNote.objects.exists() and not TakedownRequest.objects.exists()


def test_frame_hashes_of_a_video_detector_are_exported_with_their_times(t, sfile, victim):
    item = photo_item(t.case, t.investigator, which="coffee")
    link(item, victim)
    frames = frame_pdq_annotate(item)
    assert frames[0] == frames[1] != frames[2]
    _consent(t, sfile)
    (entry,) = support.hash_list_entries(support_file=sfile)
    assert [(p.hash, p.frame_ms) for p in entry.pdq] == [(frames[0], 0), (frames[2], 2000)]  # the repeat once
    export = support.hash_export(
        case=t.case, support_file=sfile, actor=t.support, export_format="json", recipient="X"
    )
    (document_entry,) = json.loads(export.body)["files"]
    assert [p["frame_ms"] for p in document_entry["pdq"]] == [0, 2000]
