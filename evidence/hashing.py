"""One read pass per file: MD5, SHA-1 and SHA-256 computed and the bytes sealed, on two cores.

MD5 is the slowest of the three and cannot be parallelised within a stream, so it gets a thread of its own;
SHA-1, SHA-256 (both SHA-NI accelerated in OpenSSL) and AES-GCM share a second. hashlib and the AEAD release
the GIL on large buffers, so the two threads really run in parallel. A file that fits in one chunk is done
inline: thread hand-offs would cost more than they save.
"""

import hashlib
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from evidence.crypto import CHUNK_SIZE

HEAD_SIZE = 64 * 1024


class ChunkSink(Protocol):
    def write(self, chunk: bytes, *, last: bool) -> None: ...


@dataclass(frozen=True)
class Digests:
    """What one pass learned about a stream."""

    md5: str
    sha1: str
    sha256: str
    size: int
    head: bytes  # the first bytes, for MIME detection


def file_sha256(path: Path) -> str:
    """The SHA-256 (hex) of a file on disk, read in chunks: a model or data file a detector checks."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def read_full(src: BinaryIO, size: int) -> bytes:
    """Read exactly ``size`` bytes unless the stream ends first (pipes and archive members return short)."""
    data = src.read(size)
    if not data or len(data) == size:
        return data or b""
    parts = [data]
    got = len(data)
    while got < size:
        more = src.read(size - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


class _Worker(threading.Thread):
    """Applies ``work`` to each queued chunk in order; remembers the first error."""

    def __init__(self, work: Callable[[bytes, bool], None]) -> None:
        super().__init__(daemon=True)
        self.inbox: queue.Queue[tuple[bytes, bool] | None] = queue.Queue(maxsize=4)
        self.work = work
        self.error: BaseException | None = None

    def run(self) -> None:
        while (item := self.inbox.get()) is not None:
            if self.error is None:
                try:
                    self.work(*item)
                except BaseException as exc:
                    self.error = exc


def hash_and_seal(
    src: BinaryIO, sink: ChunkSink | None, *, on_progress: Callable[[int], None] | None = None
) -> Digests:
    """Stream ``src`` once: compute MD5/SHA-1/SHA-256 and hand each chunk to ``sink`` (the encryptor)."""
    md5, sha1, sha256 = (
        hashlib.md5(usedforsecurity=False),
        hashlib.sha1(usedforsecurity=False),
        hashlib.sha256(),
    )
    first = read_full(src, CHUNK_SIZE)
    following = read_full(src, CHUNK_SIZE) if len(first) == CHUNK_SIZE else b""
    head = first[:HEAD_SIZE]
    if not following:
        for digest in (md5, sha1, sha256):
            digest.update(first)
        if sink is not None:
            sink.write(first, last=True)
        if on_progress:
            on_progress(len(first))
        return Digests(md5.hexdigest(), sha1.hexdigest(), sha256.hexdigest(), len(first), head)

    def md5_work(chunk: bytes, last: bool) -> None:
        md5.update(chunk)

    def seal_work(chunk: bytes, last: bool) -> None:
        sha1.update(chunk)
        sha256.update(chunk)
        if sink is not None:
            sink.write(chunk, last=last)

    workers = [_Worker(md5_work), _Worker(seal_work)]
    for worker in workers:
        worker.start()
    size = 0
    try:
        current, upcoming = first, following
        while True:
            last = len(upcoming) == 0
            for worker in workers:
                worker.inbox.put((current, last))
            size += len(current)
            if on_progress:
                on_progress(len(current))
            if last or any(w.error for w in workers):
                break
            current, upcoming = upcoming, read_full(src, CHUNK_SIZE)
    finally:
        for worker in workers:
            worker.inbox.put(None)
        for worker in workers:
            worker.join()
    for worker in workers:
        if worker.error is not None:
            raise worker.error
    return Digests(md5.hexdigest(), sha1.hexdigest(), sha256.hexdigest(), size, head)
