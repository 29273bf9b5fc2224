"""Writes on cases: opening, details, status, team, legal hold and authorities.

Each service owns its transaction and records its own case-level custody event in it, so a change and its
record commit or roll back together. Services that touch the team lock the case row first, so two leads
demoting each other at once cannot leave the case without one.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from access import hooks
from access.choices import (
    CaseEventAction,
    CaseMemberRole,
    CaseRetention,
    CaseStatus,
    GlobalRole,
    LegalAuthorityKind,
)
from access.hooks import CaseEvent
from access.models import Case, CaseMember, LegalAuthority, Offence, Unit, UnitSupervisor
from access.policy import CASE_ROLES_FOR_GLOBAL_ROLE, Action, require_global
from haetae.db import ledger_lock, ledger_transaction
from haetae.errors import AccessDenied, RejectedInput
from haetae.toolkit import utc_iso

# Which status a case may move to from each status; moving back to open is a reopening.
STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    CaseStatus.OPEN: frozenset({CaseStatus.REFERRED, CaseStatus.CLOSED}),
    CaseStatus.REFERRED: frozenset({CaseStatus.OPEN, CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset({CaseStatus.OPEN, CaseStatus.ARCHIVED}),
    CaseStatus.ARCHIVED: frozenset({CaseStatus.OPEN}),
}
# Statuses in which people, channels and links may still be recorded; closed cases are reopened first.
WORKING_STATUSES = frozenset({CaseStatus.OPEN, CaseStatus.REFERRED})


def _case_event(
    case: Case, action: str, actor: User | None, details: dict[str, Any], *, purpose: str = ""
) -> CaseEvent:
    return CaseEvent(case_id=case.pk, action=action, actor=actor, details=details, purpose=purpose)


def _require_reason(reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise RejectedInput.for_field("reason", f"say why you {what}; it goes into the case's custody record")
    return reason


def case_require_working(*, case: Case, action: str) -> None:
    """Refuse changes to people, channels and links of a closed or archived case."""
    if case.status not in WORKING_STATUSES:
        raise RejectedInput(
            f"case {case.number} is {case.status}: reopen it (status change to open, with a reason) "
            f"before you {action}"
        )


def _offences_by_code(codes: Iterable[str]) -> list[Offence]:
    wanted = list(dict.fromkeys(c.strip() for c in codes if c.strip()))
    found = {o.code: o for o in Offence.objects.filter(code__in=wanted)}
    unknown = [c for c in wanted if c not in found]
    if unknown:
        raise RejectedInput.for_field(
            "offences",
            f"unknown offence code(s) {', '.join(unknown)}: list them with GET /api/v1/offences/",
        )
    return [found[c] for c in wanted]


def _validate(case: Case, *, exclude: Sequence[str] = ()) -> None:
    try:
        case.full_clean(exclude=list(exclude), validate_unique=False)
    except ValidationError as exc:
        problems = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
        raise RejectedInput(
            f"cannot save case {case.number!r}: {problems}", details=exc.message_dict
        ) from None


CASE_OPEN_REFUSAL = (
    "only investigators and supervisors open cases: ask an administrator to give you one of those global "
    "roles ('manage.py create_user --role' or the admin)"
)


def case_create(
    *,
    number: str,
    title: str,
    actor: User | None = None,
    unit: str = "",
    jurisdiction: str = "",
    offences: Iterable[str] = (),
    retention_class: str = CaseRetention.STANDARD,
) -> Case:
    """Open a case; the creator (when given) joins it as lead. Logged as a case-level custody event.

    A creator must hold a global role that may open cases (the policy's ``CASE_OPEN``); without a creator the
    operator at the server opens it (``manage.py create_case`` without ``--actor``)."""
    if actor is not None:
        require_global(user=actor, action=Action.CASE_OPEN, refusal=CASE_OPEN_REFUSAL)
    case = Case(
        number=number.strip(),
        title=title.strip(),
        jurisdiction=jurisdiction.strip(),
        retention_class=retention_class,
        lead_investigator=actor,
    )
    try:
        case.full_clean()
    except ValidationError as exc:
        if "number" in exc.message_dict and Case.objects.filter(number=case.number).exists():
            raise RejectedInput(
                f"case {case.number} already exists: choose another number",
                details={"number": ["a case with this number already exists"]},
            ) from None
        problems = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
        raise RejectedInput(f"cannot create case {number!r}: {problems}", details=exc.message_dict) from None
    offence_rows = _offences_by_code(offences)
    try:
        with ledger_transaction():
            case.unit = unit_for_name(unit)
            case.save()
            case.offences.set(offence_rows)
            if actor is not None:
                CaseMember.objects.create(case=case, user=actor, role=CaseMemberRole.LEAD, added_by=actor)
            # The creator's place on the team is part of this one event (``lead``), not a second one.
            hooks.case_events_write(
                [
                    _case_event(
                        case,
                        CaseEventAction.CASE_CREATED,
                        actor,
                        {
                            "number": case.number,
                            "title": case.title,
                            "unit": _unit_name(case.unit),
                            "jurisdiction": case.jurisdiction,
                            "offences": [o.code for o in offence_rows],
                            "retention_class": case.retention_class,
                            "lead": actor.get_username() if actor is not None else None,
                        },
                    )
                ]
            )
            _supervisors_join(case, actor=actor)
    except IntegrityError:
        raise RejectedInput(
            f"case {case.number} already exists: choose another number",
            details={"number": ["a case with this number already exists"]},
        ) from None
    return case


def case_get(*, number: str) -> Case:
    """The case with this number, or a RejectedInput saying how to find the right one (for commands)."""
    try:
        return Case.objects.get(number=number)
    except Case.DoesNotExist:
        raise RejectedInput(
            f"no case numbered {number!r}: list cases with the API (GET /api/v1/cases/) or create it with "
            "'manage.py create_case'"
        ) from None


def _locked(case: Case) -> Case:
    """The case row, locked until the end of the transaction (PostgreSQL; SQLite writers queue anyway).

    The ledger lock comes first (the one lock order, docs/ledger.md); NO KEY UPDATE because nothing here
    changes the key, so rows inserted elsewhere that refer to the case are not held up by it.
    """
    ledger_lock()
    return Case.objects.select_for_update(no_key=True).get(pk=case.pk)


def _text(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc_iso(value)
    if isinstance(value, AbstractBaseUser):
        return value.get_username()
    return value


CASE_EDITABLE_FIELDS = (
    "title",
    "unit",
    "jurisdiction",
    "retention_class",
    "content_requires_legal_basis",
    "lead_investigator",
    "offences",
)


def case_update(*, case: Case, actor: User | None, changes: dict[str, Any]) -> Case:
    """Change a case's details (see CASE_EDITABLE_FIELDS); one CASE_UPDATED event lists each change.

    ``lead_investigator`` must be a user who is a lead on the team; ``offences`` is a list of codes.
    """
    unknown = sorted(set(changes) - set(CASE_EDITABLE_FIELDS))
    if unknown:
        raise RejectedInput(f"these case fields cannot be changed here: {', '.join(unknown)}")
    with transaction.atomic():
        locked = _locked(case)
        changed: dict[str, dict[str, Any]] = {}
        if "unit" in changes:
            unit = unit_for_name(changes["unit"] or "")
            if unit != locked.unit:
                changed["unit"] = {"from": _unit_name(locked.unit), "to": _unit_name(unit)}
                _supervisors_leave(
                    locked, actor=actor, why=f"the case moved to unit {_unit_name(unit) or '-'}"
                )
                locked.unit = unit
        for field in ("title", "jurisdiction", "retention_class", "content_requires_legal_basis"):
            if field in changes:
                value = changes[field].strip() if isinstance(changes[field], str) else changes[field]
                if getattr(locked, field) != value:
                    changed[field] = {"from": getattr(locked, field), "to": value}
                    setattr(locked, field, value)
        if "lead_investigator" in changes:
            user = changes["lead_investigator"]
            if (
                user is None
                or not CaseMember.objects.filter(case=locked, user=user, role=CaseMemberRole.LEAD).exists()
            ):
                raise RejectedInput.for_field(
                    "lead_investigator",
                    "the lead investigator must be a lead on the case team: add them (or change their "
                    "role) to lead first",
                )
            if locked.lead_investigator_id != user.pk:
                changed["lead_investigator"] = {"from": _text(locked.lead_investigator), "to": _text(user)}
                locked.lead_investigator = user
        if "offences" in changes:
            rows = _offences_by_code(changes["offences"])
            before = sorted(locked.offences.values_list("code", flat=True))
            after = sorted(o.code for o in rows)
            if before != after:
                changed["offences"] = {"from": before, "to": after}
                locked.offences.set(rows)
        _validate(locked, exclude=["number"])
        if changed:
            locked.save()
            hooks.case_events_write(
                [_case_event(locked, CaseEventAction.CASE_UPDATED, actor, {"changed": changed})]
            )
            if "unit" in changed:
                _supervisors_join(locked, actor=actor)
    return locked


def case_status_change(*, case: Case, actor: User | None, status: str, reason: str) -> Case:
    """Move a case along open → referred → closed → archived, or reopen it; one CASE_STATUS_CHANGED event."""
    reason = _require_reason(reason, "change the case's status")
    if status not in CaseStatus.values:
        raise RejectedInput.for_field(
            "status", f"{status!r} is not a case status; use one of {', '.join(CaseStatus.values)}"
        )
    with transaction.atomic():
        locked = _locked(case)
        before = locked.status
        if status not in STATUS_TRANSITIONS[before]:
            allowed = ", ".join(sorted(STATUS_TRANSITIONS[before]))
            raise RejectedInput.for_field(
                "status", f"the case is {before}: it cannot become {status}, only {allowed}"
            )
        now = timezone.now()
        locked.status = status
        if status == CaseStatus.CLOSED:
            locked.closed_at = now
        elif status == CaseStatus.OPEN:
            locked.closed_at = None
        locked.save(update_fields=["status", "closed_at"])
        hooks.case_events_write(
            [
                _case_event(
                    locked,
                    CaseEventAction.CASE_STATUS_CHANGED,
                    actor,
                    {"from": before, "to": status, "reopened": status == CaseStatus.OPEN},
                    purpose=reason,
                )
            ]
        )
    return locked


def case_legal_hold_set(*, case: Case, actor: User | None, hold: bool, reason: str) -> Case:
    """Place or lift a legal hold (nothing of the case may be destroyed while it holds)."""
    reason = _require_reason(reason, "place or lift the legal hold")
    with transaction.atomic():
        locked = _locked(case)
        if locked.legal_hold == hold:
            state = "already under a legal hold" if hold else "not under a legal hold"
            raise RejectedInput.for_field("legal_hold", f"case {locked.number} is {state}")
        locked.legal_hold = hold
        locked.legal_hold_reason = reason if hold else ""
        locked.save(update_fields=["legal_hold", "legal_hold_reason"])
        hooks.case_events_write(
            [
                _case_event(
                    locked, CaseEventAction.LEGAL_HOLD_CHANGED, actor, {"legal_hold": hold}, purpose=reason
                )
            ]
        )
    return locked


def legal_authority_record(
    *,
    case: Case,
    actor: User,
    number: str,
    scope: str,
    issued_at: datetime,
    kind: str = LegalAuthorityKind.SEARCH_WARRANT,
    court: str = "",
    valid_until: datetime | None = None,
    executed_at: datetime | None = None,
) -> LegalAuthority:
    """Record a warrant or other authority the case acts under; an AUTHORITY_RECORDED event."""
    authority = LegalAuthority(
        case=case,
        kind=kind,
        number=number.strip(),
        court=court.strip(),
        scope=scope.strip(),
        issued_at=issued_at,
        valid_until=valid_until,
        executed_at=executed_at,
        recorded_by=actor,
    )
    try:
        authority.full_clean(exclude=["case", "recorded_by"], validate_unique=False)
    except ValidationError as exc:
        problems = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
        raise RejectedInput(f"cannot record the authority: {problems}", details=exc.message_dict) from None
    if valid_until is not None and valid_until < issued_at:
        raise RejectedInput.for_field("valid_until", "an authority cannot expire before it was issued")
    if executed_at is not None and executed_at < issued_at:
        raise RejectedInput.for_field("executed_at", "an authority cannot be executed before it was issued")
    try:
        with ledger_transaction():
            authority.save()
            hooks.case_events_write(
                [
                    _case_event(
                        case,
                        CaseEventAction.AUTHORITY_RECORDED,
                        actor,
                        {
                            "authority_id": authority.pk,
                            "kind": authority.kind,
                            "number": authority.number,
                            "court": authority.court,
                            "scope": authority.scope,
                            "issued_at": utc_iso(issued_at),
                            "valid_until": utc_iso(valid_until) if valid_until else None,
                            "executed_at": utc_iso(executed_at) if executed_at else None,
                        },
                    )
                ]
            )
    except IntegrityError:
        raise RejectedInput.for_field(
            "number", f"{authority.get_kind_display()} {authority.number} is already recorded"
        ) from None
    return authority


def legal_authority_mark_executed(
    *, authority: LegalAuthority, actor: User, executed_at: datetime
) -> LegalAuthority:
    """Record when an authority was executed (once); an AUTHORITY_RECORDED event."""
    with ledger_transaction():
        locked = LegalAuthority.objects.select_for_update().select_related("case").get(pk=authority.pk)
        if locked.executed_at is not None:
            raise RejectedInput.for_field(
                "executed_at", f"already recorded as executed at {utc_iso(locked.executed_at)}"
            )
        if executed_at < locked.issued_at:
            raise RejectedInput.for_field(
                "executed_at", "an authority cannot be executed before it was issued"
            )
        locked.executed_at = executed_at
        locked.save(update_fields=["executed_at"])
        hooks.case_events_write(
            [
                _case_event(
                    locked.case,
                    CaseEventAction.AUTHORITY_RECORDED,
                    actor,
                    {"authority_id": locked.pk, "number": locked.number, "executed_at": utc_iso(executed_at)},
                )
            ]
        )
    return locked


# Team


def _check_role(role: str) -> None:
    if role not in CaseMemberRole.values:
        raise RejectedInput.for_field(
            "role", f"{role!r} is not a case role; use one of {', '.join(CaseMemberRole.values)}"
        )
    if role == CaseMemberRole.SUPERVISOR:
        raise RejectedInput.for_field(
            "role",
            "the supervisor role comes with supervising the case's unit, not from the team page: an "
            "administrator makes the user a supervisor of the unit (manage.py unit supervise)",
        )


def _not_through_unit(member: CaseMember, what: str) -> None:
    if member.via_unit_id is not None:
        raise RejectedInput.for_field(
            "user",
            f"{member.user.get_username()} is on the team as a supervisor of unit {member.via_unit}; that "
            f"place ends only with their supervision of the unit (manage.py unit unsupervise), so you cannot "
            f"{what}",
        )


def _check_global_role(user: User, role: str) -> None:
    """A user with a global role may take only the case roles it allows (a prosecutor is never a lead)."""
    groups = set(user.groups.filter(name__in=CASE_ROLES_FOR_GLOBAL_ROLE).values_list("name", flat=True))
    if not groups:
        return
    allowed = set().union(*(CASE_ROLES_FOR_GLOBAL_ROLE[g] for g in groups))
    if role not in allowed:
        can = ", ".join(sorted(allowed)) or "none (administrators use break-glass access instead)"
        raise RejectedInput.for_field(
            "role",
            f"{user.get_username()} is a {'/'.join(sorted(groups))}; that global role may take the case "
            f"roles {can}, not {role}",
        )


def _other_leads(case: Case, user: User) -> int:
    return CaseMember.objects.filter(case=case, role=CaseMemberRole.LEAD).exclude(user=user).count()


def _member_of(case: Case, user: User) -> CaseMember:
    member = CaseMember.objects.filter(case=case, user=user).first()
    if member is None:
        raise RejectedInput.for_field(
            "user", f"{user.get_username()} is not on the team of case {case.number}"
        )
    return member


def _keep_a_lead(case: Case, member: CaseMember, what: str) -> None:
    if member.role != CaseMemberRole.LEAD:
        return
    if _other_leads(case, member.user) == 0:
        raise RejectedInput.for_field(
            "role",
            f"{member.user.get_username()} is the case's only lead; make someone else lead before you {what}",
        )
    if case.lead_investigator_id == member.user_id:
        raise RejectedInput.for_field(
            "role",
            f"{member.user.get_username()} is the lead investigator; name another lead as lead investigator "
            f"(change the case's lead_investigator) before you {what}",
        )


def _lead_by_default(case: Case, user: User, role: str) -> None:
    """A case with no officer in charge takes its first lead as one (who stays one of the leads)."""
    if role == CaseMemberRole.LEAD and case.lead_investigator_id is None:
        case.lead_investigator = user
        case.save(update_fields=["lead_investigator"])


def member_add(*, case: Case, user: User, role: str, actor: User | None) -> CaseMember:
    """Put a user on the case team with a case role; a MEMBER_ADDED event."""
    _check_role(role)
    if not user.is_active:
        raise RejectedInput.for_field(
            "user", f"{user.get_username()} is deactivated: reactivate the account first"
        )
    _check_global_role(user, role)
    with transaction.atomic():
        locked = _locked(case)
        if CaseMember.objects.filter(case=locked, user=user).exists():
            raise RejectedInput.for_field(
                "user",
                f"{user.get_username()} is already on the team of case {locked.number}: change their role "
                "instead",
            )
        member = CaseMember.objects.create(case=locked, user=user, role=role, added_by=actor)
        _lead_by_default(locked, user, role)
        hooks.case_events_write(
            [
                _case_event(
                    locked,
                    CaseEventAction.MEMBER_ADDED,
                    actor,
                    {"user": user.get_username(), "user_id": user.pk, "role": role},
                )
            ]
        )
    return member


def member_change_role(
    *, case: Case, user: User, role: str, actor: User | None, reason: str = ""
) -> CaseMember:
    """Change a team member's case role (at least one lead remains); a MEMBER_CHANGED event."""
    _check_role(role)
    _check_global_role(user, role)
    with transaction.atomic():
        locked = _locked(case)
        member = _member_of(locked, user)
        _not_through_unit(member, "change their role")
        before = member.role
        if before == role:
            raise RejectedInput.for_field("role", f"{user.get_username()} already has the role {role}")
        if role != CaseMemberRole.LEAD:
            _keep_a_lead(locked, member, "change their role")
        member.role = role
        member.save(update_fields=["role"])
        _lead_by_default(locked, user, role)
        hooks.case_events_write(
            [
                _case_event(
                    locked,
                    CaseEventAction.MEMBER_CHANGED,
                    actor,
                    {"user": user.get_username(), "user_id": user.pk, "from": before, "to": role},
                    purpose=reason.strip(),
                )
            ]
        )
    return member


def member_remove(*, case: Case, user: User, actor: User | None, reason: str) -> None:
    """Take a user off the case team (at least one lead remains); a MEMBER_REMOVED event."""
    reason = _require_reason(reason, "remove a team member")
    with transaction.atomic():
        locked = _locked(case)
        member = _member_of(locked, user)
        _not_through_unit(member, "remove them")
        _keep_a_lead(locked, member, "remove them")
        role = member.role
        member.delete()
        hooks.case_events_write(
            [
                _case_event(
                    locked,
                    CaseEventAction.MEMBER_REMOVED,
                    actor,
                    {"user": user.get_username(), "user_id": user.pk, "role": role},
                    purpose=reason,
                )
            ]
        )


# Units and their supervisors


def _unit_name(unit: Unit | None) -> str:
    return unit.name if unit is not None else ""


def unit_for_name(name: str) -> Unit | None:
    """The unit of that name (surrounding spaces ignored), made on first use; None for an empty name."""
    name = (name or "").strip()
    if not name:
        return None
    if len(name) > 200:
        raise RejectedInput.for_field("unit", "a unit's name is at most 200 characters")
    unit, _ = Unit.objects.get_or_create(name=name)
    return unit


def _supervisors_join(case: Case, *, actor: User | None) -> None:
    """Every supervisor of the case's unit who is not on the team joins it as ``supervisor`` (in the caller's
    transaction, after the ledger lock); one MEMBER_ADDED event each, naming the unit."""
    if case.unit_id is None:
        return
    on_team = CaseMember.objects.filter(case=case).values("user_id")
    events = []
    for row in (
        UnitSupervisor.objects.filter(unit_id=case.unit_id)
        .exclude(user_id__in=on_team)
        .select_related("user", "unit")
    ):
        CaseMember.objects.create(
            case=case, user=row.user, role=CaseMemberRole.SUPERVISOR, added_by=actor, via_unit=row.unit
        )
        events.append(
            _case_event(
                case,
                CaseEventAction.MEMBER_ADDED,
                actor,
                {
                    "user": row.user.get_username(),
                    "user_id": row.user_id,
                    "role": CaseMemberRole.SUPERVISOR,
                    "via_unit": row.unit.name,
                },
            )
        )
    if events:
        hooks.case_events_write(events)


def _supervisors_leave(case: Case, *, actor: User | None, why: str, user: User | None = None) -> None:
    """The case's unit-held memberships end (one user's, or all of them); one MEMBER_REMOVED event each."""
    held = CaseMember.objects.filter(case=case, via_unit__isnull=False).select_related("user", "via_unit")
    if user is not None:
        held = held.filter(user=user)
    events = []
    for member in held:
        events.append(
            _case_event(
                case,
                CaseEventAction.MEMBER_REMOVED,
                actor,
                {
                    "user": member.user.get_username(),
                    "user_id": member.user_id,
                    "role": member.role,
                    "via_unit": _unit_name(member.via_unit),
                },
                purpose=why,
            )
        )
        member.delete()
    if events:
        hooks.case_events_write(events)


def _require_admin(actor: User) -> None:
    if not (actor.is_superuser or actor.groups.filter(name=GlobalRole.ADMIN).exists()):
        raise AccessDenied(
            f"{actor.get_username()} is not an administrator: only administrators assign units"
        )


def unit_supervisor_add(*, unit: Unit, user: User, actor: User) -> UnitSupervisor:
    """Make a supervisor (global role) the supervisor of a unit: they join every case of the unit as
    ``supervisor`` (cases where they already hold a team role keep that role). Logged on each case."""
    _require_admin(actor)
    if not user.is_active:
        raise RejectedInput.for_field(
            "user", f"{user.get_username()} is deactivated: reactivate the account first"
        )
    if not user.groups.filter(name=GlobalRole.SUPERVISOR).exists():
        raise RejectedInput.for_field(
            "user",
            f"{user.get_username()} does not hold the supervisor global role: give it first "
            "(manage.py create_user … --role supervisor, or the admin site's groups)",
        )
    with ledger_transaction():
        if UnitSupervisor.objects.filter(unit=unit, user=user).exists():
            raise RejectedInput.for_field(
                "user", f"{user.get_username()} already supervises unit {unit.name}"
            )
        row = UnitSupervisor.objects.create(unit=unit, user=user, added_by=actor)
        for case in Case.objects.select_for_update(no_key=True).filter(unit=unit).order_by("pk"):
            _supervisors_join(case, actor=actor)
    return row


def unit_supervisor_remove(*, unit: Unit, user: User, actor: User, reason: str) -> None:
    """End a supervision: the user leaves every case of the unit they were on through it. Logged on each."""
    _require_admin(actor)
    reason = _require_reason(reason, "end a unit supervision")
    with ledger_transaction():
        row = UnitSupervisor.objects.filter(unit=unit, user=user).first()
        if row is None:
            raise RejectedInput.for_field(
                "user", f"{user.get_username()} does not supervise unit {unit.name}"
            )
        row.delete()
        for case in Case.objects.select_for_update(no_key=True).filter(unit=unit).order_by("pk"):
            _supervisors_leave(case, actor=actor, why=reason, user=user)
