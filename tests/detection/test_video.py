"""detection.video: decoding from the vault, sampling (1 fps, keyframes, max frames), damage, frames."""

import io
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from detection.subject import Subject, UndecodableMedia
from detection.video import Frame, Sampling, VideoSample, frame_recipe, frames_store, video_scan
from evidence.choices import CustodyAction, DerivativeKind
from evidence.derivatives import derivative_read
from evidence.models import CustodyEvent, Derivative
from tests.factories import CaseFactory, UserFactory, make_video, photos, stored_item

SIZE = (160, 128)


def _scan(data: bytes, sampling: Sampling | None = None) -> tuple[list[Frame], VideoSample]:
    frames: list[Frame] = []
    sample = video_scan(Subject.from_bytes(data, mime="video/mp4"), frames.append, sampling or Sampling())
    return frames, sample


def _nearest_photo(rgb: np.ndarray) -> int:
    """Which of the source photos a decoded frame shows (smallest mean absolute difference)."""
    h, w = rgb.shape[:2]
    diffs = [
        np.abs(np.asarray(Image.fromarray(p).resize((w, h)), dtype=np.int16) - rgb.astype(np.int16)).mean()
        for p in photos()
    ]
    return int(np.argmin(diffs))


def test_one_frame_per_second_with_metadata():
    frames, sample = _scan(make_video(seconds=3, fps=10))
    assert [f.ref.position_ms for f in frames] == [0, 1000, 2000]
    assert [_nearest_photo(f.rgb) for f in frames] == [0, 1, 2]  # astronaut, coffee, cat: the right pictures
    assert all(f.rgb.shape == (128, 160, 3) and f.rgb.dtype == np.uint8 for f in frames)
    details = sample.info.details()
    assert details["codec"] == "h264" and details["duration_ms"] == 3000
    assert (details["width"], details["height"], details["frame_rate"], details["fps_milli"]) == (
        160,
        128,
        "10/1",
        10000,
    )
    assert details["frame_count"] == 30 and details["audio_codecs"] == []
    assert sample.decoded_frames == 30 and sample.interval_ms == 1000


def test_keyframes_only_mode_decodes_only_keyframes():
    frames, sample = _scan(make_video(seconds=5, fps=10, gop_seconds=2), Sampling(keyframes_only=True))
    assert [f.ref.position_ms for f in frames] == [0, 2000, 4000]
    assert all(f.ref.keyframe for f in frames)
    assert sample.decoded_frames == 3  # the decoder skipped every other frame
    assert sample.summary()["mode"] == "keyframes only"


def test_a_long_video_is_sampled_wider_to_stay_within_max_frames():
    frames, sample = _scan(make_video(seconds=3, fps=10), Sampling(max_frames=2))
    assert sample.interval_ms == 1500
    assert [f.ref.position_ms for f in frames] == [0, 1500]
    assert sample.summary()["requested_interval_ms"] == 1000


def test_mpeg4_part2_decodes_too():
    frames, sample = _scan(make_video(seconds=2, fps=5, codec="mpeg4"))
    assert sample.info.codec == "mpeg4"
    assert [_nearest_photo(f.rgb) for f in frames] == [0, 1]


@pytest.mark.parametrize(
    ("codec", "container_format", "decoder", "keyframes"),
    [
        ("libvpx-vp9", "webm", "vp9", [0, 2000]),
        ("mjpeg", "matroska", "mjpeg", [0, 1000, 2000]),  # every frame a keyframe: still one per second
    ],
)
def test_other_containers_and_codecs(codec, container_format, decoder, keyframes):
    data = make_video(seconds=3, fps=5, codec=codec, container_format=container_format)
    frames, sample = _scan(data)
    assert sample.info.codec == decoder and sample.info.duration_ms == 3000
    assert [_nearest_photo(f.rgb) for f in frames] == [0, 1, 2]
    frames, _ = _scan(data, Sampling(keyframes_only=True))
    assert [f.ref.position_ms for f in frames] == keyframes


def test_display_rotation_is_applied_like_a_player():
    frames, sample = _scan(make_video(seconds=1, fps=5, rotation=90))
    assert sample.info.rotation == 90
    details = sample.info.details()
    assert (details["width"], details["display_width"], details["display_height"]) == (160, 128, 160)
    (frame,) = frames
    assert frame.rgb.shape == (160, 128, 3)  # portrait: turned upright
    expected = np.rot90(np.asarray(Image.fromarray(photos()[0]).resize(SIZE)), k=1)
    assert np.abs(expected.astype(np.int16) - frame.rgb.astype(np.int16)).mean() < 20
    wrong_way = np.rot90(np.asarray(Image.fromarray(photos()[0]).resize(SIZE)), k=-1)
    assert np.abs(wrong_way.astype(np.int16) - frame.rgb.astype(np.int16)).mean() > 30


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda v: v[: len(v) // 2], "container cannot be opened"),  # moov atom at the end is lost
        (lambda v: v[:100], "container cannot be opened"),
        (lambda v: b"\x89PNG\r\n\x1a\n" + b"\x00" * 400, "still image"),
        (lambda v: _png(photos()[0]), "still image"),
        (lambda v: b"", "container cannot be opened"),
    ],
)
def test_damaged_files_fail_with_a_clear_message(damage, message):
    with pytest.raises(UndecodableMedia, match=message):
        _scan(damage(make_video()))


