"""Explicit content: NudeNet's ``320n.onnx`` (a YOLOv8n detector) run directly through onnxruntime.

We use the model file that ships inside the ``nudenet`` wheel, not NudeNet's Python wrapper: the wrapper
feeds the network BGR while the network was trained (by Ultralytics) on RGB (upstream issue #203), and its
post-processing is a Python loop over all 2,100 candidate boxes (at 320 × 320). Here:

- colour order RGB, what the network was trained on (docs/detectors/nudenet.md shows what each order
  does to the scores);
- geometry as NudeNet's wrapper: the image, EXIF orientation applied, is scaled so its longer side is 320
  pixels (bilinear, ``cv2.INTER_LINEAR``) and padded with black at the bottom and right to 320 × 320;
  we scale the image itself instead of a padded copy, so large images cost no padding. (Padding only to a
  multiple of 32, Ultralytics' "rectangular inference", saves network time on non-square images but
  measured twice as many boxes differing from NudeNet's on the P5 set, 8 against 4 of 70: not used.)
- a JPEG is decoded at a reduced size (libjpeg DCT scaling through Pillow's ``draft``, never below 640
  pixels on the longer side) before that resize: the subject's shared reduced decode, which PDQ and OCR's
  text-presence test use too, so the image is decoded that way once whatever else runs;
- post-processing vectorised with numpy: the class scores' maximum and the boxes for every candidate at
  once, a score threshold, then greedy class-agnostic non-maximum suppression over one IoU matrix
  (NudeNet's wrapper also suppresses across classes, with the same thresholds).
"""

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from detection.registry import DetectorInfo, Finding, onnx_session_options
from detection.subject import REDUCED_LONGEST, Subject
from evidence.hashing import file_sha256
from haetae.errors import IntegrityFailure

MODEL_FILE = "320n.onnx"
# SHA-256 of 320n.onnx in nudenet 3.4.2 (Ultralytics 8.2.46 export, 2024-06-29); checked at load.
MODEL_SHA256 = "c15d8273adad2d0a92f014cc69ab2d6c311a06777a55545f2c4eb46f51911f0f"
INPUT_SIZE = 320
SCORE_THRESHOLD = 0.25
NMS_IOU = 0.45
# Reduced JPEG decoding stops at twice the network's input: the final resize still has pixels to average
# (the subject's shared reduced decode, ``REDUCED_LONGEST``).
DRAFT_MIN_SIDE = REDUCED_LONGEST  # 2 × INPUT_SIZE

# The network's classes in output order (the model's own metadata, "names").
LABELS = (
    "FEMALE_GENITALIA_COVERED",
    "FACE_FEMALE",
    "BUTTOCKS_EXPOSED",
    "FEMALE_BREAST_EXPOSED",
    "FEMALE_GENITALIA_EXPOSED",
    "MALE_BREAST_EXPOSED",
    "ANUS_EXPOSED",
    "FEET_EXPOSED",
    "BELLY_COVERED",
    "FEET_COVERED",
    "ARMPITS_COVERED",
    "ARMPITS_EXPOSED",
    "FACE_MALE",
    "BELLY_EXPOSED",
    "MALE_GENITALIA_EXPOSED",
    "ANUS_COVERED",
    "FEMALE_BREAST_COVERED",
    "BUTTOCKS_COVERED",
)


def category_of(label: str) -> str:
    """exposed, covered or face: how Haetae groups NudeNet's 18 labels."""
    if label.startswith("FACE_"):
        return "face"
    return "exposed" if label.endswith("_EXPOSED") else "covered"


CATEGORIES = tuple(category_of(label) for label in LABELS)


def model_path() -> Path:
    """Where the installed nudenet wheel keeps its 320n.onnx."""
    return Path(str(resources.files("nudenet").joinpath(MODEL_FILE)))


@dataclass(frozen=True)
class Box:
    """One detection in pixels of the image the detector saw (EXIF orientation applied)."""

    label: str
    score: float
    x: int
    y: int
    w: int
    h: int

    @property
    def category(self) -> str:
        return category_of(self.label)


