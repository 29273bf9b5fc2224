"""Generated scenes with faces at known places and sizes: scikit-image's photographs of people composited
into its photographs without people, for face recall (tests and ``bench/p8_faces.py``)."""

from dataclasses import dataclass

import cv2
import numpy as np
from skimage import data

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
