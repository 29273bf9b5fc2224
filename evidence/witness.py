"""The witness file: every signed tree head, appended outside the database, so a rollback of the ledger shows.

The database owner can lift the append-only triggers and delete the newest events together with the
checkpoints that signed them; what remains is a shorter ledger that is consistent with itself. The witness
file (``HAETAE_LEDGER_WITNESS_FILE``) keeps one JSON line per checkpoint — size, root, time, key id,
signature — written and fsync'd under the ledger lock before the checkpoint commits, so it never lags the
database. ``manage.py verify`` reads it back: the ledger must still contain the witness's newest signed tree.

Each line is a checkpoint's own signed note, so an edited line fails its signature, and the database's
newest checkpoint can never be newer than the witness's newest head (a truncated witness). Other witnesses
of the same heads (an RFC 3161 timestamp token on a checkpoint, the heads an export bundle carries) plug in
as further sources of ``WitnessHead`` beside ``witness_read``: ``bundle_heads`` reads those of an export
bundle, which ``manage.py verify --witness-bundle`` checks the ledger against.
"""

import fcntl
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from evidence.bundle import MANIFEST_NAME
from evidence.custody import utc_iso
from evidence.models import Checkpoint
from haetae.errors import IntegrityFailure, RejectedInput

_FIELDS = ("tree_size", "root_hash", "created_at", "key_id", "signature")


@dataclass(frozen=True)
class WitnessHead:
    """One signed tree head as a witness recorded it, with where (file and line) it was recorded."""

    tree_size: int
    root_hash: str
    created_at: str
    key_id: str
    signature: str
    checkpoint: int | None
    where: str


@dataclass
class WitnessRead:
    """What a witness file holds: its heads in file order, and each line that could not be read."""

    path: Path
    exists: bool
    heads: list[WitnessHead] = field(default_factory=list)
    malformed: list[tuple[int, str]] = field(default_factory=list)  # (line number, what is wrong)

    @property
    def newest(self) -> WitnessHead | None:
        """The head of the largest tree (the last one among equals)."""
        newest = None
        for head in self.heads:
            if newest is None or head.tree_size >= newest.tree_size:
                newest = head
        return newest


def witness_path() -> Path:
    return Path(settings.LEDGER_WITNESS_FILE)


def _line(checkpoint: Checkpoint) -> bytes:
    record = {
        "tree_size": checkpoint.tree_size,
        "root_hash": checkpoint.root_hash,
        "created_at": utc_iso(checkpoint.created_at),
        "key_id": checkpoint.key_id,
        "signature": checkpoint.signature,
        "checkpoint": checkpoint.pk,
    }
    return json.dumps(record, sort_keys=True, separators=(",", ":")).encode() + b"\n"


def witness_record(checkpoint: Checkpoint) -> None:
    """Append the checkpoint's signed head to the witness file and fsync it (call under the ledger lock).

    Raises IntegrityFailure when the file cannot be written: the caller's transaction then rolls back, so no
    checkpoint exists that the witness does not hold.
    """
    path = witness_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        created = not path.exists()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # writers on other hosts of a shared volume
            os.write(fd, _line(checkpoint))
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:  # the new directory entry must survive a crash too
            dir_fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
    except OSError as exc:
        raise IntegrityFailure(
            f"could not append the signed tree head to the ledger witness file {path} ({exc}): fix its "
            "permissions or free space (HAETAE_LEDGER_WITNESS_FILE names it); no checkpoint was signed",
            details={"witness": str(path)},
        ) from exc


def _parse(raw: bytes, where: str) -> WitnessHead | str:
    """A witness line as a head, or a sentence saying what is wrong with it."""
    try:
        record = json.loads(raw)
    except ValueError:
        return "is not JSON"
    if not isinstance(record, dict):
        return "is not a JSON object"
    missing = [name for name in _FIELDS if name not in record]
    if missing:
        return f"lacks {', '.join(missing)}"
    size = record["tree_size"]
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        return "has a tree_size that is not a whole number"
    if not all(isinstance(record[name], str) for name in _FIELDS[1:]):
        return "has a root, time, key id or signature that is not text"
    checkpoint: Any = record.get("checkpoint")
    return WitnessHead(
        tree_size=size,
        root_hash=record["root_hash"],
        created_at=record["created_at"],
        key_id=record["key_id"],
        signature=record["signature"],
        checkpoint=checkpoint if isinstance(checkpoint, int) else None,
        where=where,
    )


def witness_read() -> WitnessRead:
    """Every head in the witness file, in file order; unreadable lines are listed, never skipped silently."""
    path = witness_path()
    read = WitnessRead(path=path, exists=path.exists())
    if not read.exists:
        return read
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                read.malformed.append((number, "is empty"))
                continue
            parsed = _parse(raw, f"{path} line {number}")
            if isinstance(parsed, str):
                read.malformed.append((number, parsed))
            else:
                read.heads.append(parsed)
    return read


_BUNDLE_MANIFEST_LIMIT = 64 * 1024 * 1024  # a manifest is text listing items and proofs; more is not one


def bundle_heads(path: Path) -> list[WitnessHead]:
    """The signed tree heads an export bundle carries (its manifest's checkpoints), as witness heads.

    A bundle handed to a prosecutor keeps the heads it was exported with, outside this installation: the
    ledger must still contain each of them. Raises RejectedInput for a file that is not a readable bundle.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo(MANIFEST_NAME)
            if info.file_size > _BUNDLE_MANIFEST_LIMIT:
                raise RejectedInput(
                    f"{path}: its {MANIFEST_NAME} is {info.file_size} bytes, too large to be one"
                )
            manifest = json.loads(archive.read(info))
    except FileNotFoundError:
        raise RejectedInput(f"{path}: no such file (give the path of an export bundle ZIP)") from None
    except KeyError:
        raise RejectedInput(f"{path} holds no {MANIFEST_NAME}: it is not a Haetae export bundle") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise RejectedInput(f"{path} cannot be read as a ZIP ({exc}): give an export bundle") from None
    except ValueError:
        raise RejectedInput(f"{path}: its {MANIFEST_NAME} is not JSON: the bundle is damaged") from None
    checkpoints = manifest.get("checkpoints") if isinstance(manifest, dict) else None
    if not isinstance(checkpoints, list) or not checkpoints:
        raise RejectedInput(f"{path}: its {MANIFEST_NAME} lists no signed checkpoint to witness")
    heads = []
    for number, checkpoint in enumerate(checkpoints, start=1):
        where = f"bundle {path.name} checkpoint {number}"
        parsed = (
            _parse(json.dumps(checkpoint).encode(), where) if isinstance(checkpoint, dict) else "is not one"
        )
        if isinstance(parsed, str):
            raise RejectedInput(
                f"{path}: checkpoint {number} of its {MANIFEST_NAME} {parsed}: the bundle is damaged"
            )
        checkpoint_id = checkpoint.get("id")
        heads.append(
            WitnessHead(
                tree_size=parsed.tree_size,
                root_hash=parsed.root_hash,
                created_at=parsed.created_at,
                key_id=parsed.key_id,
                signature=parsed.signature,
                checkpoint=checkpoint_id if isinstance(checkpoint_id, int) else None,
                where=where,
            )
        )
    return heads
