"""Running a detector over an item: one run per (item, detector version), annotations with provenance.

``detection_run`` is the synchronous core that the Celery tasks, the ``detect`` command and tests call. It
is idempotent: a finished run is returned as is, so a redelivered task adds nothing. The annotations, the
run's completion and an ``analysed`` custody event commit in one transaction.
"""

import time
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from detection.listeners import review_listeners, run_listeners
from detection.models import Annotation, DetectionRun, Detector, ScanJob
from detection.models.runs import ReviewStatus, RunStatus
from detection.registry import Detector as DetectorPlugin
from detection.registry import DetectorInfo, Finding, ensure_loaded
from detection.subject import NotAnalysedTooManyPixels, Subject, UndecodableMedia
from evidence.choices import CustodyAction
from evidence.custody import custody_append
from evidence.models import EvidenceItem
from haetae.errors import RejectedInput

FINISHED = frozenset({RunStatus.DONE, RunStatus.SKIPPED})


def detector_record(info: DetectorInfo) -> Detector:
    """The database row for this detector version, created the first time it runs."""
    row, _ = Detector.objects.get_or_create(
        name=info.name,
        version=info.version,
        defaults=info.described(),
    )
    return row


def _provenance(info: DetectorInfo, run: DetectionRun, ran_at: Any) -> dict[str, Any]:
    return {
        "detector_name": info.name,
        "detector_version": info.version,
        "model_sha256": info.model_sha256,
        "parameters": info.parameters,
        "input_sha256": run.input_sha256,
        "ran_at": ran_at,
    }


def detection_run(
    *,
    item: EvidenceItem,
    detector: DetectorPlugin,
    job: ScanJob | None = None,
    subject: Subject | None = None,
    actor: User | None = None,
) -> DetectionRun:
    """Run ``detector`` on ``item`` unless this version already finished on it; returns the run.

    ``subject`` lets a caller share one decoded subject across detectors. A detector that cannot decode
    the content ends the run as ``failed`` with a message; any other exception marks the run failed and is
    re-raised for the task layer to retry.
    """
    if item.blob_id is None:
        raise RejectedInput(f"item {item.pk} has no stored content to analyse ({item.status})")
    info = detector.info
    row = detector_record(info)
    run, _ = DetectionRun.objects.get_or_create(
        item=item, detector=row, defaults={"job": job, "input_sha256": item.blob_id}
    )
    if run.status in FINISHED:
        return run
    subject = subject or Subject.for_item(item)
    if subject.media_type not in info.media_types:
        DetectionRun.objects.filter(pk=run.pk).update(
            status=RunStatus.SKIPPED,
            finished_at=timezone.now(),
            error=f"{info.name} handles {', '.join(sorted(info.media_types))}, "
            f"not {subject.mime or 'unknown'}",
        )
        run.refresh_from_db()
        return run
    started = timezone.now()
    DetectionRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, started_at=started, attempts=F("attempts") + 1
    )
    t0 = time.perf_counter()
    try:
        ensure_loaded(detector)
        findings = detector.analyze(subject)
    except UndecodableMedia as exc:
        if isinstance(exc, NotAnalysedTooManyPixels):
            message = f"{exc}; nothing to retry"
        else:
            message = f"{exc}: the file may be damaged or not the type it claims; nothing to retry"
        with transaction.atomic():
            if _fail(run, started, t0, message):
                run.refresh_from_db()
                _failed_event(run=run, item=item, actor=actor, message=message)
        run.refresh_from_db()
        return run
    except Exception as exc:
        _fail(run, started, t0, f"{type(exc).__name__}: {exc}")
        raise
    duration_ms = int((time.perf_counter() - t0) * 1000)
    with transaction.atomic():
        locked = DetectionRun.objects.select_for_update().get(pk=run.pk)
        if locked.status in FINISHED:  # another worker finished it meanwhile
            return locked
        annotations = _store(locked, item, info, findings)
        locked.status = RunStatus.DONE
        locked.finished_at = timezone.now()
        locked.duration_ms = duration_ms
        locked.error = ""
        locked.save(update_fields=["status", "finished_at", "duration_ms", "error"])
        after_store = getattr(detector, "after_store", None)
        if after_store is not None:
            after_store(run=locked, annotations=annotations)
        for listener in run_listeners:
            listener(locked, annotations)
        _analysed_event(
            run=locked,
            item=item,
            actor=actor,
            detector=info,
            outcome="done",
            findings=len(annotations),
            labels=sorted({a.label for a in annotations}),
        )
    return locked


