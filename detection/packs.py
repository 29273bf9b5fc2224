"""ONNX model packs: import (``manage.py import_model PATH``), validate, enable, and run as detectors.

A pack is ``model.onnx`` plus ``manifest.json`` (format in docs/model-packs.md). Import checks the
manifest field by field, hashes the model and compares it with the manifest's SHA-256, opens it with
onnxruntime and checks its input and output against the manifest, then keeps it read-only at
``DATA_DIR/models/<sha256>.onnx``. Every load re-hashes the file and refuses a swapped one
(``IntegrityFailure``). An enabled pack is the detector ``pack:<name>`` (version = pack version, model
SHA-256 = its hash); a ``frame`` pack is also frame-capable, so the video adapter runs it over sampled
frames as ``video:pack:<name>``. Enabling a new version offers a re-scan job; old annotations stay.
"""

import hashlib
import importlib
import json
import logging
import math
import os
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version as package_version
from pathlib import Path
from typing import IO, Any, TypeGuard

import numpy as np
from django.conf import settings
from django.contrib.auth.models import User
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from PIL import Image

from detection import registry
from detection.models import Annotation, ModelPack, ScanJob
from detection.models.packs import PackGranularity
from detection.models.runs import JobKind
from detection.registry import DetectorInfo, Finding
from detection.subject import Subject
from evidence.custody import canonical_json
from evidence.hashing import file_sha256
from haetae.errors import IntegrityFailure, NotFound, RejectedInput

logger = logging.getLogger(__name__)

MANIFEST_FORMAT = "haetae-model-pack/1"
MODEL_FILE = "model.onnx"
MANIFEST_FILE = "manifest.json"
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
VERSION_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.+_-]{0,31}$")
TASK_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
RESAMPLING = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
}
HEADS = ("sigmoid", "softmax", "probability")
CALIBRATIONS = ("none", "platt", "temperature")
DEFAULT_FACE_MARGIN = 0.25
MAX_MANIFEST_BYTES = 1_000_000


def models_dir() -> Path:
    return Path(settings.DATA_DIR) / "models"


# --- the manifest ---


@dataclass(frozen=True)
class Manifest:
    """A checked ``manifest.json``: every field present, typed and within range."""

    name: str
    version: str
    sha256: str
    task: str
    label: str
    granularity: str
    description: str
    size: tuple[int, int]  # (height, width)
    resize: str
    colour_order: str
    layout: str
    scale: float
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    face_margin: float
    input_name: str
    output_name: str
    head: str
    index: int
    threshold: float
    calibration: dict[str, Any]
    validation: Any
    licence: str
    raw: dict[str, Any] = field(repr=False)

    def validation_summary(self) -> str:
        """The manifest's validation in one line for the model card, or "not validated"."""
        if not isinstance(self.validation, dict):
            return "not validated"
        metrics = ", ".join(f"{k}={v}" for k, v in sorted(self.validation.get("metrics", {}).items()))
        dataset = self.validation.get("dataset", "")
        notes = self.validation.get("notes", "")
        return "; ".join(p for p in (f"dataset {dataset}" if dataset else "", metrics, notes) if p)


