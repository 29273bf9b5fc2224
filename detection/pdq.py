"""PDQ perceptual hashes (Meta's algorithm) in numpy: quality and all eight dihedral variants in one pass.

The algorithm follows Meta's reference (ThreatExchange ``pdq/cpp/hashing/pdqhashing.cpp``) step by step:
float luma (0.299 R + 0.587 G + 0.114 B), a two-pass Jarosz (box) filter whose window is
``(n + 127) // 128`` along each axis, decimation to 64 × 64 at pixel centres, the gradient quality metric,
the 16 × 16 block of the 2-D DCT (frequencies 1–16), and one bit per coefficient: above the median or not.
The dihedral variants come from sign changes and transposition of that DCT block, as in the reference.

Two things differ from the reference in *how*, not *what*, and are why this is faster (bench/p3_pdq.py):

* The filter and decimation are linear and separable, and only 64 rows and 64 columns of the filtered image
  are ever read, so they are computed as ``L @ luma @ R.T`` with 64-row matrices ``L`` and ``R`` holding
  exactly the weights the two box passes give each input pixel (one BLAS product, not four full passes).
* JPEGs are decoded by libjpeg at a reduced DCT scale (Pillow's ``draft``) to the smallest size whose sides
  are both at least ``DRAFT_MIN_SIDE`` pixels, luma only. The Jarosz filter averages larger windows than
  the 1/2–1/8 DCT scaling does, so on photographs the 64 × 64 image barely moves. On fine texture (grass,
  gravel, brickwork) and on flat areas with sharp edges (a checkerboard, a screenshot) it can move enough to
  flip many bits, so a draft's hash is kept only if it passes two checks made on the draft itself
  (``draft_check``): a view of the draft at half its resolution hashes within ``DRAFT_AGREEMENT_BITS`` of
  it (the hash has converged with resolution), and at most ``DRAFT_FRAGILE_BITS`` of the 256 coefficients
  lie within ``DRAFT_MIN_MARGIN`` median absolute deviations of the median (bits that any decoder
  difference would flip). Otherwise the JPEG's luma (Y) is decoded at full size. Bench P3 and the tests
  measure the bit distance to the reference on the full decode: within 8 bits on every ThreatExchange test
  image and every generated one (Meta accepts implementations within 10 bits).

Hash layout: 64 hex digits, most significant first, exactly as Meta's ``Hash256::format`` and the
``pdqhash`` package (bit ``i * 16 + j`` is DCT coefficient ``(i, j)``; the hex string starts at bit 255).
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from evidence.imaging import TooManyPixels, image_open

# Sides below this many pixels: no hash (the reference's MIN_HASHABLE_DIM).
MIN_HASHABLE_DIM = 5
# JPEG draft decoding keeps both sides at least this long (4 × PDQ's 64 × 64 target: at 2 × the draft's
# pixels span as much as the Jarosz window, and photographs' hashes moved up to 38 bits).
DRAFT_MIN_SIDE = 256
FULL_SCALE_BOX = 1 << 30
# PDQ hashes a 64 × 64 downsample: no draft goes below it.
PDQ_WORKING_SIDE = 64
# A draft's hash is kept when a half-resolution view of the draft hashes within this many bits of it ...
DRAFT_AGREEMENT_BITS = 8
# ... and at most DRAFT_FRAGILE_BITS coefficients lie within DRAFT_MIN_MARGIN median absolute deviations of
# the median (measured on generated photographs, textures and checkerboards: bench/p3_pdq.py, the tests).
DRAFT_FRAGILE_BITS = 8
DRAFT_MIN_MARGIN = 0.01
# Below this quality a hash is too unreliable to match on (Meta's recommendation).
MIN_QUALITY = 50
# Hamming distance at or below which two PDQ hashes are taken as the same picture (Meta's recommendation).
DEFAULT_THRESHOLD = 31

# The eight orientations, in the reference's order; a variant is the hash of the image so transformed.
ORIENTATIONS: tuple[str, ...] = (
    "original",
    "rotate90",
    "rotate180",
    "rotate270",
    "flipx",
    "flipy",
    "flip_plus1",
    "flip_minus1",
)

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


@dataclass(frozen=True)
class PdqResult:
    """One image's PDQ: the hash as stored, its quality (0–100) and the eight dihedral variants."""

    hash: str
    quality: int
    dihedral: dict[str, str]
    decoded_size: tuple[int, int]  # (width, height) of the luma that was hashed (after any draft scaling)


def hamming(a: str, b: str) -> int:
    """Bits that differ between two hex hashes of equal length."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def jarosz_window(old_dimension: int, new_dimension: int = 64) -> int:
    """The reference's box-filter window for downscaling one axis."""
    return (old_dimension + 2 * new_dimension - 1) // (2 * new_dimension)


