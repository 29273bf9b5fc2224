"""OCR: the text in images and video frames, read by Tesseract (Korean and English) in the worker's process.

A cheap text-presence test runs first on a reduced greyscale copy: text is rows of small, high-contrast
strokes, so after a morphological gradient and a horizontal closing it forms wide, short bands dense in
edges. An image with no such band skips Tesseract (a ``no_text_detected`` finding records the test's
numbers), which keeps triage of photo-heavy cases fast; screenshots, captions and watermarks pass.

Tesseract runs as a library (tesserocr, which ships libtesseract in its wheel) with the language models
loaded once per worker process: the command-line program loaded them again for every image, about 200 ms
of CPU each, half of OCR's cost on a screenshot. The language files are Debian's (``tesseract-ocr-kor``,
``tesseract-ocr-eng``), found through the ``tesseract`` program.

Provenance: the Tesseract version, the language files' SHA-256 (also combined as the detector's model
SHA-256), the page segmentation mode and the engine mode are the detector's parameters, copied into every
annotation. Findings carry every word with its box (in pixels of the upright image) and Tesseract's
confidence (0–100), and the text as Tesseract laid it out.
"""

import hashlib
import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from detection.registry import DetectorInfo, DetectorUnavailable, Finding
from detection.subject import Subject
from evidence.hashing import file_sha256

LANGUAGES = ("kor", "eng")
PSM = 4  # one column of lines of varying size: chat screenshots and captions (measured best of 3, 4, 6, 11)
OEM = 1  # the LSTM engine, which the Debian traineddata files carry
MAX_SIDE = 3000  # larger images are shrunk before OCR (a 4K screenshot still reads at this size)
MIN_SIDE = 500  # smaller ones are enlarged 2× (Tesseract reads best with letters about 20–30 px tall)
TIMEOUT_S = 120  # one image that takes Tesseract longer is reported as failed, not waited on forever
MAX_TEXT = 100_000  # characters of text kept per image
MAX_WORDS = 5_000  # word boxes kept per image
MIN_CONFIDENCE = 0  # words Tesseract reports with confidence -1 (layout rows) are dropped
# The text-presence test, on a copy reduced to PRESENCE_SIDE: a line of text is a connected region of the
# horizontally closed gradient map 6–60 px tall, at least 3× as wide as tall and 40 px wide, 40 % or more
# of it edges, with a stroke starting every 20 px² or closer (letters; a photo's edges are sparser).
PRESENCE_SIDE = 640
PRESENCE_MIN_BANDS = 1
BAND_MIN_DENSITY = 0.40
BAND_MIN_STROKES = 0.05
INSTALL_HINT = (
    "install Tesseract with its Korean and English data: apt-get install tesseract-ocr-kor tesseract-ocr-eng"
)


def _tessdata_dir() -> Path:
    """The folder holding the traineddata files, as Tesseract itself reports it."""
    binary = shutil.which("tesseract")
    if binary is None:
        raise DetectorUnavailable(f"tesseract is not installed: {INSTALL_HINT}")
    listing = subprocess.run(
        [binary, "--list-langs"], capture_output=True, text=True, timeout=30, check=False
    ).stdout
    match = re.search(r'"([^"]+)"', listing)
    folder = Path(os.environ.get("TESSDATA_PREFIX") or (match.group(1) if match else ""))
    return folder


@dataclass(frozen=True)
class Presence:
    """The text-presence test's measurements on the reduced image."""

    bands: int
    edge_share_permille: int
    side: int

    @property
    def likely(self) -> bool:
        return self.bands >= PRESENCE_MIN_BANDS

    def as_details(self) -> dict[str, int]:
        return {"bands": self.bands, "edge_share_permille": self.edge_share_permille, "side": self.side}