def _number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def manifest_check(data: Any) -> Manifest:
    """Check a parsed manifest; raises RejectedInput naming every bad field at once."""
    errors: list[str] = []
    if not isinstance(data, dict):
        raise RejectedInput("manifest.json: must be a JSON object", details={"errors": ["not an object"]})

    def bad(path: str, problem: str) -> None:
        errors.append(f"{path}: {problem}")

    def text(obj: dict, path: str, key: str, pattern: re.Pattern | None = None, required: bool = True) -> str:
        value = obj.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            bad(path + key, "required, a non-empty string")
            return ""
        if pattern is not None and not pattern.match(value):
            bad(path + key, f"{value!r} does not match {pattern.pattern}")
        return value

    def choice(obj: dict, path: str, key: str, options: tuple[str, ...], default: str | None = None) -> str:
        value = obj.get(key, default)
        if value not in options:
            bad(path + key, f"must be one of {', '.join(options)}; got {value!r}")
            return options[0]
        return str(value)

    def triple(obj: dict, path: str, key: str, default: list[float], positive: bool = False) -> tuple:
        value = obj.get(key, default)
        if not (isinstance(value, list) and len(value) == 3 and all(_number(v) for v in value)):
            bad(path + key, f"must be three numbers (one per colour channel); got {value!r}")
            return (0.0, 0.0, 1.0)
        if positive and any(v <= 0 for v in value):
            bad(path + key, f"must be positive; got {value!r}")
        return tuple(float(v) for v in value)

    fmt = data.get("format")
    if fmt != MANIFEST_FORMAT:
        bad("format", f"must be {MANIFEST_FORMAT!r}; got {fmt!r}")
    name = text(data, "", "name", NAME_RE)
    version = text(data, "", "version", VERSION_RE)
    sha256 = text(data, "", "sha256", re.compile(r"^[0-9a-f]{64}$"))
    task = text(data, "", "task", TASK_RE)
    label = text(data, "", "label", TASK_RE)
    description = text(data, "", "description", required=False)
    licence = text(data, "", "licence")
    granularity = choice(data, "", "granularity", tuple(PackGranularity.values))

    pre = data.get("preprocessing")
    if not isinstance(pre, dict):
        bad("preprocessing", "required, an object (size, colour_order, layout, scale, mean, std)")
        pre = {}
    size_value = pre.get("size")
    size = (1, 1)
    if (
        isinstance(size_value, list)
        and len(size_value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 4096 for v in size_value)
    ):
        size = (size_value[0], size_value[1])
    else:
        bad("preprocessing.size", f"must be [height, width], two integers 1–4096; got {size_value!r}")
    resize = choice(pre, "preprocessing.", "resize", tuple(RESAMPLING), "bilinear")
    colour_order = choice(pre, "preprocessing.", "colour_order", ("RGB", "BGR"))
    layout = choice(pre, "preprocessing.", "layout", ("NCHW", "NHWC"))
    scale = pre.get("scale", 255)
    if not _number(scale) or scale <= 0:
        bad("preprocessing.scale", f"must be a positive number (pixels are divided by it); got {scale!r}")
        scale = 255
    mean = triple(pre, "preprocessing.", "mean", [0.0, 0.0, 0.0])
    std = triple(pre, "preprocessing.", "std", [1.0, 1.0, 1.0], positive=True)
    margin = pre.get("face_margin", DEFAULT_FACE_MARGIN)
    if not _number(margin) or not 0 <= margin <= 2:
        bad("preprocessing.face_margin", f"must be a number 0–2 (fraction of the face box); got {margin!r}")
        margin = DEFAULT_FACE_MARGIN
    input_name = text(pre, "preprocessing.", "input_name", required=False)

    out = data.get("output")
    if not isinstance(out, dict):
        bad("output", "required, an object (head, index)")
        out = {}
    head = choice(out, "output.", "head", HEADS)
    index = out.get("index", 0)
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        bad("output.index", f"must be a non-negative integer; got {index!r}")
        index = 0
    output_name = text(out, "output.", "name", required=False)

    threshold = data.get("threshold")
    if not _number(threshold) or not 0 <= threshold <= 1:
        bad("threshold", f"required, a number 0–1 applied to the calibrated score; got {threshold!r}")
        threshold = 0.5

    calibration = data.get("calibration", {"method": "none"})
    if not isinstance(calibration, dict):
        bad(
            "calibration", f"must be an object with a method ({', '.join(CALIBRATIONS)}); got {calibration!r}"
        )
        calibration = {"method": "none"}
    method = calibration.get("method")
    if method not in CALIBRATIONS:
        bad("calibration.method", f"must be one of {', '.join(CALIBRATIONS)}; got {method!r}")
    elif method == "platt":
        for key in ("a", "b"):
            if not _number(calibration.get(key)):
                bad(f"calibration.{key}", f"Platt scaling needs a number; got {calibration.get(key)!r}")
    elif method == "temperature":
        t = calibration.get("t")
        if not _number(t) or t <= 0:
            bad("calibration.t", f"temperature scaling needs a positive number; got {t!r}")

    validation = data.get("validation")
    if validation != "not validated":
        if not isinstance(validation, dict):
            bad("validation", 'required: an object (dataset, metrics, notes) or the string "not validated"')
        else:
            if not isinstance(validation.get("dataset"), str) or not validation["dataset"].strip():
                bad("validation.dataset", "required, the data set the metrics were measured on")
            metrics = validation.get("metrics")
            if not (isinstance(metrics, dict) and metrics and all(_number(v) for v in metrics.values())):
                bad(
                    "validation.metrics",
                    f"required, an object of named numbers (auc, eer …); got {metrics!r}",
                )

    if errors:
        raise RejectedInput(
            f"manifest.json has {len(errors)} problem(s): " + "; ".join(errors), details={"errors": errors}
        )
    return Manifest(
        name=name,
        version=version,
        sha256=sha256,
        task=task,
        label=label,
        granularity=granularity,
        description=description,
        size=size,
        resize=resize,
        colour_order=colour_order,
        layout=layout,
        scale=float(scale),
        mean=mean,
        std=std,
        face_margin=float(margin),
        input_name=input_name,
        output_name=output_name,
        head=head,
        index=index,
        threshold=float(threshold),
        calibration=dict(calibration),
        validation=validation,
        licence=licence,
        raw=data,
    )


