"""The blob store: encrypted objects at ``objects/<sha256[:2]>/<sha256[2:4]>/<sha256>``, read-only.

Writes go to a per-process work directory (``tmp/w-<token>/``) guarded by an flock. Before an object is
renamed into place its SHA-256 is appended to the work directory's intent journal; the Blob row commits in
the same transaction that uses it. If the process dies, ``vault_recover`` (run at the start of every ingest
and verify) finds work directories whose lock is free, deletes objects named in their journal that have no
Blob row, and removes the directory. So a blob file without its row never survives, and since rows commit
only after their file is durable, a row without its file never appears.
"""

import contextlib
import ctypes
import ctypes.util
import fcntl
import hashlib
import itertools
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from django.conf import settings
from django.db import connection, transaction

from evidence.crypto import SCHEME, ChunkEncryptor, EncryptedObjectReader, master_key
from evidence.hashing import Digests, hash_and_seal
from haetae.errors import IntegrityFailure

if TYPE_CHECKING:
    from evidence.models import Blob

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def vault_root() -> Path:
    return Path(settings.VAULT_DIR)


_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def object_location(sha256: str) -> tuple[str, str]:
    """(directory, file) of an object as plain strings: the ingest hot path avoids pathlib's parsing."""
    if not _SHA256_HEX.fullmatch(sha256):
        raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
    directory = os.path.join(settings.VAULT_DIR, "objects", sha256[:2], sha256[2:4])
    return directory, os.path.join(directory, sha256)


def object_path(sha256: str) -> Path:
    return Path(object_location(sha256)[1])