def _box_rows(rows: np.ndarray, n: int, window: int) -> np.ndarray:
    """Rows ``rows`` of the n × n matrix of the reference's 1-D box filter (``box1DFloat``).

    Output k averages inputs ``k - (window - half) … k + half - 1`` clipped to the axis, so edges average
    over fewer.
    """
    half = (window + 2) // 2
    lo = np.maximum(rows - (window - half), 0)
    hi = np.minimum(rows + half - 1, n - 1)
    cols = np.arange(n)
    mask = (cols[None, :] >= lo[:, None]) & (cols[None, :] <= hi[:, None])
    return mask / (hi - lo + 1)[:, None]


def _times_box(weights: np.ndarray, n: int, window: int) -> np.ndarray:
    """``weights @ B`` for the box matrix B, in O(rows × n): column m sums weights[k] / count(k) over
    the k whose window holds m, i.e. k in ``m - half + 1 … m + window - half``."""
    half = (window + 2) // 2
    k = np.arange(n)
    count = np.minimum(k + half - 1, n - 1) - np.maximum(k - (window - half), 0) + 1
    scaled = weights / count
    csum = np.zeros((weights.shape[0], n + 1))
    np.cumsum(scaled, axis=1, out=csum[:, 1:])
    m = np.arange(n)
    lo = np.maximum(m - half + 1, 0)
    hi = np.minimum(m + window - half, n - 1)
    out: np.ndarray = csum[:, hi + 1] - csum[:, lo]
    return out


@lru_cache(maxsize=64)
def _resample_matrix(n: int) -> np.ndarray:
    """64 × n weights: two box passes along an axis of length n, then the reference's decimation rows."""
    centres = ((np.arange(64) + 0.5) * n / 64).astype(np.int64)
    window = jarosz_window(n)
    if window == 1:
        picked = np.zeros((64, n), dtype=np.float64)
        picked[np.arange(64), centres] = 1.0
        return picked.astype(np.float32)
    # (B @ B)[centres] = B[centres] @ B: the rows of the twice-filtered axis that decimation reads.
    return _times_box(_box_rows(centres, n, window), n, window).astype(np.float32)


@lru_cache(maxsize=64)
def _dct_matrix() -> np.ndarray:
    scale = np.sqrt(2.0 / 64.0)
    i = np.arange(1, 17)[:, None]
    j = np.arange(64)[None, :]
    return (scale * np.cos((np.pi / 2.0 / 64.0) * i * (2 * j + 1))).astype(np.float32)


