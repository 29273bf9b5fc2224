"""Generator watermark detector: embedded payloads decode; JPEG removes them; no false hits on photos."""

import numpy as np
import pytest

from detection.detectors.watermark import (
    ARRAY_TYPES,
    COLOUR_ORDERS,
    PAYLOADS,
    WatermarkDetector,
    block_votes,
    decode_bits,
    decode_bits_adaptive,
    read_payloads,
)
from detection.models import Annotation
from detection.services import detection_run
from detection.subject import Subject
from tests.detection import reference_watermarks
from tests.detection.provenance_media import decode, encode, photo
from tests.detection.watermark_encoder import embed
from tests.factories import CaseFactory, UserFactory, stored_item

PAYLOAD = {p.name: p for p in PAYLOADS}


def _analyze(data: bytes, mime: str = "image/png"):
    return WatermarkDetector().analyze(Subject.from_bytes(data, mime=mime))


def test_payload_bits_are_the_ones_the_reference_code_embeds():
    assert "".join(map(str, PAYLOAD["sdxl"].bits)) == "101100111110110010010000011110111011000110011110"
    # FLUX.1 writes its 48-digit message through bin(), which drops the two leading zeros: 46 bits.
    assert "".join(map(str, PAYLOAD["flux1"].bits)) == "1010101111111010000111100111001111010100101110"
    assert list(PAYLOAD["sdxl"].bits) == reference_watermarks.SDXL_BITS
    assert list(PAYLOAD["flux1"].bits) == reference_watermarks.FLUX1_BITS
    assert np.packbits(PAYLOAD["sd1"].bits).tobytes() == b"StableDiffusionV1"
    assert np.packbits(PAYLOAD["sd2"].bits).tobytes() == b"SDV2"


@pytest.mark.parametrize("payload", [p.name for p in PAYLOADS])
@pytest.mark.parametrize("colour_order", COLOUR_ORDERS)
@pytest.mark.parametrize("array_type", ARRAY_TYPES)
def test_embedded_payload_decodes_after_a_png_round_trip(payload, colour_order, array_type):
    marked = embed(
        photo("astronaut"), PAYLOAD[payload].bits, colour_order=colour_order, array_type=array_type
    )
    findings = _analyze(encode(marked, "PNG"))
    found = {f.details["payload"]: f for f in findings if f.label == "generator_watermark"}
    assert set(found) == {payload}, [f.details for f in findings]
    finding = found[payload]
    assert finding.score == 1.0
    assert finding.details["bits_agreeing"] == finding.details["bits_total"] == len(PAYLOAD[payload].bits)
    # The best reading names the convention it was embedded with (or an equivalent one that also decodes).
    decoded_as = [f"{finding.details['colour_order']}/{finding.details['array_type']}"]
    assert f"{colour_order}/{array_type}" in decoded_as + finding.details["also_decodes_as"]
    assert "not who ran it" in finding.details["note"]


# Photographs of different colour, texture and size (all at least 256 × 256), marked by the real encoder.
REFERENCE_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "camera")


@pytest.mark.parametrize("name", REFERENCE_PHOTOS)
@pytest.mark.parametrize("pipeline", sorted(reference_watermarks.PIPELINES))
def test_marks_made_by_the_real_encoder_as_each_pipeline_calls_it_are_found(pipeline, name):
    marked = reference_watermarks.PIPELINES[pipeline](photo(name))
    findings = _analyze(encode(marked, "PNG"))
    found = {f.details["payload"]: f for f in findings if f.label == "generator_watermark"}
    assert set(found) == {pipeline}, [f.details for f in findings]
    assert found[pipeline].details["bits_total"] == len(PAYLOAD[pipeline].bits)
    assert found[pipeline].score >= 0.9


def test_flux1_mark_read_as_48_bits_is_at_chance():
    """Why the payload must be the 46 bits FLUX.1 embeds: a 48-bit reading of the same mark fails."""
    marked = reference_watermarks.flux1(photo("astronaut"))
    votes = block_votes(marked, colour_order="bgr", array_type="float32")
    literal = np.array([int(c) for c in "001010101111111010000111100111001111010100101110"], dtype=np.uint8)
    assert np.mean(decode_bits(votes, 48) == literal) < 0.9
    assert np.array_equal(decode_bits(votes, 46), PAYLOAD["flux1"].bits)


def test_one_haar_approximation_equals_pywavelets_band_of_opencv_chroma():
    """The decoder's shortcut (U's approximation from the channels' approximations) is PyWavelets' band
    of OpenCV's float U, as the encoder computes it."""
    import cv2
    import pywt

    from detection.detectors.watermark import _U_WEIGHTS, haar_approximation

    rgb = photo("coffee")[:398, :598]
    rows, cols = rgb.shape[0] // 4 * 4, rgb.shape[1] // 4 * 4
    bgr = np.ascontiguousarray(rgb[:rows, :cols, ::-1], dtype=np.float32)
    expected = pywt.dwt2(cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV)[:, :, 1], "haar")[0]
    weights, offset = _U_WEIGHTS["bgr"]
    assert np.allclose(haar_approximation(rgb) @ weights + 2 * offset, expected, atol=1e-3)


def test_colour_order_matters():
    """A mark embedded in BGR order does not read in the other order: both must be tried."""
    marked = embed(photo("rocket"), PAYLOAD["sdxl"].bits, colour_order="bgr", array_type="uint8")
    readings = {(r.payload.name, r.colour_order, r.array_type): r for r in read_payloads(marked)}
    assert readings[("sdxl", "bgr", "uint8")].present
    assert not readings[("sdxl", "rgb", "uint8")].present


