"""The at-rest format: round trips at chunk boundaries, and every alteration of an object is detected."""

import io
import os
import random
import secrets
import struct
from pathlib import Path

import pytest
from django.conf import settings

from evidence.crypto import (
    CHUNK_SIZE,
    MAGIC,
    SCHEME,
    TAG_SIZE,
    ChunkEncryptor,
    EncryptedObjectReader,
    MasterKey,
    ledger_signing_key,
    master_key,
)
from haetae.errors import HaetaeError, IntegrityFailure

SIZES = [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 5]


def seal(path: Path, data: bytes, key: MasterKey | None = None) -> None:
    """Write ``data`` in the stream format, chunk by chunk, as the vault does."""
    with open(path, "wb") as out:
        encryptor = ChunkEncryptor(out, key)
        chunks = [data[i : i + CHUNK_SIZE] for i in range(0, len(data), CHUNK_SIZE)]
        if not chunks or len(chunks[-1]) == CHUNK_SIZE:
            chunks.append(b"")  # a stream of whole chunks ends with an empty last chunk
        for index, chunk in enumerate(chunks):
            encryptor.write(chunk, last=index == len(chunks) - 1)


def read_all(path: Path, key: MasterKey | None = None) -> bytes:
    with EncryptedObjectReader(path, key) as reader:
        return b"".join(reader.chunks())


def body_start(path: Path) -> int:
    return 12 + struct.unpack(">I", path.read_bytes()[8:12])[0]


def test_master_key_file_is_created_0600() -> None:
    key = master_key()
    assert len(key.key) == 32 and len(key.key_id) == 16
    assert settings.MASTER_KEY_FILE.stat().st_mode & 0o777 == 0o600
    assert master_key() == key  # read back, not regenerated


def test_ledger_key_file_is_created_0600() -> None:
    ledger_signing_key()
    assert settings.LEDGER_KEY_FILE.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("size", SIZES)
