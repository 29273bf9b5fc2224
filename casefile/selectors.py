"""Need-to-know, in one place: which cases, items and content a user may see, and with what role.

The rule (docs/access.md has it as a table):
- membership first: a user sees a case, its items' metadata and custody only when on its team, or while an
  administrator's break-glass grant on it is live (read-only; never content). Superusers and staff get
  nothing else by their flag. Everyone else is told "not found", exactly as for a case that does not exist;
- role second: content and previews go to lead, investigator and analyst; a prosecutor sees only the items
  in the case's shared exhibits (metadata, custody, previews, content with a reason) and every other item
  of the case is "not found" to them; victim_support and auditor never receive content or previews;
- a reason for every look at content (``evidence.content``, ``evidence.previews`` check it and log it).

The vault-side pieces live in ``evidence.selectors`` (evidence must not import casefile) and are re-exported
here; every view, API view and command calls these functions rather than building its own queryset.
"""

from collections.abc import Collection

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from casefile.choices import CaseMemberRole
from casefile.models import BreakGlassGrant, Case
from evidence.selectors import (
    BREAK_GLASS_ROLE,
    CONTENT_ROLES,
    NO_CONTENT_ROLES,
    PROSECUTOR_ROLE,
    access_role_expression,
    case_access_role,
    case_custody_for,
    custody_events_for,
    evidence_get_for,
    evidence_visible_to,
    item_shared_with_prosecutor,
    live_grants,
    prosecuted_case_ids,
    shared_exhibit_item_ids,
    visible_case_ids,
)
from haetae.errors import AccessDenied, NotFound

__all__ = [
    "BREAK_GLASS_ROLE",
    "CONTENT_ROLES",
    "INGEST_ROLES",
    "LEAD_ROLES",
    "NO_CONTENT_ROLES",
    "PROSECUTOR_ROLE",
    "break_glass_grants_for",
    "case_access_role",
    "case_custody_for",
    "case_for_command",
    "case_get_for",
    "case_list",
    "case_require_role",
    "custody_events_for",
    "evidence_get_for",
    "evidence_visible_to",
    "item_shared_with_prosecutor",
    "live_grants",
    "prosecuted_case_ids",
    "shared_exhibit_item_ids",
    "visible_case_ids",
]

Caller = AbstractBaseUser | AnonymousUser

# Roles whose members may add evidence to a case; the others read, support or audit.
INGEST_ROLES = frozenset({CaseMemberRole.LEAD, CaseMemberRole.INVESTIGATOR, CaseMemberRole.ANALYST})
# Roles that see who broke the glass on their case.
LEAD_ROLES = frozenset({CaseMemberRole.LEAD})


def case_list(*, user: Caller, with_counts: bool = True) -> QuerySet[Case]:
    """The cases the user may see, each with ``caller_role`` and (unless ``with_counts`` is False)
    ``item_count`` (the items they may see) annotated.

    ``caller_role`` is the team role, or ``break_glass`` for an administrator under a live grant. Counting a
    case's items is a scan of its item index (tens of milliseconds at 100,000 items): pages that do not
    show the count leave it out.
    """
    if not user.is_authenticated:
        return Case.objects.none()
    cases = Case.objects.filter(pk__in=visible_case_ids(user=user)).annotate(
        caller_role=access_role_expression(user=user, case_ref="pk")
    )
    if with_counts:
        # Counts what the caller may see: a prosecutor only the items of shared exhibits.
        item_count = (
            evidence_visible_to(user=user)
            .filter(case_id=OuterRef("pk"))
            .order_by()
            .values("case_id")
            .annotate(total=Count("pk"))
            .values("total")
        )
        cases = cases.annotate(
            item_count=Coalesce(Subquery(item_count, output_field=IntegerField()), Value(0))
        )
    return cases.order_by("-opened_at", "number")


def case_get_for(*, user: Caller, number: str, with_counts: bool = True) -> Case:
    """The case with this number if the user may see it; otherwise NotFound, whether it exists or not."""
    case = case_list(user=user, with_counts=with_counts).filter(number=number).first()
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
        if role == BREAK_GLASS_ROLE:
            raise AccessDenied(
                f"you see case {case.number} through a break-glass grant, which is read-only; only team "
                f"members with the role {allowed} may {action}: ask the case lead to add you to the team"
            )
        raise AccessDenied(
            f"your role on case {case.number} is {role or 'none'}; only members with the role {allowed} "
            f"may {action}: ask the case lead to change your role if you need to"
        )


def break_glass_grants_for(*, user: Caller) -> QuerySet[BreakGlassGrant]:
    """Grants the user may see: their own, and every grant on the cases they lead."""
    if not user.is_authenticated:
        return BreakGlassGrant.objects.none()
    led = Case.objects.filter(members__user_id=user.pk, members__role__in=LEAD_ROLES).values("pk")
    return (
        BreakGlassGrant.objects.filter(user_id=user.pk) | BreakGlassGrant.objects.filter(case_id__in=led)
    ).select_related("case", "user", "ended_by")


def case_for_command(*, user: Caller, number: str, roles: Collection[str] | None, action: str) -> Case:
    """For a command acting for ``user``: the case if the user may ``action`` on it (any team role when
    ``roles`` is None), with ``caller_role`` annotated. The operator at the server is told plainly whether
    the case exists; the user's membership and role are checked as the API checks them."""
    if not Case.objects.filter(number=number).exists():
        raise NotFound(
            f"no case numbered {number!r}: list cases with the API (GET /api/v1/cases/) or create it with "
            "'manage.py create_case'"
        )
    case = case_list(user=user).filter(number=number).first()
    if case is None:
        username = user.get_username() if user.is_authenticated else "anonymous"
        raise AccessDenied(
            f"{username} is not on the team of case {number}, so cannot {action}: the case lead adds them "
            f"with 'manage.py add_member {number} {username} ROLE'"
        )
    if roles is not None:
        case_require_role(case=case, roles=roles, action=action)
    return case
