"""OCR detector: Korean and English read from generated screenshots; photos without text skip OCR."""

import difflib
import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from detection.detectors.ocr import LANGUAGES, ocr_detector, text_presence
from detection.models import Annotation
from detection.services import detection_run
from detection.subject import Subject
from tests.factories import NANUM, CaseFactory, UserFactory, encode, photo, screenshot, stored_item

KOREAN = [
    "피해자가 텔레그램 방 3에서 사진을 봤다고 했다",
    "학교 이름이 적힌 캡션이 있었습니다",
    "가해자의 계정은 삭제되었습니다",
    "오늘 오후 세 시에 다시 올린다고 함",
]
ENGLISH = ["Telegram channel deepfake_kr 2024", "Join the room for more photos"]


@pytest.fixture(scope="module")
def detector():
    return ocr_detector()


def _read(detector, data: bytes, mime: str = "image/png"):
    return detector.analyze(Subject.from_bytes(data, mime=mime))


def _character_accuracy(expected: str, got: str) -> float:
    want = "".join(expected.split())
    have = "".join(got.split())
    matcher = difflib.SequenceMatcher(None, want, have, autojunk=False)
    right = sum(block.size for block in matcher.get_matching_blocks())
    return right / len(want)


def test_korean_in_nanumgothic_is_read(detector):
    findings = _read(detector, screenshot(KOREAN))
    assert [f.label for f in findings] == ["ocr_text"]
    text = findings[0].details["text"]
    assert _character_accuracy("".join(KOREAN), text) >= 0.90
    assert "피해자가" in text  # words keep their syllables together (Tesseract's own spacing)


def test_english_is_read(detector):
    findings = _read(detector, screenshot(ENGLISH))
    text = findings[0].details["text"]
    assert _character_accuracy("".join(ENGLISH), text) >= 0.90
    assert "Telegram" in text


def test_words_have_boxes_and_confidences_in_the_image(detector):
    data = screenshot(KOREAN[:1] + ENGLISH[:1])
    finding = _read(detector, data)[0]
    words = finding.details["words"]
    assert words and all(0 <= w["confidence"] <= 100 for w in words)
    size = finding.details["image_size"]
    assert all(0 <= w["x"] < size["width"] and 0 <= w["y"] < size["height"] for w in words)
    telegram = next(w for w in words if w["text"] == "Telegram")
    assert 40 < telegram["y"] < 110  # the second line, 56 px apart from the first at 28 px text
    assert 0 < finding.score <= 1 and finding.category == "extracted_text"


def test_provenance_names_engine_languages_and_data(detector):
    params = detector.info.parameters
    assert params["languages"] == "kor+eng" and params["psm"] == 4 and params["oem"] == 1
    assert params["tesseract_version"].startswith("5.")
    for language in LANGUAGES:
        path = detector.tessdata / f"{language}.traineddata"
        assert f"{language}={hashlib.sha256(path.read_bytes()).hexdigest()}" in params["traineddata_sha256"]
    assert len(detector.info.model_sha256) == 64


@pytest.mark.parametrize("name", ["astronaut", "coffee", "camera", "chelsea", "rocket", "hubble_deep_field"])
def test_photos_without_text_skip_ocr(detector, name):
    findings = _read(detector, encode(photo(name)), "image/jpeg")
    assert [f.label for f in findings] == ["no_text_detected"]
    assert findings[0].details["presence_test"]["bands"] == 0


def test_presence_test_passes_screenshots_and_a_watermark_on_a_photo():
    rgb = np.asarray(Image.open(io.BytesIO(screenshot(KOREAN[:1]))).convert("RGB"))
    assert text_presence(rgb).likely
    marked = Image.fromarray(photo("coffee")).resize((1600, 1067))
    ImageDraw.Draw(marked).text(
        (40, 40), "@deepfake_kr 텔레그램", font=ImageFont.truetype(NANUM, 48), fill="white"
    )
    assert text_presence(np.asarray(marked)).likely
    assert not text_presence(photo("coffee")).likely


@pytest.mark.django_db
def test_a_run_stores_the_text_as_an_ocr_finding(detector, data_dir):
    actor = UserFactory()
    item = stored_item(case=CaseFactory(), data=screenshot(KOREAN[:2]), actor=actor, mime="image/png")
    run = detection_run(item=item, detector=detector, actor=actor)
    assert run.status == "done"
    annotation = Annotation.objects.get(run=run)
    assert annotation.detector_name == "ocr" and annotation.label == "ocr_text"
    assert annotation.parameters["languages"] == "kor+eng"
    assert "텔레그램" in annotation.details["text"]