def sync_filesystem(path: Path) -> None:
    """Flush everything written on the filesystem holding ``path`` (one syncfs instead of many fsyncs)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        if _libc.syncfs(fd) != 0:
            os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class StagedObject:
    """An encrypted temporary file with the digests of its plaintext, not yet in the vault."""

    temp_path: Path
    digests: Digests
    key_id: str
    scheme: str = SCHEME


NASCENT_PREFIX = ".new-"  # a work directory being set up (see WorkDir); recovery leaves it alone a while
NASCENT_GRACE_SECONDS = 60


class WorkDir:
    """This process's scratch area in the vault; the held flock tells recovery that we are alive."""

    def __init__(self) -> None:
        self.token = f"{os.getpid()}-{secrets.token_hex(6)}"
        tmp = vault_root() / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        # The directory gets its locked lock file under a name recovery ignores, then is renamed into
        # place: a "w-*" directory without a held lock is therefore always a dead process's, never one
        # still being set up (the flock belongs to the file, so it survives the rename).
        nascent = tmp / f"{NASCENT_PREFIX}{self.token}"
        nascent.mkdir(mode=0o700)
        self._lock_fd = os.open(nascent / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.path = tmp / f"w-{self.token}"
        os.rename(nascent, self.path)
        self._journal = open(self.path / "intents", "a", buffering=1)  # noqa: SIM115 - closed in close()
        self.made_dirs: set[str] = set()  # object directories known to exist: saves a mkdir per object
        self._counter = itertools.count(1)  # next() on a count is atomic: staging threads share it

    def new_temp(self) -> Path:
        return self.path / f"{next(self._counter)}.part"

    def stage(self, src: BinaryIO, *, on_progress=None) -> StagedObject:
        """One pass over ``src``: hash it and seal it into a temporary file here."""
        temp = self.new_temp()
        key = master_key()
        try:
            with open(temp, "wb") as out:
                digests = hash_and_seal(src, ChunkEncryptor(out, key), on_progress=on_progress)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        self.ensure_object_dir(digests.sha256)
        return StagedObject(temp_path=temp, digests=digests, key_id=key.key_id)

    def ensure_object_dir(self, sha256: str) -> None:
        """Make the object's directory now, on the staging thread, so placing it is a bare rename.

        With two levels of 256-way fan-out nearly every new object needs a new directory; an unused empty
        directory is harmless.
        """
        directory = object_location(sha256)[0]
        if directory not in self.made_dirs:
            os.makedirs(directory, exist_ok=True)
            self.made_dirs.add(directory)

    def record_intent(self, sha256: str) -> None:
        self._journal.write(sha256 + "\n")

    def flush_journal(self) -> None:
        self._journal.flush()

    def close(self) -> None:
        self._journal.close()
        shutil.rmtree(self.path, ignore_errors=True)
        os.close(self._lock_fd)

    def __enter__(self) -> "WorkDir":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def place_objects(work: WorkDir, staged: list[StagedObject], *, existing: set[str]) -> list[str]:
    """Move staged objects into the vault durably; returns the SHA-256s that were newly placed.

    ``existing`` names content already in the vault (its staged copy is simply discarded). Call inside the
    transaction that creates the Blob rows, after ``lock_blobs``, so recovery cannot race the placement.
    """
    to_place: dict[str, StagedObject] = {}
    for item in staged:
        sha = item.digests.sha256
        if sha in existing or sha in to_place or os.path.exists(object_location(sha)[1]):
            continue
        to_place[sha] = item
    for sha in to_place:
        work.record_intent(sha)
    if to_place:
        work.flush_journal()
        sync_filesystem(work.path)  # temp files and journal durable before any rename
    for sha, item in to_place.items():
        work.ensure_object_dir(sha)
        os.chmod(item.temp_path, 0o400)
        os.replace(item.temp_path, object_location(sha)[1])
    if to_place:
        sync_filesystem(vault_root())  # the renames durable before the rows commit
    for item in staged:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(item.temp_path)
    return list(to_place)


def blob_commit(*, work: WorkDir, staged: StagedObject, mime: str) -> tuple["Blob", bool]:
    """Put one staged object in the vault and get-or-create its Blob row; True when newly placed.

    Call inside the transaction that also records what the blob is for. (Batches of many objects use
    ``lock_blobs`` + ``place_objects`` + bulk inserts directly.)
    """
    from evidence.models import Blob

    sha = staged.digests.sha256
    lock_blobs([sha])
    existing = set(Blob.objects.filter(sha256=sha).values_list("sha256", flat=True))
    placed = place_objects(work, [staged], existing=existing)
    blob, _ = Blob.objects.get_or_create(
        sha256=sha,
        defaults={
            "md5": staged.digests.md5,
            "sha1": staged.digests.sha1,
            "size": staged.digests.size,
            "mime": mime,
            "encryption_scheme": staged.scheme,
            "key_id": staged.key_id,
        },
    )
    return blob, bool(placed)


def lock_blobs(sha256s: list[str]) -> None:
    """Serialise work on these contents with recovery and other ingests until the transaction ends."""
    if connection.vendor != "postgresql" or not sha256s:
        return  # SQLite: IMMEDIATE transactions already serialise all writers
    keys = sorted({int(s[:15], 16) for s in sha256s})  # sorted: two ingests lock in the same order
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(%s::bigint[]) AS k", [keys])


def lock_is_free(lock_path: Path) -> bool:
    """True when no live process holds this work directory's lock (its owner has exited or died)."""
    try:
        fd = os.open(lock_path, os.O_RDWR)
    except FileNotFoundError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


@dataclass
class RecoveryReport:
    work_dirs_removed: list[str]
    orphans_deleted: list[str]


def vault_recover() -> RecoveryReport:
    """Clean up after processes that died mid-ingest: orphan objects and their temporary files."""
    from evidence.models import Blob

    report = RecoveryReport([], [])
    tmp = vault_root() / "tmp"
    if not tmp.is_dir():
        return report
    now = time.time()
    for nascent in tmp.glob(f"{NASCENT_PREFIX}*"):  # a process died while setting up its work directory
        with contextlib.suppress(FileNotFoundError):
            if now - nascent.stat().st_mtime > NASCENT_GRACE_SECONDS and lock_is_free(nascent / "lock"):
                shutil.rmtree(nascent, ignore_errors=True)
    for work_dir in sorted(tmp.glob("w-*")):
        if not lock_is_free(work_dir / "lock"):
            continue
        intents_file = work_dir / "intents"
        intents = (
            [line.strip() for line in intents_file.read_text().splitlines()] if intents_file.exists() else []
        )
        intents = [s for s in intents if len(s) == 64]
        if intents:
            with transaction.atomic():
                lock_blobs(intents)
                known = set(Blob.objects.filter(sha256__in=intents).values_list("sha256", flat=True))
                for sha in intents:
                    if sha not in known and object_path(sha).exists():
                        object_path(sha).unlink()
                        report.orphans_deleted.append(sha)
        shutil.rmtree(work_dir, ignore_errors=True)
        report.work_dirs_removed.append(work_dir.name)
    return report


def open_object(sha256: str) -> EncryptedObjectReader:
    """Open a vault object for authenticated random access (each chunk is checked as it is read)."""
    path = object_path(sha256)
    if not path.exists():
        raise IntegrityFailure(
            f"vault object {sha256} is missing from {path.parent}: restore it from backup; the item "
            "cannot be presented until then",
            details={"sha256": sha256, "problem": "missing"},
        )
    return EncryptedObjectReader(path)


def read_verified(sha256: str) -> Iterator[bytes]:
    """Stream the plaintext of a blob, re-hashing as it goes; raises IntegrityFailure on any mismatch.

    Every chunk is authenticated before it is yielded; the SHA-256 of the whole is compared at the end.
    """
    digest = hashlib.sha256()
    with open_object(sha256) as reader:
        for chunk in reader.chunks():
            digest.update(chunk)
            yield chunk
    if digest.hexdigest() != sha256:
        raise IntegrityFailure(
            f"vault object {sha256} decrypts to bytes whose SHA-256 is {digest.hexdigest()}",
            details={"sha256": sha256, "found": digest.hexdigest(), "problem": "hash mismatch"},
        )


def verify_object(sha256: str) -> str:
    """Read a whole object back and return the SHA-256 of its plaintext (raises on damage)."""
    digest = hashlib.sha256()
    with open_object(sha256) as reader:
        for chunk in reader.chunks():
            digest.update(chunk)
    return digest.hexdigest()
