"""Portal face pages (portal/views/faces.py): a victim's face across cases, the case's unknown faces in
groups, naming a group; who may, and what a case one is not on shows."""

import re

import numpy as np
import pytest
from PIL import Image

from access.choices import CaseMemberRole
from evidence.choices import CustodyAction
from evidence.models import CustodyEvent
from parties.choices import LinkConfidence, PersonKind
from parties.faces import reference_photo_add
from parties.models import ItemPersonLink
from tests.factories import (  # noqa: F401 (fixture)
    astronaut,
    astronaut_reference,
    encode,
    faces_item,
    fresh_face_indexes,
    person,
    team,
)
from tests.factories import portal_client as _client

pytest.importorskip("dlib", reason="dlib is not installed: the faces extra (pip install 'haetae[faces]')")
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_face_indexes")]


def _rotated() -> bytes:
    image = Image.fromarray(astronaut()).rotate(12, resample=Image.Resampling.BICUBIC, expand=True)
    return encode(np.asarray(image.resize((image.width // 2, image.height // 2))), "JPEG", quality=60)


def test_the_lead_searches_from_the_victims_row_and_sees_only_whom_to_ask_elsewhere() -> None:
    ours, theirs = team(), team(unit="Cyber unit marker")
    victim = person(ours.case, kind=PersonKind.VICTIM, pseudonym="V-1", actor=ours.lead)
    reference_photo_add(
        person=victim,
        data=encode(astronaut_reference(), quality=92),
        consent_reference="C-1",
        actor=ours.lead,
    )
    faces_item(theirs, _rotated(), "their-secret-name.jpg")
    client = _client(ours.lead)
    url = f"/cases/{ours.case.number}/people/V-1/faces/"

    case_page = client.get(f"/cases/{ours.case.number}/")
    assert url in case_page.content.decode()
    assert client.get(url).status_code == 200
    page = client.post(url)

    body = page.content.decode()
    assert page.status_code == 200
    assert "Cyber unit marker" in body and theirs.case.number not in body and "their-secret-name" not in body
    assert CustodyEvent.objects.filter(case=ours.case, action=CustodyAction.IDENTITY_READ).count() == 1

    investigator = ours.member(CaseMemberRole.INVESTIGATOR)
    assert _client(investigator).post(url).status_code == 403
    assert url not in _client(investigator).get(f"/cases/{ours.case.number}/").content.decode()
    assert _client(theirs.lead).get(url).status_code == 404


def test_groups_of_unknown_faces_are_listed_and_named_once() -> None:
    t = team()
    one = faces_item(t, encode(astronaut(), quality=90), "a.jpg")
    two = faces_item(t, _rotated(), "b.jpg")
    person(t.case, kind=PersonKind.SUSPECT, pseudonym="S-1", actor=t.lead)
    client = _client(t.lead)

    page = client.get(f"/cases/{t.case.number}/faces/")

    body = page.content.decode()
    assert page.status_code == 200 and f"/evidence/{one.pk}/" in body and f"/evidence/{two.pk}/" in body
    faces = [int(v) for v in re.findall(r'name="faces" value="(\d+)"', body)]
    assert len(faces) == 2
    named = client.post(f"/cases/{t.case.number}/faces/name/", {"faces": faces, "person": "S-1"})
    assert named.status_code == 302
    links = ItemPersonLink.objects.filter(person__pseudonym="S-1", person__case=t.case)
    assert sorted(link.item_id for link in links) == sorted([one.pk, two.pk])
    assert {link.confidence for link in links} == {LinkConfidence.SUSPECTED}
    support = t.member(CaseMemberRole.VICTIM_SUPPORT)
    assert _client(support).get(f"/cases/{t.case.number}/faces/").status_code == 403
