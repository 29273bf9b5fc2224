"""The one pixel bound: every decoder refuses an image over HAETAE_MAX_IMAGE_PIXELS before decoding it."""

import io

import numpy as np
import pytest
from PIL import Image

from evidence.imaging import TooManyPixels, image_open, pixels_check
from tests.bombs import jpeg_header_bomb, png_pixel_bomb


def _jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.full((height, width, 3), 90, dtype=np.uint8)).save(out, format="JPEG")
    return out.getvalue()


def test_png_over_the_bound_is_refused_before_decoding() -> None:
    expected = r"13000 × 13000 = 169,000,000 pixels, over the limit of 64,000,000"
    with pytest.raises(TooManyPixels, match=expected):
        image_open(png_pixel_bomb())


def test_jpeg_over_the_bound_is_refused_when_full_size_is_asked() -> None:
    with pytest.raises(TooManyPixels, match="HAETAE_MAX_IMAGE_PIXELS"):
        image_open(jpeg_header_bomb())


def test_jpeg_over_the_bound_opens_drafted_when_a_small_size_is_enough() -> None:
    image = image_open(jpeg_header_bomb(), need=(640, 640))
    assert image.size == (2500, 2500)  # 1/8 of 20,000: libjpeg's smallest DCT scale
    assert image.info["stored_size"] == (20000, 20000)


def test_bound_comes_from_the_setting(settings) -> None:
    settings.HAETAE_MAX_IMAGE_PIXELS = 100 * 100
    pixels_check(100, 100)
    with pytest.raises(TooManyPixels, match="101 × 100"):
        pixels_check(101, 100)
    with pytest.raises(TooManyPixels):
        image_open(_jpeg(160, 120))
    assert image_open(_jpeg(160, 120), longest=80).size == (80, 60)


def test_image_under_the_bound_opens_unchanged() -> None:
    image = image_open(_jpeg(40, 30))
    image.load()
    assert image.size == (40, 30)
