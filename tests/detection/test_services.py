"""detection_run: one run per (item, detector version), provenance on every annotation, custody event."""

import io

import numpy as np
import pytest
from PIL import Image

from detection.models import Annotation, DetectionRun
from detection.models.runs import RunStatus
from detection.registry import Finding
from detection.services import detection_run
from detection.subject import Subject
from evidence.choices import CustodyAction
from evidence.models import CustodyEvent
from tests.detection.plugins import BrightnessDetector
from tests.factories import CaseFactory, UserFactory, stored_item

pytestmark = pytest.mark.django_db


def _png(value: int) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.full((16, 16, 3), value, dtype=np.uint8)).save(out, format="PNG")
    return out.getvalue()


def test_run_stores_annotations_with_provenance_and_custody_event():
    user = UserFactory()
    case = CaseFactory()
    item = stored_item(case=case, data=_png(250), actor=user, name="white.png", mime="image/png")
    detector = BrightnessDetector()

    run = detection_run(item=item, detector=detector)

    assert run.status == RunStatus.DONE
    (ann,) = Annotation.objects.filter(item=item)
    assert (ann.label, ann.detector_name, ann.detector_version) == ("bright", "test-brightness", "1")
    assert ann.input_sha256 == item.blob_id and ann.parameters == {"bound": 128}
    event = CustodyEvent.objects.filter(item=item, action=CustodyAction.ANALYSED).get()
    assert event.details["run"] == run.pk and event.details["labels"] == ["bright"]


def test_rerun_of_same_version_adds_nothing_new_version_adds():
    user = UserFactory()
    item = stored_item(case=CaseFactory(), data=_png(250), actor=user, name="w.png", mime="image/png")
    detector = BrightnessDetector()
    detection_run(item=item, detector=detector)
    detection_run(item=item, detector=detector)
    assert detector.calls == 1
    assert Annotation.objects.filter(item=item).count() == 1

    detection_run(item=item, detector=BrightnessDetector(version="2"))
    assert Annotation.objects.filter(item=item).count() == 2
    assert DetectionRun.objects.filter(item=item).count() == 2


def test_undecodable_content_fails_the_run_with_a_message():
    user = UserFactory()
    item = stored_item(case=CaseFactory(), data=b"not a png", actor=user, name="x.png", mime="image/png")
    run = detection_run(item=item, detector=BrightnessDetector())
    assert run.status == RunStatus.FAILED
    assert "cannot decode" in run.error
    assert not Annotation.objects.filter(item=item).exists()


def test_other_media_types_are_skipped():
    user = UserFactory()
    item = stored_item(case=CaseFactory(), data=b"hello", actor=user, name="a.txt", mime="text/plain")
    run = detection_run(item=item, detector=BrightnessDetector())
    assert run.status == RunStatus.SKIPPED


class _RacingDetector(BrightnessDetector):
    """While it analyses, another worker finishes the same run; then this one cannot decode the content."""

    def analyze(self, subject: Subject) -> list[Finding]:
        from detection.subject import UndecodableMedia

        DetectionRun.objects.filter(detector__name=self.info.name).update(status=RunStatus.DONE)
        raise UndecodableMedia("truncated")


def test_a_run_another_worker_finished_is_not_overwritten_as_failed():
    user = UserFactory()
    item = stored_item(case=CaseFactory(), data=_png(250), actor=user, name="w.png", mime="image/png")
    run = detection_run(item=item, detector=_RacingDetector())
    assert run.status == RunStatus.DONE and run.error == ""
    assert not CustodyEvent.objects.filter(item=item, action=CustodyAction.ANALYSED).exists()


def test_attempts_count_each_analysis():
    user = UserFactory()
    item = stored_item(case=CaseFactory(), data=b"not a png", actor=user, name="x.png", mime="image/png")
    detection_run(item=item, detector=BrightnessDetector())
    run = detection_run(item=item, detector=BrightnessDetector())  # failed runs are tried again
    assert (run.status, run.attempts) == (RunStatus.FAILED, 2)
    events = CustodyEvent.objects.filter(item=item, action=CustodyAction.ANALYSED)
    assert [e.details["outcome"] for e in events] == ["failed", "failed"]


class _SlowTwinDetector(BrightnessDetector):
    """While it analyses, a second delivery of the same task finishes the run first."""

    def analyze(self, subject: Subject) -> list[Finding]:
        DetectionRun.objects.filter(detector__name=self.info.name).update(status=RunStatus.DONE)
        return super().analyze(subject)


def test_when_two_deliveries_race_only_the_first_to_commit_stores_findings():
    user = UserFactory()
    item = stored_item(case=CaseFactory(), data=_png(250), actor=user, name="w.png", mime="image/png")
    run = detection_run(item=item, detector=_SlowTwinDetector())
    assert run.status == RunStatus.DONE
    assert not Annotation.objects.filter(item=item).exists()  # the twin's findings were not added again
    assert not CustodyEvent.objects.filter(item=item, action=CustodyAction.ANALYSED).exists()
