"""hash_and_seal: the three digests equal hashlib's, whatever the size or read pattern; errors surface."""

import hashlib
import io
import os
import threading

import pytest

from evidence import hashing
from evidence.crypto import CHUNK_SIZE
from evidence.hashing import HEAD_SIZE, hash_and_seal, read_full

SIZES = [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 5]


class RecordingSink:
    """Collects what the hasher hands to the encryptor, to check chunking and order."""

    def __init__(self) -> None:
        self.chunks: list[tuple[bytes, bool]] = []

    def write(self, chunk: bytes, *, last: bool) -> None:
        self.chunks.append((bytes(chunk), last))


class ShortReads(io.RawIOBase):
    """A stream that returns at most ``step`` bytes per read, like a pipe or an archive member."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data = data
        self._pos = 0
        self._step = step

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = self._step if size is None or size < 0 else min(size, self._step)
        piece = self._data[self._pos : self._pos + size]
        self._pos += len(piece)
        return piece


def expected_digests(data: bytes) -> tuple[str, str, str]:
    return (
        hashlib.md5(data, usedforsecurity=False).hexdigest(),
        hashlib.sha1(data, usedforsecurity=False).hexdigest(),
        hashlib.sha256(data).hexdigest(),
    )


def worker_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if isinstance(t, hashing._Worker)]


@pytest.mark.parametrize("size", SIZES)
def test_digests_equal_hashlib_and_chunks_are_whole(size: int) -> None:
    data = os.urandom(size)
    sink = RecordingSink()
    progress: list[int] = []
    digests = hash_and_seal(io.BytesIO(data), sink, on_progress=progress.append)
    assert (digests.md5, digests.sha1, digests.sha256) == expected_digests(data)
    assert digests.size == size
    assert digests.head == data[:HEAD_SIZE]
    assert b"".join(chunk for chunk, _ in sink.chunks) == data
    assert [last for _, last in sink.chunks] == [False] * (len(sink.chunks) - 1) + [True]
    assert all(len(chunk) == CHUNK_SIZE for chunk, _ in sink.chunks[:-1])
    assert sum(progress) == size
    assert worker_threads() == []


@pytest.mark.parametrize("size", [CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 5])
def test_short_reads_give_the_same_digests_and_whole_chunks(size: int) -> None:
    data = os.urandom(size)
    sink = RecordingSink()
    digests = hash_and_seal(ShortReads(data, 65_537), sink)
    assert (digests.md5, digests.sha1, digests.sha256) == expected_digests(data)
    assert digests.size == size
    assert all(len(chunk) == CHUNK_SIZE for chunk, _ in sink.chunks[:-1])
    assert b"".join(chunk for chunk, _ in sink.chunks) == data


def test_read_full_collects_short_reads() -> None:
    stream = ShortReads(b"abcdefghij", 3)
    assert read_full(stream, 8) == b"abcdefgh"
    assert read_full(stream, 8) == b"ij"
    assert read_full(stream, 8) == b""


def test_without_a_sink_only_hashes() -> None:
    data = os.urandom(2 * CHUNK_SIZE + 3)
    digests = hash_and_seal(io.BytesIO(data), None)
    assert digests.sha256 == hashlib.sha256(data).hexdigest()


class FailingSink:
    """An encryptor whose disk fills up on the second chunk."""

    def __init__(self) -> None:
        self.calls = 0

    def write(self, chunk: bytes, *, last: bool) -> None:
        self.calls += 1
        if self.calls == 2:
            raise OSError(28, "No space left on device")


@pytest.mark.parametrize("size", [10, 5 * CHUNK_SIZE])
def test_sink_error_propagates_and_threads_end(size: int) -> None:
    sink = FailingSink() if size > CHUNK_SIZE else _FailFirst()
    with pytest.raises(OSError, match="No space left"):
        hash_and_seal(io.BytesIO(os.urandom(size)), sink)
    assert worker_threads() == []


class _FailFirst:
    def write(self, chunk: bytes, *, last: bool) -> None:
        raise OSError(28, "No space left on device")


def test_source_error_propagates_and_threads_end() -> None:
    class BrokenSource(io.RawIOBase):
        def __init__(self) -> None:
            self.reads = 0

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            self.reads += 1
            if self.reads > 3:
                raise OSError(5, "Input/output error")
            return b"x" * size

    with pytest.raises(OSError, match="Input/output error"):
        hash_and_seal(BrokenSource(), RecordingSink())
    assert worker_threads() == []
