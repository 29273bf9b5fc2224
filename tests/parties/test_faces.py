"""Victims' reference photos and the "item depicts victim" links they suggest (never confirm)."""

import json
from typing import Any

import numpy as np
import pytest
from django.core.management import call_command
from django.utils import timezone

from access.choices import CaseMemberRole
from detection import registry
from detection.models import Annotation
from detection.services import detection_run
from evidence.choices import CustodyAction
from evidence.models import CustodyEvent
from haetae.errors import AccessDenied, NotFound, RejectedInput
from parties.choices import LinkConfidence, LinkSource, PersonKind
from parties.faces import (
    face_matches_suggest,
    reference_photo_add,
    reference_photo_list,
    reference_photo_read,
    reference_photo_withdraw,
)
from parties.models import ItemPersonLink, ReferencePhoto
from tests.factories import (
    CaseFactory,
    CaseMemberFactory,
    UserFactory,
    assign_worker,
    astronaut,
    astronaut_reference,
    encode,
    no_face,
    other_person,
    person,
    stored_item,
)

pytest.importorskip("dlib", reason="dlib is not installed: the faces extra (pip install 'haetae[faces]')")
pytestmark = pytest.mark.django_db


@pytest.fixture
def case_with_victim():
    lead = UserFactory()
    case = CaseFactory()
    CaseMemberFactory(case=case, user=lead, role=CaseMemberRole.LEAD)
    victim = person(case, kind=PersonKind.VICTIM, pseudonym="V-1", actor=lead)
    return case, lead, victim


def _item_with_faces(case, user, rgb: np.ndarray, name: str):
    item = stored_item(case=case, data=encode(rgb, "PNG"), actor=user, name=name, mime="image/png")
    detection_run(item=item, detector=registry.detector_get("faces"))
    return item


def test_reference_photo_is_stored_logged_and_readable_by_the_lead(case_with_victim):
    case, lead, victim = case_with_victim
    data = encode(astronaut_reference(), "JPEG", quality=92)

    photo, _ = reference_photo_add(person=victim, data=data, consent_reference="CONSENT-2024-17", actor=lead)

    assert photo.blob_id and photo.mime == "image/jpeg" and len(photo.embedding) == 128
    event = CustodyEvent.objects.get(case=case, item__isnull=True, action=CustodyAction.IDENTITY_CHANGED)
    assert event.details["change"] == "reference_photo_added"
    assert (
        event.details["reference_photo"] == photo.pk
        and event.details["consent_reference"] == "CONSENT-2024-17"
    )
    assert list(reference_photo_list(person=victim, user=lead)) == [photo]
    assert reference_photo_read(photo=photo, user=lead, reason="check the photo's quality") == data
    read = CustodyEvent.objects.get(case=case, action=CustodyAction.IDENTITY_READ)
    assert read.purpose == "check the photo's quality" and read.details["reference_photo"] == photo.pk


def test_adding_a_reference_suggests_the_item_that_shows_the_victim_only(case_with_victim):
    case, lead, victim = case_with_victim
    shows_her = _item_with_faces(case, lead, astronaut(), "her.png")
    stranger = _item_with_faces(case, lead, other_person(), "stranger.png")
    nobody = _item_with_faces(case, lead, no_face(), "nobody.png")
    assert Annotation.objects.filter(item=stranger, label="face").exists()  # a face, just not hers

    _, suggested = reference_photo_add(
        person=victim, data=encode(astronaut_reference(), "PNG"), consent_reference="C-1", actor=lead
    )

    (link,) = ItemPersonLink.objects.filter(person=victim)
    assert suggested == [link]
    assert link.item_id == shows_her.pk and link.relation == "depicts"
    assert (link.confidence, link.source) == (LinkConfidence.SUSPECTED, LinkSource.DETECTOR)
    assert link.annotation.item_id == shows_her.pk and link.annotation.label == "face"
    assert link.asserted_by is None
    event = CustodyEvent.objects.get(item=shows_her, action=CustodyAction.LINK_ASSERTED)
    assert event.details["link"] == link.pk and event.details["source"] == "detector"
    assert float(event.details["distance"]) < 0.6 and event.details["max_distance"] == "0.6"
    assert not CustodyEvent.objects.filter(item__in=[stranger, nobody], action=CustodyAction.LINK_ASSERTED)


