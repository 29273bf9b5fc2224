"""JPEG forensic indicators: quality and quantisation tables, a double-compression score; ELA on demand.

Analyst aids, never verdicts. Each says something about how the file was *saved*, which an expert
weighs with everything else; none of them says whether a picture shows something that happened.

- Quality: the luminance and chrominance tables are compared with the IJG (libjpeg) tables scaled to each
  quality 1–100; an exact match names the quality, otherwise the nearest is given and the tables are
  flagged non-standard (cameras, phones and some editors use their own).
- Double compression (aligned grid): JPEG stores DCT coefficients divided by a step and rounded. A file
  compressed with a coarser step ``p`` and then again with a finer step ``s`` can only hold coefficient
  values ``round(m·p/s)``: the others stay (nearly) empty, a comb in the histogram. The luminance block
  DCT is recomputed from the decoded Y plane (undone by this file's table), and for each candidate first
  quality 30–99 the count in the bins that quality makes unreachable, over the first 15 AC frequencies,
  is compared with what the nearest reachable bins predict (log-linear, as for a Laplacian histogram).
  Score = 1 − (observed / expected) for the best candidate, which also estimates the first quality.
  Limits: the second save must be finer than the first (a coarser resave leaves little trace), the 8 × 8
  grid must not have moved (no crop or resize between saves), and images with few textured blocks (flat
  graphics, black backgrounds) can score high by chance.
- Error level analysis: the decoded image is saved again as JPEG at quality 90 and the absolute difference
  (largest over R, G, B), amplified, is a greyscale PNG labelled as an analyst aid. Regions that differ in
  error level *may* have a different compression history; edges, texture and saturated colours do too.
  The map is not made at triage (it cost more than every other check of this detector together, for a
  picture few items are ever looked at in): ``detection.ela.ela_map_serve`` makes it once when an analyst
  opens it and stores it as a derivative.
"""

import io
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import PIL
from PIL import Image, JpegImagePlugin

from detection.registry import DetectorInfo, Finding
from detection.subject import Subject, UndecodableMedia
from evidence.imaging import image_open

# ITU-T T.81 Annex K tables (the IJG "quality 50" tables), natural (row-major) order.
IJG_LUMINANCE = np.array(
    [16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
     14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
     18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
     49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99],
)  # fmt: skip
IJG_CHROMINANCE = np.array(
    [17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
     24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99] + [99] * 32,
)  # fmt: skip

# The first AC frequencies in zigzag order, as (row, column) of the 8 × 8 block.
_ZIGZAG = sorted(
    ((r, c) for r in range(8) for c in range(8)), key=lambda p: (p[0] + p[1], p[(p[0] + p[1] + 1) & 1])
)
DQ_FREQUENCIES = _ZIGZAG[1:16]
DQ_MAX_BIN = 60  # coefficient magnitudes 1..60 are examined
DQ_FIRST_QUALITIES = range(30, 100)
DQ_MIN_EXPECTED = 200  # fewer predicted coefficients than this in the empty bins: no score
DQ_MAX_BLOCKS = 500_000  # larger images: every k-th row of blocks (32 megapixels' worth) is examined
CHUNK_BLOCKS = 8_192  # blocks transformed at a time (their float64 copy: 4 MiB)
DQ_THRESHOLD_PERCENT = 60  # at or above: "consistent with double compression" (see the model card)

ELA_QUALITY = 90
ELA_AMPLIFICATION = 15
ANALYST_AID = "analyst aid, not a verdict"