def text_presence(rgb: np.ndarray) -> Presence:
    """Whether text is likely: text-like bands in the closed morphological gradient of a reduced copy."""
    import cv2

    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    height, width = grey.shape
    scale = PRESENCE_SIDE / max(height, width)
    if scale < 1:
        size = (max(1, int(width * scale)), max(1, int(height * scale)))
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    gradient = cv2.morphologyEx(
        grey, cv2.MORPH_GRADIENT, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    )
    _, edges = cv2.threshold(gradient, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    # Otsu on a flat image marks noise; strokes of text differ from their ground by a clear step.
    edges[gradient < 40] = 0
    closed = cv2.morphologyEx(edges, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 1)))
    count, _, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
    bands = 0
    for index in range(1, count):
        x, y, w, h, _area = (int(v) for v in stats[index])
        if not 6 <= h <= 60 or w < max(40, 3 * h):
            continue
        region = edges[y : y + h, x : x + w] > 0
        strokes = np.count_nonzero(region[:, 1:] & ~region[:, :-1]) / (w * h)
        if region.mean() >= BAND_MIN_DENSITY and strokes >= BAND_MIN_STROKES:
            bands += 1
    share = int(1000 * np.count_nonzero(edges) / edges.size)
    return Presence(bands=bands, edge_share_permille=share, side=max(grey.shape))


def _prepared(image: Image.Image) -> tuple[Image.Image, float]:
    """The image as Tesseract gets it (greyscale, sized) and the factor from it back to the upright image."""
    grey = image.convert("L")
    side = max(grey.size)
    factor = 1.0
    if side > MAX_SIDE:
        factor = MAX_SIDE / side
    elif side < MIN_SIDE:
        factor = 2.0
    if factor != 1.0:
        grey = grey.resize(
            (max(1, round(grey.width * factor)), max(1, round(grey.height * factor))),
            Image.Resampling.LANCZOS,
        )
    return grey, factor


def _words(data: dict[str, list[Any]], factor: float) -> list[dict[str, Any]]:
    words = []
    for index, text in enumerate(data["text"]):
        text = str(text).strip()
        confidence = float(data["conf"][index])
        if not text or confidence < MIN_CONFIDENCE:
            continue
        words.append(
            {
                "text": text,
                "confidence": round(confidence, 1),
                "x": round(int(data["left"][index]) / factor),
                "y": round(int(data["top"][index]) / factor),
                "w": round(int(data["width"][index]) / factor),
                "h": round(int(data["height"][index]) / factor),
                "block": int(data["block_num"][index]),
                "line": int(data["line_num"][index]),
            }
        )
    return words


TSV_HEADER = [
    "level",
    "page_num",
    "block_num",
    "par_num",
    "line_num",
    "word_num",
    "left",
    "top",
    "width",
    "height",
    "conf",
    "text",
]


class TesseractReader:
    """One Tesseract engine (libtesseract through tesserocr) with the Korean and English models loaded,
    kept for the life of the process. The engine reads one image at a time: a lock makes a second thread of
    the same process (a web process's background detection beside a request's) wait its turn."""

    def __init__(self, tessdata: Path) -> None:
        import tesserocr

        self._lock = threading.Lock()
        self._api = tesserocr.PyTessBaseAPI(
            path=f"{tessdata}/",
            lang="+".join(LANGUAGES),
            psm=PSM,
            oem=OEM,
        )

    def read(self, image: Image.Image) -> tuple[str, dict[str, list[Any]]]:
        """Tesseract's plain text (its own word spacing, which the word table lacks for Korean: it often
        lists each syllable as a word) and its word table (boxes and confidences), columns by name.

        Raises RuntimeError when the image takes longer than ``TIMEOUT_S`` (Tesseract stops itself).
        """
        api = self._api
        with self._lock:
            api.SetImage(image if image.mode == "L" else image.convert("L"))
            try:
                if not api.Recognize(timeout=max(1, int(TIMEOUT_S * 1000))):
                    raise RuntimeError(f"Tesseract stopped: it took longer than {TIMEOUT_S} s or failed")
                text = api.GetUTF8Text()
                table = api.GetTSVText(0)
            finally:
                api.Clear()
        columns: dict[str, list[Any]] = {name: [] for name in TSV_HEADER}
        for line in table.splitlines():
            row = line.split("\t")
            if len(row) != len(TSV_HEADER):
                continue
            for name, value in zip(TSV_HEADER, row, strict=True):
                columns[name].append(value)
        return text, columns