def test_new_faces_are_matched_when_the_detector_stores_them(case_with_victim):
    case, lead, victim = case_with_victim
    reference_photo_add(
        person=victim, data=encode(astronaut_reference(), "PNG"), consent_reference="C-1", actor=lead
    )

    shows_her = _item_with_faces(case, lead, astronaut(), "her.png")
    _item_with_faces(case, lead, other_person(), "stranger.png")

    links = list(ItemPersonLink.objects.filter(person=victim))
    assert [link.item_id for link in links] == [shows_her.pk]
    assert links[0].confidence == LinkConfidence.SUSPECTED


def test_faces_in_another_case_are_not_matched(case_with_victim):
    _, lead, victim = case_with_victim
    _item_with_faces(CaseFactory(), lead, astronaut(), "elsewhere.png")
    reference_photo_add(
        person=victim, data=encode(astronaut_reference(), "PNG"), consent_reference="C-1", actor=lead
    )
    assert not ItemPersonLink.objects.exists()


def test_suggestions_are_made_once_and_a_withdrawn_one_is_not_made_again(case_with_victim):
    case, lead, victim = case_with_victim
    _item_with_faces(case, lead, astronaut(), "her.png")
    reference_photo_add(
        person=victim, data=encode(astronaut_reference(), "PNG"), consent_reference="C-1", actor=lead
    )
    (link,) = ItemPersonLink.objects.filter(person=victim)

    assert face_matches_suggest(person=victim) == []
    ItemPersonLink.objects.filter(pk=link.pk).update(
        withdrawn_at=timezone.now(), withdrawn_by=lead, withdrawn_reason="not her"
    )
    assert face_matches_suggest(person=victim) == []
    assert ItemPersonLink.objects.filter(person=victim).count() == 1


def test_the_match_distance_is_a_setting(case_with_victim, settings):
    case, lead, victim = case_with_victim
    settings.HAETAE_FACE_MATCH_MAX_DISTANCE = 0.05  # the crop's distance to the astronaut is about 0.1
    _item_with_faces(case, lead, astronaut(), "her.png")
    reference_photo_add(
        person=victim, data=encode(astronaut_reference(), "PNG"), consent_reference="C-1", actor=lead
    )
    assert not ItemPersonLink.objects.exists()


def test_a_withdrawn_reference_photo_is_no_longer_matched(case_with_victim):
    case, lead, victim = case_with_victim
    photo, _ = reference_photo_add(
        person=victim, data=encode(astronaut_reference(), "PNG"), consent_reference="C-1", actor=lead
    )
    reference_photo_withdraw(photo=photo, actor=lead, reason="consent withdrawn by the victim")
    _item_with_faces(case, lead, astronaut(), "her.png")
    assert not ItemPersonLink.objects.exists()
    assert CustodyEvent.objects.filter(
        case=case, action=CustodyAction.IDENTITY_CHANGED, details__change="reference_photo_withdrawn"
    ).exists()
    with pytest.raises(RejectedInput, match="already withdrawn"):
        reference_photo_withdraw(photo=photo, actor=lead, reason="again")


def test_only_the_lead_and_the_assigned_support_worker_may_add_or_see(case_with_victim):
    case, _, victim = case_with_victim
    investigator = UserFactory()
    CaseMemberFactory(case=case, user=investigator, role=CaseMemberRole.INVESTIGATOR)
    worker, other_worker, outsider = UserFactory(), UserFactory(), UserFactory()
    assign_worker(victim, worker)
    data = encode(astronaut_reference(), "PNG")

    with pytest.raises(AccessDenied, match="case lead"):
        reference_photo_add(person=victim, data=data, consent_reference="C-1", actor=investigator)
    with pytest.raises(NotFound):
        reference_photo_add(person=victim, data=data, consent_reference="C-1", actor=outsider)
    with pytest.raises(NotFound):
        reference_photo_list(person=victim, user=other_worker)

    photo, _ = reference_photo_add(person=victim, data=data, consent_reference="C-1", actor=worker)
    assert list(reference_photo_list(person=victim, user=worker)) == [photo]
    with pytest.raises(AccessDenied):
        reference_photo_read(photo=photo, user=investigator, reason="curious")
    assert not ReferencePhoto.objects.exclude(pk=photo.pk).exists()


