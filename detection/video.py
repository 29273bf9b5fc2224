"""Video decoding for detectors: metadata, frame sampling and frames stored as derivatives (PyAV).

A video is decoded straight from ``Subject.open()`` (authenticated chunks from the vault): plaintext never
touches the disk. Sampling takes the first frame at or after each multiple of ``interval_ms`` (one frame per
second by default), or in the fast mode decodes keyframes only and takes the first keyframe in each
interval. Frames are turned upright the way FFmpeg's player does (the container's display rotation is
applied), so detectors see what a person sees. A video longer than ``max_frames`` intervals is sampled at a
wider interval so that the whole of it is covered; the interval used is reported.

Damage is a failure, never a partial result: a decoder error, a frame the decoder had to conceal, or a
stream that ends well before its declared duration raises ``UndecodableMedia`` with where it happened.
"""

import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

import av
import numpy as np
import PIL
from django.conf import settings
from PIL import Image

from detection.subject import NotAnalysedTooManyPixels, Subject, UndecodableMedia
from evidence.imaging import TooManyPixels, max_image_pixels, pixels_check

# Bump when sampling or frame conversion changes what frames a detector sees.
SAMPLER_VERSION = "1"
# A stream whose packets end more than this before the container's declared duration is truncated.
TRUNCATION_SLACK_MS = 1000


def decoder_name() -> str:
    """The decoder, exactly: PyAV and the FFmpeg libavcodec/libavformat it links."""
    versions = av.library_versions
    codec = ".".join(str(n) for n in versions["libavcodec"])
    fmt = ".".join(str(n) for n in versions["libavformat"])
    return f"PyAV {av.__version__} (libavcodec {codec}, libavformat {fmt})"


