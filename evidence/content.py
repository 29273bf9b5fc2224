"""The one way code reads an item's plaintext: need-to-know checked, a stated purpose, a `viewed` event first,
verified bytes.

``content_access_check`` is the need-to-know rule for content (membership, role, reason, legal basis where
the case requires one); ``item_content_open`` and the preview service (``evidence.previews``) both call it, so
no caller can skip it. Prosecutors pass it only for items in exhibits shared with them (any other item is
"not found" to them); they too state a reason for every look.

Every look at content is a custody event (invariant 2), written and committed before
the first byte leaves, so a reader that crashes or disconnects midway is still on record. Bytes come from
``vault.read_verified``: each chunk is authenticated before it is yielded and the whole is re-hashed; a
failure is recorded as an ``incident`` on the item and re-raised.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db import transaction

from access.policy import (
    BREAK_GLASS_ROLE,
    NEVER_CONTENT_ROLES,
    Action,
    case_access_role,
    role_may,
    shared_only,
)
from access.selectors import item_shared_with_prosecutor
from evidence.choices import CustodyAction
from evidence.custody import custody_append
from evidence.destruction import destroyed_refusal
from evidence.models import EvidenceItem
from evidence.vault import read_verified
from haetae.errors import AccessDenied, IntegrityFailure, NotFound, RejectedInput


def prosecutor_may_see(*, role: str | None, item: EvidenceItem) -> bool:
    """For a prosecutor member: whether the item is in a shared exhibit of its case (False for others)."""
    return shared_only(role) and item_shared_with_prosecutor(item_id=item.pk, case_id=item.case_id)


@dataclass(frozen=True)
class ContentAccess:
    """A look at content that passed the checks: who, in what role, why, under what legal basis."""

    role: str
    purpose: str
    legal_basis: str


def media_refusal(
    *, role: str | None, item_id: int, what: str, shared_exhibit: bool = False
) -> AccessDenied | NotFound | None:
    """The error for a caller whose role may not receive ``what`` (content or previews); None if it may.

    ``shared_exhibit``: the item is in a shared exhibit of its case (``item_shared_with_prosecutor``), which
    is what lets a prosecutor member see it; any other item is "not found" to a prosecutor, exactly as an
    item of another case.
    """
    if role is None or (shared_only(role) and not shared_exhibit):
        return NotFound(
            f"no evidence item {item_id} in your cases: check the id, or ask the case lead to add you to "
            "the team"
        )
    if role_may(role, Action.CONTENT_VIEW) or role_may(role, Action.CONTENT_VIEW_SHARED):
        return None
    if role in NEVER_CONTENT_ROLES:
        return AccessDenied(
            f"the {role} role never receives evidence content or previews, blurred or not: the material "
            "is contraband and need-to-know keeps it with the investigators. You can see the item's "
            "hashes (SHA-256, MD5, SHA-1) and pseudonymised references (item ids, victims as V-1, V-2 …) "
            f"at GET /api/v1/evidence/{item_id}/"
            + (
                ""
                if not role_may(role, Action.ITEM_RECORDS)
                else f", and its custody at /api/v1/evidence/{item_id}/custody/"
            ),
            details={"role": role, "instead": ["hashes", "custody", "pseudonymised references"]},
        )
    if role == BREAK_GLASS_ROLE:
        return AccessDenied(
            f"a break-glass grant is read-only and never includes evidence {what}: to look at it, ask the "
            "case lead to add you to the team",
            details={"role": role},
        )
    return AccessDenied(f"your role {role} may not receive evidence {what}", details={"role": role})


def content_access_check(
    *,
    item: EvidenceItem,
    actor: AbstractBaseUser | AnonymousUser,
    purpose: str,
    legal_basis: str = "",
    what: str = "content",
) -> ContentAccess:
    """Need-to-know for a look at content: membership, role, a stated purpose and, where the case requires
    it, a legal basis. Raises NotFound (not on the case: no existence hint), AccessDenied or RejectedInput."""
    role = case_access_role(user=actor, case_id=item.case_id)
    refusal = media_refusal(
        role=role, item_id=item.pk, what=what, shared_exhibit=prosecutor_may_see(role=role, item=item)
    )
    if refusal is not None:
        raise refusal
    purpose = (purpose or "").strip()
    if not purpose:
        raise RejectedInput(
            f"viewing evidence {what} needs a stated purpose (e.g. 'classify for charge sheet'): "
            "give one (the `reason` parameter) and try again"
        )
    legal_basis = (legal_basis or "").strip()
    if item.case.content_requires_legal_basis and not legal_basis:
        raise RejectedInput(
            f"case {item.case} requires a legal basis for every content view (e.g. the warrant number): "
            "give one (the `legal_basis` parameter) and try again"
        )
    assert role is not None
    return ContentAccess(role=role, purpose=purpose, legal_basis=legal_basis)


def item_content_open(
    *, item: EvidenceItem, actor: User, purpose: str, legal_basis: str = ""
) -> Iterator[bytes]:
    """Check need-to-know, record a `viewed` event with the purpose, then iterate the verified bytes."""
    access = content_access_check(item=item, actor=actor, purpose=purpose, legal_basis=legal_basis)
    destroyed = destroyed_refusal(item)
    if destroyed is not None:
        raise destroyed
    sha256 = item.blob_id
    if sha256 is None:
        raise RejectedInput(
            f"item {item.pk} has no stored content ({item.status}: {item.status_reason or 'no reason given'})"
        )
    viewed = custody_append(  # its own transaction: committed before any byte is read
        case_id=item.case_id,
        item_id=item.pk,
        action=CustodyAction.VIEWED,
        actor=actor,
        actor_role=access.role,
        purpose=access.purpose,
        legal_authority=access.legal_basis,
        sha256_before=sha256,
        sha256_after=sha256,
        details={"served": "original"},
    )
    return verified_stream(
        sha256,
        case_id=item.case_id,
        item_id=item.pk,
        actor=actor,
        source="content read",
        viewed_event=viewed.seq,
    )


def verified_stream(
    sha256: str, *, case_id: int, item_id: int | None, actor: User, **details: Any
) -> Iterator[bytes]:
    """The vault object's bytes, authenticated and re-hashed as they are read. Damage stops the read and
    becomes an ``incident`` event (``details`` say which read), committed in its own transaction so that it
    persists though the read fails."""
    try:
        yield from read_verified(sha256)
    except IntegrityFailure as exc:
        with transaction.atomic():
            custody_append(
                case_id=case_id,
                item_id=item_id,
                action=CustodyAction.INCIDENT,
                actor=actor,
                sha256_before=sha256,
                sha256_after=str(exc.details.get("found", "")),
                details={**details, "problem": exc.details.get("problem", "damaged"), "message": exc.message},
            )
        raise
