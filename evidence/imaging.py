"""The one bound on decoded pixels that every image decoder in Haetae goes through.

A few kilobytes of PNG or a JPEG header can declare a 13,000 × 13,000 image; decoding it costs gigabytes
(a "pixel bomb"). Every decoder (previews, detectors, report thumbnails, video frames) opens images with
``image_open`` or checks a frame size with ``pixels_check``, so one setting,
``HAETAE_MAX_IMAGE_PIXELS``, bounds what any of them decodes. A JPEG over the bound may still be decoded
at a reduced DCT scale (1/2 … 1/8) when the caller only needs that many pixels; every other format over
the bound is refused before a pixel is decoded.
"""

import io
from collections.abc import Collection
from typing import BinaryIO

from django.conf import settings
from PIL import Image

from haetae.errors import RejectedInput

# Pillow's own check only raises at twice its limit and runs before a JPEG can be drafted smaller, so it
# is kept as a backstop above anything ``image_open`` could reduce into the bound (1/8 × 1/8 = 1/64).
_PILLOW_BACKSTOP_FACTOR = 64


class TooManyPixels(RejectedInput):
    """The image declares more pixels than Haetae decodes; the message names both numbers."""


def max_image_pixels() -> int:
    """The most pixels any decoder may produce from one image or frame (``HAETAE_MAX_IMAGE_PIXELS``)."""
    return int(getattr(settings, "HAETAE_MAX_IMAGE_PIXELS", 64_000_000))


def pillow_backstop() -> None:
    """Set Pillow's process-wide limit from the bound (at start-up, and again should a setting change)."""
    Image.MAX_IMAGE_PIXELS = max_image_pixels() * _PILLOW_BACKSTOP_FACTOR


def pixels_check(width: int, height: int, *, what: str = "the image") -> None:
    """Raise TooManyPixels when ``width`` × ``height`` is over the bound."""
    bound = max_image_pixels()
    if width * height > bound:
        raise TooManyPixels(
            f"{what} is {width} × {height} = {width * height:,} pixels, over the limit of {bound:,} "
            "(HAETAE_MAX_IMAGE_PIXELS): not decoded; the original is kept unchanged and can be examined "
            "with a dedicated tool"
        )


def image_open(
    source: bytes | BinaryIO,
    *,
    mode: str = "RGB",
    need: tuple[int, int] | None = None,
    longest: int | None = None,
    draft_modes: Collection[str] | None = None,
) -> Image.Image:
    """Open an image, bounded: the header is read, nothing is decoded yet (the caller loads it).

    ``need`` (a box) or ``longest`` (the longer side, aspect kept) is the size the caller will use at
    most: a JPEG is then drafted (decoded by libjpeg at the smallest DCT scale that still covers it) in
    ``mode`` (only from ``draft_modes`` when given), which also brings an oversized JPEG within the
    bound when the reduction suffices. The size as stored is kept in ``image.info["stored_size"]``.
    Raises TooManyPixels before decoding anything over the bound, and Pillow's own errors (OSError,
    ValueError, …) for data that is not an image.
    """
    pillow_backstop()
    image = Image.open(io.BytesIO(source) if isinstance(source, bytes | bytearray) else source)
    width, height = image.size
    image.info["stored_size"] = (width, height)
    if longest is not None and max(width, height) > longest:
        need = (max(1, width * longest // max(width, height)), max(1, height * longest // max(width, height)))
    if need is not None and image.format == "JPEG" and (draft_modes is None or image.mode in draft_modes):
        image.draft(mode, need)
    pixels_check(*image.size, what=f"the image ({width} × {height} as stored)")
    return image
