from django.apps import AppConfig


class DetectionConfig(AppConfig):
    """Detectors, annotations and hash banks (built in the detection issue)."""

    name = "detection"
    verbose_name = "Detection"
