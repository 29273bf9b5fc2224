"""Generated test media: scikit-image's bundled photographs encoded in the test, short videos (PyAV),
scenes with faces at known places. Nothing explicit is ever stored: every image is made here."""

import io
from dataclasses import dataclass
from typing import Any

import av
import cv2
import numpy as np
import skimage.data
from PIL import Image
from skimage import data
from skimage import data as skdata


def jpeg_bytes(picture: str = "astronaut", *, quality: int = 92) -> bytes:
    """A real photograph from scikit-image's bundled data, as JPEG bytes."""
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(getattr(data, picture)()).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def encode(rgb: np.ndarray, fmt: str = "JPEG", *, orientation: int | None = None, **params: Any) -> bytes:
    """``rgb`` as image bytes in ``fmt`` (Pillow's defaults, e.g. JPEG quality 75, unless ``params`` say),
    optionally with an EXIF orientation tag."""
    out = io.BytesIO()
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        params["exif"] = exif.tobytes()
    Image.fromarray(np.ascontiguousarray(rgb)).save(out, format=fmt, **params)
    return out.getvalue()


def photo(name: str) -> np.ndarray:
    """An RGB uint8 copy of one of scikit-image's photos (astronaut, camera, coffee, chelsea …)."""

    image = getattr(skimage.data, name)()
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return np.ascontiguousarray(image[..., :3])


def resized(rgb: np.ndarray, factor: float) -> np.ndarray:
    img = Image.fromarray(rgb)
    size = (max(1, round(img.width * factor)), max(1, round(img.height * factor)))
    return np.asarray(img.resize(size, Image.Resampling.LANCZOS))


def astronaut() -> np.ndarray:
    """Eileen Collins' NASA portrait (public domain): one frontal face, no nudity."""
    return data.astronaut()


def astronaut_reference() -> np.ndarray:
    """A different photo of the same face: a crop around the head, scaled down (as a victim's own photo)."""
    crop = data.astronaut()[30:260, 110:340]
    return np.asarray(Image.fromarray(crop).resize((190, 190), Image.Resampling.BICUBIC))


def other_person() -> np.ndarray:
    """Another person's face: the first face of scikit-image's LFW subset, upscaled and padded."""
    face = (data.lfw_subset()[0] * 255).astype(np.uint8)
    large = np.asarray(Image.fromarray(face).resize((150, 150), Image.Resampling.BICUBIC))
    return np.ascontiguousarray(
        np.pad(np.repeat(large[:, :, None], 3, axis=2), ((40, 40), (40, 40), (0, 0)), mode="edge")
    )


