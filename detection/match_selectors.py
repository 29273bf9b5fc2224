"""Reads on hash banks, matches and match alerts, filtered by who asks.

Need-to-know for matches: a user sees a match when they can see at least one of its two sides (through
``evidence_visible_to``). What they learn about a side they cannot see is only that it exists and whom to
ask — the other case's lead (name) and unit — never its case number, items, file names, digests or
content. ``match_view`` builds that per-viewer picture; serializers only shape it.
"""

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet

from access.models import Case
from access.policy import Action, case_memberships, role_may
from access.selectors import case_list
from detection.models import HashBank, Match, MatchAlert
from evidence.selectors import evidence_visible_to
from haetae.errors import AccessDenied

Caller = AbstractBaseUser | AnonymousUser


def is_bank_admin(user: Caller) -> bool:
    """Administrators (staff or superusers) manage hash banks."""
    return bool(
        user.is_authenticated and (getattr(user, "is_staff", False) or getattr(user, "is_superuser", False))
    )


def visible_case_ids(user: Caller) -> set[int]:
    """Ids of the cases the user may see (the need-to-know rule of access.selectors)."""
    return set(case_list(user=user).values_list("pk", flat=True))


def hash_bank_list(*, user: Caller) -> QuerySet[HashBank]:
    """Every bank, for administrators and for investigators (lead, investigator, analyst on some case)."""
    if not user.is_authenticated:
        return HashBank.objects.none()
    if (
        not is_bank_admin(user)
        and not case_memberships(action=Action.BANK_MATCHES_SEE).filter(user_id=user.pk).exists()
    ):
        raise AccessDenied(
            "hash banks are listed for administrators and for investigators on a case team; ask an "
            "administrator if you need them"
        )
    return HashBank.objects.select_related("case").order_by("name")


def hash_bank_require_manager(*, user: Caller, bank: HashBank | None = None) -> None:
    """Administrators manage every bank; the lead of a victim's bank's case may add to that bank."""
    if is_bank_admin(user):
        return
    if (
        bank is not None
        and bank.case_id is not None
        and case_memberships(action=Action.VICTIM_BANK_CHANGE)
        .filter(case_id=bank.case_id, user_id=int(user.pk or 0))
        .exists()
    ):
        return
    raise AccessDenied(
        "only administrators manage hash banks (and a case lead the victim's bank of their case): ask an "
        "administrator"
    )


def _match_rows(sides: Q) -> QuerySet[Match]:
    """The matches ``sides`` selects, newest first, with the items, cases, entry and banks a row names."""
    return (
        Match.objects.filter(sides)
        .select_related(
            "item",
            "item__case",
            "other_item",
            "other_item__case",
            "entry",
            "entry__bank",
            "suppressed_by__bank",
        )
        .order_by("-matched_at", "-id")
    )


def match_list(*, user: Caller) -> QuerySet[Match]:
    """Matches of which the user can see at least one side."""
    if not user.is_authenticated:
        return Match.objects.none()
    visible = evidence_visible_to(user=user).values("pk")
    return _match_rows(Q(item_id__in=visible) | Q(other_item_id__in=visible))


def match_list_for_item(*, user: Caller, item_id: int) -> QuerySet[Match]:
    """The matches of one item, when the user may see it (then every match of it, by the rule above).

    The same rows as ``match_list(...).filter(item or other_item = item_id)``, without the OR of two
    visibility subqueries that makes PostgreSQL hash every visible item (a third of a second at 100,000).
    """
    if not evidence_visible_to(user=user).filter(pk=item_id).exists():
        return Match.objects.none()
    return _match_rows(Q(item_id=item_id) | Q(other_item_id=item_id))


def match_alert_list(*, user: Caller) -> QuerySet[MatchAlert]:
    """The user's own match alerts, newest first."""
    if not user.is_authenticated:
        return MatchAlert.objects.none()
    return MatchAlert.objects.filter(recipient_id=user.pk).select_related(
        "case",
        "match",
        "match__item",
        "match__item__case",
        "match__other_item",
        "match__other_item__case",
        "match__entry",
        "match__entry__bank",
        "match__suppressed_by__bank",
    )


def case_contacts(case_id: int) -> list[dict[str, str]]:
    """Whom to ask about a case one may not see: its leads' names and the case's unit. Nothing else."""
    case = Case.objects.filter(pk=case_id).first()
    unit = str(getattr(case, "unit", "") or "")
    leads = case_memberships(action=Action.MATCH_ALERTS).filter(case_id=case_id).select_related("user")
    contacts = [{"name": m.user.get_full_name() or m.user.get_username(), "unit": unit} for m in leads]
    return contacts or [{"name": "", "unit": unit}]


@dataclass
class Side:
    """One side of a match as a viewer may see it."""

    visible: bool
    item_id: int | None = None
    case_number: str | None = None
    original_name: str | None = None
    contacts: list[dict[str, str]] = field(default_factory=list)


def pseudonymised_case_ids(user: Caller) -> set[int]:
    """Ids of the cases where the user does not see item records (victim support): items there are
    references (item-ID), no names."""
    roles = case_list(user=user).values_list("pk", "caller_role")  # type: ignore[misc]
    return {case_id for case_id, role in roles if not role_may(role, Action.ITEM_RECORDS)}


def item_side(item: Any, visible_cases: set[int], pseudonymised_cases: set[int]) -> Side:
    """An item as the viewer may see it: whole in a visible case, only whom to ask in any other (also used
    by the face search across cases, parties.facesearch)."""
    if item.case_id in visible_cases:
        name = f"item-{item.pk}" if item.case_id in pseudonymised_cases else item.original_name
        return Side(True, item.pk, item.case.number, name)
    return Side(False, contacts=case_contacts(item.case_id))


def match_view(
    match: Match, *, visible_cases: set[int], pseudonymised_cases: set[int] | None = None
) -> dict[str, Any]:
    """The match as this viewer may see it (``visible_cases``: ``visible_case_ids(user)``;
    ``pseudonymised_cases``: ``pseudonymised_case_ids(user)``, where items show no file name)."""
    hidden = pseudonymised_cases or set()
    body: dict[str, Any] = {
        "id": match.pk,
        "kind": match.kind,
        "distance": match.distance,
        "orientation": match.orientation,
        "threshold": match.threshold,
        "index_version": match.index_version,
        "matched_at": match.matched_at,
        "suppressed": match.suppressed_by_id is not None,
        "suppressed_by_bank": match.suppressed_by.bank.name if match.suppressed_by is not None else None,
        "item": item_side(match.item, visible_cases, hidden).__dict__,
        "other_item": None,
        "bank_entry": None,
    }
    if match.other_item_id is not None:
        body["other_item"] = item_side(match.other_item, visible_cases, hidden).__dict__
    if match.entry is not None:
        bank = match.entry.bank
        own = bank.case_id is None or bank.case_id in visible_cases
        body["bank_entry"] = {
            "id": match.entry.pk,
            "bank": bank.name,
            "bank_kind": bank.kind,
            # A victim's bank of a case the viewer cannot see: only that it exists and whom to ask.
            "label": match.entry.label if own else None,
            "source": match.entry.source if own else None,
            "contacts": [] if own else case_contacts(bank.case_id) if bank.case_id else [],
        }
    return body
