from django.apps import AppConfig


class DetectionConfig(AppConfig):
    """Detectors, annotations and hash banks (built in the detection issue)."""

    name = "detection"
    verbose_name = "Detection"

    def ready(self) -> None:
        # --- video: enabled model packs and video frame adapters join the registry ---
        from detection import registry
        from detection.detectors.video import frame_adapters
        from detection.packs import pack_detectors

        registry.register_dynamic("model-packs", pack_detectors)
        registry.register_derived("video-frames", frame_adapters)
