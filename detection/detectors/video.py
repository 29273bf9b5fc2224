"""Video detectors: metadata and stored frames, image detectors over sampled frames, frame PDQ with MD5.

- ``video`` records the container's metadata (duration, codec, frame rate, size) and stores every sampled
  frame as a hashed FRAME derivative, in the run's transaction.
- ``video:<name>`` adapts an image detector that declares ``frame_capable = True`` to video: it runs the
  detector on each sampled frame (findings carry the frame's time) and adds one aggregate per label (max
  score, first and last time seen, how many frames). One adapter per image detector keeps provenance exact:
  the adapter's version is the image detector's version plus the sampling, its model SHA-256 is the image
  detector's.
- ``video_pdq`` hashes each sampled frame with PDQ (vPDQ-style; quality < 50 → no hash) and records the
  file's MD5, which is what StopNCII exchanges for videos.

Model cards: docs/detectors/video.md, docs/detectors/video_pdq.md.
"""

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from importlib.metadata import version as package_version
from typing import Any

import numpy as np
from django.conf import settings

from detection.registry import Detector, DetectorInfo, Finding
from detection.subject import Subject
from detection.video import (
    Frame,
    FrameRef,
    Sampling,
    VideoSample,
    frame_png,
    frame_subject,
    frames_store,
    video_scan,
)

VIDEO_VERSION = "1"
ADAPTER_VERSION = "1"
VIDEO_PDQ_VERSION = "1"
PDQ_MIN_QUALITY = 50
VERSION_MAX = 64  # detection.models.Detector.version
_FFMPEG_LICENCE = "FFmpeg LGPL-2.1-or-later via PyAV (BSD-3-Clause)"


def is_frame_capable(detector: Detector) -> bool:
    """An image detector that says its findings on a single video frame mean what they mean on a photo."""
    return bool(getattr(detector, "frame_capable", False)) and "image" in detector.info.media_types


def _frame_details(ref: FrameRef) -> dict[str, Any]:
    return {
        "scope": "frame",
        "frame_index": ref.index,
        "position_ms": ref.position_ms,
        "keyframe": ref.keyframe,
        "frame_width": ref.width,
        "frame_height": ref.height,
    }


class VideoDetector:
    """Metadata of a video and its sampled frames, stored as FRAME derivatives."""

    frame_capable = False

    def __init__(self, sampling: Sampling | None = None) -> None:
        self.sampling = sampling or Sampling.from_settings()
        self.info = DetectorInfo(
            name="video",
            version=f"{VIDEO_VERSION}+{self.sampling.tag}",
            media_types=frozenset({"video"}),
            parameters={**self.sampling.parameters(), "frame_format": "png"},
            model_card="docs/detectors/video.md",
            licence=_FFMPEG_LICENCE,
            validation="not a classifier: metadata as the container declares it, frames as FFmpeg decodes",
        )
        # What analyze leaves for after_store (same call of detection_run), by input: the sampled frames'
        # places, and their PNGs when they fitted in HAETAE_VIDEO_FRAME_BUFFER_BYTES (else None: re-decode).
        self._pending: dict[str, tuple[list[FrameRef], list[tuple[FrameRef, bytes]] | None]] = {}

    def load(self) -> None:
        """Nothing to load: decoding needs no model."""

    def analyze(self, subject: Subject) -> list[Finding]:
        budget = int(settings.HAETAE_VIDEO["FRAME_BUFFER_BYTES"])
        encoded: list[tuple[FrameRef, bytes]] | None = []
        used = 0

        def keep(frame: Frame) -> None:
            nonlocal encoded, used
            if encoded is None:
                return
            png = frame_png(frame)
            used += len(png)
            if used > budget:  # a long or large video: let go, store while re-decoding in after_store
                encoded = None
                return
            encoded.append((frame.ref, png))

        sample = video_scan(subject, keep, self.sampling)
        while len(self._pending) >= 4:  # left behind by runs whose transaction failed
            self._pending.pop(next(iter(self._pending)))
        self._pending[subject.sha256] = (sample.frames, encoded)
        return [
            Finding(
                label="video_metadata",
                category="metadata",
                time_start_ms=0,
                time_end_ms=sample.info.duration_ms,
                details={**sample.info.details(), "sampling": sample.summary()},
            )
        ]

    def after_store(self, *, run: Any, annotations: list[Any]) -> None:
        """Store the frames this run sampled, in the run's transaction (a failure stores none)."""
        pending = self._pending.pop(run.input_sha256, None)
        if pending is None:
            raise RuntimeError(f"frames of run {run.pk} were not kept by analyze (a different process?)")
        expected, encoded = pending
        if encoded is not None:
            frames_store(item=run.item, frames=encoded)
            return
        stored: list[FrameRef] = []

        def store(frame: Frame) -> None:
            frames_store(item=run.item, frames=[(frame.ref, frame_png(frame))])
            stored.append(frame.ref)

        # Decoding is deterministic (one thread, same decoder): the same frames come out; checked below.
        video_scan(Subject.for_item(run.item), store, self.sampling)
        if stored != expected:
            raise RuntimeError(
                f"re-decoding item {run.item_id} gave other frames than the analysis; not stored"
            )


