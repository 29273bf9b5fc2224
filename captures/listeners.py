"""Hooks other apps register at start-up to hear of completed captures, without captures importing them.

``capture_listeners`` are called inside the transaction that records a capture as captured, after its
``capture_completed`` event, with the capture (search indexes its final URL, title and page text; captures
does not import search).
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from captures.models import Capture

CaptureListener = Callable[["Capture"], None]
capture_listeners: list[CaptureListener] = []


def capture_completed(capture: "Capture") -> None:
    """Tell every listener that ``capture`` completed (called in the completing transaction)."""
    for listener in capture_listeners:
        listener(capture)
