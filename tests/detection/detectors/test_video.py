"""Video detectors through detection_run: metadata and frames, image detectors per frame, frame PDQ, MD5."""

import hashlib

import numpy as np
import pdqhash
import pytest
from PIL import Image

from detection import registry
from detection.detectors.video import (
    VideoDetector,
    VideoFrameAdapter,
    VideoPdqDetector,
    frame_adapters,
    is_frame_capable,
    pdq_hex,
)
from detection.models import Annotation
from detection.models.runs import RunStatus
from detection.registry import DetectorInfo, Finding
from detection.services import detection_run
from detection.subject import Subject
from detection.video import Sampling, frame_png, video_scan
from evidence.choices import CustodyAction, DerivativeKind
from evidence.models import CustodyEvent, Derivative
from tests.factories import CaseFactory, UserFactory, make_video, photos, stored_item

pytestmark = pytest.mark.django_db


class WarmColourDetector:
    """A real (small) image detector for adapter tests: flags pictures much redder than blue."""

    frame_capable = True

    def __init__(self, bound: int = 80) -> None:
        self.info = DetectorInfo(
            name="test-warm",
            version="3",
            media_types=frozenset({"image"}),
            parameters={"bound": bound},
            model_sha256="ab" * 32,
        )
        self.bound = bound

    def load(self) -> None:
        pass

    def analyze(self, subject: Subject) -> list[Finding]:
        rgb = subject.pixels.astype(np.int32)
        warmth = int(rgb[..., 0].mean() - rgb[..., 2].mean())
        if warmth <= self.bound:
            return []
        h, w = rgb.shape[:2]
        return [
            Finding(
                label="warm",
                category="test",
                score=warmth / 255,
                region={"x": 0, "y": 0, "w": w, "h": h},
                details={"warmth": warmth},
            )
        ]


def _video_item(data: bytes | None = None):
    user = UserFactory()
    data = data if data is not None else make_video(seconds=5, fps=10)
    return stored_item(case=CaseFactory(), data=data, actor=user, name="clip.mp4", mime="video/mp4")


def test_video_detector_records_metadata_and_stores_frames():
    item = _video_item(make_video(seconds=3, fps=10))
    detector = VideoDetector(Sampling())
    run = detection_run(item=item, detector=detector)
    assert run.status == RunStatus.DONE, run.error

    (meta,) = Annotation.objects.filter(item=item)
    assert meta.label == "video_metadata" and meta.detector_name == "video"
    assert meta.detector_version == "1+all-1000ms-300f"
    assert (meta.time_start_ms, meta.time_end_ms) == (0, 3000)
    d = meta.details
    assert (d["codec"], d["width"], d["height"], d["duration_ms"], d["fps_milli"]) == (
        "h264",
        160,
        128,
        3000,
        10000,
    )
    assert d["sampling"]["positions_ms"] == [0, 1000, 2000]
    assert meta.parameters["decoder"].startswith("PyAV ")

    frames = Derivative.objects.filter(source_id=item.blob_id, kind=DerivativeKind.FRAME).order_by(
        "position_ms"
    )
    assert [f.position_ms for f in frames] == [0, 1000, 2000]
    derived = CustodyEvent.objects.filter(item=item, action=CustodyAction.DERIVED)
    assert derived.count() == 3
    assert CustodyEvent.objects.filter(item=item, action=CustodyAction.ANALYSED).count() == 1

    detection_run(item=item, detector=detector)  # finished: nothing decoded or stored again
    assert Derivative.objects.filter(source_id=item.blob_id).count() == 3


def test_frames_over_the_buffer_are_stored_by_decoding_again(settings):
    settings.HAETAE_VIDEO = {**settings.HAETAE_VIDEO, "FRAME_BUFFER_BYTES": 1000}  # smaller than one PNG
    data = make_video(seconds=3, fps=10)
    item = _video_item(data)
    run = detection_run(item=item, detector=VideoDetector(Sampling()))
    assert run.status == RunStatus.DONE, run.error
    frames = Derivative.objects.filter(source_id=item.blob_id).order_by("position_ms")
    assert [f.position_ms for f in frames] == [0, 1000, 2000]
    expected: list[str] = []
    video_scan(
        Subject.from_bytes(data, mime="video/mp4"),
        lambda f: expected.append(hashlib.sha256(frame_png(f)).hexdigest()),
        Sampling(),
    )
    assert [f.blob_id for f in frames] == expected  # the very bytes the first path would have stored