# --- running a model ---


def _session(path: Path) -> Any:
    import onnxruntime as ort

    from detection.registry import onnx_session_options

    options = onnx_session_options()  # HAETAE_ONNX_THREADS; one per process in Celery workers
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


def _io_names(session: Any, manifest: Manifest) -> tuple[str, str]:
    """The input and output the manifest means, checked against the model; RejectedInput if they differ."""
    errors = []
    inputs = {i.name: i for i in session.get_inputs()}
    outputs = {o.name: o for o in session.get_outputs()}
    input_name = manifest.input_name or next(iter(inputs))
    output_name = manifest.output_name or next(iter(outputs))
    if input_name not in inputs:
        errors.append(
            f"preprocessing.input_name: the model has no input {input_name!r} ({', '.join(inputs)})"
        )
    if output_name not in outputs:
        errors.append(f"output.name: the model has no output {output_name!r} ({', '.join(outputs)})")
    if not errors:
        tensor = inputs[input_name]
        shape = list(tensor.shape)
        height, width = manifest.size
        expected = [None, 3, height, width] if manifest.layout == "NCHW" else [None, height, width, 3]
        if tensor.type != "tensor(float)":
            errors.append(f"model input {input_name!r} is {tensor.type}; packs feed float32 pixels")
        elif len(shape) != 4:
            errors.append(f"preprocessing.layout: model input {input_name!r} has shape {shape}, not 4-D")
        else:
            for axis, (have, want) in enumerate(zip(shape, expected, strict=True)):
                if want is not None and isinstance(have, int) and have != want:
                    errors.append(
                        f"preprocessing.size/layout: model input {input_name!r} has shape {shape}; "
                        f"axis {axis} should be {want} for {manifest.layout} {height}×{width}"
                    )
        out_shape = list(outputs[output_name].shape)
        last = out_shape[-1] if out_shape else 1
        if isinstance(last, int) and manifest.index >= last:
            errors.append(f"output.index: {manifest.index} is beyond the model's output shape {out_shape}")
    if errors:
        raise RejectedInput(
            "model.onnx does not fit its manifest: " + "; ".join(errors), details={"errors": errors}
        )
    return input_name, output_name


def _logit(p: float) -> float:
    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log(p / (1 - p))


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


def score_from_output(output: np.ndarray, manifest: Manifest) -> tuple[float, float]:
    """(raw value the head read, calibrated score 0–1) from one image's model output."""
    values = np.asarray(output, dtype=np.float64).reshape(-1)
    method = manifest.calibration.get("method", "none")
    raw = float(values[manifest.index])
    if manifest.head == "softmax":
        t = float(manifest.calibration["t"]) if method == "temperature" else 1.0
        shifted = values / t - np.max(values / t)
        probabilities = np.exp(shifted) / np.exp(shifted).sum()
        score = float(probabilities[manifest.index])
        if method == "platt":
            score = _sigmoid(
                float(manifest.calibration["a"]) * _logit(score) + float(manifest.calibration["b"])
            )
        return raw, score
    z = raw if manifest.head == "sigmoid" else _logit(raw)
    if method == "temperature":
        z = z / float(manifest.calibration["t"])
    elif method == "platt":
        z = float(manifest.calibration["a"]) * z + float(manifest.calibration["b"])
    return raw, _sigmoid(z)