@dataclass(frozen=True)
class Geometry:
    """How a network coordinate maps back to the image: multiply by ``scale_x`` / ``scale_y``."""

    width: int
    height: int
    scale_x: float
    scale_y: float


def letterbox(
    rgb: np.ndarray, *, size: int = INPUT_SIZE, full_size: tuple[int, int] | None = None
) -> tuple[np.ndarray, Geometry]:
    """The network input (3 × size × size, float32 RGB in [0, 1]) and the way back to image pixels.

    The longer side becomes ``size`` (aspect kept, bilinear); black fills the bottom or right, as in
    NudeNet's wrapper, so network coordinates need only a scale, no offset. ``full_size`` (width, height)
    is the size boxes are reported in when ``rgb`` was decoded smaller than the image.
    """
    height, width = rgb.shape[:2]
    full_width, full_height = full_size or (width, height)
    longest = max(height, width)
    new_w = max(1, round(width * size / longest))
    new_h = max(1, round(height * size / longest))
    resized = (
        rgb
        if (new_w, new_h) == (width, height)
        else cv2.resize(rgb, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    )
    canvas = np.zeros((3, size, size), dtype=np.float32)
    canvas[:, :new_h, :new_w] = resized.transpose(2, 0, 1)
    canvas *= np.float32(1 / 255)
    return canvas, Geometry(
        width=full_width, height=full_height, scale_x=full_width / new_w, scale_y=full_height / new_h
    )


def decode(
    output: np.ndarray, geometry: Geometry, *, score_threshold: float = SCORE_THRESHOLD
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """YOLOv8 output (4 + classes) × candidates → boxes (x0, y0, x1, y1 in image pixels), scores, classes.

    Only candidates whose best class scores at least ``score_threshold`` are kept; boxes are clipped to
    the image.
    """
    class_scores = output[4:]
    classes = class_scores.argmax(axis=0)
    scores = class_scores[classes, np.arange(class_scores.shape[1])]
    keep = scores >= score_threshold
    cx, cy, w, h = output[:4, keep]
    half_w, half_h = w / 2, h / 2
    boxes = np.stack(
        [
            np.clip((cx - half_w) * geometry.scale_x, 0, geometry.width),
            np.clip((cy - half_h) * geometry.scale_y, 0, geometry.height),
            np.clip((cx + half_w) * geometry.scale_x, 0, geometry.width),
            np.clip((cy + half_h) * geometry.scale_y, 0, geometry.height),
        ],
        axis=1,
    )
    return boxes, scores[keep], classes[keep]


def iou_matrix(boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of every pair of (x0, y0, x1, y1) boxes."""
    x0, y0, x1, y1 = boxes.T
    areas = (x1 - x0) * (y1 - y0)
    inter_w = np.clip(np.minimum(x1[:, None], x1[None, :]) - np.maximum(x0[:, None], x0[None, :]), 0, None)
    inter_h = np.clip(np.minimum(y1[:, None], y1[None, :]) - np.maximum(y0[:, None], y0[None, :]), 0, None)
    inter = inter_w * inter_h
    union = areas[:, None] + areas[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def nms(boxes: np.ndarray, scores: np.ndarray, *, iou_threshold: float = NMS_IOU) -> np.ndarray:
    """Greedy non-maximum suppression: indices of the kept boxes, best score first.

    One IoU matrix for all candidates; the loop runs once per *kept* box (a handful), each step
    suppressing every remaining overlap at once.
    """
    order = np.argsort(-scores, kind="stable")
    overlaps = iou_matrix(boxes[order]) > iou_threshold
    alive = np.ones(len(order), dtype=bool)
    kept = []
    for position in range(len(order)):
        if alive[position]:
            kept.append(position)
            alive &= ~overlaps[position]
    return order[np.asarray(kept, dtype=np.int64)]


def postprocess(output: np.ndarray, geometry: Geometry) -> list[Box]:
    """One image's network output → its detections, best first."""
    boxes, scores, classes = decode(output, geometry)
    if len(scores) == 0:
        return []
    found = []
    for index in nms(boxes, scores):
        x0, y0, x1, y1 = boxes[index]
        found.append(
            Box(
                label=LABELS[int(classes[index])],
                score=float(scores[index]),
                x=int(x0),
                y=int(y0),
                w=int(x1 - x0),
                h=int(y1 - y0),
            )
        )
    return found


def upright_for_detection(subject: Subject) -> tuple[np.ndarray, tuple[int, int]]:
    """The subject's pixels (RGB, EXIF orientation applied) as this detector sees them, and the full
    upright image's (width, height).

    The subject's shared reduced decode (``Subject.reduced``): a JPEG of 1280 px or more decoded by libjpeg
    with DCT scaling to the smallest size whose longer side is still at least ``DRAFT_MIN_SIDE``, also
    used by PDQ and OCR's text-presence test, whether or not another detector decoded the full image;
    other images as decoded in full.
    """
    rgb = subject.reduced_upright
    return rgb, subject.reduced.upright_size


class NudityDetector:
    """Explicit-content leads: NudeNet's 18 body-part and face labels, grouped as exposed / covered / face."""

    info = DetectorInfo(
        name="nudenet",
        version="1",
        media_types=frozenset({"image"}),
        parameters={
            "model": "nudenet 3.4.2 320n.onnx (Ultralytics YOLOv8n)",
            "input_size": INPUT_SIZE,
            "colour_order": "RGB",
            "orientation": "EXIF applied",
            "resize": "longer side to 320, cv2.INTER_LINEAR, black pad bottom/right to 320 x 320; "
            "JPEG decoded with DCT scaling to >= 640 px first",
            "score_threshold": str(SCORE_THRESHOLD),
            "nms": f"class-agnostic, IoU > {NMS_IOU}",
        },
        model_sha256=MODEL_SHA256,
        model_card="docs/detectors/nudenet.md",
        licence="AGPL-3.0 (NudeNet; model trained with Ultralytics YOLOv8n, AGPL-3.0)",
        validation="not validated on explicit material; see docs/detectors/nudenet.md",
    )

    # Also run on sampled video frames as ``video:nudenet`` (detection.detectors.video).
    frame_capable = True

    def __init__(self, *, intra_op_threads: int | None = None) -> None:
        self.intra_op_threads = intra_op_threads
        self.session: Any = None
        self.input_name = ""

    def load(self) -> None:
        """Check the model file's SHA-256 and open one onnxruntime session for this process."""
        if self.session is not None:
            return
        import onnxruntime

        path = model_path()
        found = file_sha256(path)
        if found != MODEL_SHA256:
            raise IntegrityFailure(
                f"{path} has SHA-256 {found}, not the {MODEL_SHA256} this detector was validated with: "
                "reinstall the locked nudenet (pip install --force-reinstall nudenet==3.4.2)"
            )
        options = onnx_session_options()  # HAETAE_ONNX_THREADS; one per process in Celery workers
        if self.intra_op_threads:
            options.intra_op_num_threads = self.intra_op_threads
            options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self.input_name = self.session.get_inputs()[0].name

    def detect(
        self, images: list[np.ndarray], *, full_sizes: list[tuple[int, int]] | None = None
    ) -> list[list[Box]]:
        """Detections for each RGB image (H × W × 3 uint8).

        ``full_sizes`` gives each image's full (width, height) when it was decoded smaller. Images run one
        at a time: on CPU with one thread, batches of 2 to 8 measured no faster per image (22.4 to 23.1
        ms against 22.6 ms).
        """
        self.load()
        sizes: list[tuple[int, int] | None] = list(full_sizes) if full_sizes else [None] * len(images)
        found = []
        for rgb, size in zip(images, sizes, strict=True):
            tensor, geometry = letterbox(rgb, full_size=size)
            (output,) = self.session.run(None, {self.input_name: tensor[None]})
            found.append(postprocess(output[0], geometry))
        return found

    def analyze(self, subject: Subject) -> list[Finding]:
        rgb, (width, height) = upright_for_detection(subject)
        (boxes,) = self.detect([rgb], full_sizes=[(width, height)])
        return [
            Finding(
                label=box.label,
                category=box.category,
                score=box.score,
                region={"x": box.x, "y": box.y, "w": box.w, "h": box.h},
                details={"nudenet_label": box.label, "image_width": width, "image_height": height},
            )
            for box in boxes
        ]
