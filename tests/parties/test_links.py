"""Typed links: attributed assertions, superseded or withdrawn with a reason, never deleted; each an event."""

from datetime import timedelta

import pytest
from django.utils import timezone

from detection.models import Annotation, DetectionRun, Detector
from evidence.models import CustodyEvent
from evidence.verify import vault_verify
from haetae.errors import RejectedInput
from parties.models import ItemChannelLink, ItemDerivationLink, ItemPersonLink, PersonChannelLink
from parties.services.links import (
    Assertion,
    link_assert_derivation,
    link_assert_item_channel,
    link_assert_item_person,
    link_assert_person_channel,
    link_withdraw,
)
from tests.factories import channel, custody_actions, item, suspect, team, victim

pytestmark = pytest.mark.django_db

CONFIRMED = Assertion(confidence="confirmed", note="face match checked by hand")
SUSPECTED = Assertion(confidence="suspected")


def test_item_depicts_victim_is_an_event_on_the_items_chain() -> None:
    t = team()
    photo, person = item(t), victim(t)
    link = link_assert_item_person(
        item=photo, person=person, relation="depicts", assertion=CONFIRMED, actor=t.lead
    )
    assert link.asserted_by == t.lead and link.is_active
    event = CustodyEvent.objects.get(action="link_asserted")
    assert event.item_id == photo.pk
    assert event.purpose == "face match checked by hand"
    assert event.details == {
        "item_id": photo.pk,
        "sha256": photo.blob_id,
        "person": "V-1",
        "relation": "depicts",
        "link": "item_person",
        "link_id": link.pk,
        "confidence": "confirmed",
        "source": "investigator",
        "annotation_id": None,
    }


def test_the_same_link_twice_is_refused_and_another_confidence_supersedes() -> None:
    t = team()
    photo, person = item(t), suspect(t)
    first = link_assert_item_person(
        item=photo, person=person, relation="distributed_by", assertion=SUSPECTED, actor=t.lead
    )
    with pytest.raises(RejectedInput, match="already asserted as suspected"):
        link_assert_item_person(
            item=photo, person=person, relation="distributed_by", assertion=SUSPECTED, actor=t.lead
        )
    second = link_assert_item_person(
        item=photo, person=person, relation="distributed_by", assertion=CONFIRMED, actor=t.lead
    )
    first.refresh_from_db()
    assert first.withdrawn_at is not None and first.withdrawn_reason == "superseded by a confirmed assertion"
    assert second.is_active
    assert ItemPersonLink.objects.count() == 2
    actions = custody_actions(item=photo)
    assert actions[-3:] == ["link_asserted", "link_withdrawn", "link_asserted"]


def test_a_detector_never_confirms() -> None:
    t = team()
    with pytest.raises(RejectedInput, match="suspected until a person confirms"):
        link_assert_item_person(
            item=item(t),
            person=victim(t),
            relation="depicts",
            assertion=Assertion(confidence="confirmed", source="detector"),
            actor=None,
        )
    assert not ItemPersonLink.objects.exists()


def test_links_stay_within_one_case() -> None:
    t, other = team(), team()
    with pytest.raises(RejectedInput, match="another case"):
        link_assert_item_person(
            item=item(other), person=victim(t), relation="depicts", assertion=CONFIRMED, actor=t.lead
        )
    with pytest.raises(RejectedInput, match="different cases"):
        link_assert_person_channel(
            person=suspect(t),
            channel=channel(other),
            relation="administers",
            assertion=CONFIRMED,
            actor=t.lead,
        )
    with pytest.raises(RejectedInput, match="another case"):
        link_assert_derivation(
            item=item(t), source_item=item(other, b"src"), assertion=CONFIRMED, actor=t.lead
        )
    assert not CustodyEvent.objects.filter(action="link_asserted").exists()


def test_bad_relations_and_confidences_are_refused_by_field() -> None:
    t = team()
    with pytest.raises(RejectedInput) as raised:
        link_assert_item_person(
            item=item(t), person=victim(t), relation="likes", assertion=CONFIRMED, actor=t.lead
        )
    assert "relation" in raised.value.details
    with pytest.raises(RejectedInput) as raised:
        link_assert_person_channel(
            person=suspect(t),
            channel=channel(t),
            relation="administers",
            assertion=Assertion(confidence="certain"),
            actor=t.lead,
        )
    assert "confidence" in raised.value.details


def test_item_posted_in_channel() -> None:
    t = team()
    photo, room = item(t), channel(t)
    posted = timezone.now() - timedelta(days=2)
    link = link_assert_item_channel(
        item=photo,
        channel=room,
        assertion=CONFIRMED,
        actor=t.lead,
        posted_at=posted,
        message_reference="t.me/deepfake_room/1234",
        first_seen_at=posted + timedelta(hours=1),
    )
    assert link.message_reference == "t.me/deepfake_room/1234"
    event = CustodyEvent.objects.get(action="link_asserted")
    assert event.item_id == photo.pk and event.details["channel_id"] == room.pk
    assert event.details["message_reference"] == "t.me/deepfake_room/1234"
    # The same item posted again under another message is another link.
    link_assert_item_channel(
        item=photo,
        channel=room,
        assertion=CONFIRMED,
        actor=t.lead,
        message_reference="t.me/deepfake_room/2000",
    )
    assert ItemChannelLink.objects.filter(withdrawn_at__isnull=True).count() == 2
    with pytest.raises(RejectedInput, match="before it was posted"):
        link_assert_item_channel(
            item=photo,
            channel=room,
            assertion=CONFIRMED,
            actor=t.lead,
            posted_at=posted,
            first_seen_at=posted - timedelta(days=1),
        )


