"""A victim's face across cases: the search, its disclosure rule, consent, and the index kept in step with
rejections and destructions."""

import io
import json

import numpy as np
import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from PIL import Image
from rest_framework.test import APIClient

from access.choices import CaseMemberRole, GlobalRole
from access.selectors import case_get_for
from detection.models import Annotation
from detection.services import annotation_review
from evidence.choices import CustodyAction
from evidence.models import CustodyEvent
from haetae.errors import AccessDenied, NotFound, RejectedInput
from parties.choices import LinkConfidence, LinkSource, PersonKind
from parties.faceclusters import face_cluster_name, face_clusters
from parties.faceindex import face_index, reset_face_indexes
from parties.faces import reference_photo_add, reference_photo_withdraw
from parties.facesearch import face_search
from parties.models import ItemPersonLink
from records.services import (
    destruction_order_authorise,
    destruction_order_execute,
    destruction_order_request,
    destruction_order_witness,
)
from tests.factories import (  # noqa: F401 (fixture)
    Team,
    astronaut,
    astronaut_reference,
    encode,
    faces_item,
    fresh_face_indexes,
    other_person,
    person,
    team,
)

pytest.importorskip("dlib", reason="dlib is not installed: the faces extra (pip install 'haetae[faces]')")
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_face_indexes")]


def _altered_astronaut() -> bytes:
    """The astronaut rotated 12°, scaled to 60 % and recompressed as a JPEG of quality 55."""
    image = Image.fromarray(astronaut()).rotate(12, resample=Image.Resampling.BICUBIC, expand=True)
    image = image.resize((int(image.width * 0.6), int(image.height * 0.6)), Image.Resampling.LANCZOS)
    return encode(np.asarray(image), "JPEG", quality=55)


def _victim_with_reference(t: Team):
    victim = person(t.case, kind=PersonKind.VICTIM, pseudonym="V-1", actor=t.lead)
    photo, _ = reference_photo_add(
        person=victim,
        data=encode(astronaut_reference(), "JPEG", quality=92),
        consent_reference="C-1",
        actor=t.lead,
    )
    return victim, photo


def test_search_finds_the_altered_astronaut_in_another_case_and_says_only_whom_to_ask():
    ours, theirs = team(), team(unit="서울경찰청 사이버수사대")
    victim, photo = _victim_with_reference(ours)
    found = faces_item(theirs, _altered_astronaut(), "forwarded.jpg")
    faces_item(theirs, encode(other_person(), "PNG"), "someone-else.png", mime="image/png")

    result = face_search(person=victim, actor=ours.lead)

    assert [hit.visible for hit in result.hits] == [False]
    (hit,) = result.hits
    assert hit.distance <= 0.6 and hit.reference_photo == photo.pk
    # Exists, and whom to ask: nothing of the case (number, item, name) reaches the searcher.
    assert hit.item["contacts"] == [
        {"name": theirs.lead.get_full_name() or theirs.lead.get_username(), "unit": "서울경찰청 사이버수사대"}
    ]
    assert hit.item["item_id"] is None and hit.item["case_number"] is None and hit.annotation is None
    assert theirs.case.number not in str(result.as_dict())
    # Never an automatic link, in either case.
    assert not ItemPersonLink.objects.filter(item=found).exists()
    event = CustodyEvent.objects.get(case=ours.case, action=CustodyAction.IDENTITY_READ)
    assert event.details["what"] == "face_search" and event.details["person"] == "V-1"
    assert event.details["hits"] == {"this_case": 0, "other_case_seen": 0, "other_case_not_seen": 1}
    assert event.actor_id == ours.lead.pk

    # Once the searcher is on that team, the hit is the item itself, still a suggestion.
    theirs.member(CaseMemberRole.INVESTIGATOR, user=ours.lead)
    (hit,) = face_search(person=victim, actor=ours.lead).hits
    assert hit.visible and hit.item["item_id"] == found.pk and hit.item["case_number"] == theirs.case.number
    assert "may depict V-1" in hit.suggestion and "(suspected)" in hit.suggestion
    assert not ItemPersonLink.objects.filter(item=found).exists()


def test_a_searcher_who_is_that_cases_prosecutor_sees_only_whom_to_ask_for_an_unshared_item():
    ours, theirs = team(), team()
    victim, _ = _victim_with_reference(ours)
    found = faces_item(theirs, _altered_astronaut(), "forwarded.jpg")
    theirs.member(CaseMemberRole.PROSECUTOR, user=ours.lead)

    (hit,) = face_search(person=victim, actor=ours.lead).hits

    assert not hit.visible and hit.item["item_id"] is None and hit.annotation is None
    assert str(found.pk) not in hit.suggestion


