"""Derivatives: labelled bytes made from evidence (previews, frames, analysis maps), stored in the vault.

``derivative_store`` is the one way to add a derivative. It hashes and encrypts the bytes like evidence,
keys them by (source content, kind, recipe) so the same recipe is made once, and records a ``derived``
custody event on the item it was made for, in the same transaction. ``derivative_read`` returns verified
bytes; it is for code (detectors, the preview service), not for serving users: whoever serves a derivative
to a person checks need-to-know and records the serving (see ``evidence.previews``).
"""

import hashlib
import io
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from evidence.choices import CustodyAction
from evidence.custody import canonical_json, custody_append, ledger_lock
from evidence.models import Derivative, EvidenceItem
from evidence.vault import WorkDir, blob_commit, lock_blobs, read_verified
from haetae.db import retry_on_conflict
from haetae.errors import RejectedInput


def recipe_key(recipe: dict[str, Any]) -> str:
    """A stable key for a recipe (tool, version, parameters): SHA-256 of its canonical JSON."""
    return hashlib.sha256(canonical_json(recipe)).hexdigest()


def derivative_find(*, source_sha256: str, kind: str, recipe: dict[str, Any]) -> Derivative | None:
    return Derivative.objects.filter(
        source_id=source_sha256, kind=kind, recipe_key=recipe_key(recipe)
    ).first()


@retry_on_conflict
def derivative_store(
    *,
    item: EvidenceItem,
    kind: str,
    recipe: dict[str, Any],
    data: bytes,
    mime: str,
    actor: User | None = None,
    position_ms: int | None = None,
    width: int | None = None,
    height: int | None = None,
) -> tuple[Derivative, bool]:
    """Store ``data`` as a derivative of ``item``'s content; returns (derivative, created).

    An existing derivative with the same source, kind and recipe is returned as is (made once). A new one
    gets a ``derived`` custody event on ``item`` naming the kind, recipe and the derivative's SHA-256.
    """
    source = item.blob_id
    if source is None:
        raise RejectedInput(f"item {item.pk} has no stored content, so nothing can be derived from it")
    existing = derivative_find(source_sha256=source, kind=kind, recipe=recipe)
    if existing is not None:
        return existing, False
    key = recipe_key(recipe)
    with WorkDir() as work:
        staged = work.stage(io.BytesIO(data))
        with transaction.atomic():
            # Lock order (docs/ledger.md): the content lock, then the ledger lock. Under the ledger lock the
            # look-up below sees every derivative committed before, so two requests for the same recipe
            # make it once; the savepoint and the unique constraint stand behind that.
            lock_blobs([staged.digests.sha256])
            ledger_lock()
            existing = derivative_find(source_sha256=source, kind=kind, recipe=recipe)
            if existing is not None:
                return existing, False
            blob, _ = blob_commit(work=work, staged=staged, mime=mime)
            try:
                with transaction.atomic():
                    derivative = Derivative.objects.create(
                        source_id=source,
                        blob=blob,
                        kind=kind,
                        recipe=recipe,
                        recipe_key=key,
                        position_ms=position_ms,
                        width=width,
                        height=height,
                    )
            except IntegrityError:
                # Another writer that does not take the ledger lock made it first: use theirs (the blob row
                # stays, matching the object placed in the vault).
                existing = derivative_find(source_sha256=source, kind=kind, recipe=recipe)
                if existing is None:
                    raise
                return existing, False
            custody_append(
                case_id=item.case_id,
                item_id=item.pk,
                action=CustodyAction.DERIVED,
                actor=actor,
                sha256_before=source,
                sha256_after=source,  # the original is untouched; the derivative's hash is in details
                details={
                    "derivative": derivative.pk,
                    "kind": kind,
                    "recipe": recipe,
                    "derivative_sha256": blob.sha256,
                    "position_ms": position_ms,
                    "label": "derived, not evidence",
                },
            )
    return derivative, True


def derivative_read(derivative: Derivative) -> bytes:
    """The derivative's bytes, authenticated chunk by chunk and re-hashed against its SHA-256."""
    return b"".join(read_verified(derivative.blob_id))
