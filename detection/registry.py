"""The detector registry: detectors are plug-ins found through the ``haetae.detectors`` entry points.

Built-in detectors register exactly as a third-party package would, in ``pyproject.toml``::

    [project.entry-points."haetae.detectors"]
    pdq = "detection.detectors.pdq:PdqDetector"

An entry point names a class (or a factory) whose instances satisfy ``Detector``. Operator-imported ONNX
model packs are added to the registry from the database (``detection.packs``) through
``register_dynamic``; the setting ``HAETAE_EXTRA_DETECTORS`` (env, comma-separated ``module:factory``)
adds factories the same way without packaging (tests, a site's own detector under development).
``load`` is called once per process before the first analysis (``ensure_loaded``); Celery workers call it
for every detector right after fork (``detection.tasks``).

A detector whose entry point fails to import is left out and its error kept (``load_errors``), so one
broken plug-in does not stop the others; ``GET /api/v1/detectors/`` and the logs show it.
"""

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any, Protocol

from detection.subject import Subject

ENTRY_POINT_GROUP = "haetae.detectors"
logger = logging.getLogger(__name__)


class DetectorUnavailable(Exception):
    """Raised by a detector factory whose optional dependency is missing; the message says what to install."""


@dataclass(frozen=True)
class DetectorInfo:
    """What a detector declares about itself; copied into every annotation's provenance."""

    name: str
    version: str
    media_types: frozenset[str]  # "image", "video", "audio"
    parameters: dict[str, Any] = field(default_factory=dict)  # ints, strings, bools: no floats (JSON-exact)
    model_sha256: str = ""  # SHA-256 of the model file, checked at load; "" when no model
    model_card: str = ""  # e.g. "docs/detectors/pdq.md"
    licence: str = ""
    validation: str = "not validated"  # known error rates, or "not validated"

    def described(self) -> dict[str, Any]:
        """What the detector's database row and the detector list record of this version, beyond its name."""
        return {
            "media_types": sorted(self.media_types),
            "parameters": self.parameters,
            "model_sha256": self.model_sha256,
            "model_card": self.model_card,
            "licence": self.licence,
            "validation": self.validation,
        }


@dataclass
class Finding:
    """One result of a detector on a subject, before it is stored as an Annotation."""

    label: str
    category: str = ""
    score: float | None = None
    region: dict[str, int] | None = None  # {"x", "y", "w", "h"} in pixels
    time_start_ms: int | None = None
    time_end_ms: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


class Detector(Protocol):
    """A detector. An image detector may also set ``frame_capable = True`` (its findings on one video frame
    mean what they mean on a photograph): the video adapter then registers ``video:<name>`` for it. Such a
    detector reads a frame through ``subject.pixels``/``upright``/``image``, never ``subject.read()``: a
    frame's subject carries the video's SHA-256, so its bytes are the video's."""

    info: DetectorInfo

    def load(self) -> None:
        """Load models and check their SHA-256; called once per process before ``analyze``."""

    def analyze(self, subject: Subject) -> list[Finding]:
        """Analyse one subject; raise ``detection.subject.UndecodableMedia`` for content it cannot read."""
        ...


_dynamic: dict[str, Callable[[], Iterable[Detector]]] = {}
_derived: dict[str, Callable[[Mapping[str, Detector]], Iterable[Detector]]] = {}
_cache: dict[str, Detector] | None = None
_load_errors: dict[str, str] = {}
_loaded: set[int] = set()
_load_lock = threading.Lock()
_unavailable: dict[str, str] = {}  # entry-point name → why it is not registered


def register_dynamic(source: str, factory: Callable[[], Iterable[Detector]]) -> None:
    """Add a source of detectors built at run time (e.g. imported model packs)."""
    global _cache
    _dynamic[source] = factory
    _cache = None


def register_derived(source: str, factory: Callable[[Mapping[str, Detector]], Iterable[Detector]]) -> None:
    """Add detectors built over the others (video frame adapters over frame-capable image detectors)."""
    global _cache
    _derived[source] = factory
    _cache = None


def reset() -> None:
    """Forget loaded detectors (tests; a worker after a model pack is enabled)."""
    global _cache
    _cache = None
    _loaded.clear()
    _load_errors.clear()


def _as_detectors(made: Any) -> list[Detector]:
    """A factory may return one detector or an iterable of them."""
    if hasattr(made, "info"):
        return [made]
    return list(made)


def _extra_factories() -> list[tuple[str, Callable[[], Any]]]:
    """The ``module:attribute`` factories named by the HAETAE_EXTRA_DETECTORS setting."""
    from django.conf import settings

    found = []
    for spec in getattr(settings, "HAETAE_EXTRA_DETECTORS", []):
        module_name, _, attribute = spec.partition(":")
        if not attribute:
            _load_errors[spec] = f"HAETAE_EXTRA_DETECTORS entry {spec!r} must look like 'module:factory'"
            continue
        try:
            found.append((spec, getattr(import_module(module_name), attribute)))
        except (ImportError, AttributeError) as exc:
            _load_errors[spec] = f"cannot import {spec}: {exc}"
    return found


