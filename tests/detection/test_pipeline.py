"""The pipeline: ingest queues runs in its transaction, one task per item runs every detector on one
decode, redeliveries and retries add nothing twice, failures carry what to do, re-scans add versions."""

from pathlib import Path
from typing import Any

import pytest

from detection import registry
from detection.models import Annotation, DetectionRun, Detector, ScanJob
from detection.models.runs import JobKind, JobStatus, RunStatus
from detection.pipeline import detection_item_process, scan_job_create
from detection.registry import DetectorInfo
from detection.selectors import acquisition_progress, job_progress
from detection.tasks import detect_item_task
from evidence.choices import CustodyAction
from evidence.models import CustodyEvent, EvidenceItem
from tests.detection.conftest import ingest_files, png
from tests.detection.plugins import BrightnessDetector, FlakyDetector
from tests.factories import CaseFactory, UserFactory, stored_item

pytestmark = pytest.mark.django_db


def _ingest(tmp_path: Path, capture: Any, *, execute: bool = True, files: dict | None = None) -> Any:
    user = UserFactory()
    case: Any = CaseFactory()
    files = files or {
        "white.png": png((250, 250, 250)),
        "red.png": png((200, 10, 10)),
        "notes.txt": b"not an image",
    }
    with capture(execute=execute):
        result = ingest_files(case, user, tmp_path, files)
    return result


def _items(result: Any) -> dict[str, EvidenceItem]:
    return {i.original_name: i for i in EvidenceItem.objects.filter(acquisition=result.acquisition)}


def test_ingest_queues_and_runs_every_detector_on_new_images(
    tmp_path, django_capture_on_commit_callbacks, test_detectors, eager
):
    result = _ingest(tmp_path, django_capture_on_commit_callbacks)
    items = _items(result)

    job = ScanJob.objects.get(acquisition=result.acquisition)
    assert job.kind == JobKind.ACQUISITION and job.status == JobStatus.DONE
    assert job.requested_by_id == result.acquisition.actor_id
    runs = DetectionRun.objects.filter(job=job)
    assert runs.count() == 4  # two images × two detectors; the text file is not queued at all
    assert set(runs.values_list("status", flat=True)) == {RunStatus.DONE}
    assert not DetectionRun.objects.filter(item=items["notes.txt"]).exists()
    labels = {(a.item.original_name, a.label) for a in Annotation.objects.select_related("item")}
    assert labels == {
        ("white.png", "bright"),
        ("white.png", "dominant-red"),  # all channels equal: the first wins
        ("red.png", "dominant-red"),
    }
    analysed = CustodyEvent.objects.filter(action=CustodyAction.ANALYSED)
    assert analysed.count() == 4
    assert {e.actor_id for e in analysed} == {result.acquisition.actor_id}
    assert {e.details["job"] for e in analysed} == {job.pk}
    progress = acquisition_progress(acquisition=result.acquisition, user=result.acquisition.actor)
    assert (progress.total, progress.done, progress.failed, progress.pending) == (4, 4, 0, 0)


def test_runs_are_queued_in_the_ingest_transaction_before_any_task_is_sent(
    tmp_path, django_capture_on_commit_callbacks, test_detectors
):
    result = _ingest(tmp_path, django_capture_on_commit_callbacks, execute=False)
    runs = DetectionRun.objects.filter(item__acquisition=result.acquisition)
    assert runs.count() == 4
    assert set(runs.values_list("status", flat=True)) == {RunStatus.QUEUED}
    assert not Annotation.objects.exists()


def test_one_task_per_item_reads_and_decodes_the_content_once(
    tmp_path, django_capture_on_commit_callbacks, test_detectors, eager, monkeypatch
):
    import evidence.vault

    reads: list[str] = []
    original = evidence.vault.read_verified

    def counting(sha256: str, *args: Any, **kwargs: Any) -> Any:
        reads.append(sha256)
        return original(sha256, *args, **kwargs)

    monkeypatch.setattr(evidence.vault, "read_verified", counting)
    sent: list[tuple] = []
    real_apply_async = detect_item_task.apply_async

    def recording(*args: Any, **kwargs: Any) -> Any:
        sent.append(kwargs.get("args") or args[0])
        return real_apply_async(*args, **kwargs)

    monkeypatch.setattr(detect_item_task, "apply_async", recording)
    result = _ingest(tmp_path, django_capture_on_commit_callbacks, files={"white.png": png((250, 250, 250))})
    item = _items(result)["white.png"]
    assert len(sent) == 1 and sent[0][0] == item.pk and len(sent[0][1]) == 2
    assert reads == [item.blob_id]  # two detectors, one verified read


