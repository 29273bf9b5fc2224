"""Hostile media built at test time: pixel bombs and archive bombs, each a few kilobytes on disk."""

import io
import struct
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