@dataclass(frozen=True)
class Sampling:
    """Which frames to take: one per ``interval_ms``, or keyframes only, at most ``max_frames``."""

    interval_ms: int = 1000
    keyframes_only: bool = False
    max_frames: int = 300

    def __post_init__(self) -> None:
        if self.interval_ms < 1 or self.max_frames < 1:
            raise ValueError("interval_ms and max_frames must be positive")

    @classmethod
    def from_settings(cls) -> "Sampling":
        conf = settings.HAETAE_VIDEO
        return cls(
            interval_ms=int(conf["FRAME_INTERVAL_MS"]),
            keyframes_only=bool(conf["KEYFRAMES_ONLY"]),
            max_frames=int(conf["MAX_FRAMES"]),
        )

    @property
    def tag(self) -> str:
        """A short name for this sampling, part of each video detector's version: ``all-1000ms-300f``."""
        mode = "kf" if self.keyframes_only else "all"
        return f"{mode}-{self.interval_ms}ms-{self.max_frames}f"

    def parameters(self) -> dict[str, Any]:
        """JSON-exact parameters (ints and strings) for provenance."""
        return {
            "sampler": f"haetae.video {SAMPLER_VERSION}",
            "decoder": decoder_name(),
            "interval_ms": self.interval_ms,
            "mode": "keyframes only" if self.keyframes_only else "every frame decoded",
            "max_frames": self.max_frames,
            "orientation": "container display rotation applied (as FFmpeg shows it)",
        }


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about its first video stream."""

    container: str
    codec: str
    codec_long: str
    width: int
    height: int
    duration_ms: int | None
    frame_rate: str  # exact, e.g. "30000/1001"; "" when unknown
    frame_count: int | None
    bit_rate: int | None
    pixel_format: str
    rotation: int  # degrees counter-clockwise the player turns the picture
    audio_codecs: tuple[str, ...]
    metadata: dict[str, str] = field(default_factory=dict)  # container tags (creation_time, location …)
    stream_metadata: dict[str, str] = field(default_factory=dict)

    def details(self) -> dict[str, Any]:
        fps_milli = None
        if self.frame_rate:
            fps_milli = round(Fraction(self.frame_rate) * 1000)
        return {
            "container": self.container,
            "codec": self.codec,
            "codec_long": self.codec_long,
            "width": self.width,
            "height": self.height,
            "duration_ms": self.duration_ms,
            "frame_rate": self.frame_rate,
            "fps_milli": fps_milli,
            "frame_count": self.frame_count,
            "bit_rate": self.bit_rate,
            "pixel_format": self.pixel_format,
            "rotation": self.rotation,
            "display_width": self.height if self.rotation % 180 else self.width,
            "display_height": self.width if self.rotation % 180 else self.height,
            "audio_codecs": list(self.audio_codecs),
            "metadata": self.metadata,
            "stream_metadata": self.stream_metadata,
        }


@dataclass(frozen=True)
class FrameRef:
    """Where a sampled frame sits in the video (kept after its pixels are gone)."""

    index: int  # n-th sampled frame, from 0
    position_ms: int  # presentation time from the stream's start
    pts: int | None
    keyframe: bool
    width: int
    height: int
    rotation: int  # degrees counter-clockwise the picture was turned to stand upright


@dataclass
class Frame:
    """One sampled frame: upright RGB pixels, handed to a visitor and then let go."""

    ref: FrameRef
    rgb: np.ndarray = field(repr=False)


@dataclass
class VideoSample:
    """The frames taken from one video, with its metadata and the interval actually used."""

    info: VideoInfo
    sampling: Sampling
    interval_ms: int  # ≥ sampling.interval_ms when the video is longer than max_frames intervals
    frames: list[FrameRef]
    decoded_frames: int  # frames the decoder produced (all of them, or keyframes only)
    truncated_at_max: bool  # stopped at max_frames without knowing the duration

    def summary(self) -> dict[str, Any]:
        return {
            "frames_sampled": len(self.frames),
            "frames_decoded": self.decoded_frames,
            "interval_ms": self.interval_ms,
            "requested_interval_ms": self.sampling.interval_ms,
            "mode": "keyframes only" if self.sampling.keyframes_only else "every frame decoded",
            "stopped_at_max_frames": self.truncated_at_max,
            "positions_ms": [f.position_ms for f in self.frames],
        }


def _info(container: Any, stream: Any) -> VideoInfo:
    ctx = stream.codec_context
    duration_ms = None
    if stream.duration is not None and stream.time_base is not None:
        duration_ms = int(stream.duration * stream.time_base * 1000)
    elif container.duration is not None:
        duration_ms = int(container.duration // 1000)  # container duration is in microseconds
    rate = stream.average_rate or stream.guessed_rate
    return VideoInfo(
        container=container.format.name,
        codec=ctx.name,
        codec_long=ctx.codec.long_name or ctx.name,
        width=int(ctx.width),
        height=int(ctx.height),
        duration_ms=duration_ms,
        frame_rate=f"{rate.numerator}/{rate.denominator}" if rate else "",
        frame_count=int(stream.frames) or None,
        bit_rate=int(container.bit_rate) if container.bit_rate else None,
        pixel_format=ctx.pix_fmt or "",
        rotation=0,
        audio_codecs=tuple(a.codec_context.name for a in container.streams.audio),
        metadata=_tags(container.metadata),
        stream_metadata=_tags(stream.metadata),
    )


def _tags(tags: Any) -> dict[str, str]:
    """Container or stream tags as strings, bounded (they are whatever the file says)."""
    return {str(k)[:100]: str(v)[:500] for k, v in list((tags or {}).items())[:50]}


def _upright(rgb: np.ndarray, rotation: int) -> np.ndarray:
    """Turn the picture as the player does: ``rotation`` degrees counter-clockwise."""
    turns = round(rotation / 90) % 4
    return np.ascontiguousarray(np.rot90(rgb, k=turns)) if turns else rgb


def _fail(what: str, exc: BaseException | None = None) -> UndecodableMedia:
    reason = f": {exc}" if exc is not None else ""
    return UndecodableMedia(f"cannot decode as a video: {what}{reason}")


def video_scan(
    subject: Subject, visit: Callable[[Frame], None], sampling: Sampling | None = None
) -> VideoSample:
    """Decode ``subject``, hand each sampled frame to ``visit``, return what was sampled.

    Frames stream through ``visit`` one at a time. Raises ``UndecodableMedia`` for damage anywhere in the
    stream, so a caller that stores results only after this returns never keeps half a video's worth.
    When the pipeline shares one subject across detectors, the sampled frames (if they fit in
    ``HAETAE_VIDEO_SHARE_BYTES``) and any decoding failure are kept in ``subject.cache``, so the video is
    decoded once for all of them; frames handed out are read-only.
    """
    sampling = sampling or Sampling.from_settings()
    key = f"video_frames:{sampling.tag}"
    shared = subject.cache.get(key)
    if isinstance(shared, UndecodableMedia):
        raise shared
    if shared is not None:
        sample, frames = shared
        for frame in frames:
            visit(frame)
        return sample
    budget = int(settings.HAETAE_VIDEO["SHARE_BYTES"])
    kept: list[Frame] = []
    used = 0

    def keep(frame: Frame) -> None:
        nonlocal used
        frame.rgb.flags.writeable = False
        used += frame.rgb.nbytes
        if used <= budget:
            kept.append(frame)
        visit(frame)

    try:
        sample = _decode(subject, sampling, keep)
    except UndecodableMedia as exc:
        subject.cache[key] = exc
        raise
    if used <= budget:
        subject.cache[key] = (sample, kept)
    return sample


def _decode(subject: Subject, sampling: Sampling, visit: Callable[[Frame], None]) -> VideoSample:
    threads = int(settings.HAETAE_VIDEO["DECODER_THREADS"])
    reader = subject.open()
    try:
        try:
            container = av.open(reader, mode="r")
        except av.error.FFmpegError as exc:
            raise _fail("the container cannot be opened (damaged, truncated or not a video)", exc) from exc
        with container:
            if not container.streams.video:
                raise _fail("the file holds no video stream")
            if container.format.name == "image2" or container.format.name.endswith("_pipe"):
                raise _fail(
                    f"the file is a still image ({container.format.name}), not a video: check its type"
                )
            stream = container.streams.video[0]
            stream.codec_context.thread_count = threads
            if sampling.keyframes_only:
                stream.codec_context.skip_frame = "NONKEY"
            info = _info(container, stream)
            try:
                pixels_check(info.width, info.height, what="each video frame")
            except TooManyPixels as exc:
                raise NotAnalysedTooManyPixels(f"not analysed: too many pixels: {exc.message}") from exc
            interval = sampling.interval_ms
            if info.duration_ms:
                interval = max(interval, math.ceil(info.duration_ms / sampling.max_frames))
            return _take(container, stream, info, sampling, interval, visit)
    finally:
        reader.close()


def _ms(ticks: int, start: int, time_base: Fraction) -> int:
    return max(int((ticks - start) * time_base * 1000), 0)


def _take(
    container: Any,
    stream: Any,
    info: VideoInfo,
    sampling: Sampling,
    interval: int,
    visit: Callable[[Frame], None],
) -> VideoSample:
    time_base = stream.time_base or Fraction(1, 1000)
    start = stream.start_time or 0
    refs: list[FrameRef] = []
    decoded = 0
    next_target = 0
    last_ms = -1  # latest frame decoded
    packets_end_ms = -1  # where the demuxed packets end: what the file really holds
    rotation = 0
    stopped = False
    try:
        for packet in container.demux(stream):
            if packet.pts is not None:
                packets_end_ms = max(
                    packets_end_ms, _ms(packet.pts + (packet.duration or 0), start, time_base)
                )
            for frame in packet.decode():
                decoded += 1
                position = _ms(frame.pts, start, time_base) if frame.pts is not None else last_ms + 1
                if frame.is_corrupt:
                    raise _fail(
                        f"the frame at {position / 1000:.3f} s is damaged (the decoder concealed errors)"
                    )
                last_ms = max(last_ms, position)
                if position < next_target or (sampling.keyframes_only and not frame.key_frame):
                    continue
                if len(refs) >= sampling.max_frames:
                    stopped = True
                    break
                # A stream may change size mid-file: each frame is checked before it is converted.
                if frame.width * frame.height > max_image_pixels():
                    raise NotAnalysedTooManyPixels(
                        f"not analysed: too many pixels: the frame at {position / 1000:.3f} s is "
                        f"{frame.width} × {frame.height}, over the limit of {max_image_pixels():,} "
                        "(HAETAE_MAX_IMAGE_PIXELS)"
                    )
                rotation = int(frame.rotation or 0)
                rgb = _upright(frame.to_ndarray(format="rgb24"), rotation)
                ref = FrameRef(
                    index=len(refs),
                    position_ms=position,
                    pts=frame.pts,
                    keyframe=bool(frame.key_frame),
                    width=int(rgb.shape[1]),
                    height=int(rgb.shape[0]),
                    rotation=rotation,
                )
                visit(Frame(ref=ref, rgb=rgb))
                refs.append(ref)
                next_target = (position // interval + 1) * interval
            if stopped:
                break
    except av.error.FFmpegError as exc:
        where = f"after {last_ms / 1000:.3f} s" if last_ms >= 0 else "before the first frame"
        raise _fail(f"decoding failed {where} (damaged or truncated)", exc) from exc
    if not refs:
        raise _fail("no frame could be decoded (empty or damaged stream)")
    if info.duration_ms and not stopped and info.duration_ms - packets_end_ms > TRUNCATION_SLACK_MS:
        # A file cut between packets demuxes cleanly up to the cut: compare with the declared duration.
        raise _fail(
            f"the stream ends at {packets_end_ms / 1000:.3f} s but the container declares "
            f"{info.duration_ms / 1000:.3f} s (the file is truncated)"
        )
    return VideoSample(
        info=replace(info, rotation=rotation),
        sampling=sampling,
        interval_ms=interval,
        frames=refs,
        decoded_frames=decoded,
        truncated_at_max=stopped,
    )


# --- frames as derivatives ---


def frame_png(frame: Frame) -> bytes:
    """Lossless PNG of the frame's upright RGB pixels (Pillow, default compression: deterministic)."""
    out = io.BytesIO()
    Image.fromarray(frame.rgb, mode="RGB").save(out, format="PNG")
    return out.getvalue()


