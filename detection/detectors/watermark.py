"""Invisible generator watermarks: the payloads the Stable Diffusion and FLUX.1 reference pipelines embed.

Those pipelines watermark their output with the ``dwtDct`` method of the ``invisible-watermark`` package
(ShieldMnt, MIT). That package imports torch when imported, so this module decodes the scheme itself with
numpy, PyWavelets and OpenCV. What the method does (read from the package's source, ``maxDct.py``), which
is what generated files carry:

1. The array it is given is taken as BGR and converted to YUV (``cv2.COLOR_BGR2YUV``); only U carries bits.
2. U, cropped to a multiple of 4 on each side, goes through a one-level Haar DWT; the approximation band
   is cut into 4 × 4 blocks, read row by row.
3. In each block, the element of largest magnitude other than the first one is quantised with step 36 so
   that its magnitude modulo 36 is 9 (bit 0) or 27 (bit 1). Despite the method's name no DCT is applied.
   Block ``n`` carries bit ``n mod L`` of an ``L``-bit payload, so every bit is repeated many times.
4. Decoding reads each block's bit (remainder above 18), averages the votes per payload bit and thresholds.
   Only the approximation band is needed, and it is linear in the pixels, so the decoder takes one Haar
   approximation of the three channels and forms U's for every convention from it (see
   ``convention_votes``); no detail band, colour conversion or float64 copy of the image is made.
   Besides the package's fixed threshold, a threshold between the two clusters of means is tried, which
   recovers marks the package's own decoder loses in low-chroma images (see ``decode_bits_adaptive``).

Each payload's bits are the ones its reference code hands the encoder. SDXL and FLUX.1 write them as
``[int(bit) for bit in bin(MESSAGE)[2:]]``, and ``bin`` drops leading zeros: SDXL's message starts with 1
(48 bits), FLUX.1's with two 0s, so FLUX.1 embeds 46 bits, and bit ``n`` of its mark sits in blocks
``n mod 46``. The SD 1.x/2.x scripts pass bytes ("StableDiffusionV1", "SDV2"), 8 bits each.

Two conventions change what the encoder sees, so each payload is decoded under all four combinations:

- colour order: Stability AI's scripts and current diffusers convert to BGR first; diffusers releases
  before the fix passed RGB arrays, so their files carry the mark in the "U" of the swapped channels;
- array type: diffusers, Stability's SDXL code and FLUX.1 pass float32 arrays (OpenCV adds 0.5 to U),
  the SD 1.x/2.x scripts pass 8-bit arrays (OpenCV adds 128 and rounds). The offset moves every
  approximation value, so it changes which element is quantised: a decoder must use the encoder's.

Presence (at least 90 % of the payload bits agreeing) is strong evidence that the reference pipeline
made the pixels; absence means nothing: JPEG compression (usually even at quality 95), resizing and
cropping destroy the mark, and most front-ends never embed it.
"""

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from detection.registry import DetectorInfo, Finding
from detection.subject import Subject

SCALE = 36  # the package's default quantisation step for U ("scales=[0, 36, 36]"; V is never reached)
BLOCK = 4
MIN_PIXELS = 256 * 256  # the package refuses smaller images, so no pipeline marks them
# Larger than any reference pipeline writes (and an upscale would have destroyed the mark): not decoded,
# which also bounds memory (the decoder holds a few float copies of the image).
MAX_PIXELS = 40_000_000
MIN_AGREEMENT_PERCENT = 90  # share of payload bits that must decode right to report a watermark
ADAPTIVE_MIN_SPREAD = 0.1  # per-bit mean votes spread less than this: no adaptive decision


def _bits_from_message(message: int) -> np.ndarray:
    """The bits as the reference code writes them, ``[int(bit) for bit in bin(message)[2:]]``.

    ``bin`` drops leading zeros, so a message whose top bits are 0 embeds fewer bits than its literal has
    digits (FLUX.1's 48-digit literal begins with two zeros: it embeds 46 bits).
    """
    return np.array([int(bit) for bit in bin(message)[2:]], dtype=np.uint8)