def test_keyframe_mode_is_its_own_version():
    item = _video_item(make_video(seconds=5, fps=10, gop_seconds=2))
    run = detection_run(item=item, detector=VideoDetector(Sampling(keyframes_only=True)))
    meta = Annotation.objects.get(run=run)
    assert meta.detector_version == "1+kf-1000ms-300f"
    assert meta.details["sampling"]["positions_ms"] == [0, 2000, 4000]
    assert meta.details["sampling"]["frames_decoded"] == 3


def test_truncated_video_fails_and_stores_nothing():
    data = make_video(seconds=3)
    item = _video_item(data[: len(data) * 2 // 3])
    run = detection_run(item=item, detector=VideoDetector(Sampling()))
    assert run.status == RunStatus.FAILED
    assert "cannot decode as a video" in run.error and "damaged" in run.error
    assert not Annotation.objects.filter(item=item).exists()
    assert not Derivative.objects.filter(source_id=item.blob_id).exists()
    assert not CustodyEvent.objects.filter(item=item, action=CustodyAction.DERIVED).exists()


def test_frames_roll_back_with_the_run(monkeypatch):
    """A failure after frames are written in the run's transaction leaves neither frames nor events."""
    item = _video_item(make_video(seconds=2, fps=5))
    detector = VideoDetector(Sampling())
    import detection.services as services

    def failing_append(*args, **kwargs):
        raise RuntimeError("ledger unavailable")

    monkeypatch.setattr(services, "custody_append_many", failing_append)
    with pytest.raises(RuntimeError, match="ledger unavailable"):
        detection_run(item=item, detector=detector)
    assert not Derivative.objects.filter(source_id=item.blob_id).exists()
    assert not Annotation.objects.filter(item=item).exists()


def test_adapter_runs_an_image_detector_on_each_frame_and_aggregates():
    item = _video_item(make_video(seconds=5, fps=10))  # astronaut, coffee, cat, astronaut, coffee
    inner = WarmColourDetector()
    adapter = VideoFrameAdapter(inner, Sampling())
    assert adapter.info.name == "video:test-warm"
    assert adapter.info.version == "3+video1.all-1000ms-300f"
    assert adapter.info.model_sha256 == "ab" * 32 and adapter.info.media_types == {"video"}
    run = detection_run(item=item, detector=adapter)
    assert run.status == RunStatus.DONE, run.error

    per_frame = Annotation.objects.filter(item=item, details__scope="frame").order_by("time_start_ms")
    assert [a.time_start_ms for a in per_frame] == [1000, 4000]  # the coffee seconds only
    assert all(
        a.time_end_ms == a.time_start_ms and a.region is not None and a.region["w"] == 160 for a in per_frame
    )
    assert per_frame[0].details["frame_index"] == 1 and per_frame[0].details["warmth"] > 80

    (summary,) = Annotation.objects.filter(item=item, details__scope="video")
    assert (summary.label, summary.time_start_ms, summary.time_end_ms) == ("warm", 1000, 4000)
    assert summary.details["frames"] == 2 and summary.details["frames_sampled"] == 5
    assert summary.score == pytest.approx(max(a.score or 0.0 for a in per_frame))
    assert summary.parameters["frame_detector"] == "test-warm"
    assert summary.model_sha256 == "ab" * 32


def test_adapter_versions_fit_the_detector_table():
    inner = WarmColourDetector()
    inner.info = DetectorInfo(
        name="test-warm", version="2024.11.25-" + "x" * 60, media_types=frozenset({"image"})
    )
    other = WarmColourDetector()
    other.info = DetectorInfo(
        name="test-warm", version="2024.11.25-" + "x" * 59 + "y", media_types=frozenset({"image"})
    )
    sampling = Sampling(interval_ms=100_000, keyframes_only=True, max_frames=10_000)
    first, second = (
        VideoFrameAdapter(inner, sampling).info.version,
        VideoFrameAdapter(other, sampling).info.version,
    )
    assert len(first) <= 64 and len(second) <= 64 and first != second
    assert first.startswith("2024.11.25-x") and first.endswith("+video1.kf-100000ms-10000f")


def test_adapter_on_a_video_with_no_findings_stores_none():
    frames = [photos()[0], photos()[2]]  # astronaut and cat: neither is warm enough
    item = _video_item(make_video(seconds=2, fps=5, frames=frames))
    run = detection_run(item=item, detector=VideoFrameAdapter(WarmColourDetector(), Sampling()))
    assert run.status == RunStatus.DONE
    assert not Annotation.objects.filter(item=item).exists()


def test_registry_wraps_frame_capable_detectors_only():
    class StillsOnly(WarmColourDetector):
        frame_capable = False

        def __init__(self) -> None:
            super().__init__()
            self.info = DetectorInfo(name="test-stills", version="1", media_types=frozenset({"image"}))

    registry.register_dynamic("test-video", lambda: [WarmColourDetector(), StillsOnly()])
    try:
        found = registry.detectors()
        assert "video:test-warm" in found and "video:test-stills" not in found
        assert isinstance(found["video:test-warm"], VideoFrameAdapter)
        assert found["video:test-warm"].inner is found["test-warm"]  # one model in memory, not two
        assert {"video", "video_pdq"} <= set(found)  # built-ins via entry points
    finally:
        registry._dynamic.pop("test-video")
        registry.reset()
    assert is_frame_capable(WarmColourDetector()) and not is_frame_capable(StillsOnly())
    assert list(frame_adapters({"video:x": VideoFrameAdapter(WarmColourDetector())})) == []


def test_video_pdq_hashes_each_frame_and_records_md5():
    data = make_video(seconds=3, fps=10, size=(320, 256))
    item = _video_item(data)
    run = detection_run(item=item, detector=VideoPdqDetector(Sampling()))
    assert run.status == RunStatus.DONE, run.error
    hashes = list(Annotation.objects.filter(item=item, label="pdq").order_by("time_start_ms"))
    assert [a.time_start_ms for a in hashes] == [0, 1000, 2000]
    for annotation, photo in zip(hashes, photos(), strict=True):
        reference_bits, _ = pdqhash.compute(np.asarray(Image.fromarray(photo).resize((320, 256))))
        bits = np.unpackbits(np.frombuffer(bytes.fromhex(annotation.details["hash"]), dtype=np.uint8))
        assert int(np.count_nonzero(bits != reference_bits)) <= 31  # same picture through H.264
        assert annotation.details["quality"] >= 50
    distinct = {a.details["hash"] for a in hashes}
    assert len(distinct) == 3
    (md5,) = Annotation.objects.filter(item=item, label="md5")
    assert md5.details["md5"] == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert md5.details["frames_hashed"] == 3 and md5.details["frames_below_quality"] == 0
    assert md5.parameters["min_quality"] == 50 and "pdqhash" in md5.parameters["hash"]


def test_video_pdq_gives_no_hash_for_flat_frames():
    flat = [np.full((64, 64, 3), 128, dtype=np.uint8)]
    item = _video_item(make_video(seconds=2, fps=5, frames=flat))
    detection_run(item=item, detector=VideoPdqDetector(Sampling()))
    assert not Annotation.objects.filter(item=item, label="pdq").exists()
    md5 = Annotation.objects.get(item=item, label="md5")
    assert md5.details["frames_below_quality"] == 2 and md5.details["below_quality_positions_ms"] == [0, 1000]


def test_pdq_hex_matches_the_reference_on_the_conformance_photo(pdq_testdata):
    rgb = np.asarray(Image.open(pdq_testdata / "bridge-1-original.jpg").convert("RGB"))
    bits, quality = pdqhash.compute(rgb)
    assert pdq_hex(bits) == "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
    assert quality == 100


def test_video_detectors_skip_images():
    user = UserFactory()
    from tests.factories import encode

    item = stored_item(
        case=CaseFactory(), data=encode(photos()[0], "PNG"), actor=user, name="a.png", mime="image/png"
    )
    assert detection_run(item=item, detector=VideoDetector(Sampling())).status == RunStatus.SKIPPED
