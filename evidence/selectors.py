"""Reads on the vault, filtered by who asks: items and custody of the cases the user may see.

The need-to-know rule has one home, ``casefile.selectors``; this module holds the pieces of it that the vault
needs (which cases a user may see, with what role) so that evidence does not depend on casefile. Cases are
named by lookups (``members__user_id``, ``break_glass_grants__…``) on the model ``EvidenceItem.case`` points
to, never imported. Role names are the values of ``casefile.choices.CaseMemberRole``; a test checks they
agree.
"""

from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from evidence.models import CustodyEvent, EvidenceItem
from haetae.errors import NotFound

Caller = AbstractBaseUser | AnonymousUser

# Team roles (CaseMemberRole values) that may look at content and previews, with a stated reason.
CONTENT_ROLES = frozenset({"lead", "investigator", "analyst"})
# Team roles that never receive content or previews, whatever reason they give.
NO_CONTENT_ROLES = frozenset({"victim_support", "auditor"})
PROSECUTOR_ROLE = "prosecutor"
# Sees items only as pseudonymised references with hashes: no names, paths or custody (which names them).
VICTIM_SUPPORT_ROLE = "victim_support"
# Not a team role: an administrator holding a live break-glass grant on the case (read-only, no content).
BREAK_GLASS_ROLE = "break_glass"


def _case_model() -> Any:
    return EvidenceItem._meta.get_field("case").related_model


def _member_model() -> Any:
    return _case_model()._meta.get_field("members").related_model


def _grant_model() -> Any:
    return _case_model()._meta.get_field("break_glass_grants").related_model


def _signed_in(user: Caller) -> bool:
    return bool(user.is_authenticated and getattr(user, "is_active", False))


def live_grants(*, user: Caller) -> QuerySet[Any]:
    """The user's break-glass grants that have neither expired nor been ended."""
    if not _signed_in(user):
        return _grant_model().objects.none()
    return _grant_model().objects.filter(
        user_id=user.pk, ended_at__isnull=True, expires_at__gt=timezone.now()
    )


def visible_case_ids(*, user: Caller) -> QuerySet[Any]:
    """Ids of the cases the user may see: those whose team they are on, and those of their live grants."""
    if not _signed_in(user):
        return _case_model().objects.none().values("pk")
    on_team = _member_model().objects.filter(user_id=user.pk).values("case_id")
    granted = live_grants(user=user).values("case_id")
    return _case_model().objects.filter(Q(pk__in=on_team) | Q(pk__in=granted)).values("pk")


def access_role_expression(*, user: Caller, case_ref: str) -> Coalesce:
    """An SQL expression for the user's role on the case at ``case_ref`` (an OuterRef path to a case id):
    the team role, else ``break_glass`` under a live grant, else NULL."""
    team_role = _member_model().objects.filter(case_id=OuterRef(case_ref), user_id=user.pk).values("role")[:1]
    granted = live_grants(user=user).filter(case_id=OuterRef(case_ref))
    return Coalesce(
        Subquery(team_role),
        Case(When(Exists(granted), then=Value(BREAK_GLASS_ROLE)), default=Value(None)),
    )


def case_access_role(*, user: Caller, case_id: int) -> str | None:
    """The user's role on one case: team role, ``break_glass`` under a live grant, or None (no access)."""
    if not _signed_in(user):
        return None
    role = _member_model().objects.filter(case_id=case_id, user_id=user.pk).values_list("role", flat=True)
    found = role.first()
    if found:
        return str(found)
    return BREAK_GLASS_ROLE if live_grants(user=user).filter(case_id=case_id).exists() else None


def evidence_visible_to(*, user: Caller) -> QuerySet[EvidenceItem]:
    """Items of the cases the user may see (team or live grant), each once."""
    if not _signed_in(user):
        return EvidenceItem.objects.none()
    return EvidenceItem.objects.filter(case_id__in=visible_case_ids(user=user))


def evidence_get_for(*, user: Caller, item_id: int) -> EvidenceItem:
    """One visible item with its blob, acquisition, case, ``children_count`` and ``caller_role``.

    NotFound otherwise, with the same message whether the item exists in another case or not at all.
    """
    children = (
        EvidenceItem.objects.filter(parent_id=OuterRef("pk"))
        .order_by()
        .values("parent_id")
        .annotate(total=Count("pk"))
        .values("total")
    )
    item = None
    if _signed_in(user):
        item = (
            evidence_visible_to(user=user)
            .select_related("blob", "case", "acquisition", "acquisition__actor")
            .annotate(
                children_count=Coalesce(Subquery(children, output_field=IntegerField()), Value(0)),
                caller_role=access_role_expression(user=user, case_ref="case_id"),
            )
            .filter(pk=item_id)
            .first()
        )
    if item is None:
        raise NotFound(
            f"no evidence item {item_id} in your cases: check the id, or ask the case lead to add you to "
            "the team"
        )
    return item


def custody_events_for(*, user: Caller, item: EvidenceItem) -> QuerySet[CustodyEvent]:
    """The item's custody events in ledger order, empty unless the user may see the item's case."""
    if not _signed_in(user):
        return CustodyEvent.objects.none()
    return CustodyEvent.objects.filter(item_id=item.pk, case_id__in=visible_case_ids(user=user)).order_by(
        "seq"
    )


def case_custody_for(*, user: Caller, case_id: int) -> QuerySet[CustodyEvent]:
    """The case-level custody events (no item) of a case the user may see, in ledger order."""
    if not _signed_in(user):
        return CustodyEvent.objects.none()
    return CustodyEvent.objects.filter(
        case_id=case_id, item__isnull=True, case_id__in=visible_case_ids(user=user)
    ).order_by("seq")


def exposure_for(*, user: Caller, days: int = 7) -> dict[str, int]:
    """The user's own content views in the last ``days`` days: ``viewed`` events and distinct items.

    Only the caller's own record (their exposure to harmful material), so no case filter is needed.
    """
    if not _signed_in(user):
        return {"views": 0, "items": 0}
    since = timezone.now() - timedelta(days=days)
    views = CustodyEvent.objects.filter(actor_id=user.pk, action="viewed", occurred_at__gte=since)
    counts = views.aggregate(views=Count("pk"), items=Count("item_id", distinct=True))
    return {"views": int(counts["views"] or 0), "items": int(counts["items"] or 0)}
