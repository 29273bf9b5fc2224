"""Reads on cases, filtered by who asks: a user sees only the cases whose team they are on."""

from collections.abc import Collection

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from casefile.choices import CaseMemberRole
from casefile.models import Case, CaseMember
from evidence.models import EvidenceItem
from haetae.errors import AccessDenied, NotFound

# Roles whose members may add evidence to a case; the others read, support or audit.
INGEST_ROLES = frozenset({CaseMemberRole.LEAD, CaseMemberRole.INVESTIGATOR, CaseMemberRole.ANALYST})


def case_list(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Case]:
    """The cases the user is a member of, each with ``caller_role`` and ``item_count`` annotated."""
    if not user.is_authenticated:
        return Case.objects.none()
    membership = CaseMember.objects.filter(case_id=OuterRef("pk"), user_id=user.pk)
    item_count = (
        EvidenceItem.objects.filter(case_id=OuterRef("pk"))
        .order_by()
        .values("case_id")
        .annotate(total=Count("pk"))
        .values("total")
    )
    return (
        Case.objects.filter(members__user_id=user.pk)
        .annotate(
            caller_role=Subquery(membership.values("role")[:1]),
            item_count=Coalesce(Subquery(item_count, output_field=IntegerField()), Value(0)),
        )
        .order_by("-opened_at", "number")
    )


def case_get_for(*, user: AbstractBaseUser | AnonymousUser, number: str) -> Case:
    """The case with this number if the user is on its team; otherwise NotFound, whether it exists or not."""
    case = case_list(user=user).filter(number=number).first()
    if case is None:
        raise NotFound(
            f"no case numbered {number!r} among your cases: check the number, or ask the case lead to add "
            "you to the team"
        )
    return case


def case_require_role(*, case: Case, roles: Collection[str], action: str) -> None:
    """Raise AccessDenied unless the caller's role on ``case`` (from ``case_get_for``) is one of ``roles``."""
    role = getattr(case, "caller_role", None)
    if role not in roles:
        allowed = ", ".join(sorted(str(r) for r in roles))
        raise AccessDenied(
            f"your role on case {case.number} is {role or 'none'}; only members with the role {allowed} "
            f"may {action}: ask the case lead to change your role if you need to"
        )
