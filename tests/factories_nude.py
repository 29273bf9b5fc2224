"""Test media for the explicit-content and face detectors: scikit-image's photos, encoded in the test."""

import io
from typing import Any

import numpy as np
from PIL import Image
from skimage import data

from parties.models import Person
from support.models import SupportFile


def person(*, case: Any, created_by: Any, kind: str, pseudonym: str) -> Person:
    number = int(pseudonym.rsplit("-", 1)[-1])  # V-2 → 2: unique per case and kind
    return Person.objects.create(
        case=case, kind=kind, pseudonym=pseudonym, pseudonym_number=number, created_by=created_by
    )


def support_file(*, person: Person, assigned_worker: Any) -> SupportFile:
    return SupportFile.objects.create(person=person, assigned_worker=assigned_worker)


def encode(rgb: np.ndarray, *, fmt: str = "PNG", orientation: int | None = None, quality: int = 92) -> bytes:
    """``rgb`` as PNG or JPEG bytes, optionally with an EXIF orientation tag."""
    out = io.BytesIO()
    image = Image.fromarray(rgb)
    kwargs: dict = {"quality": quality} if fmt == "JPEG" else {}
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        kwargs["exif"] = exif.tobytes()
    image.save(out, format=fmt, **kwargs)
    return out.getvalue()


def astronaut() -> np.ndarray:
    """Eileen Collins' NASA portrait (public domain): one frontal face, no nudity."""
    return data.astronaut()


def astronaut_reference() -> np.ndarray:
    """A different photo of the same face: a crop around the head, scaled down (as a victim's own photo)."""
    crop = data.astronaut()[30:260, 110:340]
    return np.asarray(Image.fromarray(crop).resize((190, 190), Image.Resampling.BICUBIC))


def other_person() -> np.ndarray:
    """Another person's face: the first face of scikit-image's LFW subset, upscaled and padded."""
    face = (data.lfw_subset()[0] * 255).astype(np.uint8)
    large = np.asarray(Image.fromarray(face).resize((150, 150), Image.Resampling.BICUBIC))
    return np.ascontiguousarray(
        np.pad(np.repeat(large[:, :, None], 3, axis=2), ((40, 40), (40, 40), (0, 0)), mode="edge")
    )


def no_face() -> np.ndarray:
    """A generated image without any face: smooth colour gradients."""
    y, x = np.mgrid[0:240, 0:320]
    return np.stack([x * 255 // 319, y * 255 // 239, (x + y) * 255 // 558], axis=2).astype(np.uint8)