@pytest.mark.parametrize(
    ("make", "consent", "message"),
    [
        (lambda: encode(astronaut_reference(), "PNG"), "  ", "consent"),
        (lambda: encode(no_face(), "PNG"), "C-1", "no face was found"),
        (lambda: encode(np.hstack([astronaut_reference(), other_person()[:190, :190]])), "C-1", "2 faces"),
        (lambda: b"%PDF-1.7 not an image", "C-1", "cannot be read as an image"),
    ],
)
def test_unusable_reference_photos_are_rejected_with_a_reason(case_with_victim, make, consent, message):
    _, lead, victim = case_with_victim
    with pytest.raises(RejectedInput, match=message):
        reference_photo_add(person=victim, data=make(), consent_reference=consent, actor=lead)
    assert not ReferencePhoto.objects.exists()
    assert not CustodyEvent.objects.filter(action=CustodyAction.IDENTITY_CHANGED).exists()


def test_reference_photos_are_for_victims_only(case_with_victim):
    case, lead, _ = case_with_victim
    suspect = person(case, kind=PersonKind.SUSPECT, pseudonym="S-1", actor=lead)
    with pytest.raises(RejectedInput, match="victims only"):
        reference_photo_add(
            person=suspect, data=encode(astronaut_reference(), "PNG"), consent_reference="C", actor=lead
        )


def test_add_reference_photo_command_json(case_with_victim, tmp_path, capsys):
    case, lead, _ = case_with_victim
    shows_her = _item_with_faces(case, lead, astronaut(), "her.png")
    photo_file = tmp_path / "v1.png"
    photo_file.write_bytes(encode(astronaut_reference(), "PNG"))

    call_command(
        "add_reference_photo",
        case.number,
        "V-1",
        str(photo_file),
        "--consent",
        "C-9",
        "--actor",
        lead.username,
        "--json",
    )

    payload = json.loads(capsys.readouterr().out)
    assert payload["person"] == "V-1" and payload["reference_photo"] == ReferencePhoto.objects.get().pk
    assert [entry["item"] for entry in payload["suggested_links"]] == [shows_her.pk]


def test_add_reference_photo_command_refusals_exit_1(case_with_victim, tmp_path, capsys):
    case, lead, _ = case_with_victim
    investigator = UserFactory()
    CaseMemberFactory(case=case, user=investigator, role=CaseMemberRole.INVESTIGATOR)
    photo_file = tmp_path / "v1.png"
    photo_file.write_bytes(encode(astronaut_reference(), "PNG"))
    attempts = [
        (["V-1", str(photo_file), "--actor", investigator.username], "case lead"),
        (["V-9", str(photo_file), "--actor", lead.username], "no person 'V-9'"),
        (["V-1", str(tmp_path / "missing.png"), "--actor", lead.username], "cannot read"),
    ]
    for arguments, message in attempts:
        with pytest.raises(SystemExit) as exited:
            call_command("add_reference_photo", case.number, *arguments, "--consent", "C-9")
        assert exited.value.code == 1
        assert message in capsys.readouterr().err
    assert not ReferencePhoto.objects.exists()


def test_an_item_already_confirmed_to_depict_the_victim_is_not_suggested_again(case_with_victim):
    case, lead, victim = case_with_victim
    shows_her = _item_with_faces(case, lead, astronaut(), "her.png")
    ItemPersonLink.objects.create(
        item=shows_her,
        person=victim,
        relation="depicts",
        confidence=LinkConfidence.CONFIRMED,
        asserted_by=lead,
    )
    _, suggested = reference_photo_add(
        person=victim, data=encode(astronaut_reference(), "PNG"), consent_reference="C-1", actor=lead
    )
    assert suggested == []
    assert not ItemPersonLink.objects.filter(source=LinkSource.DETECTOR).exists()