def test_ingest_does_not_queue_when_detection_on_ingest_is_off(
    tmp_path, django_capture_on_commit_callbacks, test_detectors, settings
):
    settings.HAETAE_DETECT_ON_INGEST = False
    _ingest(tmp_path, django_capture_on_commit_callbacks)
    assert not DetectionRun.objects.exists() and not ScanJob.objects.exists()


def test_disabled_detectors_are_not_queued(
    tmp_path, django_capture_on_commit_callbacks, test_detectors, settings
):
    settings.HAETAE_DETECTORS_DISABLED = ["test-brightness"]
    Detector.objects.create(name="test-channel", version="1", enabled=False)
    _ingest(tmp_path, django_capture_on_commit_callbacks, execute=False)
    assert not DetectionRun.objects.exists()


def test_a_broker_that_is_down_does_not_fail_the_ingest(
    tmp_path, django_capture_on_commit_callbacks, test_detectors, monkeypatch
):
    def down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionRefusedError("redis at 127.0.0.1:6379 refused the connection")

    monkeypatch.setattr(detect_item_task, "apply_async", down)
    result = _ingest(tmp_path, django_capture_on_commit_callbacks)
    assert result.counts["ingested"] == 3
    # The runs stay queued: `manage.py detect` (or a re-scan) picks them up.
    assert set(DetectionRun.objects.values_list("status", flat=True)) == {RunStatus.QUEUED}


def test_a_registry_that_cannot_load_does_not_fail_the_ingest(
    tmp_path, django_capture_on_commit_callbacks, test_detectors, monkeypatch
):
    def broken() -> dict:
        raise ImportError("a detector package is half-installed")

    monkeypatch.setattr("detection.pipeline.detectors", broken)
    result = _ingest(tmp_path, django_capture_on_commit_callbacks)
    assert result.counts["ingested"] == 3
    assert not DetectionRun.objects.exists()


def test_a_redelivered_task_adds_nothing(tmp_path, django_capture_on_commit_callbacks, test_detectors, eager):
    result = _ingest(tmp_path, django_capture_on_commit_callbacks, files={"white.png": png((250, 250, 250))})
    item = _items(result)["white.png"]
    run_ids = list(DetectionRun.objects.filter(item=item).values_list("pk", flat=True))
    before = (Annotation.objects.count(), CustodyEvent.objects.count())
    detect_item_task.apply(args=(item.pk, run_ids))  # the same message delivered again
    assert (Annotation.objects.count(), CustodyEvent.objects.count()) == before
    assert test_detectors["test-brightness"].calls == 1


def test_a_run_left_running_by_a_killed_worker_runs_again_once(test_detectors, eager):
    user = UserFactory()
    item = stored_item(
        case=CaseFactory(), data=png((250, 250, 250)), actor=user, name="w.png", mime="image/png"
    )
    job, planned = scan_job_create(
        kind=JobKind.MANUAL, case_id=item.case_id, detector_name="test-brightness", actor=user, send=False
    )
    (run_id,) = planned[item.pk]
    # What a worker killed mid-analysis leaves behind: the run marked running, one attempt, no annotations.
    DetectionRun.objects.filter(pk=run_id).update(status=RunStatus.RUNNING, attempts=1)

    detect_item_task.apply(args=(item.pk, [run_id]))
    detect_item_task.apply(args=(item.pk, [run_id]))

    run = DetectionRun.objects.get(pk=run_id)
    assert (run.status, run.attempts) == (RunStatus.DONE, 2)
    assert Annotation.objects.filter(run=run).count() == 1
    assert CustodyEvent.objects.filter(item=item, action=CustodyAction.ANALYSED).count() == 1
    assert ScanJob.objects.get(pk=job.pk).status == JobStatus.DONE


def test_a_run_whose_worker_keeps_dying_fails_with_what_to_do(test_detectors, eager, settings):
    user: Any = UserFactory()
    item = stored_item(
        case=CaseFactory(), data=png((250, 250, 250)), actor=user, name="w.png", mime="image/png"
    )
    job, planned = scan_job_create(
        kind=JobKind.MANUAL, case_id=item.case_id, detector_name="test-brightness", actor=user, send=False
    )
    (run_id,) = planned[item.pk]
    DetectionRun.objects.filter(pk=run_id).update(
        status=RunStatus.RUNNING, attempts=settings.HAETAE_DETECT_MAX_ATTEMPTS
    )
    detect_item_task.apply(args=(item.pk, [run_id]))
    run = DetectionRun.objects.get(pk=run_id)
    assert run.status == RunStatus.FAILED
    assert "stopped 4 times" in run.error and "out of memory" in run.error
    assert test_detectors["test-brightness"].calls == 0
    (event,) = CustodyEvent.objects.filter(item=item, action=CustodyAction.ANALYSED)
    assert (event.details["outcome"], event.actor_id) == ("failed", user.pk)
    assert ScanJob.objects.get(pk=job.pk).status == JobStatus.DONE_WITH_FAILURES


