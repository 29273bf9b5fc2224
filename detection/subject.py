"""What a detector analyses: one stored item's content, read from the vault and verified, decoded once.

A ``Subject`` is built by the pipeline from an item (``Subject.for_item``) or by a test or benchmark from
bytes (``Subject.from_bytes``). Detectors share its decoded image so a file is decoded once per run of all
detectors. Plaintext lives only in memory.

Image recipe (recorded in every image detector's parameters): Pillow decodes the file; ``pixels`` are the
stored pixels in RGB, *without* applying the EXIF orientation tag (perceptual hashes cover all eight
orientations anyway, and this is what the reference PDQ code sees); ``upright`` applies EXIF orientation
(what a person sees, and what face and body detectors expect).

``reduced`` is the one reduced decode that the detectors needing no more than ``REDUCED_LONGEST`` pixels
share (NudeNet, PDQ, OCR's text-presence test): a JPEG at least twice that size is decoded by libjpeg at a
DCT scale of 1/2, 1/4 or 1/8 (decoding a 12-megapixel photo to 1008 × 756 costs about a third of its full
decode, and no full-size copy is made for it), everything else is ``pixels``. It is decoded once per
subject whichever detector asks first, so what each detector sees does not depend on which others ran.
"""

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np
from PIL import Image, ImageOps

from evidence.imaging import TooManyPixels, image_open

if TYPE_CHECKING:
    from evidence.models import EvidenceItem


_ORIENTATION = 0x0112  # the EXIF tag
# The shared reduced decode keeps its longer side at least this long: NudeNet's 320-px input with pixels
# to spare for its resize, OCR's 640-px text-presence copy; a 4:3 photo's shorter side stays above PDQ's
# 256-px draft minimum (PDQ checks it, and decodes its own draft for a narrower image).
REDUCED_LONGEST = 640


def oriented(rgb: np.ndarray, orientation: int) -> np.ndarray:
    """An array turned as ``ImageOps.exif_transpose`` turns an image with this EXIF orientation (a view).

    Orientations other than 2–8 leave it as it is, as Pillow does.
    """
    if orientation == 2:
        return rgb[:, ::-1]
    if orientation == 3:
        return rgb[::-1, ::-1]
    if orientation == 4:
        return rgb[::-1]
    if orientation == 5:
        return rgb.swapaxes(0, 1)
    if orientation == 6:
        return rgb.swapaxes(0, 1)[:, ::-1]
    if orientation == 7:
        return rgb[::-1, ::-1].swapaxes(0, 1)
    if orientation == 8:
        return rgb.swapaxes(0, 1)[::-1]
    return rgb


@dataclass(frozen=True)
class Reduced:
    """An image decoded no larger than the detectors that share it need (``Subject.reduced``)."""

    rgb: np.ndarray  # RGB uint8 (H × W × 3) as stored, EXIF orientation not applied
    scale: int  # libjpeg's DCT reduction (2, 4 or 8); 1: the full decode (``Subject.pixels`` itself)
    stored_size: tuple[int, int]  # (width, height) of the full image as stored
    orientation: int  # the EXIF orientation tag (1 when absent)

    @property
    def upright_size(self) -> tuple[int, int]:
        """(width, height) of the full image with its EXIF orientation applied."""
        width, height = self.stored_size
        return (height, width) if self.orientation in {5, 6, 7, 8} else (width, height)


