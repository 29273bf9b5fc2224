"""Crypto-erasure of a vault object, and the refusal a destroyed item gives to anyone asking for its content.

A vault object carries its data key wrapped by the master key in its header (``evidence.crypto``). Erasing
overwrites that header in place with random bytes and makes it durable first, so the data key is gone before
anything else happens: from then on the ciphertext is noise, whatever copies of it remain (backups, a disk
block the file system has not reused). Only then is the object file removed. The Blob row, its hashes and
every custody event stay: what was destroyed, and that it was, remains provable. Who may order it, and the
checks before it (retention, legal hold, other cases needing the bytes), live in the ``records`` app.

Erasure is two-phase (docs/destruction.md): the destruction's transaction marks the Blob row and commits
its events; the bytes are erased after the commit. A crash between the two leaves an "erasure pending"
that ``verify`` reports and re-running the destruction (or ``erasures_finish`` in ``records``) completes.
"""

import os
import secrets
import struct

from django.utils import timezone

from evidence.choices import ItemStatus
from evidence.crypto import MAGIC
from evidence.models import Blob, EvidenceItem
from evidence.vault import object_path, sync_filesystem
from haetae.errors import RejectedInput
from haetae.toolkit import utc_iso


def blob_mark_destroyed(*, blob: Blob, reference: str) -> None:
    """Phase one of an erasure: mark ``blob`` destroyed, inside the transaction that records the destruction.

    Its bytes are erased only after that transaction commits (``blob_bytes_erase``): a transaction that
    fails leaves the row unmarked and the bytes whole, never a row saying "kept" over bytes already gone.
    """
    blob.destroyed_at = timezone.now()
    blob.destruction_reference = reference[:100]
    blob.save(update_fields=["destroyed_at", "destruction_reference"])


def blob_erasure_pending(sha256: str) -> bool:
    """Whether a blob marked destroyed still has its object in the store (its erasure's phase two is due)."""
    return (
        object_path(sha256).exists() and Blob.objects.filter(pk=sha256, destroyed_at__isnull=False).exists()
    )


def erasures_pending() -> list[str]:
    """Every blob marked destroyed whose object is still in the store, by SHA-256."""
    marked = (
        Blob.objects.filter(destroyed_at__isnull=False).order_by("sha256").values_list("sha256", flat=True)
    )
    return [sha256 for sha256 in marked.iterator(chunk_size=2000) if object_path(sha256).exists()]


def blob_bytes_erase(sha256: str) -> dict[str, str]:
    """Phase two of an erasure: destroy the data key of a blob marked destroyed, then its ciphertext.

    Idempotent: an object already gone is reported as ``object_absent_at``, and one whose header was
    overwritten before a crash is overwritten again and removed. Refuses a blob not marked destroyed, so
    nothing is erased that a committed destruction does not name.
    """
    if not Blob.objects.filter(pk=sha256, destroyed_at__isnull=False).exists():
        raise RejectedInput(f"blob {sha256} is not marked destroyed by a committed order: nothing erased")
    path = object_path(sha256)
    done: dict[str, str] = {}
    try:
        handle = open(path, "r+b")  # noqa: SIM115 - closed below; absence is the already-erased case
    except FileNotFoundError:
        return {"object_absent_at": utc_iso(timezone.now())}
    with handle:
        prefix = handle.read(12)
        if prefix[:8] == MAGIC and len(prefix) == 12:
            (header_len,) = struct.unpack(">I", prefix[8:])
            handle.seek(12)
            handle.write(secrets.token_bytes(min(header_len, 65536)))
        else:  # not a vault object header (or one overwritten already): overwrite what would have held it
            handle.seek(0)
            handle.write(secrets.token_bytes(4096))
        handle.flush()
        os.fsync(handle.fileno())
    done["key_destroyed_at"] = utc_iso(timezone.now())
    path.unlink(missing_ok=True)
    sync_filesystem(path.parent)
    done["ciphertext_removed_at"] = utc_iso(timezone.now())
    return done


def destroyed_refusal(item: EvidenceItem, *, what: str = "content") -> RejectedInput | None:
    """The refusal for a look at a destroyed item's content, or at one marked unrelated to the warrant
    (None if neither)."""
    if item.status == ItemStatus.UNRELATED:
        # Outside the warrant: looking at it would be a search the warrant does not cover.
        return RejectedInput(
            f"item {item.pk} was marked unrelated to the warrant ({item.status_reason}): its {what} is "
            "not served while it awaits return or deletion. If the mark was a mistake, the investigator "
            "withdraws it (manage.py procedure unmark)"
        )
    if item.status != ItemStatus.DESTROYED:
        return None
    return RejectedInput(
        f"item {item.pk} was destroyed and its {what} no longer exists: {item.status_reason}. Its hashes and "
        "custody record remain (GET …/custody/); the destruction certificate lists it"
    )