@pytest.mark.django_db
def test_video_keyframes_are_read_with_their_time_and_the_text_is_searchable(detector, data_dir):
    """``video:ocr`` reads the keyframes of a video (a photo second, then a Korean caption second): the
    caption's frame is read with its time, the photo's skips Tesseract, and the text is found by search."""
    from access.selectors import case_get_for
    from detection.detectors.video import VideoFrameAdapter
    from detection.video import Sampling
    from search.services import case_search
    from tests.factories import make_video, team

    caption = np.asarray(Image.open(io.BytesIO(screenshot(KOREAN[:1]))).convert("RGB"))
    height, width = caption.shape[:2]
    data = make_video(
        seconds=2, fps=5, size=(width, height + height % 2), gop_seconds=1, frames=[photo("coffee"), caption]
    )
    t = team()
    item = stored_item(case=t.case, data=data, actor=t.lead, name="clip.mp4", mime="video/mp4")
    adapter = VideoFrameAdapter(detector, Sampling(keyframes_only=True))
    assert adapter.info.name == "video:ocr" and adapter.info.model_sha256 == detector.info.model_sha256
    run = detection_run(item=item, detector=adapter, actor=t.lead)
    assert run.status == "done", run.error
    frames = Annotation.objects.filter(item=item, details__scope="frame").order_by("time_start_ms")
    assert [(a.label, a.time_start_ms, a.details["keyframe"]) for a in frames] == [
        ("no_text_detected", 0, True),
        ("ocr_text", 1000, True),
    ]
    read = frames[1]
    assert _character_accuracy(KOREAN[0], read.details["text"]) >= 0.90
    assert (
        read.parameters["frame_detector_parameters"]["traineddata_sha256"]
        == (detector.info.parameters["traineddata_sha256"])
    )
    page = case_search(case=case_get_for(user=t.lead, number=t.case.number), user=t.lead, query="피해자")
    assert {(hit["item"], hit["field"]) for hit in page.results} == {(item.pk, "ocr")}


def _automatic() -> list[str]:
    from detection.pipeline import detectors_enabled

    return [plugin.info.name for plugin in detectors_enabled()]


@pytest.mark.django_db
def test_tests_leave_ocr_out_of_automatic_detection_unless_they_ask() -> None:
    from detection import registry

    assert "ocr" in registry.detectors() and "ocr" not in _automatic()  # installed, not run on ingest


@pytest.mark.ocr
@pytest.mark.django_db
def test_a_test_marked_ocr_gets_it_in_automatic_detection() -> None:
    assert "ocr" in _automatic()


def test_production_settings_run_ocr_on_ingest(tmp_path: Path) -> None:
    """Tests leave ocr out (tests/conftest.py); the settings a deployment starts from do not."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HAETAE_", "DATABASE_URL"))}
    shown = subprocess.run(
        [sys.executable, "-c", "import haetae.settings as s; print(','.join(s.HAETAE_DETECTORS_DISABLED))"],
        cwd=Path(__file__).resolve().parents[2],
        env={**env, "HAETAE_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "ocr" not in shown.stdout.strip().split(",")


def test_presence_is_tested_on_the_shared_reduced_decode_without_a_full_size_copy(detector):
    """A large turned photo without text: the test runs on the shared 1/4 draft, turned upright, and
    neither the full decode nor a full-size upright copy is made."""
    big = np.asarray(Image.fromarray(photo("coffee")).resize((3000, 2000), Image.Resampling.BILINEAR))
    turned = np.ascontiguousarray(np.rot90(big, k=1))  # stored sideways, orientation 6 turns it back
    subject = Subject.from_bytes(encode(turned, quality=85, orientation=6), mime="image/jpeg")

    findings = detector.analyze(subject)

    assert [f.label for f in findings] == ["no_text_detected"]
    assert findings[0].details["presence_test"]["side"] == 640
    assert subject.reduced.scale == 4 and subject.reduced_upright.shape == (500, 750, 3)
    assert "pixels" not in subject.__dict__ and "upright" not in subject.__dict__


def test_the_language_models_load_once_per_process_not_per_image(monkeypatch):
    """Tesseract as a program loaded kor and eng again for every image (about 200 ms of CPU each); the
    detector keeps one engine with the models loaded for the life of the worker process."""
    from detection.detectors import ocr

    engines: list[object] = []
    made = ocr.TesseractReader.__init__

    def counting(self, tessdata):
        engines.append(self)
        made(self, tessdata)

    monkeypatch.setattr(ocr.TesseractReader, "__init__", counting)
    fresh = ocr_detector()
    fresh.load()
    for lines in (ENGLISH, KOREAN[:2], ENGLISH[::-1]):
        assert _read(fresh, screenshot(lines))[0].label == "ocr_text"
    assert len(engines) == 1


def test_an_image_that_outlasts_the_time_limit_fails_with_a_clear_message(detector, monkeypatch):
    from detection.detectors import ocr

    monkeypatch.setattr(ocr, "TIMEOUT_S", 0.001)
    with pytest.raises(RuntimeError, match=r"took longer than 0\.001 s"):
        _read(detector, screenshot(KOREAN * 6))
    monkeypatch.setattr(ocr, "TIMEOUT_S", 120)
    assert _read(detector, screenshot(ENGLISH))[0].label == "ocr_text"  # the engine is still usable


def test_two_threads_of_one_process_share_the_engine_one_image_at_a_time(detector):
    """A web process may run background detection beside a request's: the one engine reads in turn."""
    from concurrent.futures import ThreadPoolExecutor

    images = [screenshot(ENGLISH), screenshot(KOREAN[:2])] * 2
    alone = [_read(detector, data)[0].details["text"] for data in images]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = [
            findings[0].details["text"] for findings in pool.map(lambda d: _read(detector, d), images)
        ]
    assert together == alone