def _flaky_item(failures: int) -> tuple[Any, FlakyDetector, int]:
    flaky = FlakyDetector(failures=failures)
    registry.register_dynamic("flaky", lambda: [flaky])
    user = UserFactory()
    item = stored_item(case=CaseFactory(), data=png((5, 5, 5)), actor=user, name="d.png", mime="image/png")
    _, planned = scan_job_create(
        kind=JobKind.MANUAL, case_id=item.case_id, detector_name="test-flaky", actor=user, send=False
    )
    return item, flaky, planned[item.pk][0]


@pytest.fixture
def no_backoff(settings: Any) -> None:
    settings.HAETAE_DETECT_RETRY_BACKOFF_SECONDS = 0


def test_a_transient_error_is_retried_and_the_run_completes_once(test_detectors, eager, no_backoff):
    item, flaky, run_id = _flaky_item(failures=2)
    try:
        detect_item_task.apply(args=(item.pk, [run_id]))
    finally:
        registry._dynamic.pop("flaky")
    run = DetectionRun.objects.get(pk=run_id)
    assert (run.status, run.attempts, run.error) == (RunStatus.DONE, 3, "")
    assert flaky.calls == 3
    assert Annotation.objects.filter(run=run).count() == 1


def test_retries_give_up_with_the_error_and_what_to_do(test_detectors, eager, no_backoff, settings):
    item, flaky, run_id = _flaky_item(failures=100)
    try:
        detect_item_task.apply(args=(item.pk, [run_id]))
    finally:
        registry._dynamic.pop("flaky")
    run = DetectionRun.objects.get(pk=run_id)
    assert run.status == RunStatus.FAILED
    assert flaky.calls == settings.HAETAE_DETECT_MAX_ATTEMPTS
    assert "ConnectionError: model server unreachable" in run.error
    assert f"gave up after {settings.HAETAE_DETECT_MAX_ATTEMPTS} attempt(s)" in run.error
    assert f"manage.py detect {item.case.number} --detector test-flaky" in run.error
    assert not Annotation.objects.filter(run=run).exists()
    (event,) = CustodyEvent.objects.filter(item=item, action=CustodyAction.ANALYSED)
    assert event.details["outcome"] == "failed" and "ConnectionError" in event.details["error"]


def test_between_retries_the_run_is_queued_with_the_error(test_detectors, no_backoff):
    item, _, run_id = _flaky_item(failures=1)
    try:
        outcome = detection_item_process(item_id=item.pk, run_ids=[run_id])
    finally:
        registry._dynamic.pop("flaky")
    assert list(outcome.raised) == [run_id]
    from detection.pipeline import runs_mark_retrying

    runs_mark_retrying(run_ids=[run_id], attempt=1, countdown=15, error="ConnectionError: down")
    run = DetectionRun.objects.get(pk=run_id)
    assert run.status == RunStatus.QUEUED
    assert run.error == "attempt 1 failed (ConnectionError: down); retrying in 15 s"


def test_a_run_for_a_version_not_installed_fails_with_what_to_do(test_detectors, eager):
    user = UserFactory()
    item = stored_item(
        case=CaseFactory(), data=png((250, 250, 250)), actor=user, name="w.png", mime="image/png"
    )
    old = Detector.objects.create(name="test-brightness", version="0.9")
    run = DetectionRun.objects.create(item=item, detector=old, input_sha256=str(item.blob_id))
    detect_item_task.apply(args=(item.pk, [run.pk]))
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "test-brightness 0.9 is not installed" in run.error and "it has version 1" in run.error


def test_a_task_for_an_item_that_does_not_exist_does_nothing(test_detectors, eager):
    result = detect_item_task.apply(args=(987654, [1, 2])).get()
    assert result == {"item": 987654, "runs": {}}