def preprocess(rgb: np.ndarray, manifest: Manifest) -> np.ndarray:
    """RGB uint8 H×W×3 → the float32 batch of one that the manifest describes."""
    height, width = manifest.size
    image = Image.fromarray(rgb, mode="RGB").resize((width, height), RESAMPLING[manifest.resize])
    pixels: Any = np.asarray(image, dtype=np.float32)
    if manifest.colour_order == "BGR":
        pixels = pixels[:, :, ::-1]
    pixels = pixels / np.float32(manifest.scale)
    pixels = (pixels - np.asarray(manifest.mean, dtype=np.float32)) / np.asarray(
        manifest.std, dtype=np.float32
    )
    if manifest.layout == "NCHW":
        pixels = pixels.transpose(2, 0, 1)
    return np.ascontiguousarray(pixels[np.newaxis], dtype=np.float32)


def _decimal(value: float) -> str:
    return repr(float(value))


class PackDetector:
    """An enabled model pack as a detector: ``pack:<name>``, checked by SHA-256 when it loads."""

    def __init__(self, *, manifest: Manifest, path: Path, manifest_sha256: str) -> None:
        self.manifest = manifest
        self.path = path
        self.frame_capable = manifest.granularity == PackGranularity.FRAME
        self._session: Any = None
        self._names: tuple[str, str] = ("", "")
        m = manifest
        self.info = DetectorInfo(
            name=f"pack:{m.name}",
            version=m.version,
            media_types=frozenset({"image"}),
            parameters={
                "pack": m.name,
                "task": m.task,
                "label": m.label,
                "granularity": m.granularity,
                "input_size": f"{m.size[0]}x{m.size[1]}",
                "resize": m.resize,
                "colour_order": m.colour_order,
                "layout": m.layout,
                "scale": _decimal(m.scale),
                "mean": ",".join(_decimal(v) for v in m.mean),
                "std": ",".join(_decimal(v) for v in m.std),
                "face_margin": _decimal(m.face_margin),
                "output_head": m.head,
                "output_index": m.index,
                "threshold": _decimal(m.threshold),
                "calibration": canonical_json(
                    {k: (_decimal(v) if isinstance(v, float) else v) for k, v in m.calibration.items()}
                ).decode(),
                "manifest_sha256": manifest_sha256,
                "runtime": f"onnxruntime {package_version('onnxruntime')}",
                "pixels": "upright RGB (EXIF orientation applied)",
            },
            model_sha256=m.sha256,
            model_card=f"docs/model-packs.md; manifest of pack {m.name} {m.version}",
            licence=m.licence[:100],
            validation=m.validation_summary(),
        )

    @classmethod
    def for_pack(cls, pack: ModelPack) -> "PackDetector":
        """The detector for an imported pack; its file is found by SHA-256 in this installation's data dir."""
        return cls(
            manifest=manifest_check(pack.manifest),
            path=models_dir() / f"{pack.sha256}.onnx",
            manifest_sha256=pack.manifest_sha256,
        )

    def load(self) -> None:
        """Hash the model file and refuse it unless it is the imported one; then open it (once)."""
        if self._session is not None:  # loaded in this process already (e.g. through its video adapter)
            return
        if not self.path.exists():
            raise IntegrityFailure(
                f"model file of pack {self.manifest.name} {self.manifest.version} is missing at {self.path}: "
                "re-import the pack (manage.py import_model PATH)",
                details={"pack": self.manifest.name, "path": str(self.path)},
            )
        found = file_sha256(self.path)
        if found != self.manifest.sha256:
            raise IntegrityFailure(
                f"model file of pack {self.manifest.name} {self.manifest.version} at {self.path} has SHA-256 "
                f"{found}, not the imported {self.manifest.sha256}: the file was replaced or damaged; "
                "nothing was analysed. Re-import the pack from its original source.",
                details={"pack": self.manifest.name, "expected": self.manifest.sha256, "found": found},
            )
        session = _session(self.path)
        self._names = _io_names(session, self.manifest)
        self._session = session

    def score(self, rgb: np.ndarray) -> tuple[float, float]:
        """(raw head value, calibrated score) for one RGB picture."""
        if self._session is None:
            self.load()
        outputs = self._session.run([self._names[1]], {self._names[0]: preprocess(rgb, self.manifest)})
        return score_from_output(outputs[0][0], self.manifest)

    def analyze(self, subject: Subject) -> list[Finding]:
        m = self.manifest
        if m.granularity == PackGranularity.FACE:
            regions = _face_regions(subject)
        else:
            regions = [(None, "whole picture")]
        picture = subject.upright
        findings = []
        for region, source in regions:
            crop = _crop(picture, region, m.face_margin) if region is not None else None
            if region is None and m.granularity == PackGranularity.FACE:
                source = "whole image: no face annotations on this item (run a face detector first)"
            elif region is not None and crop is None:
                source = f"whole image: {source} lies outside the picture"
            raw, score = self.score(crop if crop is not None else picture)
            if not (math.isfinite(raw) and math.isfinite(score)):
                raise ValueError(
                    f"pack {m.name} {m.version} gave a non-finite output ({raw}) for this picture: "
                    "the model or its manifest is wrong; disable the pack (manage.py model_packs disable)"
                )
            findings.append(
                Finding(
                    label=m.label,
                    category="model_pack",
                    score=score,
                    region=region,
                    details={
                        "pack": m.name,
                        "pack_version": m.version,
                        "task": m.task,
                        "granularity": m.granularity,
                        "raw_output": raw,
                        "threshold": m.threshold,
                        "above_threshold": score >= m.threshold,
                        "input": source,
                        "image_width": int(picture.shape[1]),
                        "image_height": int(picture.shape[0]),
                    },
                )
            )
        return findings