def no_face() -> np.ndarray:
    """A generated image without any face: smooth colour gradients."""
    y, x = np.mgrid[0:240, 0:320]
    return np.stack([x * 255 // 319, y * 255 // 239, (x + y) * 255 // 558], axis=2).astype(np.uint8)


def photos() -> list[np.ndarray]:
    """scikit-image's bundled photographs: a face (astronaut), a cup of coffee, a cat."""
    return [skdata.astronaut(), skdata.coffee(), skdata.chelsea()]


def make_video(
    *,
    seconds: int = 3,
    fps: int = 10,
    size: tuple[int, int] = (160, 128),
    codec: str = "libx264",
    gop_seconds: int = 2,
    rotation: int | None = None,
    frames: list[np.ndarray] | None = None,
    container_format: str = "mp4",
) -> bytes:
    """A video (MP4 by default) whose picture changes each second: astronaut, coffee, cat, … ."""
    pictures = frames or photos()
    out = io.BytesIO()
    with av.open(out, mode="w", format=container_format) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        stream.options = {"g": str(fps * gop_seconds)}
        if codec == "libvpx-vp9":
            stream.options = {"g": str(fps * gop_seconds), "deadline": "realtime", "cpu-used": "8"}
        if codec == "libx264":
            stream.options = {"g": str(fps * gop_seconds), "preset": "ultrafast", "keyint_min": "1"}
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for i in range(seconds * fps):
            picture = np.asarray(Image.fromarray(pictures[(i // fps) % len(pictures)]).resize(size))
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


# (photo, face box x0, y0, x1, y1 in it): the box around brows to chin, as a person would draw it.
FACE_SOURCES = {
    "astronaut": ("astronaut", (173, 82, 273, 179)),
    "camera": ("camera", (202, 123, 257, 190)),
}


BACKGROUNDS = ("coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry")


MARGIN = 0.35  # of the face's size, kept around it when it is cut out: hair, ears, neck


SIZES = (40, 60, 80, 120, 200, 300, 400)


@dataclass(frozen=True)
class FaceScene:
    """One generated image (RGB) and where its one face is, in its pixels (x0, y0, x1, y1)."""

    rgb: np.ndarray
    face: tuple[int, int, int, int]
    face_px: int
    source: str


def _rgb(name: str) -> np.ndarray:
    image = getattr(data, name)()
    return np.repeat(image[:, :, None], 3, axis=2) if image.ndim == 2 else image[:, :, :3]


def face_scene(
    *, face_px: int, seed: int, source: str = "astronaut", size: tuple[int, int] = (1024, 768)
) -> FaceScene:
    """A ``size`` (width, height) photo with one face ``face_px`` wide at a place chosen by ``seed``.

    The face is cut out with a margin, scaled (area or cubic interpolation) so the face is ``face_px`` wide,
    flipped on odd seeds, and pasted with a feathered edge into a background photo scaled to ``size``.
    """
    rng = np.random.default_rng(seed)
    photo, (x0, y0, x1, y1) = FACE_SOURCES[source]
    image = _rgb(photo)
    face_w, face_h = x1 - x0, y1 - y0
    mx, my = round(face_w * MARGIN), round(face_h * MARGIN)
    cx0, cy0 = max(0, x0 - mx), max(0, y0 - my)
    cx1, cy1 = min(image.shape[1], x1 + mx), min(image.shape[0], y1 + my)
    cut = image[cy0:cy1, cx0:cx1]
    scale = face_px / face_w
    new_w, new_h = max(1, round(cut.shape[1] * scale)), max(1, round(cut.shape[0] * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    patch = cv2.resize(cut, (new_w, new_h), interpolation=interpolation)
    fx0, fy0 = (x0 - cx0) * scale, (y0 - cy0) * scale
    if seed % 2:
        patch = patch[:, ::-1]
        fx0 = new_w - fx0 - face_w * scale
    width, height = size
    # A face too tall for the canvas with its margin loses some of the margin, equally above and below.
    if new_h > height:
        trim = (new_h - height + 1) // 2
        patch, fy0 = patch[trim : trim + height], fy0 - trim
        new_h = patch.shape[0]
    background = cv2.resize(_rgb(BACKGROUNDS[seed % len(BACKGROUNDS)]), size, interpolation=cv2.INTER_AREA)
    px = int(rng.integers(0, max(1, width - new_w)))
    py = int(rng.integers(0, max(1, height - new_h)))
    # A feathered alpha so the paste has no hard rectangle edge for a detector to latch on to.
    ramp = max(1, min(new_w, new_h) // 8)
    alpha_x = np.clip(np.minimum(np.arange(new_w), np.arange(new_w)[::-1]) / ramp, 0, 1)
    alpha_y = np.clip(np.minimum(np.arange(new_h), np.arange(new_h)[::-1]) / ramp, 0, 1)
    alpha = (alpha_y[:, None] * alpha_x[None, :])[:, :, None]
    region = background[py : py + new_h, px : px + new_w].astype(np.float32)
    blended = alpha * patch.astype(np.float32) + (1 - alpha) * region
    out = background.copy()
    out[py : py + new_h, px : px + new_w] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
    face = (
        round(px + fx0),
        round(py + fy0),
        round(px + fx0 + face_w * scale),
        round(py + fy0 + face_h * scale),
    )
    return FaceScene(rgb=out, face=face, face_px=face_px, source=source)


def found(face: tuple[int, int, int, int], boxes: list[tuple[float, float, float, float]]) -> bool:
    """Whether one of the boxes (x0, y0, x1, y1) is this face: its centre inside the face and its width
    within half to twice the face's (detectors draw faces' boxes differently: HOG square, CenterFace tall)."""
    x0, y0, x1, y1 = face
    width = x1 - x0
    for bx0, by0, bx1, by1 in boxes:
        cx, cy = (bx0 + bx1) / 2, (by0 + by1) / 2
        if x0 <= cx <= x1 and y0 <= cy <= y1 and width / 2 <= bx1 - bx0 <= width * 2:
            return True
    return False
