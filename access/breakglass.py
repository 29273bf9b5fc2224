"""Break-glass: an administrator's time-limited, reasoned, logged read access to a case they are not on.

Opening and ending a grant are case-level ``break_glass`` custody events, written in the same transaction
as the grant, so the case lead (who sees the case's grants through the API) and any auditor can see who
looked, why and until when. A grant is read-only: the selectors give its holder the role ``break_glass``,
which no write and no content check accepts.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.utils import timezone

from access import hooks
from access.choices import CaseEventAction
from access.hooks import CaseEvent
from access.models import BreakGlassGrant, Case, CaseMember
from access.policy import POLICY, Action, live_grants
from haetae.db import ledger_transaction
from haetae.errors import AccessDenied, NotFound, RejectedInput
from haetae.toolkit import utc_iso

ADMIN_ROLE = "admin"


def is_admin(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Administrators (staff or superusers) manage the system; they see no case without a grant."""
    return bool(
        user.is_authenticated
        and getattr(user, "is_active", False)
        and (getattr(user, "is_staff", False) or getattr(user, "is_superuser", False))
    )


def break_glass_max_minutes() -> int:
    return int(getattr(settings, "HAETAE_BREAK_GLASS_MAX_MINUTES", 240))


def break_glass_open(*, case_number: str, actor: User, reason: str, minutes: int) -> BreakGlassGrant:
    """Give an administrator read access to a case for ``minutes``; logged on the case's custody chain."""
    if not is_admin(actor):
        raise AccessDenied(
            "only administrators (staff) may break the glass; team members are added by the case lead"
        )
    reason = (reason or "").strip()
    if not reason:
        raise RejectedInput(
            "breaking the glass needs a stated reason (e.g. 'court order 2024-77: check team access'): "
            "give one and try again"
        )
    limit = break_glass_max_minutes()
    if not 1 <= minutes <= limit:
        raise RejectedInput(
            f"a break-glass grant lasts 1 to {limit} minutes, not {minutes}: choose a duration"
        )
    case = Case.objects.filter(number=case_number).first()
    if case is None:
        raise NotFound(f"no case numbered {case_number!r}: check the number")
    if CaseMember.objects.filter(case=case, user=actor).exists():
        raise RejectedInput(f"you are on the team of case {case.number}: you need no break-glass grant")
    with ledger_transaction():
        current = live_grants(user=actor).select_for_update().filter(case=case).first()
        if current is not None:
            raise RejectedInput(
                f"you already hold a live grant (id {current.pk}) on case {case.number} until "
                f"{utc_iso(current.expires_at)}: end it first to open another"
            )
        now = timezone.now()
        grant = BreakGlassGrant.objects.create(
            case=case, user=actor, reason=reason, granted_at=now, expires_at=now + timedelta(minutes=minutes)
        )
        hooks.case_events_write(
            [
                CaseEvent(
                    case_id=case.pk,
                    action=CaseEventAction.BREAK_GLASS,
                    actor=actor,
                    actor_role=ADMIN_ROLE,
                    purpose=reason,
                    details={
                        "event": "opened",
                        "grant": grant.pk,
                        "user": actor.get_username(),
                        "expires_at": utc_iso(grant.expires_at),
                        "minutes": minutes,
                    },
                )
            ]
        )
    return grant


def break_glass_end(*, grant_id: int, actor: User) -> BreakGlassGrant:
    """End a live grant early: its holder or the case lead may; logged as a ``break_glass`` event."""
    with ledger_transaction():
        grant = BreakGlassGrant.objects.select_for_update().select_related("case").filter(pk=grant_id).first()
        is_lead = (
            grant is not None
            and CaseMember.objects.filter(
                case_id=grant.case_id, user_id=actor.pk, role__in=POLICY[Action.BREAK_GLASS_SEE]
            ).exists()
        )
        if grant is None or not (grant.user_id == actor.pk or is_lead):
            raise NotFound(f"no break-glass grant {grant_id} of yours or on a case you lead: check the id")
        if not grant.is_live:
            raise RejectedInput(f"break-glass grant {grant.pk} has already ended or expired")
        grant.ended_at = timezone.now()
        grant.ended_by = actor
        grant.save(update_fields=["ended_at", "ended_by"])
        hooks.case_events_write(
            [
                CaseEvent(
                    case_id=grant.case_id,
                    action=CaseEventAction.BREAK_GLASS,
                    actor=actor,
                    actor_role=None if is_lead else ADMIN_ROLE,
                    details={
                        "event": "ended",
                        "grant": grant.pk,
                        "user": grant.user.get_username(),
                        "ended_at": utc_iso(grant.ended_at),
                    },
                )
            ]
        )
    return grant