def _bits_from_bytes(data: bytes) -> np.ndarray:
    return np.unpackbits(np.frombuffer(data, dtype=np.uint8))


@dataclass(frozen=True)
class Payload:
    """A watermark payload a reference pipeline embeds, and what its presence indicates."""

    name: str
    generator: str
    source: str
    bits: np.ndarray


PAYLOADS: tuple[Payload, ...] = (
    Payload(
        name="sdxl",
        generator="Stable Diffusion XL (Stability AI's sgm code, diffusers' StableDiffusionXL pipelines)",
        source="WATERMARK_BITS of Stability AI's generative-models and diffusers: bin() of the 48-bit "
        "message 0b101100111110110010010000011110111011000110011110 (48 bits)",
        bits=_bits_from_message(0b101100111110110010010000011110111011000110011110),
    ),
    Payload(
        name="flux1",
        generator="FLUX.1 (Black Forest Labs' reference code)",
        source="WATERMARK_BITS of black-forest-labs/flux: bin() of the message "
        "0b001010101111111010000111100111001111010100101110, which drops its two leading zeros (46 bits)",
        bits=_bits_from_message(0b001010101111111010000111100111001111010100101110),
    ),
    Payload(
        name="sd1",
        generator="Stable Diffusion 1.x (CompVis / Stability AI reference scripts)",
        source='bytes "StableDiffusionV1" (136 bits) of the txt2img/img2img scripts',
        bits=_bits_from_bytes(b"StableDiffusionV1"),
    ),
    Payload(
        name="sd2",
        generator="Stable Diffusion 2.x (Stability AI's stablediffusion scripts)",
        source='bytes "SDV2" (32 bits) of the txt2img/img2img scripts',
        bits=_bits_from_bytes(b"SDV2"),
    ),
)

# How the decoder reads an RGB image: "bgr" converts it to BGR first (what the package expects and what
# Stability's scripts pass); "rgb" hands the RGB array over as it is (what older diffusers passed).
COLOUR_ORDERS = ("bgr", "rgb")
# The array type the encoder was given: float32 (U offset 0.5) or uint8 (U offset 128, rounded).
ARRAY_TYPES = ("float32", "uint8")


