"""Retention: when a case's evidence becomes due for review for destruction (never while it is on hold).

The schedule is the operator's (``HAETAE_RETENTION_YEARS``): years after the case was closed, by the
case's outcome (its status: ``closed`` without referral, or ``archived`` after the proceedings ended) and its
retention class. An open or referred case is never due (a trial may still need its evidence), nor is a case
of the permanent class.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from access.choices import CaseRetention, CaseStatus
from access.models import Case

# Years after closing, by outcome and retention class. Set it to the agency's own schedule.
DEFAULT_RETENTION_YEARS: dict[str, dict[str, int]] = {
    CaseStatus.CLOSED: {CaseRetention.STANDARD: 5, CaseRetention.EXTENDED: 10},
    CaseStatus.ARCHIVED: {CaseRetention.STANDARD: 10, CaseRetention.EXTENDED: 30},
}


def retention_years() -> dict[str, dict[str, int]]:
    return getattr(settings, "HAETAE_RETENTION_YEARS", DEFAULT_RETENTION_YEARS)


@dataclass(frozen=True)
class RetentionState:
    """Whether the case is due, from when, and in words why (or why not)."""

    due: bool
    due_at: datetime | None
    explanation: str


def _add_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February in a year that has none
        return moment.replace(year=moment.year + years, day=28)


def retention_state(*, case: Case, now: datetime) -> RetentionState:
    """The case's retention state at ``now``."""
    if case.legal_hold:
        return RetentionState(
            False, None, f"case {case.number} is under a legal hold ({case.legal_hold_reason or 'no reason'})"
        )
    if case.retention_class == CaseRetention.PERMANENT:
        return RetentionState(False, None, f"case {case.number} is kept permanently (retention class)")
    years = retention_years().get(case.status, {}).get(case.retention_class)
    if years is None or case.closed_at is None:
        return RetentionState(
            False,
            None,
            f"case {case.number} is {case.status}: only a closed or archived case becomes due for "
            "destruction",
        )
    due_at = _add_years(case.closed_at, years)
    if now < due_at:
        return RetentionState(
            False,
            due_at,
            f"case {case.number} ({case.status}, {case.retention_class}) is kept {years} years after "
            f"closing, until {due_at:%Y-%m-%d}",
        )
    return RetentionState(
        True, due_at, f"retention of {years} years after closing ended on {due_at:%Y-%m-%d}"
    )
