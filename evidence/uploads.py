"""Uploads stream into the vault's scratch area encrypted under a key that lives only in memory.

Django hands an upload handler the request body in pieces. ``VaultUploadHandler`` seals each piece with
``ChunkEncryptor`` under an ephemeral random key as it arrives (buffering to the exact ``CHUNK_SIZE`` the
stream format needs), so plaintext never touches the disk and memory stays at about two chunks whatever
the upload's size. The finished upload is a ``VaultUploadedFile`` whose file object decrypts (and
authenticates) on read; ingest then hashes and re-seals it under the master key. The temporary files sit
in a ``WorkDir`` (``tmp/w-<token>/``) whose held flock tells ``vault_recover`` they are in use; they are
deleted when the upload is closed (Django closes every uploaded file when the request ends) and, should a
process die, recovery removes the directory. Without the key, which died with the request, the ciphertext
left behind is unreadable anyway.
"""

import secrets
import weakref
from pathlib import Path
from typing import Any, BinaryIO

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler

from evidence.crypto import CHUNK_SIZE, ChunkEncryptor, EncryptedObjectReader, MasterKey
from evidence.vault import WorkDir


class _UploadArea:
    """One request's scratch directory, closed when its last upload is closed (or it is collected)."""

    def __init__(self) -> None:
        self.work = WorkDir()
        self._open = 0
        self._receiving = True
        # A safety net for paths where Django never closes the files (a parse error mid-body).
        self._finalizer = weakref.finalize(self, WorkDir.close, self.work)

    def new_temp(self) -> Path:
        self._open += 1
        return self.work.new_temp()

    def release(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        self._open -= 1
        self._close_if_done()

    def receiving_done(self) -> None:
        self._receiving = False
        self._close_if_done()

    def _close_if_done(self) -> None:
        if not self._receiving and self._open <= 0:
            self._finalizer()


class _SealingWriter:
    """The upload being received: buffers to whole chunks and seals them into the temporary file."""

    def __init__(self, area: _UploadArea, key: MasterKey) -> None:
        self.area = area
        self.path = area.new_temp()
        self._released = False
        try:
            self._out = open(self.path, "xb")  # noqa: SIM115 - closed by finish()/close()
            self._encryptor = ChunkEncryptor(self._out, key)
        except BaseException:
            self.close()
            raise
        self._buffer = bytearray()
        self.size = 0

    def write(self, data: bytes) -> None:
        self._buffer += data
        self.size += len(data)
        # Hold back a full chunk: only finish() knows which chunk is the last one.
        while len(self._buffer) > CHUNK_SIZE:
            self._encryptor.write(bytes(self._buffer[:CHUNK_SIZE]), last=False)
            del self._buffer[:CHUNK_SIZE]

    def finish(self) -> Path:
        self._encryptor.write(bytes(self._buffer), last=True)
        self._buffer = bytearray()
        self._out.close()
        return self.path

    def close(self) -> None:
        """Abandon the upload (Django calls this on interrupted uploads): the partial file goes."""
        if self._released:
            return
        self._released = True
        out = getattr(self, "_out", None)
        if out is not None and not out.closed:
            out.close()
        self.area.release(self.path)


class VaultUploadedFile(UploadedFile):
    """A finished upload: reads give the plaintext, decrypted and authenticated from the sealed temp file."""

    def __init__(
        self,
        *,
        area: _UploadArea,
        path: Path,
        key: MasterKey,
        name: str,
        content_type: str,
        size: int,
        charset: str | None,
        content_type_extra: dict[str, Any] | None,
    ) -> None:
        self._area = area
        self._path = path
        reader: BinaryIO = EncryptedObjectReader(path, key)  # type: ignore[assignment]
        super().__init__(reader, name, content_type, size, charset, content_type_extra)
        self._released = False

    @property
    def sealed_path(self) -> Path:
        """Where the ciphertext lies while the upload is open (for checks that it holds no plaintext)."""
        return self._path

    @property
    def closed(self) -> bool:
        return self._released

    def open(self, mode: str | None = None, *args: Any, **kwargs: Any) -> "VaultUploadedFile":
        # Never File.open's fallback of opening ``self.name`` from the working directory.
        self.seek(0)
        return self

    def close(self) -> None:
        if self._released:
            return
        self._released = True
        if self.file is not None:
            self.file.close()
        self._area.release(self._path)


class VaultUploadHandler(FileUploadHandler):
    """Streams every uploaded file, sealed under a per-upload ephemeral key, into the vault's tmp area."""

    chunk_size = CHUNK_SIZE

    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self._area: _UploadArea | None = None
        self._key: MasterKey | None = None

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        if self._area is None:
            self._area = _UploadArea()
        # A fresh key per file: it never leaves this process's memory.
        self._key = MasterKey(key_id=f"ephemeral-{secrets.token_hex(8)}", key=secrets.token_bytes(32))
        # Named ``file`` because Django's parser closes ``handler.file`` when an upload is cut short.
        self.file = _SealingWriter(self._area, self._key)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.file.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> VaultUploadedFile:
        writer: _SealingWriter = self.file
        path = writer.finish()
        del self.file
        assert self._area is not None and self._key is not None
        return VaultUploadedFile(
            area=self._area,
            path=path,
            key=self._key,
            name=self.file_name or "",
            content_type=self.content_type or "application/octet-stream",
            size=writer.size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )

    def upload_interrupted(self) -> None:
        writer = getattr(self, "file", None)
        if isinstance(writer, _SealingWriter):
            writer.close()
            del self.file

    def upload_complete(self) -> None:
        if self._area is not None:
            self._area.receiving_done()
        return None
