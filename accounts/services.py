"""Issue, revoke and check API tokens; record examiners' qualifications. Each is an account event."""

import hashlib
import secrets
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from accounts.choices import AccountAction
from accounts.models import AccountEvent, ApiToken, ExaminerQualification
from haetae.errors import AccessDenied, RejectedInput

# 32 random bytes (256 bits): a token this strong needs no slow hash; SHA-256 of it cannot be reversed.
TOKEN_BYTES = 32
TOKEN_PREFIX = "hae_"  # noqa: S105 - a marker that names the token type, not a secret
# How often last_used_at is written: once a minute at most, not on every request.
_LAST_USED_GRANULARITY = timedelta(minutes=1)


def token_digest(token: str) -> str:
    """The SHA-256 (hex) stored for a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def default_token_days() -> int:
    return int(getattr(settings, "HAETAE_API_TOKEN_DAYS", 30))


def _account_logged(
    user: User, action: str, *, actor: User | None, at: datetime | None = None, **details: Any
) -> None:
    """An account event on ``user``: what happened and its ``details``, by ``actor`` (None: the system, or
    the operator at the command line), at ``at`` (default now)."""
    AccountEvent.objects.create(
        user=user, actor=actor, action=action, details=details, at=at or timezone.now()
    )


def _token_logged(token: ApiToken, action: str, *, actor: User | None, at: datetime, **details: Any) -> None:
    """An account event about ``token``, named by id and prefix (never by the token itself)."""
    _account_logged(token.user, action, actor=actor, at=at, token=token.pk, prefix=token.prefix, **details)


def may_manage_tokens_of(actor: User, user: User) -> bool:
    """Users manage their own tokens; administrators anyone's."""
    return actor.pk == user.pk or bool(actor.is_superuser)


