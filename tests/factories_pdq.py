"""Helpers for the hash-matching tests: real photos (scikit-image's bundled ones) encoded in the test."""

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def encode(rgb: np.ndarray, fmt: str = "JPEG", **params: object) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(out, format=fmt, **params)
    return out.getvalue()


def photo(name: str) -> np.ndarray:
    """An RGB uint8 copy of one of scikit-image's photos (astronaut, camera, coffee, chelsea …)."""
    import skimage.data

    image = getattr(skimage.data, name)()
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return np.ascontiguousarray(image[..., :3])


def resized(rgb: np.ndarray, factor: float) -> np.ndarray:
    img = Image.fromarray(rgb)
    size = (max(1, round(img.width * factor)), max(1, round(img.height * factor)))
    return np.asarray(img.resize(size, Image.Resampling.LANCZOS))


@pytest.fixture
def fresh_hash_indexes() -> Iterator[None]:
    """The in-memory PDQ indexes start empty and rebuild from this test's database."""
    from detection.matching import reset_indexes

    reset_indexes()
    yield
    reset_indexes()


def conformance_dir() -> Path:
    """``../shared/testdata/pdq`` beside the checkout (or beside the worktrees' folder); skips if absent."""
    repo = Path(__file__).resolve().parent.parent
    for base in (repo.parent, repo.parent.parent):
        candidate = base / "shared" / "testdata" / "pdq"
        if candidate.is_dir():
            return candidate
    pytest.skip(f"PDQ conformance images not found at {repo.parent / 'shared' / 'testdata' / 'pdq'}")