def _chroma_weights(code: int) -> tuple[np.ndarray, float]:
    """OpenCV's U = w · (R, G, B) + offset for a float32 image converted with ``code``, read from OpenCV."""
    basis = np.array([[[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]], dtype=np.float32)
    u_values = cv2.cvtColor(basis, code)[0, :, 1].astype(np.float64)
    return u_values[1:] - u_values[0], float(u_values[0])


# U as a weighted sum of the stored R, G, B: "bgr" reverses the channels before OpenCV's BGR2YUV, which is
# OpenCV's RGB2YUV of the stored pixels; "rgb" gives OpenCV the stored order as if it were BGR.
_U_WEIGHTS = {"bgr": _chroma_weights(cv2.COLOR_RGB2YUV), "rgb": _chroma_weights(cv2.COLOR_BGR2YUV)}
# U's offset by the array type the encoder was given: OpenCV adds 0.5 to float U and 128 to 8-bit U.
_U_OFFSETS = {"float32": _U_WEIGHTS["bgr"][1], "uint8": 128.0}


def _cell_sums(rgb: np.ndarray) -> np.ndarray:
    """Each 2 × 2 cell's sum per channel (float32, exact: at most 1,020), H/2 × W/2 × 3, cropped to 4s.

    The pixels are widened to 16 bits and multiplied by 4, so OpenCV's area resize to half size (its
    integer fast path, which rounds the cell's mean to an integer) returns each cell's exact sum; one
    float32 conversion of the quarter-size result follows: no float copy of the full image is made.
    """
    rows, cols = rgb.shape[0] // 4 * 4, rgb.shape[1] // 4 * 4
    quadrupled = rgb[:rows, :cols].astype(np.uint16)
    quadrupled <<= 2
    sums = cv2.resize(quadrupled, (cols // 2, rows // 2), interpolation=cv2.INTER_AREA)
    return np.asarray(sums, dtype=np.float32)


def haar_approximation(rgb: np.ndarray) -> np.ndarray:
    """The one-level Haar approximation band of each channel (float32, H/2 × W/2 × 3), nothing else.

    PyWavelets' ``dwt2(x, "haar")[0]`` is each 2 × 2 cell's sum divided by 2 (twice the cell's mean); the
    detail bands, which carry no bit, are not computed. The image is cropped to a multiple of 4 first, as
    the encoder does.
    """
    return _cell_sums(rgb) * np.float32(0.5)


def _votes(u_approximation: np.ndarray) -> np.ndarray:
    """Each 4 × 4 block's bit, row by row: whether the largest magnitude in the block other than its first
    element leaves a remainder modulo the scale above half of it (the package's ``infer_dct_matrix``).

    ``u_approximation`` may carry several conventions as trailing channels (H × W × C): the votes are
    then (blocks × C). The block maximum is taken as elementwise maxima of the 16 strided planes.
    """
    brows, bcols = u_approximation.shape[0] // BLOCK, u_approximation.shape[1] // BLOCK
    magnitudes = np.abs(u_approximation[: brows * BLOCK, : bcols * BLOCK])
    magnitudes[0::BLOCK, 0::BLOCK] = 0  # the first element never carries the bit; magnitudes are >= 0
    by_row = np.maximum(
        np.maximum(magnitudes[0::BLOCK], magnitudes[1::BLOCK]),
        np.maximum(magnitudes[2::BLOCK], magnitudes[3::BLOCK]),
    )
    strongest = np.maximum(
        np.maximum(by_row[:, 0::BLOCK], by_row[:, 1::BLOCK]),
        np.maximum(by_row[:, 2::BLOCK], by_row[:, 3::BLOCK]),
    )
    strongest = strongest.reshape(brows * bcols, *u_approximation.shape[2:])
    return (np.mod(strongest, SCALE) > 0.5 * SCALE).astype(np.uint8)


# The conventions in the order ``convention_votes`` forms them, one channel of the transform each.
_CONVENTIONS = tuple((order, array_type) for order in COLOUR_ORDERS for array_type in ARRAY_TYPES)


def _u_transform() -> np.ndarray:
    """The 4 × 4 matrix taking a cell's channel sums (R, G, B, 1) to the four conventions' U approximations.

    The Haar approximation of U is half the cell's sum of U: the weights halved, and twice the offset.
    """
    matrix = np.zeros((len(_CONVENTIONS), 4), dtype=np.float64)
    for row, (order, array_type) in enumerate(_CONVENTIONS):
        matrix[row, :3] = _U_WEIGHTS[order][0] / 2
        matrix[row, 3] = 2 * _U_OFFSETS[array_type]
    return matrix


_U_TRANSFORM = _u_transform()


def convention_votes(rgb: np.ndarray) -> dict[tuple[str, str], np.ndarray]:
    """Block votes under every colour order and array type, from one Haar approximation of the image.

    The Haar approximation is linear, so U's approximation is the weighted sum of the channels' cell sums
    (halved) plus twice the offset: one OpenCV ``transform`` forms the four conventions' U at once. For
    8-bit input OpenCV rounds U per pixel before the transform; that moves an approximation value by at
    most 1, against the 9 that separates a marked value from a decision boundary, so it is not reproduced.
    """
    u_all = cv2.transform(_cell_sums(rgb), _U_TRANSFORM)
    votes = _votes(u_all)
    return {convention: votes[:, index] for index, convention in enumerate(_CONVENTIONS)}


def block_votes(rgb: np.ndarray, *, colour_order: str, array_type: str) -> np.ndarray:
    """Each block's bit (0 or 1) in the package's block order, for an RGB uint8 image (H × W × 3)."""
    return convention_votes(rgb)[(colour_order, array_type)]


def bit_means(votes: np.ndarray, length: int) -> np.ndarray:
    """The mean vote of each of ``length`` payload bits: block ``n`` votes for bit ``n mod length``."""
    rounds = -(-len(votes) // length)  # the padded tail adds nothing to the sums
    padded = np.zeros(rounds * length, dtype=np.int64)
    padded[: len(votes)] = votes
    ones = padded.reshape(rounds, length).sum(axis=0)
    counts = np.full(length, len(votes) // length) + (np.arange(length) < len(votes) % length)
    return np.divide(ones, counts, out=np.zeros(length), where=counts > 0)


def decode_bits(votes: np.ndarray, length: int) -> np.ndarray:
    """The payload as the package decides it: a bit is 1 when its mean vote exceeds 127/255."""
    return _package_decision(bit_means(votes, length))


def decode_bits_adaptive(votes: np.ndarray, length: int) -> np.ndarray | None:
    """The payload with the threshold between the two clusters of mean votes (Otsu), or None."""
    return _adaptive_decision(bit_means(votes, length))


def _package_decision(means: np.ndarray) -> np.ndarray:
    return (means * 255 > 127).astype(np.uint8)


def _adaptive_decision(means: np.ndarray) -> np.ndarray | None:
    """The payload with the threshold between the two clusters of mean votes (Otsu), or None.

    In blocks of little chroma a 0 bit is stored as a small value that another element of the block then
    outweighs, so the decoder reads that element instead; its remainder is biased towards 1 and 0 bits
    average near 0.55 instead of near 0. Their means still sit well apart from the 1 bits' (~0.9), so a
    threshold between the two clusters recovers them. None when the means hardly spread (nothing there).
    """
    length = len(means)
    ordered = np.sort(means)
    if ordered[-1] - ordered[0] < ADAPTIVE_MIN_SPREAD:
        return None
    # Within-cluster sum of squares of every split into a low and a high group, from running sums.
    sizes = np.arange(1, length)
    low_sum, low_squares = np.cumsum(ordered)[:-1], np.cumsum(ordered**2)[:-1]
    high_sum, high_squares = ordered.sum() - low_sum, (ordered**2).sum() - low_squares
    costs = (low_squares - low_sum**2 / sizes) + (high_squares - high_sum**2 / (length - sizes))
    split = 1 + int(np.argmin(costs))
    threshold = (ordered[split - 1] + ordered[split]) / 2
    return (means > threshold).astype(np.uint8)


@dataclass(frozen=True)
class PayloadReading:
    payload: Payload
    colour_order: str
    array_type: str
    decision: str  # "package" (fixed 127/255 threshold) or "adaptive" (between the two clusters)
    bits_agreeing: int

    @property
    def bits_total(self) -> int:
        return len(self.payload.bits)

    @property
    def agreement(self) -> float:
        return self.bits_agreeing / self.bits_total

    @property
    def present(self) -> bool:
        return self.bits_agreeing * 100 >= MIN_AGREEMENT_PERCENT * self.bits_total


def read_payloads(rgb: np.ndarray) -> list[PayloadReading]:
    """Bit agreement of every known payload under each colour order and array type (the better decision)."""
    readings = []
    for (order, array_type), votes in convention_votes(rgb).items():
        for payload in PAYLOADS:
            means = bit_means(votes, len(payload.bits))
            agreeing = int(np.sum(_package_decision(means) == payload.bits))
            decision = "package"
            adaptive = _adaptive_decision(means)
            if adaptive is not None and int(np.sum(adaptive == payload.bits)) > agreeing:
                agreeing, decision = int(np.sum(adaptive == payload.bits)), "adaptive"
            readings.append(PayloadReading(payload, order, array_type, decision, agreeing))
    return readings


ABSENCE_NOTE = (
    "No known generator watermark decoded. This is not evidence that the image is authentic or was not "
    "generated: JPEG compression (usually even at quality 95), resizing, cropping and screenshots destroy "
    "the mark, and most generator front-ends never embed it."
)
PRESENCE_NOTE = (
    "The pixels carry the payload that this generator's reference code embeds; an unrelated image decodes "
    "it by chance with negligible probability. It says which software pipeline produced or last wrote "
    "the pixels, not who ran it; the mark can in principle be copied onto other pixels by anyone with the "
    "open-source encoder."
)


class WatermarkDetector:
    """Decodes the invisible-watermark payloads of SDXL, FLUX.1, SD 1.x and SD 2.x (both colour orders)."""

    info = DetectorInfo(
        name="generator-watermark",
        # 2: FLUX.1's payload is the 46 bits its code embeds (version 1 read 48 and missed every mark).
        version="2",
        media_types=frozenset({"image"}),
        parameters={
            "method": "invisible-watermark dwtDct (own decoder)",
            "channel": "U of BGR2YUV",
            "wavelet": "haar, level 1, approximation band (of R, G, B; U's formed from them)",
            "block": BLOCK,
            "scale": SCALE,
            "colour_orders": ",".join(COLOUR_ORDERS),
            "array_types": ",".join(ARRAY_TYPES),
            "min_agreement_percent": MIN_AGREEMENT_PERCENT,
            "decisions": "package threshold 127/255; adaptive (Otsu) when means spread >= 0.1",
            "payloads": ",".join(p.name for p in PAYLOADS),
            "pixels": "stored pixels as RGB, EXIF orientation not applied, first frame",
        },
        model_card="docs/detectors/watermark.md",
        licence="AGPL-3.0-or-later (own implementation of invisible-watermark's MIT-licensed scheme)",
        validation=(
            "128 marks made by the real invisible-watermark 0.2.0 encoder called as each reference "
            "pipeline calls it (32 images from 14 scikit-image photos x SDXL, FLUX.1, SD 1.x, SD 2.x, PNG): "
            "128 of 128 found, worst bit agreement 0.993, no wrong payload; 0 of 32 unmarked images "
            "reported (highest agreement 0.69); JPEG q95 left 20 of 128 readable, q70 none"
        ),
    )

    def load(self) -> None:
        pass

    def analyze(self, subject: Subject) -> list[Finding]:
        rgb = subject.pixels
        height, width = rgb.shape[:2]
        size = {"width": int(width), "height": int(height)}
        if height * width < MIN_PIXELS:
            return [
                Finding(
                    label="generator_watermark_not_checked",
                    category="not_probative",
                    details={
                        **size,
                        "reason": "image smaller than 256 × 256 pixels: the reference encoder refuses "
                        "such images, so none of them can carry the mark",
                    },
                )
            ]
        if height * width > MAX_PIXELS:
            return [
                Finding(
                    label="generator_watermark_not_checked",
                    category="not_probative",
                    details={
                        **size,
                        "reason": f"image larger than {MAX_PIXELS:,} pixels: larger than the reference "
                        "pipelines write, and resizing destroys the mark",
                    },
                )
            ]
        readings = read_payloads(rgb)
        findings = []
        for payload in PAYLOADS:
            own = [r for r in readings if r.payload is payload]
            best = max(own, key=lambda r: r.bits_agreeing)
            if best.present:
                also = [f"{r.colour_order}/{r.array_type}" for r in own if r.present and r is not best]
                findings.append(self._presence(best, size, also))
        if findings:
            return findings
        return [
            Finding(
                label="generator_watermark_none",
                category="not_probative",
                details={**size, "note": ABSENCE_NOTE, "readings": [_reading_details(r) for r in readings]},
            )
        ]

    def _presence(self, reading: PayloadReading, size: dict[str, int], also: list[str]) -> Finding:
        return Finding(
            label="generator_watermark",
            category="ai_provenance",
            score=reading.agreement,
            details={
                **size,
                **_reading_details(reading),
                "also_decodes_as": also,
                "generator": reading.payload.generator,
                "payload_source": reading.payload.source,
                "note": PRESENCE_NOTE,
            },
        )


def _reading_details(reading: PayloadReading) -> dict[str, Any]:
    return {
        "payload": reading.payload.name,
        "colour_order": reading.colour_order,
        "array_type": reading.array_type,
        "decision": reading.decision,
        "bits_agreeing": reading.bits_agreeing,
        "bits_total": reading.bits_total,
    }