def api_token_issue(
    *, user: User, actor: User | None, name: str = "", days: int | None = None
) -> tuple[ApiToken, str]:
    """Issue a token for ``user``; returns the row and the token, which is never stored nor shown again."""
    if actor is not None and not may_manage_tokens_of(actor, user):
        raise AccessDenied(
            f"{actor.username} may issue tokens only for themselves; an administrator may issue any"
        )
    if not user.is_active:
        raise RejectedInput(f"{user.username} is deactivated: reactivate the account before issuing a token")
    days = default_token_days() if days is None else days
    most = int(getattr(settings, "HAETAE_API_TOKEN_MAX_DAYS", 365))
    if not 1 <= days <= most:
        raise RejectedInput(f"a token lasts 1 to {most} days (HAETAE_API_TOKEN_MAX_DAYS), not {days}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    now = timezone.now()
    with transaction.atomic():
        row = ApiToken.objects.create(
            user=user,
            name=name.strip()[:100],
            prefix=token[:12],
            key_sha256=token_digest(token),
            created_at=now,
            created_by=actor,
            expires_at=now + timedelta(days=days),
        )
        _token_logged(
            row,
            AccountAction.TOKEN_ISSUED,
            actor=actor,
            at=now,
            name=row.name,
            expires_at=row.expires_at.isoformat(),
        )
    return row, token


def api_token_revoke(*, token: ApiToken, actor: User | None, reason: str = "") -> ApiToken:
    """Revoke ``token``: its owner or an administrator (``actor`` None: the operator at the command line)."""
    if actor is not None and not may_manage_tokens_of(actor, token.user):
        raise AccessDenied(
            f"{actor.username} may revoke only their own tokens; an administrator may revoke any"
        )
    now = timezone.now()
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is not None:
            raise RejectedInput(
                f"token {locked.prefix}… was already revoked on {locked.revoked_at:%Y-%m-%d %H:%M} UTC"
            )
        locked.revoked_at, locked.revoked_by, locked.revoke_reason = now, actor, reason.strip()[:500]
        locked.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        _token_logged(locked, AccountAction.TOKEN_REVOKED, actor=actor, at=now, reason=locked.revoke_reason)
    return locked


def api_token_check(token: str) -> ApiToken:
    """The active token row for a presented token; RejectedInput saying why it is refused otherwise."""
    row = ApiToken.objects.select_related("user").filter(key_sha256=token_digest(token)).first()
    if row is None or not row.user.is_active:
        raise RejectedInput(
            "invalid token: ask for a new one (manage.py api_token issue, or POST /api/v1/tokens/)"
        )
    state = row.state
    if state != "active":
        when = row.revoked_at if state == "revoked" else row.expires_at
        _account_logged(row.user, AccountAction.TOKEN_REFUSED, actor=None, token=row.pk, state=state)
        raise RejectedInput(f"this token was {state} on {when:%Y-%m-%d %H:%M} UTC: ask for a new one")
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at > _LAST_USED_GRANULARITY:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row


QUALIFICATION_FIELDS = ("title", "unit", "training", "certifications", "note")


def _dated_entries(entries: Any, *, field: str) -> list[dict[str, str]]:
    """``entries`` as a list of {"name", "date"} with ISO dates, oldest first; RejectedInput saying which
    entry is wrong otherwise."""
    if not isinstance(entries, list):
        raise RejectedInput(f"{field}: give a list of entries, each a name and a date (YYYY-MM-DD)")
    clean = []
    for n, entry in enumerate(entries, start=1):
        name = str(entry.get("name", "")).strip() if isinstance(entry, dict) else ""
        when = str(entry.get("date", "")).strip() if isinstance(entry, dict) else ""
        if not name:
            raise RejectedInput(f"{field} entry {n}: a name is missing (e.g. 디지털포렌식 전문과정)")
        try:
            date.fromisoformat(when)
        except ValueError:
            raise RejectedInput(
                f"{field} entry {n} ({name}): the date {when!r} is not a date; write it as YYYY-MM-DD"
            ) from None
        clean.append({"name": name[:300], "date": when})
    return sorted(clean, key=lambda e: e["date"])


def dated_lines_parse(text: str) -> list[dict[str, str]]:
    """ "YYYY-MM-DD name" per line (blank lines skipped) as entries; the service checks the dates."""
    entries = []
    for line in text.splitlines():
        if line.strip():
            when, _, name = line.strip().partition(" ")
            entries.append({"date": when, "name": name.strip()})
    return entries


def may_record_qualifications(actor: User | None) -> bool:
    """Administrators record qualifications (``None``: the operator at the command line); nobody their own."""
    return actor is None or bool(actor.is_active and (actor.is_staff or actor.is_superuser))


def qualification_next_state(
    *, user: User, changes: dict[str, Any]
) -> tuple[ExaminerQualification | None, dict[str, Any]]:
    """The user's current row and the state ``changes`` would record over it; RejectedInput saying what is
    wrong (a bad entry, an unknown field, nothing changed, an empty first record). Writes nothing."""
    unknown = sorted(set(changes) - set(QUALIFICATION_FIELDS))
    if unknown:
        raise RejectedInput(
            f"unknown qualification field(s) {', '.join(unknown)}; use {QUALIFICATION_FIELDS}"
        )
    current = ExaminerQualification.objects.filter(user=user).order_by("-recorded_at", "-pk").first()
    state: dict[str, Any] = {
        "title": current.title if current else "",
        "unit": current.unit if current else "",
        "note": current.note if current else "",
        "training": current.training if current else [],
        "certifications": current.certifications if current else [],
    }
    for field in ("title", "unit", "note"):
        if field in changes:
            state[field] = str(changes[field] or "").strip()
    for field in ("training", "certifications"):
        if field in changes:
            state[field] = _dated_entries(changes[field], field=field)
    if len(state["title"]) > 200 or len(state["unit"]) > 200:
        raise RejectedInput("title and unit are at most 200 characters each: shorten them")
    if current is not None and all(state[f] == getattr(current, f) for f in QUALIFICATION_FIELDS):
        raise RejectedInput(
            f"this is already {user.username}'s recorded qualification (since "
            f"{current.recorded_at:%Y-%m-%d %H:%M} UTC): nothing to record"
        )
    if current is None and not (state["title"] or state["training"] or state["certifications"]):
        raise RejectedInput(
            "record at least a title, a training or a certification: an empty qualification says nothing"
        )
    return current, state


def examiner_qualification_record(
    *, user: User, actor: User | None, changes: dict[str, Any]
) -> ExaminerQualification:
    """Record a new state of ``user``'s qualification: ``changes`` over the current one, as a new row.

    The rows before it stay as they were, so every report keeps the qualification in force when it was
    made. Fields not named in ``changes`` carry over; a change that changes nothing is refused.
    """
    if not may_record_qualifications(actor):
        raise AccessDenied("only an administrator records examiners' qualifications: ask one to do it")
    now = timezone.now()
    with transaction.atomic():
        # One writer per user at a time, so two admins' edits cannot both build on the same old row.
        User.objects.select_for_update().filter(pk=user.pk).first()
        current, state = qualification_next_state(user=user, changes=changes)
        row = ExaminerQualification.objects.create(user=user, recorded_by=actor, recorded_at=now, **state)
        _account_logged(
            user,
            AccountAction.QUALIFICATION_RECORDED,
            actor=actor,
            at=now,
            qualification=row.pk,
            previous=current.pk if current else None,
            changed=sorted(f for f in QUALIFICATION_FIELDS if f in changes),
        )
    return row