@lru_cache(maxsize=64)
def _draft_matrix(n_full: int, scale: int) -> np.ndarray:
    """The full-size weights summed over each run of ``scale`` pixels that one draft pixel stands for.

    libjpeg's 1/scale decode gives each output pixel (about) the mean of a scale × scale block, so this is
    the full-size filter applied to the full-size image, as well as the draft lets us know it.
    """
    full = _resample_matrix(n_full).astype(np.float64)
    n_draft = -(-n_full // scale)
    padded = np.zeros((64, n_draft * scale))
    padded[:, :n_full] = full
    return padded.reshape(64, n_draft, scale).sum(axis=2).astype(np.float32)


def _downsample(luma: np.ndarray, scale: int, full_size: tuple[int, int]) -> np.ndarray:
    rows, cols = luma.shape
    if scale == 1 and rows == 64 and cols == 64:
        return luma.astype(np.float32, copy=False)
    full_cols, full_rows = full_size
    if scale == 1:
        left, right = _resample_matrix(rows), _resample_matrix(cols)
    else:
        left, right = _draft_matrix(full_rows, scale), _draft_matrix(full_cols, scale)
    out: np.ndarray = left @ luma.astype(np.float32, copy=False) @ right.T
    return out


def quality_of(block64: np.ndarray) -> int:
    """The reference's image-domain quality metric: significant gradients in the 64 × 64 image, 0–100."""
    vertical = np.trunc((block64[:-1, :] - block64[1:, :]) * np.float32(100) / np.float32(255))
    horizontal = np.trunc((block64[:, :-1] - block64[:, 1:]) * np.float32(100) / np.float32(255))
    gradient_sum = int(np.abs(vertical).sum(dtype=np.int64)) + int(np.abs(horizontal).sum(dtype=np.int64))
    return min(gradient_sum // 90, 100)


def _dihedral_blocks(dct: np.ndarray) -> list[np.ndarray]:
    """The DCT block of each orientation, by the reference's sign and transposition rules."""
    odd_i, odd_j = np.indices((16, 16)) & 1 == 1  # row / column index odd (frequency i + 1 even)
    odd_sum = odd_i ^ odd_j
    return [
        dct,
        np.where(odd_j, dct, -dct).T,  # rotate90
        np.where(odd_sum, -dct, dct),  # rotate180
        np.where(odd_i, dct, -dct).T,  # rotate270
        np.where(odd_i, dct, -dct),  # flipx
        np.where(odd_j, dct, -dct),  # flipy
        dct.T,  # flip_plus1
        np.where(odd_sum, -dct, dct).T,  # flip_minus1
    ]


def _bits_to_hex(block: np.ndarray) -> str:
    flat = block.reshape(256)
    median = np.partition(flat, 127)[127]  # Torben's median of 256 values: the 128th smallest
    bits = (flat > median)[::-1]  # hex starts at bit 255
    return np.packbits(bits).tobytes().hex()


def _pdq_and_dct(
    luma: np.ndarray, scale: int, full_size: tuple[int, int] | None
) -> tuple[PdqResult, np.ndarray | None]:
    rows, cols = luma.shape
    size = full_size or (cols, rows)
    if size[0] < MIN_HASHABLE_DIM or size[1] < MIN_HASHABLE_DIM:
        zero = "0" * 64
        return PdqResult(zero, 0, dict.fromkeys(ORIENTATIONS, zero), (cols, rows)), None
    block64 = _downsample(luma, scale, size)
    quality = quality_of(block64)
    dct_rows = _dct_matrix()
    dct = dct_rows @ block64 @ dct_rows.T
    variants = {name: _bits_to_hex(b) for name, b in zip(ORIENTATIONS, _dihedral_blocks(dct), strict=True)}
    return PdqResult(variants["original"], quality, variants, (cols, rows)), dct


def pdq_from_luma(luma: np.ndarray, *, scale: int = 1, full_size: tuple[int, int] | None = None) -> PdqResult:
    """PDQ of a float or uint8 luma array (rows × columns).

    ``scale`` > 1 says the luma is a 1/scale JPEG draft of an image of ``full_size`` (width, height): the
    filter weights are then those of the full-size image (``_draft_matrix``).
    """
    return _pdq_and_dct(luma, scale, full_size)[0]


@dataclass(frozen=True)
class DraftCheck:
    """Whether a JPEG draft's hash is kept (see the module's doc), and the two measures that decided it."""

    coarser_bits: int  # bits between the draft's hash and that of the draft at half its resolution
    fragile_bits: int  # coefficients within DRAFT_MIN_MARGIN median absolute deviations of the median
    reliable: bool


def _half(luma: np.ndarray) -> np.ndarray:
    """The mean of each 2 × 2 block (an odd last row or column repeated): what a draft at twice the scale
    would hold."""
    rows, cols = luma.shape
    padded = np.pad(luma.astype(np.float32, copy=False), ((0, rows % 2), (0, cols % 2)), mode="edge")
    out: np.ndarray = padded.reshape(padded.shape[0] // 2, 2, padded.shape[1] // 2, 2).mean(axis=(1, 3))
    return out


def draft_check(luma: np.ndarray, *, scale: int, full_size: tuple[int, int]) -> tuple[PdqResult, DraftCheck]:
    """The PDQ of a 1/scale JPEG draft and whether to keep it or decode the full image instead."""
    result, dct = _pdq_and_dct(luma, scale, full_size)
    if dct is None:
        return result, DraftCheck(0, 0, True)
    dct_rows = _dct_matrix()
    coarser = _bits_to_hex(dct_rows @ _downsample(_half(luma), scale * 2, full_size) @ dct_rows.T)
    coarser_bits = hamming(result.hash, coarser)
    flat = dct.reshape(256)
    distance = np.abs(flat - np.partition(flat, 127)[127])
    spread = float(np.median(distance))
    fragile_bits = int(np.count_nonzero(distance < DRAFT_MIN_MARGIN * spread)) if spread > 0 else 256
    reliable = coarser_bits <= DRAFT_AGREEMENT_BITS and fragile_bits <= DRAFT_FRAGILE_BITS
    return result, DraftCheck(coarser_bits, fragile_bits, reliable)


def luma_from_rgb(rgb: np.ndarray) -> np.ndarray:
    """The reference's float luma of an RGB uint8 array."""
    out: np.ndarray = rgb.astype(np.float32) @ _LUMA
    return out


def pdq_from_rgb(rgb: np.ndarray) -> PdqResult:
    return pdq_from_luma(luma_from_rgb(rgb))


@dataclass(frozen=True)
class DecodedLuma:
    """The luma PDQ hashes and how it was decoded (for the record)."""

    luma: np.ndarray
    scale: int  # 1, or the JPEG draft's reduction (2, 4, 8)
    full_size: tuple[int, int]  # (width, height) of the image as stored
    decoder: str  # "jpeg-draft-luma", "jpeg-draft-rgb", "jpeg-luma" or "pillow-rgb"


def decode_luma(data: bytes, *, draft: bool = True, min_side: int | None = DRAFT_MIN_SIDE) -> DecodedLuma:
    """Decode file bytes to the luma PDQ hashes.

    JPEGs (YCbCr or greyscale) are decoded by libjpeg straight to luma (the Y channel, which JPEG defines
    with the same 0.299/0.587/0.114 weights) at the smallest DCT scale keeping both sides at least
    ``min_side`` pixels (``None``: full size); everything else, and every image when ``draft`` is false, is
    fully decoded by Pillow to RGB (first frame, alpha dropped, EXIF orientation not applied) and converted
    with the reference's weights. Raises Pillow's own errors for undecodable data, and TooManyPixels for an
    image (as decoded) over the pixel bound.
    """
    # A box larger than any image drafts a JPEG to luma at full scale (libjpeg never scales up).
    side = min_side if min_side else FULL_SCALE_BOX
    need = (side, side) if draft else None
    try:
        img = image_open(data, mode="L", need=need, draft_modes={"L", "RGB"})
    except TooManyPixels:
        if not (draft and min_side and min_side > PDQ_WORKING_SIDE):
            raise
        # Over the pixel bound at this draft: a coarser one still hashes (down to PDQ's own 64-px working
        # size); its draft check says how far it can be trusted.
        return decode_luma(data, draft=True, min_side=min_side // 2)
    full = img.info["stored_size"]
    if draft and img.format == "JPEG" and img.mode in {"L", "RGB"}:
        img.load()
        luma = np.asarray(img if img.mode == "L" else img.convert("L"))
        scale = _scale_of(full, img.size)
        return DecodedLuma(luma, scale, full, "jpeg-draft-luma" if scale > 1 else "jpeg-luma")
    img.load()
    return DecodedLuma(luma_from_rgb(np.asarray(img.convert("RGB"))), 1, full, "pillow-rgb")


@dataclass(frozen=True)
class HashedImage:
    """A file's PDQ, how its luma was decoded, and the draft's check when a JPEG draft was tried."""

    result: PdqResult
    decoder: str
    scale: int
    draft_check: DraftCheck | None


def pdq_of_draft(decoded: DecodedLuma, full: Callable[[], DecodedLuma | None]) -> HashedImage:
    """PDQ of a decoded luma: a JPEG draft's (``scale`` > 1) when ``draft_check`` keeps it, else that of
    ``full()``, the full-size luma (``None``: none can be had, and the draft's hash stands, its check saying
    so); a full-size luma as it is."""
    if decoded.scale == 1:
        result = pdq_from_luma(decoded.luma, full_size=decoded.full_size)
        return HashedImage(result, decoded.decoder, 1, None)
    result, check = draft_check(decoded.luma, scale=decoded.scale, full_size=decoded.full_size)
    if check.reliable:
        return HashedImage(result, decoded.decoder, decoded.scale, check)
    whole = full()
    if whole is None:
        return HashedImage(result, decoded.decoder, decoded.scale, check)
    return HashedImage(pdq_from_luma(whole.luma, full_size=whole.full_size), whole.decoder, 1, check)


def full_luma(data: bytes) -> DecodedLuma | None:
    """A JPEG's full-size luma (Y channel) for ``pdq_of_draft``: a quarter of the cost of decoding to RGB
    on a 12-megapixel photo, and as close to the reference (0–2 bits; bench/p3_pdq.py). ``None`` when the
    image is too large to decode whole within the pixel bound."""
    try:
        return decode_luma(data, min_side=None)
    except TooManyPixels:
        return None


def pdq_of_file(data: bytes) -> HashedImage:
    """PDQ of file bytes the fast way: a JPEG's draft when ``draft_check`` keeps it, else its full-size
    luma; other formats fully decoded."""
    return pdq_of_draft(decode_luma(data), lambda: full_luma(data))


def _scale_of(full: tuple[int, int], drafted: tuple[int, int]) -> int:
    for scale in (8, 4, 2, 1):
        if all(-(-f // scale) == d for f, d in zip(full, drafted, strict=True)):
            return scale
    raise ValueError(f"JPEG draft gave {drafted} for an image of {full}: not a 1/2^k scale")


def pdq_from_bytes(data: bytes, *, draft: bool = True) -> PdqResult:
    """PDQ of file bytes: ``pdq_of_file``'s, or with ``draft`` false that of a full Pillow decode to RGB."""
    if draft:
        return pdq_of_file(data).result
    decoded = decode_luma(data, draft=False)
    return pdq_from_luma(decoded.luma, full_size=decoded.full_size)