class OcrDetector:
    """Tesseract OCR (Korean and English) on images that pass the text-presence test."""

    frame_capable = True

    def __init__(self) -> None:
        try:
            import tesserocr
        except ImportError as exc:
            raise DetectorUnavailable(f"tesserocr cannot be imported ({exc}): pip install tesserocr") from exc
        version = tesserocr.tesseract_version().split()[1]  # "tesseract 5.5.4\n leptonica-…"
        folder = _tessdata_dir()
        hashes = {}
        for language in LANGUAGES:
            path = folder / f"{language}.traineddata"
            if not path.is_file():
                raise DetectorUnavailable(f"{path} is missing: {INSTALL_HINT}")
            hashes[language] = file_sha256(path)
        combined = "".join(f"{language} {hashes[language]}\n" for language in LANGUAGES)
        self.tessdata = folder
        self._reader: TesseractReader | None = None
        self.info = DetectorInfo(
            name="ocr",
            # 2: libtesseract in the worker's process (tesserocr) instead of the tesseract program.
            version="2",
            media_types=frozenset({"image"}),
            parameters={
                "engine": "tesseract (libtesseract through tesserocr, models loaded once per process)",
                "tesseract_version": version,
                "languages": "+".join(LANGUAGES),
                "traineddata_sha256": ",".join(f"{language}={hashes[language]}" for language in LANGUAGES),
                "tessdata": str(folder),
                "psm": PSM,
                "oem": OEM,
                "max_side": MAX_SIDE,
                "enlarge_below_side": MIN_SIDE,
                "presence_test": (
                    f"morphological gradient on a {PRESENCE_SIDE}px copy, horizontal closing; at least "
                    f"{PRESENCE_MIN_BANDS} band 6-60 px tall, 3x as wide, edge density "
                    f"{int(BAND_MIN_DENSITY * 100)} %, "
                    f"stroke starts {int(BAND_MIN_STROKES * 1000)} per 1000 px"
                ),
            },
            model_sha256=hashlib.sha256(combined.encode()).hexdigest(),
            model_card="docs/detectors/ocr.md",
            licence="Apache-2.0 (Tesseract and its language data)",
            validation=(
                "tests: generated screenshots in NanumGothic, ≥ 90 % of Korean characters and English words "
                "read right on clean text; no published error rates for chat screenshots"
            ),
        )

    def load(self) -> None:
        """Load the language models once for this process (each detection worker loads its own)."""
        self._tesseract()

    def _tesseract(self) -> TesseractReader:
        if self._reader is None:
            self._reader = TesseractReader(self.tessdata)
        return self._reader

    def analyze(self, subject: Subject) -> list[Finding]:
        # The presence test needs 640 px: the subject's shared reduced decode (a large JPEG's DCT-scaled
        # draft) serves, and the full-size upright image is made only for the images OCR then reads.
        presence = text_presence(subject.reduced_upright)
        if not presence.likely:
            return [
                Finding(
                    label="no_text_detected",
                    category="not_probative",
                    details={
                        "presence_test": presence.as_details(),
                        "note": "the cheap text-presence test found no text-like rows, so OCR did not run; "
                        "run OCR on this item by hand if text is expected",
                    },
                )
            ]
        upright = subject.upright
        prepared, factor = _prepared(Image.fromarray(upright))
        raw_text, data = self._tesseract().read(prepared)
        words = _words(data, factor) if data else []
        if not words:
            return [
                Finding(
                    label="ocr_no_text",
                    category="not_probative",
                    details={"presence_test": presence.as_details(), "note": "Tesseract read no words"},
                )
            ]
        kept = words[:MAX_WORDS]
        text = "\n".join(line.rstrip() for line in raw_text.splitlines() if line.strip())
        truncated = len(text) > MAX_TEXT or len(words) > MAX_WORDS
        mean = sum(w["confidence"] for w in words) / len(words)
        height, width = upright.shape[:2]
        return [
            Finding(
                label="ocr_text",
                category="extracted_text",
                score=round(mean / 100, 4),
                details={
                    "text": text[:MAX_TEXT],
                    "text_sha256": hashlib.sha256(text.encode()).hexdigest(),
                    "words": kept,
                    "word_count": len(words),
                    "mean_confidence": round(mean, 1),
                    "truncated": truncated,
                    "image_size": {"width": int(width), "height": int(height)},
                    "presence_test": presence.as_details(),
                    "note": "machine-read text: check it against the image before quoting it",
                },
            )
        ]


def ocr_detector() -> OcrDetector:
    """The entry point's factory: DetectorUnavailable when Tesseract or a language file is missing."""
    return OcrDetector()