def _face_regions(subject: Subject) -> list[tuple[dict[str, int] | None, str]]:
    """Face boxes (label or category "face", upright pixels) of the latest run that found any on this item
    (dlib's faces, NudeNet's FACE_* boxes), or one whole-image entry."""
    if subject.item_id is None:
        return [(None, "")]
    faces = (
        Annotation.objects.filter(Q(label="face") | Q(category="face"), item_id=subject.item_id)
        .filter(region__isnull=False)
        .exclude(detector_name__startswith="pack:")
        .order_by("-run_id", "id")
    )
    latest = faces.values_list("run_id", flat=True).first()
    if latest is None:
        return [(None, "")]
    regions: list[tuple[dict[str, int] | None, str]] = []
    for face in faces.filter(run_id=latest):
        box = face.region or {}
        if not all(isinstance(box.get(k), int | float) for k in ("x", "y", "w", "h")):
            continue
        region = {k: int(box[k]) for k in ("x", "y", "w", "h")}
        regions.append((region, f"face annotation {face.pk} ({face.detector_name} {face.detector_version})"))
    return regions or [(None, "")]


def _crop(picture: np.ndarray, region: dict[str, int], margin: float) -> np.ndarray | None:
    """The face box grown by ``margin`` of its size on each side, clipped to the picture (None: outside)."""
    height, width = picture.shape[:2]
    grow_x, grow_y = int(region["w"] * margin), int(region["h"] * margin)
    x0, y0 = max(0, region["x"] - grow_x), max(0, region["y"] - grow_y)
    x1 = min(width, region["x"] + region["w"] + grow_x)
    y1 = min(height, region["y"] + region["h"] + grow_y)
    if x1 <= x0 or y1 <= y0:
        return None
    return picture[y0:y1, x0:x1]


def pack_detectors() -> list[PackDetector]:
    """The registry's source of pack detectors: every enabled pack (models load later, in ``load``)."""
    try:
        packs = list(ModelPack.objects.filter(enabled=True))
    except (DatabaseError, RuntimeError) as exc:  # before migrate, or where no database may be used
        logger.warning("model packs not registered: %s", exc)
        return []
    found = []
    for pack in packs:
        try:
            found.append(PackDetector.for_pack(pack))
        except RejectedInput as exc:  # a manifest changed in the database after import: never run it
            logger.error("model pack %s %s not registered: %s", pack.name, pack.version, exc.message)
    return found


_seen_state: str | None = None


def packs_refresh() -> bool:
    """Reset the registry if the enabled packs changed since this process last looked (call per task)."""
    global _seen_state
    state = ",".join(
        f"{pk}:{sha}"
        for pk, sha in ModelPack.objects.filter(enabled=True).order_by("pk").values_list("pk", "sha256")
    )
    changed = _seen_state is not None and state != _seen_state
    _seen_state = state
    if changed:
        registry.reset()
    return changed


