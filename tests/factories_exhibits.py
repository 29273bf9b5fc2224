"""Helpers for exhibit tests: supervisors, and exhibits taken through the real services to a status."""

from collections.abc import Sequence

from django.contrib.auth.models import Group, User

from access.choices import CaseMemberRole, GlobalRole
from evidence.models import EvidenceItem
from exhibits.models import Exhibit
from exhibits.services import exhibit_approve, exhibit_create, exhibit_share, exhibit_withdraw
from tests.factories_cases import Team, new_user


def supervisor(t: Team, role: str = CaseMemberRole.INVESTIGATOR) -> User:
    """A user holding the supervisor global role, on the team with ``role``."""
    user = new_user()
    user.groups.add(Group.objects.get(name=GlobalRole.SUPERVISOR))
    return t.member(role, user=user)


def exhibit_to(
    t: Team,
    items: Sequence[EvidenceItem],
    status: str = "shared",
    description: str = "Photos posted in the room",
    approver: User | None = None,
) -> Exhibit:
    """An exhibit of ``items`` drafted by the lead and taken through the services to ``status``
    (draft, approved, shared or withdrawn)."""
    exhibit = exhibit_create(
        case=t.case, item_ids=[i.pk for i in items], description=description, actor=t.lead
    )
    if status == "draft":
        return exhibit
    exhibit = exhibit_approve(exhibit=exhibit, actor=approver or supervisor(t))
    if status == "approved":
        return exhibit
    exhibit = exhibit_share(exhibit=exhibit, actor=t.lead)
    if status == "shared":
        return exhibit
    assert status == "withdrawn", status
    return exhibit_withdraw(exhibit=exhibit, actor=t.lead, reason="the wrong photo")