def frame_recipe(ref: FrameRef) -> dict[str, Any]:
    """How a frame's bytes were made (ints and strings only): same recipe, same bytes, stored once."""
    return {
        "tool": f"haetae.video {SAMPLER_VERSION}",
        "decoder": decoder_name(),
        "stream": "first video stream",
        "pts": ref.pts if ref.pts is not None else -1,
        "position_ms": ref.position_ms,
        "rotation": ref.rotation,
        "conversion": "rgb24 (libswscale), turned upright",
        "encoder": f"Pillow {PIL.__version__} PNG, default compression",
    }


def frames_store(*, item: Any, frames: list[tuple[FrameRef, bytes]], actor: Any = None) -> list[Any]:
    """Store sampled frames of ``item`` as FRAME derivatives (each made once per recipe); returns them.

    Each new frame gets its own ``derived`` custody event; call inside the run's transaction so that a
    failure leaves no frame behind.
    """
    from evidence.choices import DerivativeKind
    from evidence.derivatives import derivative_store

    stored = []
    for ref, png in frames:
        derivative, _ = derivative_store(
            item=item,
            kind=DerivativeKind.FRAME,
            recipe=frame_recipe(ref),
            data=png,
            mime="image/png",
            actor=actor,
            position_ms=ref.position_ms,
            width=ref.width,
            height=ref.height,
        )
        stored.append(derivative)
    return stored


def frame_subject(subject: Subject, frame: Frame) -> Subject:
    """A subject for image detectors: the frame's pixels, named by the video's SHA-256."""
    framed = Subject.from_pixels(frame.rgb, sha256=subject.sha256)
    framed.cache["video_frame"] = {"position_ms": frame.ref.position_ms, "index": frame.ref.index}
    return framed