# --- import ---


@contextmanager
def _open_source(path: Path) -> Iterator[tuple[bytes, IO[bytes]]]:
    """(manifest bytes, model stream) from a pack directory or a zip of one."""
    if path.is_dir():
        manifest_path, model_path = path / MANIFEST_FILE, path / MODEL_FILE
        missing = [p.name for p in (manifest_path, model_path) if not p.is_file()]
        if missing:
            raise RejectedInput(f"{path} lacks {' and '.join(missing)}: a pack is model.onnx + manifest.json")
        with open(manifest_path, "rb") as fh:
            manifest_bytes = fh.read(MAX_MANIFEST_BYTES + 1)
        if len(manifest_bytes) > MAX_MANIFEST_BYTES:
            raise RejectedInput(f"{manifest_path} is over 1 MB; a manifest is a short JSON object")
        with open(model_path, "rb") as model:
            yield manifest_bytes, model
        return
    if not path.is_file():
        raise RejectedInput(f"{path} does not exist: give a pack directory or a .zip of one")
    if not zipfile.is_zipfile(path):
        raise RejectedInput(f"{path} is neither a directory nor a zip file")
    with zipfile.ZipFile(path) as archive:
        names = {Path(n).name: n for n in archive.namelist() if Path(n).name in (MODEL_FILE, MANIFEST_FILE)}
        names = {k: v for k, v in names.items() if v.count("/") <= 1}  # at the root or in one folder
        missing = [n for n in (MANIFEST_FILE, MODEL_FILE) if n not in names]
        if missing:
            raise RejectedInput(f"{path} lacks {' and '.join(missing)} (at its root or in one top folder)")
        if archive.getinfo(names[MANIFEST_FILE]).file_size > MAX_MANIFEST_BYTES:
            raise RejectedInput(f"{path}: manifest.json is over 1 MB; a manifest is a short JSON object")
        manifest_bytes = archive.read(names[MANIFEST_FILE])
        with archive.open(names[MODEL_FILE]) as model:
            yield manifest_bytes, model


@dataclass
class PackEnableResult:
    """What enabling did: the pack, the version it replaced, the re-scan it offers and jobs it made."""

    pack: ModelPack
    replaced: ModelPack | None
    offer: dict[str, Any]
    jobs: list[ScanJob]


@dataclass
class PackImportResult:
    """The imported pack; ``restored`` when its stored file was missing or altered and was put back."""

    pack: ModelPack
    created: bool
    restored: bool = False
    enabled: PackEnableResult | None = None


def _copy_hashing(stream: IO[bytes], target: Path, limit: int) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(target, "wb") as out:
        for chunk in iter(lambda: stream.read(1024 * 1024), b""):
            size += len(chunk)
            if size > limit:
                raise RejectedInput(
                    f"model.onnx is over {limit} bytes (HAETAE_MODEL_PACK_MAX_BYTES); "
                    "raise the limit if the model is really this large"
                )
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest(), size


def pack_import(*, path: Path, actor: User | None, enable: bool = False) -> PackImportResult:
    """Import a pack from a directory or zip: validate, hash, check with onnxruntime, store read-only."""
    directory = models_dir()
    directory.mkdir(parents=True, exist_ok=True)
    temp = directory / f".import-{os.getpid()}-{os.urandom(6).hex()}.part"
    try:
        with _open_source(path) as (manifest_bytes, model):
            try:
                data = json.loads(manifest_bytes)
            except (ValueError, UnicodeDecodeError) as exc:
                raise RejectedInput(f"manifest.json is not valid JSON: {exc}") from exc
            manifest = manifest_check(data)
            sha256, size = _copy_hashing(model, temp, int(settings.HAETAE_MODEL_PACKS["MAX_MODEL_BYTES"]))
        if sha256 != manifest.sha256:
            raise IntegrityFailure(
                f"model.onnx has SHA-256 {sha256}, but manifest.json says {manifest.sha256}: the model was "
                "altered or the manifest belongs to another model; nothing was imported",
                details={"expected": manifest.sha256, "found": sha256},
            )
        final = directory / f"{sha256}.onnx"
        existing = ModelPack.objects.filter(name=manifest.name, version=manifest.version).first()
        if existing is not None:
            if existing.sha256 != sha256 or existing.manifest_sha256 != _manifest_sha256(manifest.raw):
                what = "model" if existing.sha256 != sha256 else "manifest"
                raise RejectedInput(
                    f"pack {manifest.name} version {manifest.version} was already imported with another "
                    f"{what}; give the new one a new version"
                )
            restored = _place(temp, final, sha256) != "kept"
            result = PackImportResult(pack=existing, created=False, restored=restored)
        else:
            try:
                session = _session(temp)
            except Exception as exc:  # onnxruntime raises its own types for a file it cannot load
                raise RejectedInput(f"model.onnx cannot be loaded by onnxruntime: {exc}") from exc
            _io_names(session, manifest)
            _check_runs(session, manifest)
            restored = _place(temp, final, sha256) == "replaced"
            try:
                with transaction.atomic():
                    pack = _record(manifest, final, size, path, actor)
            except IntegrityError:
                raise RejectedInput(
                    f"pack {manifest.name} {manifest.version} was imported by someone else meanwhile: "
                    "run the import again to see it"
                ) from None
            result = PackImportResult(pack=pack, created=True, restored=restored)
    finally:
        temp.unlink(missing_ok=True)
    if enable:
        result.enabled = pack_enable(pack=result.pack, actor=actor)
    return result


