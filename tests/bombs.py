"""Hostile media built at test time: pixel bombs and archive bombs, each a few kilobytes on disk."""

import io
import struct
import zipfile
import zlib

import numpy as np
from PIL import Image


def png_pixel_bomb(side: int = 13000) -> bytes:
    """A greyscale PNG declaring ``side`` × ``side`` pixels, all black: ~150 KB for 13,000 × 13,000."""
    compressor = zlib.compressobj(9)
    row = b"\x00" * (side + 1)  # filter byte + one byte per pixel
    body = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def jpeg_header_bomb(side: int = 20000) -> bytes:
    """A small real JPEG whose frame header (SOF0) is rewritten to declare ``side`` × ``side`` pixels."""
    out = io.BytesIO()
    Image.fromarray(np.full((64, 64, 3), 128, dtype=np.uint8)).save(out, format="JPEG", quality=90)
    data = bytearray(out.getvalue())
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, side, side)  # marker, length(2), precision(1), then height, width
    return bytes(data)


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def overlapping_zip(entries: int = 200, expands_to: int = 1024 * 1024) -> bytes:
    """A ZIP whose ``entries`` central-directory entries all point at one deflated stream of zeros: a few
    kilobytes that expand to ``entries`` × ``expands_to`` bytes if each entry is read."""
    single = _zip([("zeros.bin", b"\x00" * expands_to)])
    eocd = single.rindex(b"PK\x05\x06")
    (cd_size, cd_offset) = struct.unpack_from("<II", single, eocd + 12)
    entry = single[cd_offset : cd_offset + cd_size]
    directory = entry * entries
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, entries, entries, len(directory), cd_offset, 0)
    return single[:cd_offset] + directory + end


def nested_zip_bomb(copies: int = 8, members: int = 8, member_bytes: int = 1024 * 1024) -> bytes:
    """An archive of ``copies`` archives, each of ``members`` members of zeros: each level is small and
    within the per-member ratio, the whole tree expands to copies × members × member_bytes."""
    inner = _zip([(f"z{n}.bin", b"\x00" * member_bytes) for n in range(members)])
    return _zip([(f"inner{n}.zip", inner) for n in range(copies)])