def test_only_the_victims_case_lead_searches():
    ours = team()
    victim, _ = _victim_with_reference(ours)
    investigator = ours.member(CaseMemberRole.INVESTIGATOR)
    support = ours.member(CaseMemberRole.VICTIM_SUPPORT)
    outsider = team().lead
    for user in (investigator, support):
        with pytest.raises(AccessDenied):
            face_search(person=victim, actor=user)
    with pytest.raises(NotFound):
        face_search(person=victim, actor=outsider)
    assert not CustodyEvent.objects.filter(action=CustodyAction.IDENTITY_READ).exists()


def test_withdrawn_consent_takes_the_reference_out_of_search():
    ours, theirs = team(), team()
    victim, photo = _victim_with_reference(ours)
    faces_item(theirs, _altered_astronaut(), "forwarded.jpg")
    assert len(face_search(person=victim, actor=ours.lead).hits) == 1

    reference_photo_withdraw(photo=photo, actor=ours.lead, reason="consent withdrawn on 2024-11-02")

    with pytest.raises(RejectedInput, match="no reference photo in use"):
        face_search(person=victim, actor=ours.lead)


def test_rejecting_a_face_finding_withdraws_its_link_and_takes_it_out_of_the_index():
    ours = team()
    victim, _ = _victim_with_reference(ours)
    item = faces_item(ours, encode(astronaut(), "JPEG", quality=90), "a.jpg")
    (link,) = ItemPersonLink.objects.filter(item=item, person=victim)
    assert (link.confidence, link.source, link.withdrawn_at) == (
        LinkConfidence.SUSPECTED,
        LinkSource.DETECTOR,
        None,
    )
    face = Annotation.objects.get(item=item, label="face")
    index = face_index(face.model_sha256)
    index.sync()
    assert face.pk in index.vectors
    (hit,) = face_search(person=victim, actor=ours.lead).hits
    assert hit.same_case and hit.link == {"id": link.pk, "confidence": "suspected", "source": "detector"}

    annotation_review(annotation=face, actor=ours.lead, decision="rejected", reason="not her: a look-alike")

    link.refresh_from_db()
    assert link.withdrawn_at is not None and f"face finding {face.pk}" in link.withdrawn_reason
    withdrawn = CustodyEvent.objects.get(item=item, action=CustodyAction.LINK_WITHDRAWN)
    assert withdrawn.details["link_id"] == link.pk
    index.sync()
    assert face.pk not in index.vectors
    assert face_search(person=victim, actor=ours.lead).hits == []

    # Confirmed after all (a second review): back in the index; the withdrawn link stays withdrawn.
    annotation_review(annotation=face, actor=ours.lead, decision="confirmed", reason="same mole: her")
    index.sync()
    assert face.pk in index.vectors


def test_a_destroyed_item_leaves_the_index():
    ours, theirs = team(), team()
    victim, _ = _victim_with_reference(ours)
    item = faces_item(theirs, _altered_astronaut(), "forwarded.jpg")
    face = Annotation.objects.get(item=item, label="face")
    index = face_index(face.model_sha256)
    index.sync()
    assert face.pk in index.vectors

    supervisor = theirs.member(CaseMemberRole.INVESTIGATOR)
    supervisor.groups.add(Group.objects.get_or_create(name=GlobalRole.SUPERVISOR)[0])
    witness = theirs.member(CaseMemberRole.AUDITOR)
    order = destruction_order_request(
        case=theirs.case,
        actor=theirs.lead,
        item_ids=[item.pk],
        legal_basis="형사소송법 제219조",
        court_order="서울중앙지방법원 2024고단1234",
    )
    destruction_order_authorise(order=order, actor=supervisor)
    destruction_order_witness(order=order, actor=witness)
    destruction_order_execute(order=order, actor=theirs.lead)

    index.sync()
    assert face.pk not in index.vectors
    assert face_search(person=victim, actor=ours.lead).hits == []


def test_a_saved_index_is_loaded_and_caught_up_and_another_databases_is_ignored(settings, tmp_path):
    ours, theirs = team(), team()
    _victim_with_reference(ours)
    first = faces_item(theirs, _altered_astronaut(), "one.jpg")
    model = Annotation.objects.get(item=first, label="face").model_sha256
    index = face_index(model)
    index.rebuild()
    index.save(tmp_path / "face-index")
    second = faces_item(theirs, encode(astronaut(), "JPEG", quality=80), "two.jpg")

    reset_face_indexes()
    loaded = face_index(model)
    loaded.sync()
    held = {a.pk for a in Annotation.objects.filter(item__in=[first, second], label="face")}
    assert held and all(pk in loaded.vectors for pk in held)

    meta = tmp_path / "face-index" / f"{model}.json"
    meta.write_text(meta.read_text().replace('"leaf_hash": "', '"leaf_hash": "0'))
    reset_face_indexes()
    assert not face_index(model)._load()


