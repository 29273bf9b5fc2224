"""Small real detectors for pipeline tests, loadable by a worker process through HAETAE_EXTRA_DETECTORS.

``factory`` (``tests.detection.plugins:factory``) gives the brightness and dominant-channel detectors. The
dominant-channel detector can be held mid-analysis: while the file named by HAETAE_TEST_HOLD_FILE exists
it writes ``<file>.entered`` and waits, so a test can kill its worker at a known point.
"""

import os
import time
from pathlib import Path

import numpy as np

from detection.registry import DetectorInfo, Finding
from detection.subject import Subject

HOLD_ENV = "HAETAE_TEST_HOLD_FILE"
HOLD_LIMIT_SECONDS = 300  # a held detector gives up waiting eventually, so a broken test cannot hang a worker


class BrightnessDetector:
    """Flags images whose mean brightness (0–255) exceeds a bound."""

    def __init__(self, version: str = "1", bound: int = 128) -> None:
        self.info = DetectorInfo(
            name="test-brightness",
            version=version,
            media_types=frozenset({"image"}),
            parameters={"bound": bound},
            validation="not validated",
        )
        self.bound = bound
        self.calls = 0
        self.loads = 0

    def load(self) -> None:
        self.loads += 1

    def analyze(self, subject: Subject) -> list[Finding]:
        self.calls += 1
        mean = int(subject.pixels.mean())
        if mean <= self.bound:
            return []
        return [Finding(label="bright", category="test", score=mean / 255, details={"mean": mean})]


class DominantChannelDetector:
    """Labels an image with its dominant colour channel (red, green or blue) and that channel's share."""

    def __init__(self, version: str = "1") -> None:
        self.info = DetectorInfo(
            name="test-channel", version=version, media_types=frozenset({"image"}), parameters={}
        )
        self.calls = 0

    def load(self) -> None:
        pass

    def analyze(self, subject: Subject) -> list[Finding]:
        self.calls += 1
        _hold_while_marked()
        sums = subject.pixels.reshape(-1, 3).astype(np.int64).sum(axis=0)
        channel = int(np.argmax(sums))
        share = float(sums[channel] / max(1, int(sums.sum())))
        height, width = subject.pixels.shape[:2]
        return [
            Finding(
                label=f"dominant-{('red', 'green', 'blue')[channel]}",
                category="test",
                score=share,
                region={"x": 0, "y": 0, "w": int(width), "h": int(height)},
                details={"sums": [int(s) for s in sums]},
            )
        ]


def _hold_while_marked() -> None:
    marker = os.environ.get(HOLD_ENV)
    if not marker or not Path(marker).exists():
        return
    Path(f"{marker}.entered").write_text(str(os.getpid()))
    deadline = time.monotonic() + HOLD_LIMIT_SECONDS
    while Path(marker).exists() and time.monotonic() < deadline:
        time.sleep(0.05)


class FlakyDetector:
    """Raises a transient error on its first ``failures`` analyses, then counts the image's pixels."""

    def __init__(self, failures: int, name: str = "test-flaky", version: str = "1") -> None:
        self.info = DetectorInfo(name=name, version=version, media_types=frozenset({"image"}))
        self.failures = failures
        self.calls = 0

    def load(self) -> None:
        pass

    def analyze(self, subject: Subject) -> list[Finding]:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError(f"model server unreachable (call {self.calls})")
        height, width = subject.pixels.shape[:2]
        return [Finding(label="pixels", details={"count": int(height * width)})]


def factory() -> list[object]:
    return [BrightnessDetector(), DominantChannelDetector()]


def broken_factory() -> list[object]:
    raise RuntimeError("model file missing")


def factory_v2() -> list[object]:
    return [BrightnessDetector(version="2", bound=100)]