def draft_scale(stored: tuple[int, int], drafted: tuple[int, int]) -> int:
    """The DCT reduction (1, 2, 4 or 8) by which libjpeg decoded a ``stored`` (w, h) JPEG to ``drafted``."""
    for scale in (8, 4, 2, 1):
        if all(-(-full // scale) == side for full, side in zip(stored, drafted, strict=True)):
            return scale
    raise ValueError(f"JPEG draft gave {drafted} for an image of {stored}: not a 1/2^k scale")


class UndecodableMedia(Exception):
    """The content could not be decoded as the media type it claims; the message says why."""


# What decoding an image may raise besides UndecodableMedia: bound exceeded, or not an image.
DECODE_ERRORS = (TooManyPixels, OSError, ValueError, Image.DecompressionBombError, SyntaxError)


class NotAnalysedTooManyPixels(UndecodableMedia):
    """The content declares more pixels than Haetae decodes (``HAETAE_MAX_IMAGE_PIXELS``): not analysed."""


def undecodable(exc: Exception, mime: str) -> UndecodableMedia:
    """The detection error for a decoder's exception: too many pixels, or not decodable as ``mime``."""
    if isinstance(exc, TooManyPixels):
        return NotAnalysedTooManyPixels(f"not analysed: too many pixels: {exc.message}")
    return UndecodableMedia(f"cannot decode as an image ({mime or 'unknown type'}): {exc}")


def media_type_of(mime: str) -> str:
    """The broad media type a detector declares: image, video, audio or other."""
    top = (mime or "").split("/", 1)[0]
    return top if top in {"image", "video", "audio"} else "other"


@dataclass
class Subject:
    sha256: str
    mime: str
    size: int
    item_id: int | None = None
    case_id: int | None = None
    _data: bytes | None = field(default=None, repr=False)
    _opener: Any = field(default=None, repr=False)
    cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_bytes(cls, data: bytes, *, mime: str, sha256: str | None = None) -> "Subject":
        import hashlib

        return cls(sha256=sha256 or hashlib.sha256(data).hexdigest(), mime=mime, size=len(data), _data=data)

    @classmethod
    def from_pixels(cls, rgb: np.ndarray, *, sha256: str, mime: str = "image/x-raw-rgb") -> "Subject":
        """A subject whose decoded pixels are already known (a video frame): ``sha256`` names its source."""
        subject = cls(sha256=sha256, mime=mime, size=int(rgb.nbytes))
        subject.__dict__["pixels"] = rgb
        subject.__dict__["upright"] = rgb
        subject.__dict__["image"] = Image.fromarray(rgb)
        subject.__dict__["reduced"] = Reduced(rgb, 1, (rgb.shape[1], rgb.shape[0]), 1)
        return subject

    @classmethod
    def for_item(cls, item: "EvidenceItem") -> "Subject":
        from evidence.vault import open_object

        blob = item.blob
        if blob is None:
            raise UndecodableMedia(f"item {item.pk} has no stored content")
        sha256 = blob.sha256
        return cls(
            sha256=blob.sha256,
            mime=item.mime or blob.mime,
            size=blob.size,
            item_id=item.pk,
            case_id=item.case_id,
            _opener=lambda: open_object(sha256),
        )

    @property
    def media_type(self) -> str:
        return media_type_of(self.mime)

    def read(self) -> bytes:
        """All the plaintext, verified: each chunk is authenticated and the whole re-hashed."""
        if self._data is None:
            from evidence.vault import read_verified

            self._data = b"".join(read_verified(self.sha256))
        return self._data

    def open(self) -> BinaryIO:
        """A seekable reader over the plaintext (for video decoders); chunks are authenticated on read."""
        if self._data is not None or self._opener is None:
            return io.BytesIO(self.read())
        reader: BinaryIO = self._opener()
        return reader

    def chunks(self) -> Iterator[bytes]:
        from evidence.vault import read_verified

        if self._data is not None:
            yield self._data
        else:
            yield from read_verified(self.sha256)

    @cached_property
    def image(self) -> Image.Image:
        """The decoded image (first frame), as stored, in its own mode; raises UndecodableMedia."""
        try:
            img = image_open(self.read())
            img.load()
        except DECODE_ERRORS as exc:
            raise undecodable(exc, self.mime) from exc
        return img

    @cached_property
    def pixels(self) -> np.ndarray:
        """RGB uint8 array (H × W × 3) of the stored pixels, EXIF orientation not applied."""
        image = self.image
        return np.asarray(image if image.mode == "RGB" else image.convert("RGB"))  # no copy of RGB

    @property
    def orientation(self) -> int:
        """The EXIF orientation tag (1, upright as stored, when absent)."""
        return int(self.image.getexif().get(_ORIENTATION, 1) or 1)

    @cached_property
    def upright(self) -> np.ndarray:
        """RGB uint8 array (H × W × 3) with the EXIF orientation applied: the image as a person sees it.

        Without an orientation to apply it is ``pixels`` itself (read-only), not a second full-size copy.
        """
        if self.image.getexif().get(_ORIENTATION, 1) == 1:
            return self.pixels
        return np.asarray(ImageOps.exif_transpose(self.image).convert("RGB"))

    @cached_property
    def reduced(self) -> Reduced:
        """The shared reduced decode (see the module's doc); raises UndecodableMedia.

        A JPEG (by its header) whose longer side is at least ``2 × REDUCED_LONGEST`` is decoded by libjpeg
        at the smallest DCT scale whose longer side is still at least ``REDUCED_LONGEST`` (a 4032 × 3024
        photo at 1/4, a 1280 × 960 one at 1/2), in RGB as its full decode would be. Anything else is the
        full decode, ``pixels``, with scale 1: no second full-size decode is made.
        """
        try:
            image = image_open(self.read(), longest=REDUCED_LONGEST)  # the header; a JPEG is drafted
            stored_size = image.info["stored_size"]
            if image.size != stored_size:
                image.load()
                orientation = int(image.getexif().get(_ORIENTATION, 1) or 1)
                rgb = np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
                return Reduced(rgb, draft_scale(stored_size, image.size), stored_size, orientation)
        except DECODE_ERRORS as exc:
            raise undecodable(exc, self.mime) from exc
        pixels = self.pixels
        return Reduced(pixels, 1, (pixels.shape[1], pixels.shape[0]), self.orientation)

    @cached_property
    def reduced_upright(self) -> np.ndarray:
        """``reduced`` with the EXIF orientation applied (contiguous); ``upright`` itself at scale 1."""
        reduced = self.reduced
        if reduced.scale == 1:
            return self.upright
        if reduced.orientation == 1:
            return reduced.rgb
        return np.ascontiguousarray(oriented(reduced.rgb, reduced.orientation))
