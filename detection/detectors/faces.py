"""Faces: dlib's HOG frontal face detector, 5-point alignment and 128-d ResNet face embeddings.

Optional (the ``faces`` extra: ``dlib-bin`` + ``face_recognition_models``). Without dlib the entry point's
factory raises ``DetectorUnavailable`` and the registry lists the detector as unavailable, with what to
install, instead of failing.

Each face found becomes an annotation labelled ``face`` with its region and, in ``details``, the
128-d embedding. The embeddings are compared with a victim's consented reference photos by
``parties.faces`` (registered as a listener below), which only ever *suggests* links.

Recipe: the image as a person sees it (EXIF orientation applied, RGB); images whose longer side exceeds
``MAX_SIDE`` are first scaled down to it (``cv2.INTER_AREA``); the HOG detector upsamples once images whose
longer side is at most ``UPSAMPLE_BELOW_SIDE`` (finding faces down to ~40 px instead of ~80 px);
detections at or above dlib's standard threshold (SVM margin 0) are kept; each face is aligned with the
5-point landmark model (CC0; the 68-point model's training data forbids commercial use) and embedded
without jitter. Regions are reported in pixels of the full upright image.
"""

import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from detection.listeners import face_listeners
from detection.registry import DetectorInfo, DetectorUnavailable, Finding
from detection.subject import Subject
from haetae.errors import IntegrityFailure

if TYPE_CHECKING:
    from detection.models import Annotation, DetectionRun

INSTALL_HINT = "install the faces extra: pip install 'haetae[faces]' (dlib-bin and face_recognition_models)"
# SHA-256 of the model files in face_recognition_models 0.3.0; checked at load.
SHAPE_PREDICTOR = (
    "shape_predictor_5_face_landmarks.dat",
    "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
)
RECOGNITION_MODEL = (
    "dlib_face_recognition_resnet_model_v1.dat",
    "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
)
MAX_SIDE = 2048
UPSAMPLE_BELOW_SIDE = 1024
EMBEDDING_SIZE = 128
LABEL = "face"

# Called inside detection_run's transaction with the run and its new face annotations (see module doc).
listeners = face_listeners


def models_dir() -> Path:
    """The model folder of the installed face_recognition_models (found without importing it: its
    ``__init__`` needs ``pkg_resources``, which modern setuptools no longer ships)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise DetectorUnavailable(f"face_recognition_models is not installed: {INSTALL_HINT}")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def _checked(name: str, sha256: str) -> str:
    path = models_dir() / name
    if not path.is_file():
        raise DetectorUnavailable(f"{path} is missing: {INSTALL_HINT}")
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    if digest.hexdigest() != sha256:
        raise IntegrityFailure(
            f"{path} has SHA-256 {digest.hexdigest()}, not the {sha256} this detector was validated with: "
            "reinstall face_recognition_models 0.3.0"
        )
    return str(path)


def models_sha256() -> str:
    """One SHA-256 naming both model files (recorded as the detector's model SHA-256)."""
    return hashlib.sha256(f"{SHAPE_PREDICTOR[1]}\n{RECOGNITION_MODEL[1]}\n".encode()).hexdigest()


@dataclass(frozen=True)
class Face:
    """One face in pixels of the full upright image, its HOG score (SVM margin) and 128-d embedding."""

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
    """Faces and their embeddings (dlib), for suggesting which items depict a victim."""

    info = DetectorInfo(
        name="faces",
        version="1",
        media_types=frozenset({"image"}),
        parameters={
            "detector": "dlib HOG frontal_face_detector, threshold 0",
            "landmarks": SHAPE_PREDICTOR[0],
            "embedding": RECOGNITION_MODEL[0],
            "num_jitters": 0,
            "orientation": "EXIF applied",
            "max_side": MAX_SIDE,
            "upsample_below_side": UPSAMPLE_BELOW_SIDE,
        },
        model_sha256=models_sha256(),
        model_card="docs/detectors/faces.md",
        licence="dlib: Boost Software License 1.0; model files (face_recognition_models): CC0",
        validation="not validated here beyond the tests; see docs/detectors/faces.md",
    )

    def __init__(self, dlib: Any) -> None:
        self._dlib = dlib
        self._detector: Any = None
        self._shape_predictor: Any = None
        self._recogniser: Any = None

    def load(self) -> None:
        """Check both model files' SHA-256 and load them once for this process."""
        if self._recogniser is not None:
            return
        shape_path = _checked(*SHAPE_PREDICTOR)
        recognition_path = _checked(*RECOGNITION_MODEL)
        self._detector = self._dlib.get_frontal_face_detector()
        self._shape_predictor = self._dlib.shape_predictor(shape_path)
        self._recogniser = self._dlib.face_recognition_model_v1(recognition_path)

    def faces(self, rgb: np.ndarray) -> list[Face]:
        """Every frontal face in an RGB image (H × W × 3 uint8), with its embedding."""
        self.load()
        height, width = rgb.shape[:2]
        scale = 1.0
        if max(height, width) > MAX_SIDE:
            scale = max(height, width) / MAX_SIDE
            size = (max(1, round(width / scale)), max(1, round(height / scale)))
            rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
        upsample = 1 if max(rgb.shape[:2]) <= UPSAMPLE_BELOW_SIDE else 0
        rects, scores, _ = self._detector.run(rgb, upsample, 0.0)
        if len(rects) == 0:
            return []
        shapes = self._dlib.full_object_detections()
        for rect in rects:
            shapes.append(self._shape_predictor(rgb, rect))
        embeddings = np.asarray(self._recogniser.compute_face_descriptor(rgb, shapes, 0), dtype=np.float64)
        found = []
        for rect, score, embedding in zip(rects, scores, embeddings, strict=True):
            x0 = min(max(0, round(rect.left() * scale)), width)
            y0 = min(max(0, round(rect.top() * scale)), height)
            x1 = min(max(0, round((rect.right() + 1) * scale)), width)
            y1 = min(max(0, round((rect.bottom() + 1) * scale)), height)
            found.append(Face(x=x0, y=y0, w=x1 - x0, h=y1 - y0, score=float(score), embedding=embedding))
        return found

    def analyze(self, subject: Subject) -> list[Finding]:
        rgb = subject.upright
        height, width = rgb.shape[:2]
        return [
            Finding(
                label=LABEL,
                category="face",
                score=round(face.score, 4),
                region={"x": face.x, "y": face.y, "w": face.w, "h": face.h},
                details={
                    "embedding": [round(float(v), 6) for v in face.embedding],
                    "score_kind": "HOG SVM margin (0 is dlib's threshold; not a probability)",
                    "image_width": width,
                    "image_height": height,
                },
            )
            for face in self.faces(rgb)
        ]

    def after_store(self, *, run: "DetectionRun", annotations: "list[Annotation]") -> None:
        """Hand new face annotations to the listeners (victim reference matching) in the run's transaction."""
        if not annotations:
            return
        for listener in listeners:
            listener(run, annotations)


def faces_detector() -> FaceDetector:
    """The entry point: a FaceDetector when dlib imports, otherwise DetectorUnavailable saying what to do."""
    try:
        import dlib
    except ImportError as exc:
        raise DetectorUnavailable(f"dlib cannot be imported ({exc}): {INSTALL_HINT}") from exc
    models_dir()
    return FaceDetector(dlib)