def test_round_trip(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    path = tmp_path / "object"
    seal(path, data)
    raw = path.read_bytes()
    assert raw.startswith(MAGIC)
    if size >= 64:
        assert data[:64] not in raw  # the plaintext is not in the file
    expected_chunks = size // CHUNK_SIZE + 1
    assert len(raw) - body_start(path) == size + expected_chunks * TAG_SIZE
    with EncryptedObjectReader(path) as reader:
        assert reader.size == size
    assert read_all(path) == data


def test_header_records_scheme_and_key_id(tmp_path: Path) -> None:
    path = tmp_path / "object"
    seal(path, b"x")
    header = path.read_bytes()[12 : body_start(path)]
    assert SCHEME.encode() in header and master_key().key_id.encode() in header


def _three_chunk_object(tmp_path: Path) -> tuple[Path, bytes]:
    data = os.urandom(2 * CHUNK_SIZE + 100)
    path = tmp_path / "object"
    seal(path, data)
    return path, data


def test_tampered_chunk_is_detected(tmp_path: Path) -> None:
    path, _ = _three_chunk_object(tmp_path)
    raw = bytearray(path.read_bytes())
    raw[body_start(path) + CHUNK_SIZE + TAG_SIZE + 1000] ^= 0x80  # inside chunk 1
    path.write_bytes(bytes(raw))
    with EncryptedObjectReader(path) as reader:
        reader.read_chunk(0)  # untouched chunks still read
        with pytest.raises(IntegrityFailure, match="chunk 1 fails"):
            reader.read_chunk(1)


def test_swapped_chunks_are_detected(tmp_path: Path) -> None:
    data = os.urandom(3 * CHUNK_SIZE + 5)
    path = tmp_path / "object"
    seal(path, data)
    raw = path.read_bytes()
    start, sealed = body_start(path), CHUNK_SIZE + TAG_SIZE
    first, second = raw[start : start + sealed], raw[start + sealed : start + 2 * sealed]
    path.write_bytes(raw[:start] + second + first + raw[start + 2 * sealed :])
    with pytest.raises(IntegrityFailure, match="chunk 0 fails"):
        read_all(path)


def test_dropped_last_chunk_is_detected(tmp_path: Path) -> None:
    path, _ = _three_chunk_object(tmp_path)
    raw = path.read_bytes()
    path.write_bytes(raw[: body_start(path) + 2 * (CHUNK_SIZE + TAG_SIZE)])
    with pytest.raises(IntegrityFailure, match="chunk 1 fails"):  # chunk 1 now claims to be the last
        read_all(path)


def test_appended_chunk_is_detected(tmp_path: Path) -> None:
    path, _ = _three_chunk_object(tmp_path)
    raw = path.read_bytes()
    start, sealed = body_start(path), CHUNK_SIZE + TAG_SIZE
    # pad the short last chunk to full size and append a copy of chunk 0 after it
    path.write_bytes(raw + raw[start : start + sealed])
    with pytest.raises(IntegrityFailure):
        read_all(path)


def test_truncation_inside_the_header_or_tag_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "object"
    seal(path, b"short")
    raw = path.read_bytes()
    for cut in (5, body_start(path) - 3, len(raw) - 1, body_start(path) + TAG_SIZE - 1):
        path.write_bytes(raw[:cut])
        with pytest.raises(IntegrityFailure):
            read_all(path)


def test_wrong_master_key_names_both_key_ids(tmp_path: Path) -> None:
    path = tmp_path / "object"
    sealing = MasterKey(key_id="aaaaaaaaaaaaaaaa", key=secrets.token_bytes(32))
    seal(path, b"evidence", sealing)
    other = MasterKey(key_id="bbbbbbbbbbbbbbbb", key=secrets.token_bytes(32))
    with pytest.raises(HaetaeError) as raised:
        read_all(path, other)
    assert "aaaaaaaaaaaaaaaa" in raised.value.message and "bbbbbbbbbbbbbbbb" in raised.value.message
    assert "HAETAE_MASTER_KEY_FILE" in raised.value.message


def test_wrong_master_key_with_a_forged_id_fails_to_unwrap(tmp_path: Path) -> None:
    path = tmp_path / "object"
    seal(path, b"evidence", MasterKey(key_id="aaaaaaaaaaaaaaaa", key=secrets.token_bytes(32)))
    impostor = MasterKey(key_id="aaaaaaaaaaaaaaaa", key=secrets.token_bytes(32))
    with pytest.raises(IntegrityFailure, match="does not unwrap"):
        read_all(path, impostor)


def test_seek_and_read_match_the_plaintext_at_random_offsets(tmp_path: Path) -> None:
    data = os.urandom(3 * CHUNK_SIZE + 5)
    path = tmp_path / "object"
    seal(path, data)
    rng = random.Random(1234)
    plain = io.BytesIO(data)
    with EncryptedObjectReader(path) as reader:
        assert reader.seekable() and reader.readable()
        for _ in range(200):
            offset = rng.randrange(0, len(data) + 10)
            length = rng.choice([0, 1, 7, 4096, CHUNK_SIZE - 3, CHUNK_SIZE + 9, -1])
            assert reader.seek(offset) == plain.seek(offset)
            assert reader.read(length) == plain.read(length)
            assert reader.tell() == plain.tell()
        assert reader.seek(-10, 2) == len(data) - 10
        assert reader.read() == data[-10:]
        reader.seek(5)
        assert reader.seek(3, 1) == 8
        assert reader.read(4) == data[8:12]


def test_any_altered_header_byte_is_an_integrity_failure(tmp_path: Path) -> None:
    path = tmp_path / "object"
    seal(path, b"evidence " * 50)
    raw = path.read_bytes()
    header_end = body_start(path)
    for offset in range(header_end):  # the magic, the header length and every byte of the header
        altered = bytearray(raw)
        altered[offset] ^= 0x01
        path.write_bytes(bytes(altered))
        try:
            read_all(path)
        except IntegrityFailure:
            continue
        except HaetaeError as exc:  # an altered key id reads as "sealed with another key", naming both
            assert "sealed with master key" in exc.message
            continue
        raise AssertionError(f"altering header byte {offset} went unnoticed")