OLD_MODEL = "55" * 32  # what an earlier face model's references carry


def _as_if_embedded_by_an_older_model(photo: ReferencePhoto) -> None:
    ReferencePhoto.objects.filter(pk=photo.pk).update(
        detector_version="1", model_sha256=OLD_MODEL, embedding=[0.0] * 128
    )


def test_reembedding_after_an_upgrade_matches_the_new_models_faces(case_with_victim, capsys):
    case, lead, victim = case_with_victim
    photo, _ = reference_photo_add(
        person=victim, data=encode(astronaut_reference(), "PNG"), consent_reference="C-1", actor=lead
    )
    _as_if_embedded_by_an_older_model(photo)
    shows_her = _item_with_faces(case, lead, astronaut(), "her.png")
    assert not ItemPersonLink.objects.filter(person=victim).exists()  # different models never compare
    admin: Any = UserFactory(is_superuser=True)

    call_command("reembed_reference_photos", "--actor", admin.username, "--json")

    out = json.loads(capsys.readouterr().out)
    assert (out["reembedded"], out["failed"]) == (1, 0)
    assert out["photos"][0]["suggested_links"] == 1
    photo.refresh_from_db()
    current = registry.detector_get("faces").info
    assert (photo.detector_version, photo.model_sha256) == (current.version, current.model_sha256)
    assert len(photo.embedding) == 128 and any(photo.embedding)
    event = CustodyEvent.objects.get(case=case, details__change="reference_photo_reembedded")
    assert event.action == CustodyAction.IDENTITY_CHANGED and event.actor_id == admin.pk
    assert event.details["from_model_sha256"] == OLD_MODEL
    assert event.details["to_model_sha256"] == current.model_sha256
    (link,) = ItemPersonLink.objects.filter(person=victim)
    assert link.item_id == shows_her.pk and link.confidence == LinkConfidence.SUSPECTED

    call_command("reembed_reference_photos")  # nothing left to do, nothing written twice
    assert "already embedded" in capsys.readouterr().out
    assert CustodyEvent.objects.filter(details__change="reference_photo_reembedded").count() == 1


def test_a_reference_whose_face_is_not_found_again_is_left_and_named(case_with_victim, capsys):
    _, lead, victim = case_with_victim
    photo, _ = reference_photo_add(
        person=victim, data=encode(astronaut_reference(), "PNG"), consent_reference="C-1", actor=lead
    )
    _as_if_embedded_by_an_older_model(photo)
    ReferencePhoto.objects.filter(pk=photo.pk).update(face_region={"x": 0, "y": 0, "w": 10, "h": 10})
    withdrawn, _ = reference_photo_add(
        person=victim, data=encode(astronaut_reference(), "PNG"), consent_reference="C-2", actor=lead
    )
    reference_photo_withdraw(photo=withdrawn, actor=lead, reason="consent withdrawn")
    _as_if_embedded_by_an_older_model(withdrawn)

    with pytest.raises(SystemExit) as exited:
        call_command("reembed_reference_photos")

    assert exited.value.code == 1
    assert f"V-1 reference photo {photo.pk}: NOT re-embedded" in capsys.readouterr().out
    photo.refresh_from_db()
    withdrawn.refresh_from_db()
    assert photo.model_sha256 == OLD_MODEL and withdrawn.model_sha256 == OLD_MODEL
    assert not CustodyEvent.objects.filter(details__change="reference_photo_reembedded").exists()


def test_only_an_administrator_reembeds(case_with_victim, capsys):
    _, lead, victim = case_with_victim
    photo, _ = reference_photo_add(
        person=victim, data=encode(astronaut_reference(), "PNG"), consent_reference="C-1", actor=lead
    )
    _as_if_embedded_by_an_older_model(photo)
    with pytest.raises(SystemExit) as exited:
        call_command("reembed_reference_photos", "--actor", lead.username)
    assert exited.value.code == 1 and "is not an administrator" in capsys.readouterr().err
    photo.refresh_from_db()
    assert photo.model_sha256 == OLD_MODEL
