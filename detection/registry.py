"""The detector registry: detectors are plug-ins found through the ``haetae.detectors`` entry points.

Built-in detectors register exactly as a third-party package would, in ``pyproject.toml``::

    [project.entry-points."haetae.detectors"]
    pdq = "detection.detectors.pdq:PdqDetector"

An entry point names a class (or a factory) whose instances satisfy ``Detector``. Operator-imported ONNX
model packs are added to the registry from the database (``detection.packs``) through
``register_dynamic``. ``load`` is called once per worker process, after fork, before the first analysis.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Protocol

from detection.subject import Subject

ENTRY_POINT_GROUP = "haetae.detectors"


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


def detectors() -> dict[str, Detector]:
    """Every available detector by name, built once per process."""
    global _cache
    if _cache is None:
        found: dict[str, Detector] = {}
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            factory = ep.load()
            detector = factory()
            found[detector.info.name] = detector
        for factory in _dynamic.values():
            for detector in factory():
                found[detector.info.name] = detector
        for derive in _derived.values():
            for detector in derive(dict(found)):
                found[detector.info.name] = detector
        _cache = found
    return _cache


def detector_get(name: str) -> Detector:
    from haetae.errors import RejectedInput

    try:
        return detectors()[name]
    except KeyError:
        known = ", ".join(sorted(detectors())) or "none"
        raise RejectedInput(f"no detector named {name!r}; available: {known}") from None
