"""Detector rows, bank matches, PDQ stand-ins, hash indexes and tiny model packs."""

import hashlib
import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pdqhash
import pytest
from django.utils import timezone

from detection import registry
from detection.registry import DetectorInfo, Finding
from detection.services import detection_run
from detection.subject import Subject
from evidence.models import EvidenceItem
from tests.factories.access import Team
from tests.factories.evidence import stored_item


def detection_rows(
    *, item: Any, name: str, label: str = "matrix-finding", category: str = "test"
) -> tuple[Any, Any]:
    """A finished detector run with one finding on ``item``, written directly (the pipeline and its
    custody events are tested in tests/detection); returns (run, annotation)."""
    from detection.models import Annotation, DetectionRun, Detector
    from detection.models.runs import RunStatus

    detector = Detector.objects.create(name=name, version="1")
    now = timezone.now()
    run = DetectionRun.objects.create(
        item=item, detector=detector, status=RunStatus.DONE, input_sha256=item.blob_id, finished_at=now
    )
    annotation = Annotation.objects.create(
        run=run,
        item=item,
        label=label,
        category=category,
        score=0.5,
        region={"x": 0, "y": 0, "w": 8, "h": 8},
        details={"matrix": True},
        detector_name=name,
        detector_version="1",
        input_sha256=item.blob_id,
        ran_at=now,
    )
    return run, annotation


def bank_match(*, item: Any, bank: Any, sha256: str, recipient: Any = None) -> tuple[Any, Any]:
    """A bank entry, a match of ``item`` against it, and (with ``recipient``) an alert to them, written
    directly (matching itself is tested in tests/detection); returns (match, alert or None)."""
    from detection.models import BankEntry, Match, MatchAlert

    entry = BankEntry.objects.create(bank=bank, sha256=sha256, label="matrix entry")
    match = Match.objects.create(item=item, entry=entry, kind="sha256", distance=0)
    alert = None
    if recipient is not None:
        alert = MatchAlert.objects.create(match=match, recipient=recipient, case=item.case)
    return match, alert


class PdqTestDetector:
    """Computes real PDQ hashes with pdqhash and stores them in the agreed shape (detection's contract).

    Stands in for the detection helper's PDQ detector, which is not in this branch: the rows it writes are
    what that detector writes (detector_name "pdq", label "pdq", category "perceptual_hash", details hash
    + quality).
    """

    def __init__(self) -> None:
        self.info = DetectorInfo(
            name="pdq", version="test-1", media_types=frozenset({"image"}), parameters={}
        )

    def load(self) -> None:
        pass

    def analyze(self, subject: Subject) -> list[Finding]:
        return [Finding(label="pdq", category="perceptual_hash", details=pdq_details(subject.pixels))]


class FramePdqTestDetector(PdqTestDetector):
    """Like a video detector hashing sampled frames: one PDQ per frame, with the frame's time.

    The "frames" here are the picture, the same picture again (a repeat: one hash), and it mirrored."""

    def __init__(self) -> None:
        self.info = DetectorInfo(
            name="video_pdq", version="test-1", media_types=frozenset({"image"}), parameters={}
        )

    def analyze(self, subject: Subject) -> list[Finding]:
        frames = [(0, subject.pixels), (1000, subject.pixels), (2000, subject.pixels[:, ::-1])]
        return [
            Finding(
                label="pdq",
                category="perceptual_hash",
                time_start_ms=at,
                time_end_ms=at,
                details=pdq_details(pixels),
            )
            for at, pixels in frames
        ]


def pdq_details(pixels: np.ndarray) -> dict:
    bits, quality = pdqhash.compute(np.ascontiguousarray(pixels))
    value = int("".join(str(int(b)) for b in bits), 2)
    return {"hash": f"{value:064x}", "quality": int(quality)}


def pdq_annotate(item: EvidenceItem) -> str:
    """Run the PDQ stand-in on the item; returns the hash it stored."""
    detection_run(item=item, detector=PdqTestDetector())
    annotation = item.annotations.get(detector_name="pdq", label="pdq")
    return str(annotation.details["hash"])


def frame_pdq_annotate(item: EvidenceItem) -> list[str]:
    """Run the frame-hashing stand-in on the item; returns the hashes it stored, in frame order."""
    detection_run(item=item, detector=FramePdqTestDetector())
    rows = item.annotations.filter(detector_name="video_pdq", label="pdq").order_by("time_start_ms")
    return [str(a.details["hash"]) for a in rows]


def faces_item(t: Team, data: bytes, name: str, mime: str = "image/jpeg") -> EvidenceItem:
    """An item stored by the team's lead and run through the real faces detector (needs the faces extra)."""
    item = stored_item(case=t.case, data=data, actor=t.lead, name=name, mime=mime)
    detection_run(item=item, detector=registry.detector_get("faces"))
    return item


