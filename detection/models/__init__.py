"""detection models, one module per part: runs and annotations, hash banks and matches, model packs."""

from detection.models.banks import BankEntry, HashBank, Match, MatchAlert
from detection.models.packs import ModelPack
from detection.models.runs import Annotation, DetectionRun, Detector, ScanJob

__all__ = [
    "Annotation",
    "BankEntry",
    "DetectionRun",
    "Detector",
    "HashBank",
    "Match",
    "MatchAlert",
    "ModelPack",
    "ScanJob",
]