def test_undecodable_images_fail_without_retry(test_detectors, eager):
    user = UserFactory()
    item = stored_item(case=CaseFactory(), data=b"\x89PNG broken", actor=user, name="b.png", mime="image/png")
    job, planned = scan_job_create(
        kind=JobKind.MANUAL, case_id=item.case_id, detector_name=None, actor=user, send=False
    )
    detect_item_task.apply(args=(item.pk, planned[item.pk]))
    runs = DetectionRun.objects.filter(job=job)
    assert {(r.status, r.attempts) for r in runs} == {(RunStatus.FAILED, 1)}
    assert all("cannot decode as an image" in r.error for r in runs)
    events = CustodyEvent.objects.filter(item=item, action=CustodyAction.ANALYSED)
    assert sorted((e.details["detector"], e.details["outcome"]) for e in events) == [
        ("test-brightness", "failed"),
        ("test-channel", "failed"),
    ]  # the content was read, so the failed reads are on the custody chain too
    progress = job_progress(job=job, user=user)
    assert (progress.total, progress.done, progress.failed) == (2, 0, 2)
    assert {f["item"] for f in progress.failures} == set()  # the user is not on the case team
    assert {f["detector"] for f in job_progress(job=job, user=_member(item)).failures} == {
        "test-brightness",
        "test-channel",
    }


def _member(item: Any) -> Any:
    from tests.factories import CaseMemberFactory

    return CaseMemberFactory(case=item.case).user


def test_rescan_with_a_new_version_adds_runs_and_keeps_the_old_findings(
    test_detectors, eager, django_capture_on_commit_callbacks
):
    user = UserFactory()
    case: Any = CaseFactory()
    item = stored_item(case=case, data=png((250, 250, 250)), actor=user, name="w.png", mime="image/png")
    stored_item(case=CaseFactory(), data=png((240, 240, 240)), actor=user, name="o.png", mime="image/png")
    with django_capture_on_commit_callbacks(execute=True):
        first, _ = scan_job_create(
            kind=JobKind.RESCAN, case_id=case.pk, detector_name="test-brightness", actor=user, send=True
        )
    assert (first.total, Annotation.objects.filter(item=item).count()) == (1, 1)

    again, planned = scan_job_create(
        kind=JobKind.RESCAN, case_id=case.pk, detector_name="test-brightness", actor=user, send=True
    )
    assert planned == {} and again.status == JobStatus.DONE and again.total == 0  # same version: nothing

    registry.register_dynamic("v2", lambda: [BrightnessDetector(version="2", bound=100)])
    try:
        with django_capture_on_commit_callbacks(execute=True):
            newer, _ = scan_job_create(
                kind=JobKind.RESCAN, case_id=case.pk, detector_name="test-brightness", actor=user, send=True
            )
    finally:
        registry._dynamic.pop("v2")
    versions = sorted(Annotation.objects.filter(item=item).values_list("detector_version", "parameters"))
    assert versions == [("1", {"bound": 128}), ("2", {"bound": 100})]
    assert newer.total == 1 and ScanJob.objects.get(pk=newer.pk).status == JobStatus.DONE


def test_whole_vault_rescan_covers_every_case_and_retries_failed_runs(
    test_detectors, eager, django_capture_on_commit_callbacks
):
    user = UserFactory()
    items = [
        stored_item(
            case=CaseFactory(), data=png((250, 250, v)), actor=user, name=f"{v}.png", mime="image/png"
        )
        for v in (1, 2, 3)
    ]
    failed = DetectionRun.objects.create(
        item=items[0],
        detector=Detector.objects.create(name="test-brightness", version="1"),
        input_sha256=str(items[0].blob_id),
        status=RunStatus.FAILED,
        error="MemoryError",
    )
    with django_capture_on_commit_callbacks(execute=True):
        job, planned = scan_job_create(
            kind=JobKind.RESCAN, case_id=None, detector_name="test-brightness", actor=user, send=True
        )
    assert set(planned) == {i.pk for i in items}
    failed.refresh_from_db()
    assert (failed.status, failed.job_id, failed.attempts) == (RunStatus.DONE, job.pk, 1)
    assert Annotation.objects.filter(detector_name="test-brightness").count() == 3


def test_a_worker_finds_a_version_installed_after_it_started(test_detectors, eager, settings, monkeypatch):
    import detection.pipeline

    user = UserFactory()
    item = stored_item(
        case=CaseFactory(), data=png((250, 250, 250)), actor=user, name="w.png", mime="image/png"
    )
    newer = Detector.objects.create(name="test-brightness", version="2", parameters={"bound": 100})
    run = DetectionRun.objects.create(item=item, detector=newer, input_sha256=str(item.blob_id))
    # A model pack imported after this process built its registry: the registry is stale until refreshed.
    settings.HAETAE_EXTRA_DETECTORS = ["tests.detection.plugins:factory_v2"]
    monkeypatch.setattr(detection.pipeline, "_last_refresh", [0.0])
    detect_item_task.apply(args=(item.pk, [run.pk]))
    run.refresh_from_db()
    assert run.status == RunStatus.DONE
    assert Annotation.objects.get(run=run).parameters == {"bound": 100}


