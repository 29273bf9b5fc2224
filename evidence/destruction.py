"""Crypto-erasure of a vault object, and the refusal a destroyed item gives to anyone asking for its content.

A vault object carries its data key wrapped by the master key in its header (``evidence.crypto``). Erasing
overwrites that header in place with random bytes and makes it durable first, so the data key is gone before
anything else happens: from then on the ciphertext is noise, whatever copies of it remain (backups, a disk
block the file system has not reused). Only then is the object file removed. The Blob row, its hashes and
every custody event stay: what was destroyed, and that it was, remains provable. Who may order it, and the
checks before it (retention, legal hold, other cases needing the bytes), live in the ``records`` app.
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


def blob_crypto_erase(*, blob: Blob, reference: str) -> dict[str, str]:
    """Destroy ``blob``'s data key, then its ciphertext; mark the row. Returns what was done and when.

    Call inside the transaction that records the destruction (the row's mark commits with the events). An
    object already absent is recorded as such, never as erased.
    """
    path = object_path(blob.sha256)
    done: dict[str, str] = {}
    if path.exists():
        with open(path, "r+b") as handle:
            prefix = handle.read(12)
            if prefix[:8] == MAGIC and len(prefix) == 12:
                (header_len,) = struct.unpack(">I", prefix[8:])
                handle.seek(12)
                handle.write(secrets.token_bytes(min(header_len, 65536)))
            else:  # not a vault object header: overwrite what would have held it
                handle.seek(0)
                handle.write(secrets.token_bytes(4096))
            handle.flush()
            os.fsync(handle.fileno())
        done["key_destroyed_at"] = utc_iso(timezone.now())
        path.unlink()
        sync_filesystem(path.parent)
        done["ciphertext_removed_at"] = utc_iso(timezone.now())
    else:
        done["object_absent_at"] = utc_iso(timezone.now())
    blob.destroyed_at = timezone.now()
    blob.destruction_reference = reference[:100]
    blob.save(update_fields=["destroyed_at", "destruction_reference"])
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
