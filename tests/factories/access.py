"""Users, cases, teams, memberships, break-glass grants and OTP-verified sessions."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from access.choices import CaseMemberRole, GlobalRole
from access.models import BreakGlassGrant, Case, CaseMember
from access.services import case_create


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"officer{n}")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:  # persist the password set after creation, so logins and sessions work
            instance.save()


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case

    number = factory.Sequence(lambda n: f"2024-SEOUL-{n:04d}")
    title = factory.Sequence(lambda n: f"Deepfake distribution channel {n}")


class CaseMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaseMember

    case = factory.SubFactory(CaseFactory)
    user = factory.SubFactory(UserFactory)
    role = CaseMemberRole.INVESTIGATOR


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


def supervisor(t: Team, role: str = CaseMemberRole.INVESTIGATOR) -> User:
    """A user holding the supervisor global role, on the team with ``role``."""
    user = new_user()
    user.groups.add(Group.objects.get(name=GlobalRole.SUPERVISOR))
    return t.member(role, user=user)


@dataclass
class FullTeam:
    case: Case
    lead: object
    investigator: object
    analyst: object
    prosecutor: object
    support: object
    support2: object
    auditor: object

    def by_role(self, role: str):
        roles: dict[str, object] = {
            CaseMemberRole.LEAD: self.lead,
            CaseMemberRole.INVESTIGATOR: self.investigator,
            CaseMemberRole.ANALYST: self.analyst,
            CaseMemberRole.PROSECUTOR: self.prosecutor,
            CaseMemberRole.VICTIM_SUPPORT: self.support,
            CaseMemberRole.AUDITOR: self.auditor,
        }
        return roles[role]


def full_team(case: Case | None = None) -> FullTeam:
    """A case (made directly, without case_create's custody event) with one member of every role and two
    support workers; ``team`` is the one for a case opened through the service by its lead."""
    the_case: Case = case or CaseFactory()  # type: ignore[assignment]
    members = {}
    for name, role in [
        ("lead", CaseMemberRole.LEAD),
        ("investigator", CaseMemberRole.INVESTIGATOR),
        ("analyst", CaseMemberRole.ANALYST),
        ("prosecutor", CaseMemberRole.PROSECUTOR),
        ("support", CaseMemberRole.VICTIM_SUPPORT),
        ("support2", CaseMemberRole.VICTIM_SUPPORT),
        ("auditor", CaseMemberRole.AUDITOR),
    ]:
        members[name] = CaseMemberFactory(case=the_case, role=role, user=UserFactory()).user
    return FullTeam(case=the_case, **members)


def verified_login(client: Client, user: Any) -> TOTPDevice:
    """Sign ``user`` in on ``client`` as if with a TOTP code: the session names a confirmed device."""
    user = get_user_model().objects.get(pk=user.pk)  # reloaded: the session hash must match the stored one
    device = TOTPDevice.objects.filter(user=user).first() or TOTPDevice.objects.create(
        user=user, name="default", confirmed=True
    )
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


def portal_client(user: Any) -> Client:
    """A browser signed in as ``user`` with a confirmed second factor (``verified_login``)."""
    client = Client()
    verified_login(client, user)
    return client


def api_client(user: Any) -> APIClient:
    """An API client authenticated as ``user``."""
    client = APIClient()
    client.force_authenticate(user)
    return client


def live_grant(*, case: Case, user: Any, minutes: int = 30, reason: str = "test grant") -> BreakGlassGrant:
    """A live grant made directly (the service and its custody event are tested in test_breakglass.py)."""
    now = timezone.now()
    return BreakGlassGrant.objects.create(
        case=case, user=user, reason=reason, granted_at=now, expires_at=now + timedelta(minutes=minutes)
    )