def test_adaptive_decision_recovers_marks_the_package_threshold_loses():
    """Low-chroma blocks bias 0 bits towards 1: the package's fixed threshold misreads them."""
    marked = embed(photo("coffee"), PAYLOAD["sdxl"].bits, colour_order="bgr", array_type="float32")
    votes = block_votes(marked, colour_order="bgr", array_type="float32")
    package = decode_bits(votes, 48)
    adaptive = decode_bits_adaptive(votes, 48)
    assert np.mean(package == PAYLOAD["sdxl"].bits) < 0.9
    assert adaptive is not None and np.array_equal(adaptive, PAYLOAD["sdxl"].bits)
    (reading,) = [
        r
        for r in read_payloads(marked)
        if (r.payload.name, r.colour_order, r.array_type) == ("sdxl", "bgr", "float32")
    ]
    assert reading.present and reading.decision == "adaptive"


def test_flat_image_gives_no_adaptive_decision():
    flat = np.full((300, 300, 3), 128, dtype=np.uint8)
    assert decode_bits_adaptive(block_votes(flat, colour_order="bgr", array_type="uint8"), 48) is None


def test_jpeg_quality_70_removes_the_mark_and_nothing_is_claimed():
    marked = embed(photo("astronaut"), PAYLOAD["sdxl"].bits, colour_order="bgr", array_type="float32")
    findings = _analyze(encode(marked, "JPEG", quality=70), mime="image/jpeg")
    (finding,) = findings
    assert finding.label == "generator_watermark_none"
    assert finding.category == "not_probative"
    assert "not evidence that the image is authentic" in finding.details["note"]
    sdxl = [r for r in finding.details["readings"] if r["payload"] == "sdxl"]
    assert all(r["bits_agreeing"] < 0.9 * r["bits_total"] for r in sdxl)


@pytest.mark.parametrize(
    "name",
    [
        "astronaut",
        "camera",
        "coffee",
        "chelsea",
        "rocket",
        "immunohistochemistry",
        "hubble_deep_field",
        "retina",
    ],
)
def test_unmarked_photographs_decode_no_payload(name):
    findings = _analyze(encode(photo(name), "PNG"))
    assert [f.label for f in findings] == ["generator_watermark_none"]
    best = max(r["bits_agreeing"] / r["bits_total"] for r in findings[0].details["readings"])
    assert best < 0.9


def test_small_images_are_not_checked():
    findings = _analyze(encode(photo("chelsea")[:200, :200], "PNG"))
    assert [f.label for f in findings] == ["generator_watermark_not_checked"]


def test_decoder_matches_a_straightforward_reading_of_the_scheme():
    """The vectorised decoder agrees with a block-by-block loop written from the description."""
    import cv2
    import pywt

    rgb = embed(photo("rocket"), PAYLOAD["sd2"].bits, colour_order="bgr", array_type="uint8")
    votes = block_votes(rgb, colour_order="bgr", array_type="uint8")
    bgr = np.ascontiguousarray(rgb[: rgb.shape[0] // 4 * 4, : rgb.shape[1] // 4 * 4, ::-1])
    approx = pywt.dwt2(cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV)[:, :, 1], "haar")[0]
    expected = []
    for i in range(approx.shape[0] // 4):
        for j in range(approx.shape[1] // 4):
            block = approx[i * 4 : i * 4 + 4, j * 4 : j * 4 + 4].flatten()
            position = 1 + int(np.argmax(np.abs(block[1:])))
            expected.append(int(abs(block[position]) % 36 > 18))
    assert np.mean(votes == np.array(expected)) > 0.99  # uint8 rounding of U may flip a rare tie
    assert list(decode_bits(votes, 32)) == list(PAYLOAD["sd2"].bits)


@pytest.mark.django_db
def test_detection_run_stores_the_watermark_finding():
    marked = embed(photo("astronaut"), PAYLOAD["flux1"].bits, colour_order="bgr", array_type="float32")
    item = stored_item(
        case=CaseFactory(), data=encode(marked, "PNG"), actor=UserFactory(), name="f.png", mime="image/png"
    )
    detection_run(item=item, detector=WatermarkDetector())
    annotation = Annotation.objects.get(item=item)
    assert annotation.label == "generator_watermark" and annotation.details["payload"] == "flux1"
    assert annotation.detector_name == "generator-watermark" and annotation.parameters["scale"] == 36
    assert decode(encode(marked, "PNG")).shape == marked.shape


def test_images_larger_than_any_pipeline_writes_are_not_checked(monkeypatch):
    from detection.detectors import watermark

    monkeypatch.setattr(watermark, "MAX_PIXELS", 300 * 300)
    findings = _analyze(encode(photo("astronaut"), "PNG"))
    assert [f.label for f in findings] == ["generator_watermark_not_checked"]
    assert "larger than" in findings[0].details["reason"]


def test_the_cell_sums_are_exact_integers_for_every_pixel_value():
    """The 16-bit shortcut (pixels × 4, OpenCV's exact-factor area resize) must give each 2 × 2 cell's
    exact sum, the extremes included (4 × 255 = 1,020)."""
    from detection.detectors.watermark import _cell_sums

    rng = np.random.default_rng(12)
    rgb = rng.integers(0, 256, size=(64, 96, 3), dtype=np.uint8)
    rgb[:4, :4] = 255
    rgb[4:8, :4] = 0
    expected = rgb.astype(np.int64).reshape(32, 2, 48, 2, 3).sum(axis=(1, 3))
    sums = _cell_sums(rgb)
    assert sums.dtype == np.float32
    assert np.array_equal(sums, expected.astype(np.float32))
    assert sums.max() == 1020