def aggregate(findings: list[Finding], sample: VideoSample) -> list[Finding]:
    """One finding per (label, category) over the whole video: max score, first/last seen, frame count."""
    groups: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for finding in findings:
        groups[(finding.label, finding.category)].append(finding)
    summary = []
    for (label, category), group in sorted(groups.items()):
        times = [f.time_start_ms for f in group if f.time_start_ms is not None]
        scores = [f.score for f in group if f.score is not None]
        frames = {f.details["frame_index"] for f in group}
        details: dict[str, Any] = {
            "scope": "video",
            "frames": len(frames),
            "detections": len(group),
            "frames_sampled": len(sample.frames),
            "interval_ms": sample.interval_ms,
            "first_seen_ms": min(times),
            "last_seen_ms": max(times),
            "max_score": max(scores) if scores else None,
        }
        above = {f.details["frame_index"] for f in group if f.details.get("above_threshold") is True}
        if any("above_threshold" in f.details for f in group):
            details["frames_above_threshold"] = len(above)
        summary.append(
            Finding(
                label=label,
                category=category,
                score=details["max_score"],
                time_start_ms=details["first_seen_ms"],
                time_end_ms=details["last_seen_ms"],
                details=details,
            )
        )
    return summary


class VideoFrameAdapter:
    """Runs one frame-capable image detector over a video's sampled frames; aggregates per label."""

    frame_capable = False

    def __init__(self, inner: Detector, sampling: Sampling | None = None) -> None:
        self.inner = inner
        self.sampling = sampling or Sampling.from_settings()
        image = inner.info
        suffix = f"+video{ADAPTER_VERSION}.{self.sampling.tag}"
        version = image.version + suffix
        if len(version) > VERSION_MAX:  # the Detector row's limit: shorten the image part, keep it unique
            digest = hashlib.sha256(image.version.encode()).hexdigest()[:8]
            version = f"{image.version[: VERSION_MAX - len(suffix) - 9]}~{digest}{suffix}"
        self.info = DetectorInfo(
            name=f"video:{image.name}",
            version=version,
            media_types=frozenset({"video"}),
            parameters={
                **self.sampling.parameters(),
                "frame_detector": image.name,
                "frame_detector_version": image.version,
                "frame_detector_parameters": image.parameters,
            },
            model_sha256=image.model_sha256,
            model_card=image.model_card,
            licence=image.licence,
            validation=f"per frame as for {image.name}: {image.validation}; "
            "frame sampling adds no error of its own but can miss content between samples",
        )

    def load(self) -> None:
        self.inner.load()

    def analyze(self, subject: Subject) -> list[Finding]:
        per_frame: list[Finding] = []

        def run_on(frame: Frame) -> None:
            where = _frame_details(frame.ref)
            for found in self.inner.analyze(frame_subject(subject, frame)):
                per_frame.append(
                    Finding(
                        label=found.label,
                        category=found.category,
                        score=found.score,
                        region=found.region,
                        time_start_ms=frame.ref.position_ms,
                        time_end_ms=frame.ref.position_ms,
                        details={**found.details, **where},
                    )
                )

        sample = video_scan(subject, run_on, self.sampling)
        return per_frame + aggregate(per_frame, sample)