def _place(temp: Path, final: Path, sha256: str) -> str:
    """Put the verified model at its read-only place: "kept" (already intact), "placed" or "replaced"."""
    if not final.exists():
        state = "placed"
    elif file_sha256(final) == sha256:
        return "kept"
    else:
        state = "replaced"
        logger.warning("model file %s did not hash to its name; replaced by the verified import", final)
    temp.chmod(0o444)
    temp.replace(final)
    return state


def _manifest_sha256(raw: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(raw, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _check_runs(session: Any, manifest: Manifest) -> None:
    """Run the model once on a grey picture: a pack that cannot produce a score is refused at import."""
    input_name, output_name = _io_names(session, manifest)
    grey = np.full((manifest.size[0], manifest.size[1], 3), 128, dtype=np.uint8)
    try:
        output = session.run([output_name], {input_name: preprocess(grey, manifest)})[0][0]
        _, score = score_from_output(output, manifest)
    except Exception as exc:  # any failure here means the pack cannot work as declared
        raise RejectedInput(f"model.onnx does not run as its manifest describes: {exc}") from exc
    if not math.isfinite(score):
        raise RejectedInput("model.onnx gives a non-finite score on a grey test picture; check output.head")


def _record(manifest: Manifest, final: Path, size: int, source: Path, actor: User | None) -> ModelPack:
    raw = manifest.raw
    return ModelPack.objects.create(
        name=manifest.name,
        version=manifest.version,
        sha256=manifest.sha256,
        size=size,
        manifest=raw,
        manifest_sha256=_manifest_sha256(raw),
        task=manifest.task,
        granularity=manifest.granularity,
        licence=manifest.licence[:100],
        file_path=str(final),
        source=str(source)[:500],
        imported_by=actor,
    )


# --- enabling ---


def pack_detector_names(pack: ModelPack) -> list[str]:
    """The detectors an enabled pack becomes: ``pack:<name>``, and ``video:pack:<name>`` for frame packs."""
    names = [pack.detector_name]
    if pack.granularity == PackGranularity.FRAME:
        names.append(f"video:{pack.detector_name}")
    return names


def _items_in_scope(detector_names: list[str], case: Any) -> int:
    """How many stored items these detectors re-scan: images for ``pack:``, videos for ``video:``."""
    from evidence.choices import ItemStatus
    from evidence.models import EvidenceItem

    prefixes = {"video/" if name.startswith("video:") else "image/" for name in detector_names}
    media = Q()
    for prefix in sorted(prefixes):
        media |= Q(mime__startswith=prefix) | Q(mime="", blob__mime__startswith=prefix)
    items = EvidenceItem.objects.filter(media, status=ItemStatus.INGESTED, blob__isnull=False)
    if case is not None:
        items = items.filter(case=case)
    return items.count()


def pack_enable(
    *, pack: ModelPack, actor: User | None, rescan_case: Any = None, rescan_all: bool = False
) -> PackEnableResult:
    """Enable ``pack`` (disabling its other versions); offer a re-scan, or queue it when asked.

    The model file is hashed first: a swapped file is refused before anything changes. A re-scan is a
    ``ScanJob(kind="rescan")`` per detector the pack becomes, over ``rescan_case`` or the whole vault,
    started after the switch commits (``_rescan_start``). Annotations of earlier versions stay.
    """
    if rescan_case is not None and rescan_all:
        raise RejectedInput("re-scan either one case or the whole vault, not both")
    PackDetector.for_pack(pack).load()  # refuses a missing or swapped file (IntegrityFailure)
    with transaction.atomic():
        others = (
            ModelPack.objects.select_for_update().filter(name=pack.name, enabled=True).exclude(pk=pack.pk)
        )
        replaced = others.first()
        others.update(enabled=False)
        if not pack.enabled:
            pack.enabled = True
            pack.enabled_by = actor
            pack.enabled_at = timezone.now()
            pack.save(update_fields=["enabled", "enabled_by", "enabled_at"])
    registry.reset()
    names = pack_detector_names(pack)
    jobs = []
    if rescan_case is not None or rescan_all:
        jobs = [_rescan_start(detector_name=name, case=rescan_case, actor=actor) for name in names]
    offer = {
        "detectors": names,
        "version": pack.version,
        "replaces": replaced.version if replaced is not None else None,
        "items_in_vault": _items_in_scope(names, None),
        "commands": [f"manage.py rescan --detector {n} [--case NUMBER]" for n in names],
        "note": "earlier annotations stay; a re-scan adds this version's annotations beside them",
    }
    return PackEnableResult(pack=pack, replaced=replaced, offer=offer, jobs=jobs)


def _rescan_start(*, detector_name: str, case: Any, actor: User | None) -> ScanJob:
    """Start a re-scan by one detector over a case or the vault.

    Where the Celery pipeline is installed (``detection.pipeline.scan_job_create``) it creates the job,
    queues a run per item and sends the tasks on commit; otherwise the job is recorded, with the number of
    items it covers, for a runner to take up.
    """
    try:
        pipeline = importlib.import_module("detection.pipeline")
    except ModuleNotFoundError as exc:
        if exc.name != "detection.pipeline":
            raise
        return ScanJob.objects.create(
            kind=JobKind.RESCAN,
            case=case,
            detector_name=detector_name,
            requested_by=actor,
            total=_items_in_scope([detector_name], case),
        )
    job, _ = pipeline.scan_job_create(
        kind=JobKind.RESCAN,
        case_id=case.pk if case is not None else None,
        detector_name=detector_name,
        actor=actor,
        send=True,
    )
    return job


def pack_disable(*, pack: ModelPack, actor: User | None) -> ModelPack:
    """Stop running ``pack`` (recording who and when); its annotations stay."""
    if pack.enabled:
        ModelPack.objects.filter(pk=pack.pk).update(
            enabled=False, disabled_by=actor, disabled_at=timezone.now()
        )
        registry.reset()
    pack.refresh_from_db()
    return pack


def pack_get(*, name: str, version: str | None = None) -> ModelPack:
    """A pack by name: the given version, else the enabled one, else the latest imported."""
    packs = ModelPack.objects.filter(name=name)
    if version is not None:
        packs = packs.filter(version=version)
    pack = packs.order_by("-enabled", "-imported_at").first()
    if pack is None:
        known = ", ".join(f"{n} {v}" for n, v in ModelPack.objects.values_list("name", "version")) or "none"
        wanted = f"{name} {version}" if version else name
        raise NotFound(f"no model pack {wanted}; imported: {known}")
    return pack


def pack_describe(pack: ModelPack) -> dict[str, Any]:
    """What an operator or a report shows about a pack."""
    return {
        "name": pack.name,
        "version": pack.version,
        "sha256": pack.sha256,
        "size": pack.size,
        "task": pack.task,
        "granularity": pack.granularity,
        "licence": pack.licence,
        "detectors": pack_detector_names(pack),
        "enabled": pack.enabled,
        "enabled_at": pack.enabled_at.isoformat() if pack.enabled_at else None,
        "imported_at": pack.imported_at.isoformat(),
        "imported_by": pack.imported_by.get_username() if pack.imported_by else None,
        "file": pack.file_path,
        "manifest_sha256": pack.manifest_sha256,
        "validation": manifest_check(pack.manifest).validation_summary(),
    }