def _faststart_video(tmp_path: Path) -> bytes:
    """An MP4 with its index first (as streamed files are): a cut leaves a readable but short file."""
    target = tmp_path / "faststart.mp4"
    with av.open(str(target), mode="w", format="mp4", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height = SIZE
        stream.pix_fmt = "yuv420p"
        stream.options = {"g": "20", "preset": "ultrafast"}
        for i in range(60):
            picture = np.asarray(Image.fromarray(photos()[(i // 10) % 3]).resize(SIZE))
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return target.read_bytes()


def test_a_file_cut_mid_packet_fails_naming_where(tmp_path):
    data = _faststart_video(tmp_path)
    with pytest.raises(UndecodableMedia, match=r"decoding failed after \d+\.\d+ s"):
        _scan(data[: len(data) // 2])


def test_a_file_cut_between_packets_fails_as_truncated(tmp_path):
    data = _faststart_video(tmp_path)
    with av.open(io.BytesIO(data)) as container:
        positions = [
            p.pos for p in container.demux(container.streams.video[0]) if p.pos is not None and p.size
        ]
    cut = sorted(positions)[25]  # everything after 2.5 s of 6 s is missing
    expected = r"stream ends at 2\.500 s but the container declares 6\.000 s \(the file is truncated\)"
    with pytest.raises(UndecodableMedia, match=expected):
        _scan(data[:cut])
    with pytest.raises(UndecodableMedia, match=expected):  # the fast mode notices too
        _scan(data[:cut], Sampling(keyframes_only=True))
    frames, _ = _scan(data, Sampling(keyframes_only=True))  # while the whole file is fine in both modes
    assert [f.ref.position_ms for f in frames] == [0, 2000, 4000]


def test_middle_corruption_fails():
    data = bytearray(make_video(seconds=3))
    for i in range(len(data) // 3, len(data) // 3 + 4000):
        data[i] = 0
    with pytest.raises(UndecodableMedia, match="cannot decode as a video"):
        _scan(bytes(data))


@pytest.mark.django_db
def test_decodes_from_the_vault_and_stores_frames_once(data_dir):
    user = UserFactory()
    item = stored_item(case=CaseFactory(), data=make_video(), actor=user, name="clip.mp4", mime="video/mp4")
    subject = Subject.for_item(item)
    encoded = []
    sample = video_scan(subject, lambda f: encoded.append((f.ref, _png(f.rgb))), Sampling())
    assert len(sample.frames) == 3

    stored = frames_store(item=item, frames=encoded)
    assert [d.position_ms for d in stored] == [0, 1000, 2000]
    assert all(d.kind == DerivativeKind.FRAME and (d.width, d.height) == SIZE for d in stored)
    for derivative, (ref, _) in zip(stored, encoded, strict=True):
        assert derivative.recipe == frame_recipe(ref)
        pixels = np.asarray(Image.open(io.BytesIO(derivative_read(derivative))))
        assert _nearest_photo(pixels) == ref.index  # lossless PNG of the decoded frame
    events = CustodyEvent.objects.filter(item=item, action=CustodyAction.DERIVED)
    assert sorted(e.details["position_ms"] for e in events) == [0, 1000, 2000]

    frames_store(item=item, frames=encoded)  # same recipe: made once
    assert Derivative.objects.filter(source_id=item.blob_id).count() == 3
    assert CustodyEvent.objects.filter(item=item, action=CustodyAction.DERIVED).count() == 3


def _png(rgb: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="PNG")
    return out.getvalue()


def test_recipes_hold_only_ints_and_strings():
    frames, _ = _scan(make_video(seconds=1, fps=5))
    recipe = frame_recipe(frames[0].ref)
    assert all(isinstance(v, int | str) and not isinstance(v, bool) for v in recipe.values())
    assert all(isinstance(v, int | str) for v in Sampling().parameters().values())


class CountingSubject(Subject):
    opened = 0

    def open(self):
        type(self).opened += 1
        return super().open()


def test_a_shared_subject_is_decoded_once_when_its_frames_fit(settings):
    CountingSubject.opened = 0  # the count is the class's: another test may have opened one before
    subject = CountingSubject.from_bytes(make_video(seconds=3), mime="video/mp4")
    first: list[Frame] = []
    second: list[Frame] = []
    one = video_scan(subject, first.append, Sampling())
    two = video_scan(subject, second.append, Sampling())
    assert CountingSubject.opened == 1 and one is two
    assert [f.ref for f in first] == [f.ref for f in second]
    with pytest.raises(ValueError, match="read-only"):
        second[0].rgb[0, 0, 0] = 1  # one detector cannot change what the next one sees

    settings.HAETAE_VIDEO = {**settings.HAETAE_VIDEO, "SHARE_BYTES": 100}
    CountingSubject.opened = 0
    subject = CountingSubject.from_bytes(make_video(seconds=3), mime="video/mp4")
    video_scan(subject, lambda f: None, Sampling())
    video_scan(subject, lambda f: None, Sampling())
    assert CountingSubject.opened == 2  # too big to keep: decoded again


def test_a_decoding_failure_is_shared_too():
    data = make_video()
    subject = CountingSubject.from_bytes(data[: len(data) // 2], mime="video/mp4")
    CountingSubject.opened = 0
    for _ in range(2):
        with pytest.raises(UndecodableMedia, match="container cannot be opened"):
            video_scan(subject, lambda f: None, Sampling())
    assert CountingSubject.opened == 1