def ijg_table(base: np.ndarray, quality: int) -> np.ndarray:
    """The table libjpeg writes for ``quality`` (1–100) from a base table, clamped to baseline 1..255."""
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return np.clip((base * scale + 50) // 100, 1, 255)


def estimate_quality(tables: dict[int, list[int]]) -> dict[str, Any]:
    """Nearest IJG quality to the file's tables, and whether they are exactly the IJG ones."""
    luminance = np.array(tables.get(0, []))
    chrominance = np.array(tables[1]) if 1 in tables else None
    best_quality, best_error = 0, None
    for quality in range(1, 101):
        error = (
            int(np.abs(ijg_table(IJG_LUMINANCE, quality) - luminance).sum()) if luminance.size == 64 else 0
        )
        if chrominance is not None and chrominance.size == 64:
            error += int(np.abs(ijg_table(IJG_CHROMINANCE, quality) - chrominance).sum())
        if best_error is None or error < best_error:
            best_quality, best_error = quality, error
    return {
        "quality_estimate": best_quality,
        "standard_ijg_tables": best_error == 0,
        "table_difference": best_error or 0,
    }


def _coefficient_chunks(
    data: bytes, frequencies: Sequence[tuple[int, int]] = DQ_FREQUENCIES
) -> tuple[Iterator[np.ndarray], np.ndarray] | None:
    """(the quantised luminance DCT coefficients at ``frequencies`` (row, column), ``CHUNK_BLOCKS`` blocks
    at a time as N × F int32 arrays, in block order; the file's luminance table, 8 × 8 int32), or None.

    Decodes the Y component alone (libjpeg's greyscale output of a YCbCr file is its Y plane: the chroma
    is neither decoded nor upsampled, nor colour-converted), recomputes the 8 × 8 DCT of Y − 128 at the
    frequencies asked for only (15 of 64 for the double-compression score: a quarter of the work) and
    divides by the table: the stored integers come back up to the decoder's rounding. The blocks are
    transformed a chunk at a time, so their float copy stays in the processor's cache instead of a float64
    copy of the whole image (about 100 MB for 12 megapixels) going through memory three times; each
    coefficient is the same product as over the whole array. None for CMYK and the like.
    """
    image = image_open(data)  # bounded like every decoder; callers reach here after Subject.image did
    tables = getattr(image, "quantization", None) or {}
    if 0 not in tables or image.mode not in {"RGB", "L", "YCbCr"}:
        return None
    image.draft("L", image.size)
    image.load()
    luma = np.asarray(image)  # Y of YCbCr (L of greyscale): the plane the file stores
    height, width = luma.shape[0] // 8 * 8, luma.shape[1] // 8 * 8
    rows = luma[:height, :width].reshape(height // 8, 8, width)
    stride = -(-(height // 8) * (width // 8) // DQ_MAX_BLOCKS)  # ceiling division
    rows = rows[::stride]
    n = np.arange(8)
    basis = np.sqrt(2 / 8) * np.cos(np.pi * (2 * n[None, :] + 1) * n[:, None] / 16)
    basis[0] /= np.sqrt(2)  # orthonormal DCT-II, the transform JPEG specifies
    step = np.array(tables[0], dtype=np.float64).reshape(8, 8)
    # One column of the 2-D DCT (as a 64-vector over a flattened block) per frequency asked for.
    columns = np.stack([np.outer(basis[r], basis[c]).ravel() for r, c in frequencies], axis=1)
    divisors = np.array([step[r, c] for r, c in frequencies])
    rows_per_chunk = max(1, CHUNK_BLOCKS // max(1, width // 8))

    def chunks() -> Iterator[np.ndarray]:
        for start in range(0, len(rows), rows_per_chunk):
            part = rows[start : start + rows_per_chunk]
            blocks = part.reshape(part.shape[0], 8, width // 8, 8).swapaxes(1, 2).reshape(-1, 64)
            centred = blocks.astype(np.float64)
            centred -= 128  # in place: one float copy of the chunk's blocks, not two
            yield np.rint((centred @ columns) / divisors).astype(np.int32)

    return chunks(), step.astype(np.int32)


def luminance_coefficients(
    data: bytes, frequencies: Sequence[tuple[int, int]] = DQ_FREQUENCIES
) -> tuple[np.ndarray, np.ndarray] | None:
    """(quantised luminance DCT coefficients per block at ``frequencies`` (row, column), N × F; the file's
    luminance table, 8 × 8), or None: ``_coefficient_chunks`` put together."""
    decoded = _coefficient_chunks(data, frequencies)
    if decoded is None:
        return None
    chunks, steps = decoded
    parts = list(chunks)
    coefficients = np.concatenate(parts) if parts else np.zeros((0, len(frequencies)), dtype=np.int32)
    return coefficients, steps


def coefficient_histograms(data: bytes) -> tuple[np.ndarray, np.ndarray] | None:
    """(per frequency of ``DQ_FREQUENCIES``, the count of luminance coefficients of each magnitude
    0..``DQ_MAX_BIN``, F × (DQ_MAX_BIN + 1) float64; the luminance table), or None; counted a chunk of
    blocks at a time (every frequency's histogram in one ``bincount``), larger magnitudes left out."""
    decoded = _coefficient_chunks(data)
    if decoded is None:
        return None
    chunks, steps = decoded
    bins = DQ_MAX_BIN + 2
    offsets = np.arange(len(DQ_FREQUENCIES), dtype=np.int32) * bins
    counts = np.zeros(bins * len(DQ_FREQUENCIES), dtype=np.int64)
    for coefficients in chunks:
        magnitudes = np.abs(coefficients, out=coefficients)
        np.minimum(magnitudes, DQ_MAX_BIN + 1, out=magnitudes)
        magnitudes += offsets
        counts += np.bincount(magnitudes.ravel(), minlength=len(counts))
    histograms = counts.reshape(len(DQ_FREQUENCIES), bins)[:, : DQ_MAX_BIN + 1].astype(np.float64)
    return histograms, steps


def _reachable(first: int, second: int) -> np.ndarray:
    """The magnitudes 1..``DQ_MAX_BIN`` a coefficient saved with step ``first`` and then ``second`` can
    take: ``round(m · first / second)``."""
    multiples = np.arange(0, DQ_MAX_BIN * second // first + 3)
    reachable = np.unique(np.floor(multiples * first / second + 0.5).astype(int))
    return reachable[(reachable >= 1) & (reachable <= DQ_MAX_BIN)]


def double_compression(data: bytes) -> dict[str, Any]:
    """Score in [0, 1] and the first quality it points to; see the module docstring for the method."""
    counted_histograms = coefficient_histograms(data)
    if counted_histograms is None:
        return {"score": None, "reason": "no luminance table or not a YCbCr/greyscale JPEG"}
    counts, steps = counted_histograms
    logs = np.log(counts + 0.5)  # each histogram's logarithm, for the interpolation in _empty_bins
    best: tuple[float, int] | None = None
    counted: dict[tuple[int, int], tuple[float, float]] = {}  # (frequency, first step) → counts
    reachables: dict[tuple[int, int], np.ndarray] = {}  # (first step, second step) → magnitudes
    for first_quality in DQ_FIRST_QUALITIES:
        first = ijg_table(IJG_LUMINANCE, first_quality).reshape(8, 8)
        observed = expected = 0.0
        for column, (r, c) in enumerate(DQ_FREQUENCIES):
            p, s = int(first[r, c]), int(steps[r, c])
            if p <= s:
                continue  # a first step no coarser than the second leaves no empty bins
            if (column, p) not in counted:
                if (p, s) not in reachables:
                    reachables[(p, s)] = _reachable(p, s)
                counted[(column, p)] = _empty_bins(counts[column], logs[column], reachables[(p, s)])
            observed_f, expected_f = counted[(column, p)]
            observed += observed_f
            expected += expected_f
        if expected >= DQ_MIN_EXPECTED:
            ratio = observed / expected
            if best is None or ratio < best[0]:
                best = (ratio, first_quality)
    if best is None:
        return {"score": None, "reason": "too few textured blocks to judge"}
    score = float(min(1.0, max(0.0, 1.0 - best[0])))
    return {
        "score": score,
        "first_quality_estimate": best[1],
        "consistent_with_double_compression": score * 100 >= DQ_THRESHOLD_PERCENT,
    }


def _empty_bins(histogram: np.ndarray, logs: np.ndarray, reachable: np.ndarray) -> tuple[float, float]:
    """(count in the bins between reachable ones, count a smooth histogram would put there).

    Coefficient histograms fall off roughly exponentially (Laplacian), so each unreachable bin is
    predicted by interpolating the logarithm of the counts of the nearest reachable bins on either side.
    Bin 0 is left out: it holds most coefficients and no neighbour predicts it.
    """
    if len(reachable) < 2:
        return 0.0, 0.0
    is_reachable = np.zeros(DQ_MAX_BIN + 1, dtype=bool)
    is_reachable[reachable] = True
    bins = np.arange(reachable[0] + 1, reachable[-1])
    bins = bins[~is_reachable[bins]]
    if not bins.size:
        return 0.0, 0.0
    right_index = np.searchsorted(reachable, bins)
    left, right = reachable[right_index - 1], reachable[right_index]
    fraction = (bins - left) / (right - left)
    predicted = np.exp(logs[left] + fraction * (logs[right] - logs[left])) - 0.5
    return float(histogram[bins].sum()), float(np.maximum(predicted, 0).sum())


def error_level_map(rgb: np.ndarray) -> bytes:
    """The ELA map as a greyscale PNG: |image − image re-saved at quality 90|, largest channel, amplified."""
    resaved = io.BytesIO()
    Image.fromarray(rgb).save(resaved, format="JPEG", quality=ELA_QUALITY)
    again = np.asarray(Image.open(resaved).convert("RGB"))
    difference = np.abs(rgb.astype(np.int16) - again.astype(np.int16)).max(axis=2)
    levels = np.minimum(difference * ELA_AMPLIFICATION, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(levels, mode="L").save(out, format="PNG")
    return out.getvalue()


ELA_RECIPE: dict[str, Any] = {
    "tool": "haetae jpeg-forensics",
    "version": "1",
    "method": "error level analysis",
    "encoder": f"Pillow {PIL.__version__} JPEG",
    "resave_quality": ELA_QUALITY,
    "amplification": ELA_AMPLIFICATION,
    "channels": "largest absolute difference of R, G, B",
    "orientation": "stored pixels, EXIF orientation not applied",
    "label": f"error level analysis map: {ANALYST_AID}; bright regions are not proof of editing",
}


class JpegForensicsDetector:
    """JPEG quality and tables and a double-compression score; the ELA map is made on demand, not here."""

    info = DetectorInfo(
        name="jpeg-forensics",
        version="2",
        media_types=frozenset({"image"}),
        parameters={
            "quality": "nearest IJG-scaled tables (luminance + chrominance)",
            "double_compression": "empty-bin test on luminance DCT histograms, first 15 AC frequencies",
            "dq_first_qualities": "30-99",
            "dq_max_bin": DQ_MAX_BIN,
            "dq_threshold_percent": DQ_THRESHOLD_PERCENT,
            "ela": "on demand (detection.ela), not at triage",
            "pillow": PIL.__version__,
        },
        model_card="docs/detectors/jpeg-forensics.md",
        licence="AGPL-3.0-or-later",
        validation=(
            "double compression, 10 scikit-image photos saved once at q75/85/90/95 (40 files) and twice "
            "(q50-90 then q75-95, 190 files): at the threshold 1 of 40 single saves flagged (a mostly black "
            "image), 155 of 160 coarse-then-fine saves flagged, 0 of 30 fine-then-coarse; first quality "
            "exact in 72 % of the flagged; threshold chosen on these same images (not held out). Quality "
            "estimate exact for IJG tables. ELA not validated (an aid to look with)."
        ),
    )

    def load(self) -> None:
        pass

    def analyze(self, subject: Subject) -> list[Finding]:
        if subject.image.format != "JPEG":
            return []
        data = subject.read()
        tables = {int(k): list(v) for k, v in (getattr(subject.image, "quantization", None) or {}).items()}
        if not tables:
            raise UndecodableMedia("a JPEG without quantisation tables")
        quality = estimate_quality(tables)
        findings = [
            Finding(
                label="jpeg_quality",
                category="forensic_indicator",
                details={
                    **quality,
                    "quantisation_tables": {str(k): v for k, v in tables.items()},
                    "subsampling": _subsampling(subject.image),
                    "progressive": bool(subject.image.info.get("progressive")),
                    "note": f"{ANALYST_AID}: the quality the file was last saved at; it says nothing about "
                    "earlier saves.",
                },
            )
        ]
        dq = double_compression(data)
        findings.append(
            Finding(
                label="jpeg_double_compression",
                category="forensic_indicator",
                score=dq.get("score"),
                details={
                    **dq,
                    "threshold_percent": DQ_THRESHOLD_PERCENT,
                    "note": f"{ANALYST_AID}. A high score suggests the file was saved as JPEG at least "
                    "twice (first at a lower quality); that is what most sharing and editing does, so it "
                    "does not by itself indicate manipulation. A low score does not exclude it (cropping, "
                    "resizing or a coarser second save hide the trace).",
                },
            )
        )
        return findings


def _subsampling(image: Image.Image) -> str:
    sampling = JpegImagePlugin.get_sampling(image) if isinstance(image, JpegImagePlugin.JpegImageFile) else -1
    return {0: "4:4:4", 1: "4:2:2", 2: "4:2:0"}.get(sampling, "other or greyscale")
