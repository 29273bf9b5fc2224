"""What the ground floor needs from the apps above it, provided by them at start-up (inversion of control).

Access sits below every other app and imports none of them. Three things it needs live higher up; each app
that owns one registers its function here in its ``AppConfig.ready()``, so the arrow stays downward:

- ``case_events_write`` — the custody ledger (``evidence``) records case-level events: opening a case,
  team and status changes, legal authorities, break-glass. Access services call it inside their own
  transaction, so the event commits or rolls back with the change, exactly as a direct call would.
- ``shared_item_ids`` / ``shared_exhibit_numbers`` — the prosecutor rule ("a prosecutor sees only the items
  of the case's shared exhibits") needs exhibits, which live in ``exhibits``. Without it registered a
  prosecutor sees no item at all (fail closed).
- ``case_list_annotate`` — the case list's ``item_count`` (the items the caller may see) is the vault's to
  count (``evidence``). Without it the count is left out.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet


@dataclass(frozen=True)
class CaseEvent:
    """A case-level custody event (no item) for the ledger to append: what happened, by whom, and why."""

    case_id: int
    action: str
    actor: Any
    details: dict[str, Any] = field(default_factory=dict)
    purpose: str = ""
    # None: the actor's role on the case, as the ledger looks it up.
    actor_role: str | None = None


CaseEventWriter = Callable[[Sequence[CaseEvent]], None]
# Given a queryset of case ids, the ids (``values("item_id")``) of the items in those cases' shared exhibits.
SharedItemIds = Callable[[QuerySet[Any]], QuerySet[Any]]
# Given a case id, the numbers of its shared exhibits.
SharedExhibitNumbers = Callable[[int], list[str]]
# Given the caller's cases and the caller, the same cases with more annotated.
CaseListAnnotator = Callable[[QuerySet[Any], Any], QuerySet[Any]]


class _Provided:
    case_event_writer: CaseEventWriter | None = None
    shared_item_ids: SharedItemIds | None = None
    shared_exhibit_numbers: SharedExhibitNumbers | None = None
    case_list_annotator: CaseListAnnotator | None = None


def provide_case_event_writer(writer: CaseEventWriter) -> None:
    _Provided.case_event_writer = writer


def provide_shared_items(*, item_ids: SharedItemIds, exhibit_numbers: SharedExhibitNumbers) -> None:
    _Provided.shared_item_ids = item_ids
    _Provided.shared_exhibit_numbers = exhibit_numbers


def provide_case_list_annotator(annotator: CaseListAnnotator) -> None:
    _Provided.case_list_annotator = annotator


def case_events_write(events: Sequence[CaseEvent]) -> None:
    """Append case-level events to the custody ledger, in the caller's transaction."""
    writer = _Provided.case_event_writer
    if writer is None:
        raise ImproperlyConfigured(
            "no custody ledger is registered: add 'evidence' to INSTALLED_APPS (its AppConfig provides it)"
        )
    writer(events)


def shared_item_ids(case_ids: QuerySet[Any]) -> QuerySet[Any]:
    """Ids of the items in the shared exhibits of ``case_ids``; none when no exhibits app provides them."""
    if _Provided.shared_item_ids is None:
        return case_ids.none()
    return _Provided.shared_item_ids(case_ids)


def item_in_shared_exhibit(*, item_id: int, case_ids: QuerySet[Any]) -> bool:
    """Whether the item is in a shared exhibit of one of ``case_ids`` (never without an exhibits app)."""
    if _Provided.shared_item_ids is None:
        return False
    return bool(_Provided.shared_item_ids(case_ids).filter(item_id=item_id).exists())


def shared_exhibit_numbers(case_id: int) -> list[str]:
    """Numbers of the case's shared exhibits; none when no exhibits app provides them."""
    if _Provided.shared_exhibit_numbers is None:
        return []
    return _Provided.shared_exhibit_numbers(case_id)


def case_list_annotate(cases: QuerySet[Any], user: Any) -> QuerySet[Any]:
    """The caller's cases with what the apps above annotate (the vault: ``item_count``)."""
    if _Provided.case_list_annotator is None:
        return cases
    return _Provided.case_list_annotator(cases, user)
