"""detection models, one module per part: runs and annotations, banks and matches, packs, validations."""

from detection.models.banks import BankEntry, HashBank, Match, MatchAlert
from detection.models.packs import ModelPack
from detection.models.runs import Annotation, DetectionRun, Detector, ScanJob
from detection.models.validations import DetectorValidation

__all__ = [
    "Annotation",
    "BankEntry",
    "DetectionRun",
    "Detector",
    "DetectorValidation",
    "HashBank",
    "Match",
    "MatchAlert",
    "ModelPack",
    "ScanJob",
]
