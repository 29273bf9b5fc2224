"""Hooks other apps register at start-up without importing detectors (and their heavy libraries).

``face_listeners`` are called inside detection_run's transaction with the run and its new face annotations
(parties uses it to match victims' reference photos; detection does not import parties).

``review_listeners`` are called inside ``annotation_review``'s transaction, after its custody event, with
the reviewed annotation, the reviewer and the decision (parties withdraws the links a rejected face
finding suggested).
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from detection.models import Annotation, DetectionRun

FaceListener = Callable[["DetectionRun", "list[Annotation]"], None]
face_listeners: list[FaceListener] = []

ReviewListener = Callable[["Annotation", Any, str], None]
review_listeners: list[ReviewListener] = []