def frame_adapters(found: Mapping[str, Detector]) -> Iterable[Detector]:
    """A ``video:<name>`` adapter for every registered frame-capable image detector."""
    sampling = Sampling.from_settings()
    for name, detector in sorted(found.items()):
        if is_frame_capable(detector) and not name.startswith("video"):
            yield VideoFrameAdapter(detector, sampling)


def pdq_hex(bits: np.ndarray) -> str:
    """PDQ's 256 bits as the 64 hex digits ThreatExchange and StopNCII use (first bit most significant)."""
    packed = np.packbits(np.asarray(bits, dtype=np.uint8))
    return packed.tobytes().hex()


class VideoPdqDetector:
    """PDQ of each sampled frame, with its time (vPDQ-style), and the file's MD5."""

    frame_capable = False

    def __init__(self, sampling: Sampling | None = None) -> None:
        self.sampling = sampling or Sampling.from_settings()
        self.info = DetectorInfo(
            name="video_pdq",
            version=f"{VIDEO_PDQ_VERSION}+{self.sampling.tag}",
            media_types=frozenset({"video"}),
            parameters={
                **self.sampling.parameters(),
                "hash": f"PDQ, pdqhash {package_version('pdqhash')} (Meta's C++ reference)",
                "input": "whole upright RGB frame, no resize (pdqhash downsamples itself)",
                "min_quality": PDQ_MIN_QUALITY,
                "file_hash": "MD5 of the whole file",
            },
            model_card="docs/detectors/video_pdq.md",
            licence="pdqhash BSD-3-Clause; " + _FFMPEG_LICENCE,
            validation="PDQ as Meta's reference implementation; frame choice differs from Meta's vPDQ tool",
        )
        self._pdq: Any = None

    def load(self) -> None:
        import pdqhash

        self._pdq = pdqhash

    def analyze(self, subject: Subject) -> list[Finding]:
        if self._pdq is None:
            self.load()
        md5 = hashlib.md5(usedforsecurity=False)
        for chunk in subject.chunks():  # verified: the SHA-256 of the whole is checked at the end
            md5.update(chunk)
        hashed: list[Finding] = []
        low_quality: list[int] = []

        def hash_frame(frame: Frame) -> None:
            bits, quality = self._pdq.compute(np.ascontiguousarray(frame.rgb))
            if quality < PDQ_MIN_QUALITY:
                low_quality.append(frame.ref.position_ms)
                return
            hashed.append(
                Finding(
                    label="pdq",
                    category="perceptual_hash",
                    time_start_ms=frame.ref.position_ms,
                    time_end_ms=frame.ref.position_ms,
                    details={"hash": pdq_hex(bits), "quality": int(quality), **_frame_details(frame.ref)},
                )
            )

        sample = video_scan(subject, hash_frame, self.sampling)
        summary = Finding(
            label="md5",
            category="file_hash",
            time_start_ms=0,
            time_end_ms=sample.info.duration_ms,
            details={
                "md5": md5.hexdigest(),
                "scope": "video",
                "frames_sampled": len(sample.frames),
                "frames_hashed": len(hashed),
                "frames_below_quality": len(low_quality),
                "below_quality_positions_ms": low_quality,
                "interval_ms": sample.interval_ms,
            },
        )
        return [*hashed, summary]