@pytest.fixture
def fresh_hash_indexes() -> Iterator[None]:
    """The in-memory PDQ indexes start empty and rebuild from this test's database."""
    from detection.matching import reset_indexes

    reset_indexes()
    yield
    reset_indexes()


def conformance_dir() -> Path:
    """``../shared/testdata/pdq`` beside the checkout (or beside the worktrees' folder); when it is missing,
    a skip on a developer's machine and a failure under CI (tests/conftest.py's ``require_testdata``)."""
    from tests.conftest import is_ci, require_testdata

    repo = Path(__file__).resolve().parents[2]
    for base in (repo.parent, repo.parent.parent):
        candidate = base / "shared" / "testdata" / "pdq"
        if candidate.is_dir():
            return candidate
    return require_testdata(repo.parent / "shared" / "testdata" / "pdq", under_ci=is_ci(os.environ))


def tiny_model(
    *,
    size: tuple[int, int] = (8, 8),
    layout: str = "NCHW",
    weight: float = 8.0,
    bias: float = -4.0,
    outputs: int = 1,
) -> bytes:
    """An ONNX graph: sigmoid-able logit = weight · mean(input) + bias (per output, shifted by its index).

    A real model in miniature: its score rises with the picture's brightness, so a test can predict it.
    """
    from onnx import TensorProto, helper

    height, width = size
    shape = [1, 3, height, width] if layout == "NCHW" else [1, height, width, 3]
    x = helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["batch", *shape[1:]])
    y = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", outputs])
    nodes = [
        helper.make_node("ReduceMean", ["pixels", "axes"], ["mean"], keepdims=0),
        helper.make_node("Reshape", ["mean", "shape"], ["mean_col"]),
        helper.make_node("Mul", ["mean_col", "w"], ["scaled"]),
        helper.make_node("Add", ["scaled", "b"], ["logits"]),
    ]
    initialisers = [
        helper.make_tensor("axes", TensorProto.INT64, [3], [1, 2, 3]),
        helper.make_tensor("shape", TensorProto.INT64, [2], [-1, 1]),
        helper.make_tensor("w", TensorProto.FLOAT, [1, outputs], [weight] * outputs),
        helper.make_tensor("b", TensorProto.FLOAT, [1, outputs], [bias + i for i in range(outputs)]),
    ]
    graph = helper.make_graph(nodes, "brightness", [x], [y], initialisers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    return model.SerializeToString()


def manifest_for(model: bytes, **overrides: Any) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "format": "haetae-model-pack/1",
        "name": "brightness-test",
        "version": "1.0.0",
        "sha256": hashlib.sha256(model).hexdigest(),
        "task": "test_brightness",
        "label": "bright_picture",
        "granularity": "image",
        "description": "test pack: sigmoid of a weighted mean brightness",
        "preprocessing": {
            "size": [8, 8],
            "resize": "bilinear",
            "colour_order": "RGB",
            "layout": "NCHW",
            "scale": 255,
            "mean": [0.0, 0.0, 0.0],
            "std": [1.0, 1.0, 1.0],
        },
        "output": {"head": "sigmoid", "index": 0},
        "threshold": 0.5,
        "calibration": {"method": "none"},
        "validation": "not validated",
        "licence": "AGPL-3.0-or-later",
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(manifest.get(key), dict):
            manifest[key] = {**manifest[key], **value}
        else:
            manifest[key] = value
    return manifest


def write_pack(
    directory: Path, *, model: bytes | None = None, as_zip: bool = False, **overrides: Any
) -> tuple[Path, dict[str, Any]]:
    """A pack directory (or a zip of one) with ``model.onnx`` and ``manifest.json``."""
    model = model if model is not None else tiny_model()
    manifest = manifest_for(model, **overrides)
    directory.mkdir(parents=True, exist_ok=True)
    if as_zip:
        target = directory.with_suffix(".zip")
        with zipfile.ZipFile(target, "w") as archive:
            archive.writestr("pack/model.onnx", model)
            archive.writestr("pack/manifest.json", json.dumps(manifest))
        return target, manifest
    (directory / "model.onnx").write_bytes(model)
    (directory / "manifest.json").write_text(json.dumps(manifest))
    return directory, manifest


def measured_validation(*, detector_name: str, folder: Path, actor: Any) -> Any:
    """A ``DetectorValidation`` of a registered detector on a generated two-image set (one light, one dark
    grey picture): real counts for whatever the detector makes of them."""
    import io

    from PIL import Image

    from detection.registry import detector_get
    from detection.validation import LabelledFile, detector_validate

    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for name, value, label in [("light.png", 230, "positive"), ("dark.png", 20, "negative")]:
        buffer = io.BytesIO()
        Image.new("RGB", (64, 64), (value, value, value)).save(buffer, "PNG")
        (folder / name).write_bytes(buffer.getvalue())
        files.append(LabelledFile(name, folder / name, label))
    return detector_validate(
        detector=detector_get(detector_name), files=files, source=str(folder), actor=actor
    )
