"""detection models, one module per part: runs and annotations, hash banks and matches, model packs."""

from detection.models.packs import ModelPack
from detection.models.runs import Annotation, DetectionRun, Detector, ScanJob

__all__ = ["Annotation", "DetectionRun", "Detector", "ModelPack", "ScanJob"]