def detectors() -> dict[str, Detector]:
    """Every available detector by name, built once per process (entry points, extras, dynamic sources)."""
    global _cache
    if _cache is None:
        found: dict[str, Detector] = {}
        _unavailable.clear()
        sources: list[tuple[str, Callable[[], Any]]] = []
        names: dict[str, str] = {}  # source → entry-point name, for detector_get's message
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                source = f"entry point {ep.name} ({ep.value})"
                sources.append((source, ep.load()))
                names[source] = ep.name
            except Exception as exc:  # a broken plug-in must not stop the others
                _load_errors[ep.name] = f"cannot import entry point {ep.name} ({ep.value}): {exc}"
        sources.extend(_extra_factories())
        sources.extend(_dynamic.items())
        for source, factory in sources:
            try:
                made = _as_detectors(factory())
            except DetectorUnavailable as exc:  # an optional dependency is missing: say so, go on
                _unavailable[names.get(source, source)] = str(exc)
                logger.warning("detector source %s is not available: %s", source, exc)
                continue
            except Exception as exc:
                _load_errors[source] = f"{source} failed to build its detectors: {type(exc).__name__}: {exc}"
                continue
            for detector in made:
                found[detector.info.name] = detector
        for name, derive in _derived.items():
            try:
                derived = list(derive(dict(found)))
            except Exception as exc:
                _load_errors[name] = f"{name} failed to derive detectors: {type(exc).__name__}: {exc}"
                continue
            for detector in derived:
                found[detector.info.name] = detector
        for source, error in _load_errors.items():
            logger.error("detector source %s left out: %s", source, error)
        _cache = found
    return _cache


def load_errors() -> dict[str, str]:
    """Why a detector source was left out of the registry, by source."""
    detectors()
    return dict(_load_errors)


def ensure_loaded(detector: Detector) -> None:
    """Call ``detector.load()`` once per process (thread-safe); a failed load is retried next time."""
    key = id(detector)
    if key in _loaded:
        return
    with _load_lock:
        if key not in _loaded:
            detector.load()
            _loaded.add(key)


def onnx_threads() -> int:
    """Intra-op threads for onnxruntime sessions: HAETAE_ONNX_THREADS; 0 lets onnxruntime use every core.

    Celery worker processes default to 1 (see ``detection.tasks``): one process per core, one thread each.
    """
    from django.conf import settings

    return max(0, int(getattr(settings, "HAETAE_ONNX_THREADS", 0)))


def one_thread_per_library() -> None:
    """Make this detection worker process single-threaded in every library that would start threads.

    Detection runs one worker process per core (``detection.pool``, Celery's prefork pool), so threads
    inside a worker only fight the other workers for the cores: onnxruntime gets one intra-op thread unless
    ``HAETAE_ONNX_THREADS`` was set, OpenCV one thread, and numpy's BLAS (OpenBLAS) and any OpenMP runtime
    one thread through threadpoolctl. The last matters most: OpenBLAS starts a thread per core for every
    matrix product above a small size and its idle threads spin, which cost a worker 20–35 % more CPU per
    photo in the JPEG-forensics DCT, PDQ and the face embedding (docs/benchmarks.md, P8 of 2026-12-07).
    """
    from django.conf import settings
    from threadpoolctl import threadpool_limits

    if not getattr(settings, "HAETAE_ONNX_THREADS_EXPLICIT", False):
        settings.HAETAE_ONNX_THREADS = 1
    try:
        import cv2

        if cv2.getNumThreads() != 1:  # the pool's parent may have made it 1 before forking
            cv2.setNumThreads(1)
    except ImportError:
        pass
    threadpool_limits(limits=1)


def onnx_session_options() -> Any:
    """``onnxruntime.SessionOptions`` with the process's thread budget; detectors build sessions with it."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    # Every graph rewrite onnxruntime has (constant folding, node fusions, layout changes), chosen rather
    # than left to a default; one node at a time (the models are chains: parallel nodes gain nothing).
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    threads = onnx_threads()
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return options


def unavailable() -> dict[str, str]:
    """Detectors installed but not registered (a missing optional dependency), with the reason."""
    detectors()
    return dict(_unavailable)


def detector_get(name: str) -> Detector:
    from haetae.errors import RejectedInput

    try:
        return detectors()[name]
    except KeyError:
        if name in _unavailable:
            raise RejectedInput(f"detector {name!r} is not available: {_unavailable[name]}") from None
        known = ", ".join(sorted(detectors())) or "none"
        raise RejectedInput(f"no detector named {name!r}; available: {known}") from None
