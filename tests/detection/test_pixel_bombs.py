"""Pixel bombs: every image detector records "not analysed: too many pixels" instead of decoding a bomb,
draft-capable decoders still analyse a large JPEG at reduced scale, and a detection worker's peak memory
stays under 1 GiB whatever the image declares."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from detection.models.runs import RunStatus
from detection.services import detection_run
from detection.subject import NotAnalysedTooManyPixels, Subject
from evidence.choices import CustodyAction
from evidence.models import CustodyEvent
from tests.bombs import jpeg_header_bomb, png_pixel_bomb
from tests.detection.test_services import BrightnessDetector
from tests.factories import CaseFactory, UserFactory, stored_item

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_pixel_bomb_run_ends_not_analysed_with_a_custody_record() -> None:
    user = UserFactory()
    item = stored_item(case=CaseFactory(), data=png_pixel_bomb(), actor=user, name="b.png", mime="image/png")

    run = detection_run(item=item, detector=BrightnessDetector())

    assert run.status == RunStatus.FAILED
    assert run.error.startswith("not analysed: too many pixels: ")
    assert "13000 × 13000" in run.error and "damaged" not in run.error
    event = CustodyEvent.objects.get(item=item, action=CustodyAction.ANALYSED)
    assert event.details["outcome"] == "failed" and "too many pixels" in event.details["error"]


def test_subject_refuses_both_bombs_with_the_too_many_pixels_reason() -> None:
    for data, mime in ((png_pixel_bomb(), "image/png"), (jpeg_header_bomb(), "image/jpeg")):
        with pytest.raises(NotAnalysedTooManyPixels, match="not analysed: too many pixels"):
            _ = Subject.from_bytes(data, mime=mime).pixels


def test_large_jpeg_is_hashed_at_reduced_scale_within_the_bound(settings) -> None:
    from detection.detectors.pdq import PdqDetector

    settings.HAETAE_MAX_IMAGE_PIXELS = 100_000
    rng = np.random.default_rng(7)
    out = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)).save(out, format="JPEG")
    subject = Subject.from_bytes(out.getvalue(), mime="image/jpeg")

    (finding,) = PdqDetector().analyze(subject)

    assert finding.label == "pdq" and finding.details["decoder"] == "jpeg-draft-luma"
    with pytest.raises(NotAnalysedTooManyPixels):
        _ = subject.pixels  # a full decode would be 307,200 pixels


FULL_DECODERS = ("faces", "generator-metadata", "generator-watermark", "jpeg-forensics")
DRAFT_DECODERS = ("nudenet", "pdq")

_CHILD = """
import json, sys, django
django.setup()
from detection.registry import detectors, ensure_loaded
from detection.subject import Subject, UndecodableMedia
outcomes = {}
for path, mime in ((sys.argv[1], "image/png"), (sys.argv[2], "image/jpeg")):
    data = open(path, "rb").read()
    subject = Subject.from_bytes(data, mime=mime)
    for name, detector in sorted(detectors().items()):
        if "image" not in detector.info.media_types:
            continue
        ensure_loaded(detector)
        try:
            detector.analyze(subject)
            outcomes[f"{mime} {name}"] = "analysed"
        except UndecodableMedia as exc:
            outcomes[f"{mime} {name}"] = str(exc)[:120]
# This process's own peak (VmHWM), not ru_maxrss: Linux carries the parent's peak into ru_maxrss across
# exec, so a pytest worker that had grown past 1 GiB made this child look as large as it.
status = open("/proc/self/status").read()
peak = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))
print(json.dumps({"outcomes": outcomes, "maxrss_kib": peak}))
"""


def test_detection_worker_peak_memory_stays_under_1_gib_on_pixel_bombs(tmp_path: Path) -> None:
    png, jpeg = tmp_path / "bomb.png", tmp_path / "bomb.jpg"
    png.write_bytes(png_pixel_bomb(13000))
    jpeg.write_bytes(jpeg_header_bomb(20000))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "haetae.settings", "HAETAE_DATA_DIR": str(tmp_path)}
    env.pop("HAETAE_MAX_IMAGE_PIXELS", None)
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(png), str(jpeg)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    outcomes = report["outcomes"]
    assert outcomes, "no image detector ran"
    # Detectors that decode pixels in full refuse both bombs for their size before decoding. The two that
    # need few pixels (nudenet, pdq) decode the JPEG at 1/8 scale (2,500 × 2,500, within the bound), as
    # they would a real 200 MP photo. The rest (hashes, C2PA) read bytes, not pixels.
    refused = "not analysed: too many pixels"
    for name in FULL_DECODERS:
        assert outcomes[f"image/png {name}"].startswith(refused), name
        assert outcomes[f"image/jpeg {name}"].startswith(refused), name
    for name in DRAFT_DECODERS:
        assert outcomes[f"image/png {name}"].startswith(refused), name
        assert outcomes[f"image/jpeg {name}"] == "analysed", name
    assert report["maxrss_kib"] < 1024 * 1024, f"peak {report['maxrss_kib'] // 1024} MiB"


def test_video_frames_over_the_bound_are_not_decoded(settings) -> None:
    from detection.video import Sampling, video_scan
    from tests.factories import make_video

    settings.HAETAE_MAX_IMAGE_PIXELS = 1000  # below the test video's frame size
    seen: list[object] = []
    with pytest.raises(NotAnalysedTooManyPixels, match=r"each video frame is .* over the limit of 1,000"):
        video_scan(Subject.from_bytes(make_video(), mime="video/mp4"), seen.append, Sampling())
    assert seen == []
