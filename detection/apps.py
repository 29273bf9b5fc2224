from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from detection.registry import Detector


def _pack_detectors() -> "Iterable[Detector]":
    from detection.packs import pack_detectors

    return pack_detectors()


def _frame_adapters(found: "Mapping[str, Detector]") -> "Iterable[Detector]":
    # Imported when the registry is first built: PyAV and OpenCV are not loaded at start-up.
    from detection.detectors.video import frame_adapters

    return frame_adapters(found)


class DetectionConfig(AppConfig):
    """Detectors, annotations, hash banks, model packs."""

    name = "detection"
    verbose_name = _("Detection")

    def ready(self) -> None:
        # Enabled model packs and video frame adapters join the registry.
        from detection import registry

        registry.register_dynamic("model-packs", _pack_detectors)
        registry.register_derived("video-frames", _frame_adapters)
        # The pipeline queues our tasks by name (it never imports this module): register them everywhere.
        from detection import tasks  # noqa: F401
