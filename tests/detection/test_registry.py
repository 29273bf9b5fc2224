"""The registry: entry points, HAETAE_EXTRA_DETECTORS and dynamic sources; broken plug-ins are left out
with their reason; models load once per process; onnxruntime's thread budget comes from settings."""

from typing import Any

import pytest

from detection import registry
from detection.detectors.c2pa import C2paDetector
from detection.detectors.genmeta import GeneratorMetadataDetector
from detection.detectors.jpeg_forensics import JpegForensicsDetector
from detection.detectors.watermark import WatermarkDetector
from haetae.errors import RejectedInput
from tests.detection.conftest import PLUGINS


@pytest.fixture
def fresh(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(registry, "ENTRY_POINT_GROUP", "haetae.detectors.none-in-tests")
    registry.reset()
    yield settings
    registry.reset()


@pytest.mark.parametrize(
    ("name", "detector_class"),
    [
        ("c2pa", C2paDetector),
        ("generator-metadata", GeneratorMetadataDetector),
        ("jpeg-forensics", JpegForensicsDetector),
        ("generator-watermark", WatermarkDetector),
    ],
)
def test_built_in_detectors_register_through_the_entry_point(name: str, detector_class: type) -> None:
    registry.reset()
    detector = registry.detector_get(name)
    assert isinstance(detector, detector_class) and detector.info.name == name
    assert detector.info.model_card.startswith("docs/detectors/")


def test_extra_detectors_come_from_the_setting(fresh) -> None:
    fresh.HAETAE_EXTRA_DETECTORS = [PLUGINS]
    assert sorted(registry.detectors()) == ["test-brightness", "test-channel"]
    assert registry.load_errors() == {}


def test_broken_sources_are_left_out_with_their_reason_and_the_others_stay(fresh) -> None:
    fresh.HAETAE_EXTRA_DETECTORS = [
        PLUGINS,
        "no_colon_here",
        "tests.detection.no_such_module:factory",
        "tests.detection.plugins:broken_factory",
    ]
    assert sorted(registry.detectors()) == ["test-brightness", "test-channel"]
    errors = registry.load_errors()
    assert "must look like 'module:factory'" in errors["no_colon_here"]
    assert (
        "cannot import tests.detection.no_such_module:factory"
        in errors["tests.detection.no_such_module:factory"]
    )
    assert "RuntimeError: model file missing" in errors["tests.detection.plugins:broken_factory"]


def test_an_entry_point_that_fails_to_import_is_left_out(fresh, monkeypatch) -> None:
    class BrokenEntryPoint:
        name = "faces"
        value = "haetae_faces.detector:FaceDetector"

        def load(self) -> Any:
            raise ImportError("No module named 'dlib'")

    class GoodEntryPoint:
        name = "test"
        value = PLUGINS

        def load(self) -> Any:
            from tests.detection.plugins import factory

            return factory

    monkeypatch.setattr(registry, "entry_points", lambda group: [BrokenEntryPoint(), GoodEntryPoint()])
    assert sorted(registry.detectors()) == ["test-brightness", "test-channel"]
    assert "No module named 'dlib'" in registry.load_errors()["faces"]


def test_dynamic_sources_and_unknown_names(fresh) -> None:
    from tests.detection.plugins import BrightnessDetector

    registry.register_dynamic("packs", lambda: [BrightnessDetector(version="pack-2")])
    try:
        assert registry.detector_get("test-brightness").info.version == "pack-2"
        with pytest.raises(RejectedInput, match="no detector named 'deepfake'; available: test-brightness"):
            registry.detector_get("deepfake")
    finally:
        registry._dynamic.pop("packs")


def test_models_load_once_per_process_and_a_failed_load_is_tried_again(fresh) -> None:
    class Loader:
        def __init__(self) -> None:
            self.loads = 0

        def load(self) -> None:
            self.loads += 1
            if self.loads == 1:
                raise OSError("model file not readable yet")

    detector: Any = Loader()
    with pytest.raises(OSError):
        registry.ensure_loaded(detector)
    registry.ensure_loaded(detector)
    registry.ensure_loaded(detector)
    assert detector.loads == 2


def test_onnx_threads_zero_leaves_onnxruntime_its_default(fresh) -> None:
    fresh.HAETAE_ONNX_THREADS = 0
    assert registry.onnx_session_options().intra_op_num_threads == 0
    fresh.HAETAE_ONNX_THREADS = 2
    options = registry.onnx_session_options()
    assert (options.intra_op_num_threads, options.inter_op_num_threads) == (2, 1)


WORKER_THREADS_PROBE = """
import json, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haetae.settings")
import django
django.setup()
import cv2
import numpy
from django.conf import settings
from threadpoolctl import threadpool_info
from detection.registry import one_thread_per_library, onnx_session_options

numpy.ones((256, 256)) @ numpy.ones((256, 256))  # BLAS started with its own thread count
before = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
one_thread_per_library()
after = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] in {"blas", "openmp"}]
print(json.dumps({
    "before": before, "after": after, "cv2": cv2.getNumThreads(),
    "onnx": onnx_session_options().intra_op_num_threads, "setting": settings.HAETAE_ONNX_THREADS,
}))
"""


def test_a_detection_worker_runs_every_library_on_one_thread(tmp_path) -> None:
    """One worker process per core: a worker's own threads (numpy's BLAS above all, whose idle threads spin)
    only take CPU from the other workers, so each worker runs onnxruntime, OpenCV and BLAS on one thread."""
    import json
    import os
    import subprocess
    import sys

    env = {key: value for key, value in os.environ.items() if not key.endswith("_NUM_THREADS")}
    env.pop("HAETAE_ONNX_THREADS", None)
    env["HAETAE_DATA_DIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", WORKER_THREADS_PROBE], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["before"], "numpy's BLAS was not found by threadpoolctl"
    assert seen["after"] and set(seen["after"]) == {1}
    assert (seen["cv2"], seen["onnx"], seen["setting"]) == (1, 1, 1)