def test_unknown_faces_are_grouped_and_a_group_is_named_once_as_suggestions():
    t = team()
    one = faces_item(t, encode(astronaut(), "JPEG", quality=90), "a.jpg")
    two = faces_item(t, _altered_astronaut(), "b.jpg")
    faces_item(t, encode(other_person(), "PNG"), "c.png", mime="image/png")
    suspect = person(t.case, kind=PersonKind.SUSPECT, pseudonym="S-1", actor=t.lead)
    case = case_get_for(user=t.lead, number=t.case.number)

    grouped = face_clusters(case=case)

    (group,) = grouped.clusters
    assert group.items == sorted([one.pk, two.pk]) and group.size == 2 and group.diameter <= 0.6
    assert grouped.unclustered == 1
    links = face_cluster_name(
        case=case, person=suspect, annotation_ids=[f["annotation"] for f in group.faces], actor=t.lead
    )
    assert sorted(link.item_id for link in links) == sorted([one.pk, two.pk])
    assert all(
        (link.confidence, link.source, link.annotation_id is not None)
        == (LinkConfidence.SUSPECTED, LinkSource.DETECTOR, True)
        for link in links
    )
    assert CustodyEvent.objects.filter(action=CustodyAction.LINK_ASSERTED, item__in=[one, two]).count() == 2
    # Named: no longer unknown.
    assert face_clusters(case=case).clusters == []
    # Victim support may not see faces grouped.
    support = t.member(CaseMemberRole.VICTIM_SUPPORT)
    with pytest.raises(AccessDenied):
        face_clusters(case=case_get_for(user=support, number=t.case.number))


def test_api_and_command_answer_the_same_search():
    ours, theirs = team(), team()
    _victim_with_reference(ours)
    faces_item(theirs, _altered_astronaut(), "forwarded.jpg")
    client = APIClient()
    client.force_authenticate(ours.lead)

    response = client.post(f"/api/v1/cases/{ours.case.number}/people/V-1/face-search/", format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 1 and body["results"][0]["visible"] is False
    assert body["results"][0]["item"]["contacts"][0]["name"]
    out = io.StringIO()
    call_command("face_search", ours.case.number, "V-1", "--actor", ours.lead.username, "--json", stdout=out)
    printed = json.loads(out.getvalue())
    assert printed["count"] == 1 and printed["results"][0]["item"] == body["results"][0]["item"]
    assert CustodyEvent.objects.filter(case=ours.case, action=CustodyAction.IDENTITY_READ).count() == 2
    investigator = ours.member(CaseMemberRole.INVESTIGATOR)
    client.force_authenticate(investigator)
    assert client.post(f"/api/v1/cases/{ours.case.number}/people/V-1/face-search/").status_code == 403


def test_rebuild_command_saves_an_index_that_a_fresh_process_loads(tmp_path):
    t = team()
    item = faces_item(t, encode(astronaut(), "JPEG", quality=90), "a.jpg")
    face = Annotation.objects.get(item=item, label="face")
    out = io.StringIO()
    call_command("face_index", "rebuild", "--json", stdout=out)
    (row,) = json.loads(out.getvalue())["models"]
    assert row["faces"] == 1 and (tmp_path / "face-index" / f"{face.model_sha256}.faiss").exists()
    reset_face_indexes()
    index = face_index(face.model_sha256)
    assert index._load() and face.pk in index.vectors


def test_face_clusters_command_lists_and_names_a_group():
    t = team()
    faces_item(t, encode(astronaut(), "JPEG", quality=90), "a.jpg")
    faces_item(t, _altered_astronaut(), "b.jpg")
    person(t.case, kind=PersonKind.SUSPECT, pseudonym="S-1", actor=t.lead)
    out = io.StringIO()
    call_command("face_clusters", t.case.number, "--actor", t.lead.username, "--json", stdout=out)
    (group,) = json.loads(out.getvalue())["results"]
    faces = ",".join(str(face["annotation"]) for face in group["faces"])

    out = io.StringIO()
    call_command(
        "face_clusters",
        t.case.number,
        "--actor",
        t.lead.username,
        "--name",
        "S-1",
        "--faces",
        faces,
        "--json",
        stdout=out,
    )

    named = json.loads(out.getvalue())
    assert named["person"] == "S-1" and sorted(link["item"] for link in named["links"]) == group["items"]
    with pytest.raises(CommandError):
        call_command("face_clusters", t.case.number, "--actor", t.lead.username, "--name", "S-1")
