"""Hooks other apps register at start-up without importing detectors (and their heavy libraries).

``face_listeners`` are called inside detection_run's transaction with the run and its new face annotations
(parties uses it to match victims' reference photos; detection does not import parties).

``run_listeners`` are called inside detection_run's transaction, after any detector's findings are stored,
with the run and all its new annotations (search keeps its text index in step; detection does not import
search). ``review_listeners`` are called inside ``annotation_review``'s transaction, after its custody
event, with the reviewed annotation, the reviewer and the decision (search drops a rejected finding's text
from the index; parties withdraws the links a rejected face finding suggested).
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from detection.models import Annotation, DetectionRun

FaceListener = Callable[["DetectionRun", "list[Annotation]"], None]
face_listeners: list[FaceListener] = []

RunListener = Callable[["DetectionRun", "list[Annotation]"], None]
run_listeners: list[RunListener] = []

ReviewListener = Callable[["Annotation", Any, str], None]
review_listeners: list[ReviewListener] = []
