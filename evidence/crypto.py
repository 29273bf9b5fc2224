"""Keys and the at-rest format: AES-256-GCM in authenticated chunks, a random data key per blob.

File layout (scheme ``aes-256-gcm-stream-v1``)::

    b"HAETAEv1" | uint32 header length | header (canonical JSON) | chunk 0 | chunk 1 | ...

Each chunk is ``CHUNK_SIZE`` plaintext bytes (the last may be shorter, even empty) sealed with the data key
under nonce ``nonce_prefix(7) || chunk index(4, big-endian) || last flag(1)`` and the header as associated
data, so a chunk cannot be altered, moved, dropped or appended, and the file cannot be truncated, without
the tag check failing. The data key is wrapped by the master key (AES-256-GCM) and kept in the header, so
each object is self-describing; the database records the scheme and the master key id.
"""

import hashlib
import json
import os
import secrets
import struct
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings

from haetae.errors import HaetaeError, IntegrityFailure

SCHEME = "aes-256-gcm-stream-v1"
MAGIC = b"HAETAEv1"
CHUNK_SIZE = 1024 * 1024
TAG_SIZE = 16
_WRAP_AAD = b"haetae-data-key/v1"


_key_creation_lock = threading.Lock()


def _read_or_create_secret(path: Path, make: bytes) -> bytes:
    """Read a key file, or create it (0600) atomically: readers never see a partly written key.

    The key is written and fsynced under a temporary name, then hard-linked into place; link fails if
    another process won the race, and then its key is the one used.
    """
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    with _key_creation_lock:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(make)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(temp, path)
            except FileExistsError:
                return path.read_bytes()
            dir_fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
            return make
        finally:
            temp.unlink(missing_ok=True)


@dataclass(frozen=True)
class MasterKey:
    """The key-encryption key; its id (a SHA-256 prefix of the key) is recorded with every blob."""

    key_id: str
    key: bytes


@lru_cache(maxsize=4)
def _master_key_from(path: str) -> MasterKey:
    key = _read_or_create_secret(Path(path), secrets.token_bytes(32))
    if len(key) != 32:
        raise HaetaeError(
            f"the master key file {path} holds {len(key)} bytes, not 32: restore it from the key backup"
        )
    return MasterKey(key_id=hashlib.sha256(b"haetae-master-key-id" + key).hexdigest()[:16], key=key)


def master_key() -> MasterKey:
    """The master key named by HAETAE_MASTER_KEY_FILE, created with mode 0600 on first use."""
    return _master_key_from(str(settings.MASTER_KEY_FILE))


@lru_cache(maxsize=4)
def _ledger_key_from(path: str) -> Ed25519PrivateKey:
    raw = _read_or_create_secret(Path(path), Ed25519PrivateKey.generate().private_bytes_raw())
    if len(raw) != 32:
        raise HaetaeError(f"the ledger key file {path} holds {len(raw)} bytes, not a 32-byte Ed25519 seed")
    return Ed25519PrivateKey.from_private_bytes(raw)


def ledger_signing_key() -> Ed25519PrivateKey:
    """The Ed25519 key that signs checkpoints (HAETAE_LEDGER_KEY_FILE, created 0600 on first use)."""
    return _ledger_key_from(str(settings.LEDGER_KEY_FILE))


