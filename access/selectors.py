"""Need-to-know, in one place: which cases, items and content a user may see, and with what role.

The rule (docs/access.md has it as a table):
- membership first: a user sees a case, its items' metadata and custody only when on its team, or while an
  administrator's break-glass grant on it is live (read-only; never content). Superusers and staff get
  nothing else by their flag. Everyone else is told "not found", exactly as for a case that does not exist;
- role second: content and previews go to lead, investigator and analyst; a prosecutor sees only the items
  in the case's shared exhibits (metadata, custody, previews, content with a reason) and every other item
  of the case is "not found" to them; victim_support and auditor never receive content or previews;
- a reason for every look at content (``evidence.content``, ``evidence.previews`` check it and log it).

Which items of a case a prosecutor may see comes from the exhibits app through ``access.hooks``; the vault
applies these rules to items and custody in ``evidence.selectors``. Every view, API view and command calls
these functions rather than building its own queryset.
"""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet

from access import hooks
from access.choices import CaseMemberRole
from access.models import BreakGlassGrant, Case, CaseMember, LegalAuthority, Offence
from access.policy import (
    POLICY,
    Action,
    Caller,
    _signed_in,
    access_role_expression,
    live_grants,
    require,
    user_pk,
)
from haetae.errors import AccessDenied, NotFound


def prosecuted_case_ids(*, user: Caller) -> QuerySet[Any]:
    """Ids of the cases on whose team the user is a prosecutor (who see shared exhibits' items only)."""
    if not _signed_in(user):
        return Case.objects.none().values("pk")
    return CaseMember.objects.filter(user_id=user_pk(user), role=CaseMemberRole.PROSECUTOR).values("case_id")


def shared_exhibit_item_ids(*, user: Caller) -> QuerySet[Any]:
    """Ids of the items in shared (not withdrawn) exhibits of the cases the user prosecutes."""
    return hooks.shared_item_ids(prosecuted_case_ids(user=user))


def item_shared_with_prosecutor(*, item_id: int, case_id: int) -> bool:
    """Whether the item is in a shared exhibit of its case (what a prosecutor member may see of it)."""
    return hooks.item_in_shared_exhibit(
        item_id=item_id, case_ids=Case.objects.filter(pk=case_id).values("pk")
    )


def visible_case_ids(*, user: Caller) -> QuerySet[Any]:
    """Ids of the cases the user may see: those whose team they are on, and those of their live grants."""
    if not _signed_in(user):
        return Case.objects.none().values("pk")
    on_team = CaseMember.objects.filter(user_id=user_pk(user)).values("case_id")
    granted = live_grants(user=user).values("case_id")
    return Case.objects.filter(Q(pk__in=on_team) | Q(pk__in=granted)).values("pk")


def case_list(*, user: Caller, with_counts: bool = False) -> QuerySet[Case]:
    """The cases the user may see, each with ``caller_role`` and, ``with_counts``, ``item_count`` (the items
    they may see) annotated.

    ``caller_role`` is the team role, or ``break_glass`` for an administrator under a live grant. Counting a
    case's items is a scan of its item index (tens of milliseconds at 100,000 items), for every case listed:
    only what shows the count asks for it (the case API's list and detail, the dashboard).
    """
    if not user.is_authenticated:
        return Case.objects.none()
    cases = (
        Case.objects.filter(pk__in=visible_case_ids(user=user))
        .select_related("unit")
        .annotate(caller_role=access_role_expression(user=user, case_ref="pk"))
    )
    if with_counts:
        cases = hooks.case_list_annotate(cases, user)
    return cases.order_by("-opened_at", "number")


def _case_numbered(*, user: Caller, number: str) -> Case | None:
    """The case with this number, with ``caller_role`` annotated, if the user may see it (the rule of
    ``case_list``, asked of one row: a role, team or break-glass, is what makes a case visible)."""
    if not _signed_in(user):
        return None
    case = (
        Case.objects.filter(number=number)
        .select_related("unit")
        .annotate(caller_role=access_role_expression(user=user, case_ref="pk"))
        .first()
    )
    return case if case is not None and case.caller_role is not None else None


def case_get_for(*, user: Caller, number: str) -> Case:
    """The case with this number if the user may see it, with ``caller_role``; otherwise NotFound, whether it
    exists or not. Every case-scoped request passes through here, so it asks for the one row by its number
    with the caller's role on it, rather than filtering the list of the caller's cases (4.9 → 2.9 ms a call
    on PostgreSQL, mostly Python building the query), and without ``item_count`` (a scan of the case's item
    index)."""
    case = _case_numbered(user=user, number=number)
    if case is None:
        raise NotFound(
            f"no case numbered {number!r} among your cases: check the number, or ask the case lead to add "
            "you to the team"
        )
    return case


def break_glass_grants_for(*, user: Caller) -> QuerySet[BreakGlassGrant]:
    """Grants the user may see: their own, and every grant on the cases they lead."""
    if not user.is_authenticated:
        return BreakGlassGrant.objects.none()
    led = Case.objects.filter(
        members__user_id=user_pk(user), members__role__in=POLICY[Action.BREAK_GLASS_SEE]
    ).values("pk")
    return (
        BreakGlassGrant.objects.filter(user_id=user_pk(user))
        | BreakGlassGrant.objects.filter(case_id__in=led)
    ).select_related("case", "user", "ended_by")


def case_for_command(*, user: Caller, number: str, action: Action | None, doing: str) -> Case:
    """For a command acting for ``user``: the case if the user may take ``action`` on it (any team role when
    ``action`` is None), with ``caller_role`` annotated; ``doing`` words a refusal. The operator at the
    server is told plainly whether the case exists; membership and role are checked as the API checks them."""
    if not Case.objects.filter(number=number).exists():
        raise NotFound(
            f"no case numbered {number!r}: list cases with the API (GET /api/v1/cases/) or create it with "
            "'manage.py create_case'"
        )
    case = _case_numbered(user=user, number=number)
    if case is None:
        username = user.get_username() if user.is_authenticated else "anonymous"
        raise AccessDenied(
            f"{username} is not on the team of case {number}, so cannot {doing}: the case lead adds them "
            f"with 'manage.py add_member {number} {username} ROLE'"
        )
    if action is not None:
        require(case=case, action=action, doing=doing)
    return case


def case_for(
    *,
    user: AbstractBaseUser | AnonymousUser,
    number: str,
    action: Action | None = None,
    doing: str | None = None,
) -> Case:
    """The caller's case (NotFound for non-members); AccessDenied unless their role may take ``action``."""
    case = case_get_for(user=user, number=number)
    if action is not None:
        require(case=case, action=action, doing=doing)
    return case


def offence_list() -> QuerySet[Offence]:
    """The offence table (reference data, the same for everyone)."""
    return Offence.objects.all()


def member_list(*, case: Case) -> QuerySet[CaseMember]:
    return (
        CaseMember.objects.filter(case=case)
        .select_related("user", "added_by", "via_unit")
        .order_by("added_at", "id")
    )


def member_get(*, case: Case, username: str) -> CaseMember:
    member = member_list(case=case).filter(user__username=username).first()
    if member is None:
        raise NotFound(f"{username!r} is not on the team of case {case.number}")
    return member


def legal_authority_list(*, case: Case) -> QuerySet[LegalAuthority]:
    return LegalAuthority.objects.filter(case=case).select_related("recorded_by")


def legal_authority_get(*, case: Case, authority_id: int) -> LegalAuthority:
    authority = legal_authority_list(case=case).filter(pk=authority_id).first()
    if authority is None:
        raise NotFound(f"no legal authority {authority_id} in case {case.number}")
    return authority