class _TooSlow(BrightnessDetector):
    """Stands for a detector interrupted by the task's soft time limit (Celery raises this inside it)."""

    def __init__(self) -> None:
        super().__init__()
        self.info = DetectorInfo(name="test-a-slow", version="1", media_types=frozenset({"image"}))

    def analyze(self, subject: Any) -> list:
        from celery.exceptions import SoftTimeLimitExceeded

        self.calls += 1
        raise SoftTimeLimitExceeded()


def test_a_detector_past_the_time_limit_fails_once_and_the_others_still_run(test_detectors, eager, settings):
    slow = _TooSlow()
    registry.register_dynamic("slow", lambda: [slow])
    try:
        user = UserFactory()
        item = stored_item(
            case=CaseFactory(), data=png((250, 250, 250)), actor=user, name="w.png", mime="image/png"
        )
        job, planned = scan_job_create(
            kind=JobKind.MANUAL, case_id=item.case_id, detector_name=None, actor=user, send=False
        )
        detect_item_task.apply(args=(item.pk, planned[item.pk]))
    finally:
        registry._dynamic.pop("slow")
    runs = {r.detector.name: r for r in DetectionRun.objects.filter(job=job).select_related("detector")}
    assert slow.calls == 1  # not retried: it would only hit the limit again
    assert runs["test-a-slow"].status == RunStatus.FAILED
    assert "took longer than the time limit of 3600 s while test-a-slow ran" in runs["test-a-slow"].error
    assert "HAETAE_DETECT_TIME_LIMIT_SECONDS" in runs["test-a-slow"].error
    assert {runs[n].status for n in ("test-brightness", "test-channel")} == {RunStatus.DONE}
    # Not reached before the limit: put back in the queue uncounted, then run once in a fresh task.
    assert {runs[n].attempts for n in ("test-brightness", "test-channel")} == {1}
    assert ScanJob.objects.get(pk=job.pk).status == JobStatus.DONE_WITH_FAILURES


def test_an_images_runs_are_recorded_in_one_ledger_transaction(test_detectors, monkeypatch):
    """A worker records every run of an image together: one ledger lock for the item, not one per run."""
    import haetae.db

    user = UserFactory()
    item = stored_item(
        case=CaseFactory(), data=png((250, 10, 10)), actor=user, name="r.png", mime="image/png"
    )
    _, planned = scan_job_create(
        kind=JobKind.MANUAL, case_id=item.case_id, detector_name=None, actor=user, send=False
    )
    locks: list[None] = []
    real_lock = haetae.db.ledger_lock

    def counted_lock() -> None:
        locks.append(real_lock())

    monkeypatch.setattr(haetae.db, "ledger_lock", counted_lock)
    outcome = detection_item_process(item_id=item.pk, run_ids=planned[item.pk])
    assert len(locks) == 1
    assert not outcome.raised
    assert {(run.status, run.attempts) for run in outcome.runs} == {(RunStatus.DONE, 1)}
    assert len(outcome.runs) == 2
    analysed = CustodyEvent.objects.filter(item=item, action=CustodyAction.ANALYSED)
    assert sorted(event.details["detector"] for event in analysed) == ["test-brightness", "test-channel"]


def test_a_detector_that_raises_leaves_the_others_of_the_image_recorded(test_detectors, no_backoff):
    item, _, run_id = _flaky_item(failures=1)
    _, planned = scan_job_create(
        kind=JobKind.MANUAL, case_id=item.case_id, detector_name=None, actor=None, send=False
    )
    try:
        outcome = detection_item_process(item_id=item.pk, run_ids=planned[item.pk])
    finally:
        registry._dynamic.pop("flaky")
    assert list(outcome.raised) == [run_id]
    assert "ConnectionError" in outcome.raised[run_id]
    runs = {run.pk: run for run in outcome.runs}
    assert runs[run_id].status == RunStatus.FAILED and "ConnectionError" in runs[run_id].error
    assert {run.status for pk, run in runs.items() if pk != run_id} == {RunStatus.DONE}
    assert not Annotation.objects.filter(run_id=run_id).exists()
