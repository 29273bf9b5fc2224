"""Built-in detectors for hash matching: PDQ perceptual hashes of images, and file digests of everything.

``pdq`` annotates each image with its PDQ hash, quality and eight dihedral variants (label ``pdq``), or
says the image is too plain to hash reliably (label ``pdq_low_quality``, no hash). ``file-hashes`` records
the MD5, SHA-1 and SHA-256 of any item's verified plaintext. After storing, each looks its result up in the
hash banks and in other cases (``detection.matching``). Model card: docs/detectors/pdq.md.
"""

import hashlib
import io
from typing import Any

import numpy as np
import PIL
import PIL.features
from PIL import Image

from detection import pdq
from detection.models import Annotation, DetectionRun
from detection.registry import DetectorInfo, Finding
from detection.subject import (
    DECODE_ERRORS,
    REDUCED_LONGEST,
    NotAnalysedTooManyPixels,
    Reduced,
    Subject,
    undecodable,
)

PDQ_VERSION = "1.1"
FILE_HASHES_VERSION = "1.0"


def _recipe() -> dict[str, Any]:
    """Everything that decides the hash, recorded in every annotation's parameters (no floats)."""
    return {
        "algorithm": "PDQ 256-bit (Meta ThreatExchange reference algorithm, reimplemented in numpy)",
        "reference": "pdqhash 0.2.8 (Meta's C++): identical on the same luma, within 10 bits after decoding",
        "luma": "0.299 R + 0.587 G + 0.114 B (JPEG: the decoder's Y channel, same weights)",
        "decoder": f"Pillow {PIL.__version__}, libjpeg-turbo {PIL.features.version('libjpeg_turbo')}",
        "jpeg_draft_min_side": pdq.DRAFT_MIN_SIDE,
        "jpeg_draft": "libjpeg DCT-domain 1/2, 1/4 or 1/8 scale, smallest keeping both sides >= min side; "
        "filter weights of the full-size image summed per draft pixel",
        "jpeg_shared_draft": "a JPEG of 1280 px or more: the draft every detector shares (RGB, smallest "
        f"DCT scale keeping the longer side >= {REDUCED_LONGEST}; luma by the weights above) when both its "
        "sides are >= min side (decoder jpeg-draft-rgb); otherwise a luma draft of PDQ's own",
        "jpeg_draft_kept_when": "a half-resolution view of the draft hashes within "
        f"{pdq.DRAFT_AGREEMENT_BITS} bits and at most {pdq.DRAFT_FRAGILE_BITS} coefficients lie within "
        f"{pdq.DRAFT_MIN_MARGIN} median absolute deviations of the median; otherwise the full-size luma",
        "other_formats": "full Pillow decode, first frame, alpha dropped",
        "exif_orientation": "not applied (the stored pixels are hashed; the eight dihedral variants cover "
        "every EXIF orientation)",
        "min_quality": pdq.MIN_QUALITY,
        "dihedral": list(pdq.ORIENTATIONS),
        "numpy": np.__version__,
    }


