"""Helpers for the cases tests: a case with a lead, team members, people, channels and items."""

from dataclasses import dataclass
from typing import Any, cast

from django.contrib.auth.models import Group, User

from access.choices import CaseMemberRole, GlobalRole
from access.models import Case, CaseMember
from access.services import case_create
from evidence.models import EvidenceItem
from parties.models import Channel, Person
from parties.services.people import Identity, person_record
from support.models import SupportFile
from tests.factories import CaseMemberFactory, UserFactory, stored_item

_counter = {"n": 0}


def new_user(**fields: Any) -> User:
    """A saved user (typed: factory_boy's factories are typed as the factory)."""
    return cast(User, UserFactory(**fields))


def case_opener(**fields: Any) -> User:
    """A saved user whose global role may open cases (case_create checks it)."""
    user = new_user(**fields)
    user.groups.add(Group.objects.get_or_create(name=GlobalRole.INVESTIGATOR)[0])
    return user


@dataclass
class Team:
    case: Case
    lead: User

    def member(self, role: str = CaseMemberRole.INVESTIGATOR, user: User | None = None) -> User:
        """A user on this case's team with ``role`` (added directly: membership services are tested apart)."""
        membership = cast(
            CaseMember, CaseMemberFactory(case=self.case, role=role, **({"user": user} if user else {}))
        )
        return membership.user


def team(number: str | None = None, **case_fields: Any) -> Team:
    """A case opened through case_create by a fresh lead."""
    _counter["n"] += 1
    lead = case_opener()
    case = case_create(
        number=number or f"2024-TEST-{_counter['n']:04d}", title="Deepfake channel", actor=lead, **case_fields
    )
    return Team(case=case, lead=lead)


def victim(t: Team, *, identity: Identity | None = None, is_minor: bool = False) -> Person:
    return person_record(case=t.case, kind="victim", actor=t.lead, identity=identity, is_minor=is_minor)


def suspect(t: Team) -> Person:
    return person_record(case=t.case, kind="suspect", actor=t.lead)


def assign_worker(person: Person, worker: Any) -> SupportFile:
    return SupportFile.objects.create(person=person, assigned_worker=worker)


def item(t: Team, data: bytes = b"photo bytes", name: str = "photo.jpg") -> EvidenceItem:
    return stored_item(case=t.case, data=data, actor=t.lead, name=name)


def channel(t: Team, handle: str = "@deepfake_room") -> Channel:
    from parties.services.channels import channel_record

    return channel_record(case=t.case, platform="telegram", handle=handle, title="Room", actor=t.lead)


IDENTITY = Identity(
    name="김지수",
    birth_date="2008-03-14",
    contact="010-1234-5678",
    identifiers=(("instagram", "@jisu.kim"),),
)
