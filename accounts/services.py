"""Issue, revoke and check API tokens; each issue and revocation is an account event."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from accounts.choices import AccountAction
from accounts.models import AccountEvent, ApiToken
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
        AccountEvent.objects.create(
            user=user,
            actor=actor,
            action=AccountAction.TOKEN_ISSUED,
            details={
                "token": row.pk,
                "prefix": row.prefix,
                "name": row.name,
                "expires_at": row.expires_at.isoformat(),
            },
            at=now,
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
        AccountEvent.objects.create(
            user=locked.user,
            actor=actor,
            action=AccountAction.TOKEN_REVOKED,
            details={"token": locked.pk, "prefix": locked.prefix, "reason": locked.revoke_reason},
            at=now,
        )
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
        AccountEvent.objects.create(
            user=row.user,
            actor=None,
            action=AccountAction.TOKEN_REFUSED,
            details={"token": row.pk, "state": state},
        )
        raise RejectedInput(f"this token was {state} on {when:%Y-%m-%d %H:%M} UTC: ask for a new one")
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at > _LAST_USED_GRANULARITY:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row