class PdqDetector:
    """PDQ hash, quality and all eight dihedral variants of an image; then bank and cross-case lookups."""

    def __init__(self) -> None:
        self.info = DetectorInfo(
            name="pdq",
            version=PDQ_VERSION,
            media_types=frozenset({"image"}),
            parameters=_recipe(),
            model_card="docs/detectors/pdq.md",
            licence="AGPL-3.0-or-later (algorithm: Meta's PDQ, BSD)",
            validation=(
                "Within 8 bits of Meta's reference (pdqhash 0.2.8) on the full decode on all 20 "
                "ThreatExchange conformance images and on generated photographs, textures and "
                "checkerboards (Meta accepts 10); identical on identical luma. "
                "Matching error rates: see docs/detectors/pdq.md."
            ),
        )

    def load(self) -> None:
        """Once per worker process: the DCT matrix, and the match indexes built from the database."""
        from django.db import DatabaseError

        from detection.matching import live_index

        pdq.pdq_from_luma(np.zeros((64, 64), dtype=np.float32))
        try:
            live_index("banks").sync()
            live_index("items").sync()
        except DatabaseError:  # no database yet (e.g. before migrations): the first lookup builds them
            pass

    def analyze(self, subject: Subject) -> list[Finding]:
        result, decoder, scale, check = self._hash(subject)
        common: dict[str, Any] = {
            "quality": result.quality,
            "decoder": decoder,
            "scale": scale,
            "size": list(result.decoded_size),
        }
        if check is not None:
            common["draft_check"] = {
                "coarser_bits": check.coarser_bits,
                "fragile_bits": check.fragile_bits,
                "kept": check.reliable,
            }
        if result.quality < pdq.MIN_QUALITY:
            return [Finding(label="pdq_low_quality", category="perceptual_hash", details=common)]
        return [
            Finding(
                label="pdq",
                category="perceptual_hash",
                details={"hash": result.hash, "dihedral": result.dihedral, **common},
            )
        ]

    def _hash(self, subject: Subject) -> tuple[pdq.PdqResult, str, int, pdq.DraftCheck | None]:
        if subject._data is None and subject._opener is None and "pixels" in subject.__dict__:
            # Pixels handed over by a caller (a video frame): nothing to decode.
            return pdq.pdq_from_rgb(subject.pixels), "pixels", 1, None
        data = subject.read()
        try:
            with Image.open(io.BytesIO(data)) as probe:  # the header only
                is_jpeg = probe.format == "JPEG" and probe.mode in {"L", "RGB"}
            if not is_jpeg:
                # Same decode as every image detector shares (Subject.pixels): decoded once per subject.
                return pdq.pdq_from_rgb(subject.pixels), "pillow-rgb", 1, None
            try:
                shared: Reduced | None = subject.reduced
            except NotAnalysedTooManyPixels:  # PDQ's own draft may still be coarse enough to fit
                shared = None
            if shared is not None and shared.scale > 1 and min(shared.rgb.shape[:2]) >= pdq.DRAFT_MIN_SIDE:
                # The subject's shared reduced decode (NudeNet's and OCR's too): no draft of PDQ's own.
                luma = pdq.luma_from_rgb(shared.rgb)
                decoded = pdq.DecodedLuma(luma, shared.scale, shared.stored_size, "jpeg-draft-rgb")
                hashed = pdq.pdq_of_draft(decoded, lambda: pdq.full_luma(data))
            else:
                hashed = pdq.pdq_of_file(data)
        except DECODE_ERRORS as exc:
            raise undecodable(exc, subject.mime) from exc
        return hashed.result, hashed.decoder, hashed.scale, hashed.draft_check

    def after_store(self, *, run: DetectionRun, annotations: list[Annotation]) -> None:
        from detection.matching import pdq_lookup

        for annotation in annotations:
            if annotation.label == "pdq":
                pdq_lookup(item=run.item, annotation=annotation)


class FileHashesDetector:
    """MD5, SHA-1 and SHA-256 of an item (as taken at ingest); then bank and cross-case lookups."""

    def __init__(self) -> None:
        self.info = DetectorInfo(
            name="file-hashes",
            version=FILE_HASHES_VERSION,
            media_types=frozenset({"image", "video", "audio", "other"}),
            parameters={
                "digests": ["md5", "sha1", "sha256"],
                "source": "the blob's digests from the vault's one-pass hasher at ingest (SHA-256 re-checked "
                "on every read); computed with hashlib for subjects given as bytes",
            },
            model_card="docs/detectors/pdq.md",
            licence="AGPL-3.0-or-later",
            validation="exact digests; a match means identical bytes (MD5 and SHA-1 collisions can be made "
            "on purpose: SHA-256 is the one to rely on)",
        )

    def load(self) -> None:
        pass

    def analyze(self, subject: Subject) -> list[Finding]:
        from evidence.models import Blob

        if subject.item_id is not None:
            blob = Blob.objects.filter(sha256=subject.sha256).values("md5", "sha1", "sha256").first()
            if blob is not None:
                return [Finding(label="file_hashes", category="file_hash", details=dict(blob))]
        data = subject.read()
        found = {
            "md5": hashlib.md5(data, usedforsecurity=False).hexdigest(),
            "sha1": hashlib.sha1(data, usedforsecurity=False).hexdigest(),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        return [Finding(label="file_hashes", category="file_hash", details=found)]

    def after_store(self, *, run: DetectionRun, annotations: list[Annotation]) -> None:
        from detection.matching import digest_lookup

        if annotations:
            digest_lookup(item=run.item)
