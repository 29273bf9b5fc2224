"""The one way code reads an item's plaintext: a stated purpose, a `viewed` event first, verified bytes.

Every look at content is a custody event (invariant 2), written and committed before the first byte leaves,
so a reader that crashes or disconnects midway is still on record. Bytes come from ``vault.read_verified``:
each chunk is authenticated before it is yielded and the whole is re-hashed; a failure is recorded as an
``incident`` on the item and re-raised.
"""

from collections.abc import Iterator

from django.contrib.auth.models import User
from django.db import transaction

from evidence.choices import CustodyAction
from evidence.custody import custody_append
from evidence.models import EvidenceItem
from evidence.vault import read_verified
from haetae.errors import IntegrityFailure, RejectedInput


def item_content_open(*, item: EvidenceItem, actor: User, purpose: str) -> Iterator[bytes]:
    """Record a `viewed` event with the purpose, then return an iterator over the item's verified bytes.

    Membership and role checks (need-to-know) belong here too and come with the access issue; callers
    already pass the actor for them.
    """
    purpose = (purpose or "").strip()
    if not purpose:
        raise RejectedInput(
            "viewing evidence content needs a stated purpose (e.g. 'classify for charge sheet'): "
            "give one and try again"
        )
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
        purpose=purpose,
        sha256_before=sha256,
        sha256_after=sha256,
    )
    return _stream(item=item, actor=actor, sha256=sha256, viewed_seq=viewed.seq)


def _stream(*, item: EvidenceItem, actor: User, sha256: str, viewed_seq: int) -> Iterator[bytes]:
    try:
        yield from read_verified(sha256)
    except IntegrityFailure as exc:
        # Its own transaction: the incident must persist even though the read fails.
        with transaction.atomic():
            custody_append(
                case_id=item.case_id,
                item_id=item.pk,
                action=CustodyAction.INCIDENT,
                actor=actor,
                sha256_before=sha256,
                sha256_after=str(exc.details.get("found", "")),
                details={
                    "source": "content read",
                    "viewed_event": viewed_seq,
                    "problem": exc.details.get("problem", "damaged"),
                    "message": exc.message,
                },
            )
        raise
