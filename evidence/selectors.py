"""Reads on the vault, filtered by who asks: items and custody of the cases the user may see.

The need-to-know rule has one home, ``casefile.selectors``; this module holds the pieces of it that the vault
needs (which cases a user may see, with what role) so that evidence does not depend on casefile. Cases are
named by lookups (``members__user_id``, ``break_glass_grants__…``) on the model ``EvidenceItem.case`` points
to, never imported. Role names are the values of ``casefile.choices.CaseMemberRole``; a test checks they
agree.

Prosecutors are need-to-know within their case: a prosecutor member sees only the items of the case's
exhibits whose status is ``shared`` (withdrawn ones drop out), read through the model
``casefile.ExhibitItem`` by name (``apps.get_model``); every other item of the case is "not found" to them,
exactly like an item of another case.
"""

from datetime import timedelta
from typing import Any

from django.apps import apps
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
# ExhibitStatus value under which an exhibit's items are visible to the case's prosecutors.
EXHIBIT_SHARED = "shared"
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


def _exhibit_item_model() -> Any:
    return apps.get_model("casefile", "ExhibitItem")


def prosecuted_case_ids(*, user: Caller) -> QuerySet[Any]:
    """Ids of the cases on whose team the user is a prosecutor (who see shared exhibits' items only)."""
    if not _signed_in(user):
        return _case_model().objects.none().values("pk")
    return _member_model().objects.filter(user_id=user.pk, role=PROSECUTOR_ROLE).values("case_id")


def shared_exhibit_item_ids(*, user: Caller) -> QuerySet[Any]:
    """Ids of the items in shared (not withdrawn) exhibits of the cases the user prosecutes."""
    return (
        _exhibit_item_model()
        .objects.filter(exhibit__status=EXHIBIT_SHARED, exhibit__case_id__in=prosecuted_case_ids(user=user))
        .values("item_id")
    )


def item_shared_with_prosecutor(*, item_id: int, case_id: int) -> bool:
    """Whether the item is in a shared exhibit of its case (what a prosecutor member may see of it)."""
    return bool(
        _exhibit_item_model()
        .objects.filter(item_id=item_id, exhibit__case_id=case_id, exhibit__status=EXHIBIT_SHARED)
        .exists()
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
    """Items of the cases the user may see (team or live grant), each once; on a case where the user is the
    prosecutor, only the items of its shared exhibits."""
    if not _signed_in(user):
        return EvidenceItem.objects.none()
    whole_cases = visible_case_ids(user=user).exclude(pk__in=prosecuted_case_ids(user=user))
    return EvidenceItem.objects.filter(
        Q(case_id__in=whole_cases) | Q(pk__in=shared_exhibit_item_ids(user=user))
    )


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
    """The item's custody events in ledger order, empty unless the user may see the item."""
    if not _signed_in(user):
        return CustodyEvent.objects.none()
    return CustodyEvent.objects.filter(
        item_id=item.pk, item_id__in=evidence_visible_to(user=user).values("pk")
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


def case_custody_for(*, user: Caller, case_id: int) -> QuerySet[CustodyEvent]:
    """The case-level custody events (no item) of a case the user may see, in ledger order.

    A prosecutor sees only the events of the case's shared exhibits (the other case-level events name
    items and steps of the investigation that are not theirs to see)."""
    if not _signed_in(user):
        return CustodyEvent.objects.none()
    events = CustodyEvent.objects.filter(
        case_id=case_id, item__isnull=True, case_id__in=visible_case_ids(user=user)
    )
    if prosecuted_case_ids(user=user).filter(case_id=case_id).exists():
        shared = (
            apps.get_model("casefile", "Exhibit")
            .objects.filter(case_id=case_id, status=EXHIBIT_SHARED)
            .values_list("number", flat=True)
        )
        events = events.filter(action__startswith="exhibit_", details__exhibit__in=list(shared))
    return events.order_by("seq")