def _store(
    run: DetectionRun, item: EvidenceItem, info: DetectorInfo, findings: list[Finding]
) -> list[Annotation]:
    ran_at = timezone.now()
    provenance = _provenance(info, run, ran_at)
    rows = [
        Annotation(
            run=run,
            item=item,
            label=f.label,
            category=f.category,
            score=f.score,
            region=f.region,
            time_start_ms=f.time_start_ms,
            time_end_ms=f.time_end_ms,
            details=f.details,
            **provenance,
        )
        for f in findings
    ]
    return Annotation.objects.bulk_create(rows)


def _fail(run: DetectionRun, started: Any, t0: float, message: str) -> bool:
    """Mark the run failed unless another worker finished it meanwhile; True when it was marked."""
    return bool(
        DetectionRun.objects.filter(pk=run.pk)
        .exclude(status__in=FINISHED)
        .update(
            status=RunStatus.FAILED,
            finished_at=timezone.now(),
            duration_ms=int((time.perf_counter() - t0) * 1000),
            error=message[:2000],
        )
    )


def _analysed_event(
    *, run: DetectionRun, item: EvidenceItem, actor: User | None, detector: Any, outcome: str, **result: Any
) -> None:
    """The ``analysed`` event: ``detector`` (its name, version, model) read the item's content for ``run``."""
    custody_append(
        case_id=item.case_id,
        item_id=item.pk,
        action=CustodyAction.ANALYSED,
        actor=actor,
        sha256_before=run.input_sha256,
        sha256_after=run.input_sha256,
        details={
            "run": run.pk,
            "job": run.job_id,
            "detector": detector.name,
            "version": detector.version,
            "model_sha256": detector.model_sha256,
            "outcome": outcome,
            **result,
        },
    )


def _failed_event(*, run: DetectionRun, item: EvidenceItem, actor: User | None, message: str) -> None:
    """The content was read even though the analysis failed: that read is on the item's custody chain."""
    _analysed_event(
        run=run, item=item, actor=actor, detector=run.detector, outcome="failed", error=message[:500]
    )


def detection_run_give_up(*, run: DetectionRun, message: str, actor: User | None) -> None:
    """A run that will not be retried ends failed with ``message``, recorded on the item's custody chain."""
    with transaction.atomic():
        updated = (
            DetectionRun.objects.filter(pk=run.pk)
            .exclude(status__in=FINISHED)
            .update(status=RunStatus.FAILED, finished_at=timezone.now(), error=message[:2000])
        )
        if updated:
            run.refresh_from_db()
            _failed_event(run=run, item=run.item, actor=actor, message=message)


REVIEW_DECISIONS = frozenset({ReviewStatus.CONFIRMED, ReviewStatus.REJECTED})


def annotation_review(*, annotation: Annotation, actor: User, decision: str, reason: str) -> Annotation:
    """An investigator confirms or rejects a finding, with a reason; recorded on it and in the custody ledger.

    The detector's output is never changed: the review sits beside it. A finding may be reviewed again
    (a person changes their mind on new information); each review is its own custody event.
    """
    if decision not in REVIEW_DECISIONS:
        raise RejectedInput(f"decision must be 'confirmed' or 'rejected', not {decision!r}")
    reason = (reason or "").strip()
    if not reason:
        raise RejectedInput(
            "a reason is required to confirm or reject a finding: say what you checked (e.g. 'compared "
            "with the victim's reference photo; same person')"
        )
    with transaction.atomic():
        locked = Annotation.objects.select_for_update().get(pk=annotation.pk)
        previous = locked.review_status
        locked.review_status = decision
        locked.reviewed_by = actor
        locked.reviewed_at = timezone.now()
        locked.review_reason = reason
        locked.save(update_fields=["review_status", "reviewed_by", "reviewed_at", "review_reason"])
        custody_append(
            case_id=locked.item.case_id,
            item_id=locked.item_id,
            action=CustodyAction.FINDING_REVIEWED,
            actor=actor,
            details={
                "annotation": locked.pk,
                "run": locked.run_id,
                "label": locked.label,
                "detector": locked.detector_name,
                "version": locked.detector_version,
                "decision": decision,
                "previous": previous,
                "reason": reason,
            },
        )
        for listener in review_listeners:
            listener(locked, actor, decision)
    return locked