def public_key_hex(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def public_key_id(public_key_hex_value: str) -> str:
    return hashlib.sha256(bytes.fromhex(public_key_hex_value)).hexdigest()[:16]


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + struct.pack(">I", index) + (b"\x01" if last else b"\x00")


class ChunkEncryptor:
    """Seals plaintext chunks into an open file in the stream format above."""

    def __init__(self, out: BinaryIO, key: MasterKey | None = None) -> None:
        key = key or master_key()
        data_key = AESGCM.generate_key(bit_length=256)
        wrap_nonce = secrets.token_bytes(12)
        self._prefix = secrets.token_bytes(7)
        header = {
            "chunk_size": CHUNK_SIZE,
            "key_id": key.key_id,
            "nonce_prefix": self._prefix.hex(),
            "scheme": SCHEME,
            "wrap": "aes-256-gcm",
            "wrap_nonce": wrap_nonce.hex(),
            "wrapped_key": AESGCM(key.key).encrypt(wrap_nonce, data_key, _WRAP_AAD).hex(),
        }
        self._header = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
        self._aead = AESGCM(data_key)
        self._out = out
        self._index = 0
        self.key_id = key.key_id
        out.write(MAGIC + struct.pack(">I", len(self._header)) + self._header)

    def write(self, chunk: bytes | memoryview, *, last: bool) -> None:
        """Seal one chunk; every chunk but the last must be exactly CHUNK_SIZE bytes."""
        if not last and len(chunk) != CHUNK_SIZE:
            raise ValueError("only the last chunk may be shorter than CHUNK_SIZE")
        if self._index > 0xFFFFFFFF:
            raise ValueError("object too large for one stream (4 PiB)")
        nonce = _nonce(self._prefix, self._index, last)
        self._out.write(self._aead.encrypt(nonce, bytes(chunk), self._header))
        self._index += 1


class EncryptedObjectReader:
    """Random-access, authenticated reads of one encrypted object (seekable: archives open from it)."""

    def __init__(self, path: Path, key: MasterKey | None = None) -> None:
        self.path = path
        self._file = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by close()/__exit__
        try:
            self._open(key or master_key())
        except BaseException:
            self._file.close()
            raise
        self._pos = 0
        self._cache_index = -1
        self._cache = b""

    def _fail(self, what: str) -> IntegrityFailure:
        return IntegrityFailure(
            f"vault object {self.path.name} is damaged: {what}", details={"path": str(self.path)}
        )

    def _open(self, key: MasterKey) -> None:
        prefix = self._file.read(12)
        if len(prefix) != 12 or prefix[:8] != MAGIC:
            raise self._fail("it does not start with the vault header")
        (header_len,) = struct.unpack(">I", prefix[8:])
        if header_len > 65536:
            raise self._fail("its header length is implausible")
        self._header = self._file.read(header_len)
        try:
            header = json.loads(self._header)
            scheme = header["scheme"]
            key_id = header["key_id"]
            wrap_nonce = bytes.fromhex(header["wrap_nonce"])
            wrapped_key = bytes.fromhex(header["wrapped_key"])
            prefix = bytes.fromhex(header["nonce_prefix"])
            chunk = header["chunk_size"]
        except (ValueError, KeyError, TypeError):
            raise self._fail("its header is not readable or lacks a field (header altered)") from None
        if scheme != SCHEME:
            raise self._fail(f"unknown encryption scheme {scheme!r}")
        if (
            not isinstance(chunk, int)
            or not 0 < chunk <= 64 * 1024 * 1024
            or len(prefix) != 7
            or len(wrap_nonce) != 12
        ):
            raise self._fail("its header fields have impossible values (header altered)")
        if key_id != key.key_id:
            raise HaetaeError(
                f"vault object {self.path.name} was sealed with master key {key_id}, "
                f"but the configured key is {key.key_id}: point HAETAE_MASTER_KEY_FILE at the right key"
            )
        try:
            data_key = AESGCM(key.key).decrypt(wrap_nonce, wrapped_key, _WRAP_AAD)
        except (InvalidTag, ValueError):
            raise self._fail("its data key does not unwrap (header altered)") from None
        self._aead = AESGCM(data_key)
        self._prefix = prefix
        self._chunk = chunk
        self._body_start = 12 + header_len
        body = os.fstat(self._file.fileno()).st_size - self._body_start
        sealed = self._chunk + TAG_SIZE
        self._chunks = max(1, -(-body // sealed))
        last_len = body - (self._chunks - 1) * sealed - TAG_SIZE
        if body < TAG_SIZE or last_len < 0:
            raise self._fail("it is truncated")
        self.size = (self._chunks - 1) * self._chunk + last_len

    def read_chunk(self, index: int) -> bytes:
        """Decrypt and authenticate chunk ``index``."""
        sealed = self._chunk + TAG_SIZE
        self._file.seek(self._body_start + index * sealed)
        data = self._file.read(sealed)
        last = index == self._chunks - 1
        try:
            return self._aead.decrypt(_nonce(self._prefix, index, last), data, self._header)
        except InvalidTag:
            raise self._fail(
                f"chunk {index} fails its authentication tag (altered, moved or truncated)"
            ) from None

    def chunks(self):
        """All plaintext chunks in order."""
        for index in range(self._chunks):
            yield self.read_chunk(index)

    # file-like protocol (for zipfile and friends)
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self.size - self._pos
        out = bytearray()
        while size > 0 and self._pos < self.size:
            index, offset = divmod(self._pos, self._chunk)
            if index != self._cache_index:
                self._cache = self.read_chunk(index)
                self._cache_index = index
            piece = self._cache[offset : offset + size]
            out += piece
            self._pos += len(piece)
            size -= len(piece)
        return bytes(out)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "EncryptedObjectReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def record_seal(*, key: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
    """A small record (an identity, a note) sealed with AES-256-GCM: a fresh 12-byte nonce, then the
    ciphertext and tag. ``associated_data`` binds it to its row: opened under any other, it fails."""
    nonce = secrets.token_bytes(12)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, associated_data)


def record_open(*, key: bytes, sealed: bytes, associated_data: bytes) -> bytes:
    """The plaintext of ``record_seal``'s output; ``InvalidTag`` (or ValueError) when altered or moved."""
    return AESGCM(key).decrypt(sealed[:12], sealed[12:], associated_data)
