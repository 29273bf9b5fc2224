"""JPEG forensic indicators at triage: quality, tables, double-compression score; no ELA map (on demand)."""

import io

import numpy as np
import pytest
from PIL import Image

from detection.detectors.jpeg_forensics import (
    ELA_RECIPE,
    JpegForensicsDetector,
    double_compression,
    error_level_map,
    estimate_quality,
)
from detection.models import Annotation
from detection.models.runs import RunStatus
from detection.services import detection_run
from detection.subject import Subject
from evidence.choices import CustodyAction, DerivativeKind
from evidence.derivatives import derivative_find
from evidence.models import CustodyEvent
from tests.detection.provenance_media import decode, encode, photo
from tests.factories import CaseFactory, UserFactory, stored_item


def _tables(data: bytes) -> dict[int, list[int]]:
    image = Image.open(io.BytesIO(data))
    return {int(k): list(v) for k, v in getattr(image, "quantization", {}).items()}


@pytest.mark.parametrize("quality", [10, 50, 75, 90, 95, 100])
def test_quality_of_standard_tables_is_exact(quality):
    estimate = estimate_quality(_tables(encode(photo(half=True), "JPEG", quality=quality)))
    assert estimate == {"quality_estimate": quality, "standard_ijg_tables": True, "table_difference": 0}


def test_custom_tables_are_flagged_non_standard():
    flat = [[3] * 64, [5] * 64]
    estimate = estimate_quality(_tables(encode(photo(half=True), "JPEG", qtables=flat)))
    assert estimate["standard_ijg_tables"] is False and estimate["table_difference"] > 0


@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea"])
def test_double_compression_coarse_then_fine_is_flagged_and_first_quality_estimated(name):
    once = double_compression(encode(photo(name), "JPEG", quality=90))
    twice = double_compression(encode(decode(encode(photo(name), "JPEG", quality=60)), "JPEG", quality=90))
    assert once["consistent_with_double_compression"] is False
    assert twice["consistent_with_double_compression"] is True
    assert twice["first_quality_estimate"] == 60
    assert twice["score"] > once["score"] + 0.4


def test_double_compression_needs_texture():
    flat = np.full((64, 64, 3), 90, dtype=np.uint8)
    assert double_compression(encode(flat, "JPEG", quality=90))["score"] is None


def test_ela_map_lights_up_a_region_with_another_compression_history():
    """A never-compressed patch pasted into a JPEG-compressed photo stands out in the map."""
    base = decode(encode(photo("astronaut"), "JPEG", quality=75)).copy()
    base[160:352, 160:352] = photo("coffee")[100:292, 200:392]
    final = decode(encode(base, "JPEG", quality=95))
    levels = np.asarray(Image.open(io.BytesIO(error_level_map(final))))
    outside = np.ones(levels.shape, dtype=bool)
    outside[152:360, 152:360] = False
    assert levels.shape == final.shape[:2]
    assert levels[168:344, 168:344].mean() > 2 * levels[outside].mean()


def test_non_jpeg_images_get_no_findings():
    assert (
        JpegForensicsDetector().analyze(Subject.from_bytes(encode(photo(half=True), "PNG"), mime="image/png"))
        == []
    )


def test_findings_are_labelled_analyst_aids():
    findings = JpegForensicsDetector().analyze(
        Subject.from_bytes(encode(photo(half=True), "JPEG", quality=85), mime="image/jpeg")
    )
    by_label = {f.label: f for f in findings}
    assert set(by_label) == {"jpeg_quality", "jpeg_double_compression"}
    assert all(f.category == "forensic_indicator" for f in findings)
    assert all("analyst aid, not a verdict" in f.details["note"] for f in findings)
    quality = by_label["jpeg_quality"].details
    assert quality["quality_estimate"] == 85 and len(quality["quantisation_tables"]["0"]) == 64
    assert quality["subsampling"] == "4:2:0"


@pytest.mark.django_db
def test_triage_makes_no_ela_map():
    """The map is made when an analyst opens it (detection.ela), not for every JPEG at triage."""
    data = encode(photo(half=True), "JPEG", quality=80)
    item = stored_item(case=CaseFactory(), data=data, actor=UserFactory(), name="p.jpg", mime="image/jpeg")

    run = detection_run(item=item, detector=JpegForensicsDetector())

    assert run.status == RunStatus.DONE and run.detector.version == "2"
    assert set(Annotation.objects.filter(item=item).values_list("label", flat=True)) == {
        "jpeg_quality",
        "jpeg_double_compression",
    }
    assert derivative_find(source_sha256=item.blob_id, kind=DerivativeKind.ELA_MAP, recipe=ELA_RECIPE) is None
    assert not CustodyEvent.objects.filter(item=item, action=CustodyAction.DERIVED).exists()


def test_recipe_is_custody_safe():
    """Custody details refuse floats: the recipe holds only strings and ints."""
    assert all(isinstance(v, str | int) and not isinstance(v, bool) for v in ELA_RECIPE.values())


def test_large_images_are_scored_on_a_subset_of_block_rows(monkeypatch):
    from detection.detectors import jpeg_forensics

    monkeypatch.setattr(jpeg_forensics, "DQ_MAX_BLOCKS", 1500)
    twice = encode(decode(encode(photo("astronaut"), "JPEG", quality=60)), "JPEG", quality=90)
    decoded = jpeg_forensics.luminance_coefficients(twice)
    assert decoded is not None and len(decoded[0]) <= 1500 * 2
    result = double_compression(twice)
    assert result["consistent_with_double_compression"] is True and result["first_quality_estimate"] == 60


@pytest.mark.parametrize("subsampling", [0, 1, 2])
def test_the_luma_only_decode_is_the_y_plane_of_the_ycbcr_decode(subsampling):
    """The double-compression score decodes the Y component alone (libjpeg's greyscale output); that must
    be the very plane a YCbCr decode gives, at every chroma subsampling, or the coefficients would move."""
    from detection.detectors.jpeg_forensics import luminance_coefficients

    buffer = io.BytesIO()
    Image.fromarray(photo("coffee")).save(buffer, format="JPEG", quality=88, subsampling=subsampling)
    data = buffer.getvalue()
    ycbcr = Image.open(io.BytesIO(data))
    ycbcr.draft("YCbCr", ycbcr.size)
    expected = np.asarray(ycbcr.getchannel(0))
    grey = Image.open(io.BytesIO(data))
    grey.draft("L", grey.size)
    assert np.array_equal(np.asarray(grey), expected)
    assert luminance_coefficients(data) is not None
