"""People, channels and item-person links; the face indexes."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from access.models import Case
from evidence.models import EvidenceItem
from parties.choices import ItemPersonRelation, LinkConfidence, PersonKind
from parties.faceindex import reset_face_indexes
from parties.models import Channel, ItemPersonLink, Person
from parties.services.people import Identity, person_record
from tests.factories.access import Team, UserFactory


def _number(pseudonym: str) -> int:
    """V-2 → 2: the per-case, per-kind number the pseudonym shows (unique with case and kind)."""
    return int(pseudonym.rsplit("-", 1)[-1])


def person(
    case: Case, *, pseudonym: str, kind: str = PersonKind.VICTIM, actor=None, minor: bool = False
) -> Person:
    """A person under a given pseudonym, made directly (the people services are tested with their code)."""
    return Person.objects.create(
        case=case,
        kind=kind,
        pseudonym=pseudonym,
        pseudonym_number=_number(pseudonym),
        is_minor=minor,
        created_by=actor or UserFactory(),  # type: ignore[misc]
    )


def victim(t: Team, *, identity: Identity | None = None, is_minor: bool = False) -> Person:
    return person_record(case=t.case, kind="victim", actor=t.lead, identity=identity, is_minor=is_minor)


def suspect(t: Team) -> Person:
    return person_record(case=t.case, kind="suspect", actor=t.lead)


def channel(t: Team, handle: str = "@deepfake_room") -> Channel:
    from parties.services.channels import channel_record

    return channel_record(case=t.case, platform="telegram", handle=handle, title="Room", actor=t.lead)


def link(item: EvidenceItem, victim: Person, *, confidence: str = LinkConfidence.CONFIRMED, actor=None):
    return ItemPersonLink.objects.create(
        item=item,
        person=victim,
        relation=ItemPersonRelation.DEPICTS,
        confidence=confidence,
        asserted_by=actor,
    )


IDENTITY = Identity(
    name="김지수",
    birth_date="2008-03-14",
    contact="010-1234-5678",
    identifiers=(("instagram", "@jisu.kim"),),
)


@pytest.fixture
def fresh_face_indexes(settings: Any, tmp_path: Path) -> Iterator[None]:
    """The face indexes start empty and are kept under this test's own DATA_DIR."""
    settings.DATA_DIR = tmp_path
    reset_face_indexes()
    yield
    reset_face_indexes()