def test_person_channel_links_are_case_level_events() -> None:
    t = team()
    link = link_assert_person_channel(
        person=suspect(t), channel=channel(t), relation="administers", assertion=SUSPECTED, actor=t.lead
    )
    event = CustodyEvent.objects.get(action="link_asserted")
    assert event.item_id is None and event.case_id == t.case.pk
    assert event.details["relation"] == "administers" and event.details["link_id"] == link.pk
    assert PersonChannelLink.objects.get().person.pseudonym == "S-1"


def test_derivation_from_a_source_photo() -> None:
    t = team()
    source, fake = item(t, b"source photo"), item(t, b"deepfake")
    link = link_assert_derivation(item=fake, source_item=source, assertion=CONFIRMED, actor=t.lead)
    event = CustodyEvent.objects.get(action="link_asserted")
    assert event.item_id == fake.pk and event.details["source_sha256"] == source.blob_id
    assert ItemDerivationLink.objects.get() == link
    with pytest.raises(RejectedInput, match="from itself"):
        link_assert_derivation(item=fake, source_item=fake, assertion=CONFIRMED, actor=t.lead)


def test_withdraw_keeps_the_row_and_logs_the_reason() -> None:
    t = team()
    photo = item(t)
    link = link_assert_item_person(
        item=photo, person=victim(t), relation="depicts", assertion=SUSPECTED, actor=t.lead
    )
    with pytest.raises(RejectedInput, match="say why"):
        link_withdraw(link=link, actor=t.lead, reason="")
    withdrawn = link_withdraw(link=link, actor=t.lead, reason="victim says it is not her")
    assert withdrawn.withdrawn_by == t.lead and withdrawn.withdrawn_reason == "victim says it is not her"
    assert ItemPersonLink.objects.filter(pk=link.pk).exists()
    event = CustodyEvent.objects.get(action="link_withdrawn")
    assert event.item_id == photo.pk and event.purpose == "victim says it is not her"
    with pytest.raises(RejectedInput, match="already withdrawn"):
        link_withdraw(link=link, actor=t.lead, reason="again")
    # Withdrawn, the same link may be asserted afresh.
    link_assert_item_person(
        item=photo, person=link.person, relation="depicts", assertion=SUSPECTED, actor=t.lead
    )
    report = vault_verify(case=t.case)
    assert report.ok, report.failures


def test_person_channel_withdrawal_is_case_level() -> None:
    t = team()
    link = link_assert_person_channel(
        person=suspect(t), channel=channel(t), relation="belongs_to", assertion=CONFIRMED, actor=t.lead
    )
    link_withdraw(link=link, actor=t.lead, reason="wrong account")
    assert CustodyEvent.objects.get(action="link_withdrawn").item_id is None


def _finding(on_item):
    """A real detector finding (a face) on an item, as detection would store it."""
    detector = Detector.objects.create(name="faces", version="1")
    run = DetectionRun.objects.create(
        item=on_item, detector=detector, status="done", input_sha256=on_item.blob_id
    )
    return Annotation.objects.create(
        run=run,
        item=on_item,
        label="face",
        detector_name="faces",
        detector_version="1",
        input_sha256=on_item.blob_id,
        ran_at=timezone.now(),
    )


def test_a_detector_suggestion_names_its_finding_and_a_person_confirms_it() -> None:
    t = team()
    photo, person = item(t), victim(t)
    finding = _finding(photo)
    suggested = link_assert_item_person(
        item=photo,
        person=person,
        relation="depicts",
        assertion=Assertion(confidence="suspected", source="detector", annotation=finding),
        actor=None,
    )
    assert suggested.annotation == finding and suggested.asserted_by is None
    event = CustodyEvent.objects.get(action="link_asserted")
    assert event.actor_role == "system" and event.details["annotation_id"] == finding.pk
    confirmed = link_assert_item_person(
        item=photo, person=person, relation="depicts", assertion=CONFIRMED, actor=t.lead
    )
    suggested.refresh_from_db()
    assert suggested.withdrawn_reason == "superseded by a confirmed assertion" and confirmed.is_active


def test_a_finding_must_be_on_the_links_item_and_only_detectors_cite_one() -> None:
    t = team()
    photo, other, person = item(t), item(t, b"other"), victim(t)
    finding = _finding(other)
    with pytest.raises(RejectedInput, match="finding must be one on the link's item"):
        link_assert_item_person(
            item=photo,
            person=person,
            relation="depicts",
            assertion=Assertion(confidence="suspected", source="detector", annotation=finding),
            actor=None,
        )
    with pytest.raises(RejectedInput, match="only a detector-sourced link"):
        link_assert_item_person(
            item=other,
            person=person,
            relation="depicts",
            assertion=Assertion(confidence="suspected", annotation=finding),
            actor=t.lead,
        )
    assert not ItemPersonLink.objects.exists()
