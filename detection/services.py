"""Running a detector over an item: one run per (item, detector version), annotations with provenance.

``detection_run`` is the synchronous core that the Celery tasks, the ``detect`` command and tests call. It
is idempotent: a finished run is returned as is, so a redelivered task adds nothing. The annotations, the
run's completion and an ``analysed`` custody event commit in one transaction.
"""

import socket
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db.models import F
from django.utils import timezone

from detection.listeners import review_listeners, run_listeners
from detection.models import Annotation, DetectionRun, Detector, ScanJob
from detection.models.runs import ReviewStatus, RunStatus
from detection.registry import Detector as DetectorPlugin
from detection.registry import DetectorInfo, Finding, detectors, ensure_loaded
from detection.subject import NotAnalysedTooManyPixels, Subject, UndecodableMedia
from evidence.choices import CustodyAction
from evidence.custody import EventSpec, custody_append, custody_append_many
from evidence.models import EvidenceItem
from haetae.db import ledger_transaction, retry_on_conflict
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
        message = undecodable_message(exc)
        # The ledger lock comes before the run's row lock: the one lock order (docs/ledger.md)
        with ledger_transaction():
            if _fail(run.pk, _ms_since(t0), message):
                run.refresh_from_db()
                custody_append_many([_failed_spec(run=run, item=item, actor=actor, message=message)])
        run.refresh_from_db()
        return run
    except Exception as exc:
        _fail(run.pk, _ms_since(t0), f"{type(exc).__name__}: {exc}")
        raise
    duration_ms = _ms_since(t0)
    with ledger_transaction():
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
        custody_append_many(
            [_done_spec(run=locked, item=item, actor=actor, detector=info, annotations=annotations)]
        )
    return locked


def undecodable_message(exc: UndecodableMedia) -> str:
    """A run's error when its content cannot be analysed: what happened, and that retrying will not help."""
    if isinstance(exc, NotAnalysedTooManyPixels):
        return f"{exc}; nothing to retry"
    return f"{exc}: the file may be damaged or not the type it claims; nothing to retry"


def _store(
    run: DetectionRun, item: EvidenceItem, info: DetectorInfo, findings: list[Finding]
) -> list[Annotation]:
    ran_at = timezone.now()
    provenance = _provenance(info, run, ran_at)
    # A finding's fields are the annotation's, one to one; the run adds where it came from.
    rows = [Annotation(run=run, item=item, **asdict(f), **provenance) for f in findings]
    return Annotation.objects.bulk_create(rows)


@dataclass
class RunResult:
    """What a pool worker reports for one run, for the parent to record (``detection_results_store``).

    ``outcome``: ``done`` (``findings`` by the detector ``info`` describes), ``undecodable`` (the content
    was read but cannot be analysed: the run fails, nothing to retry), ``raised`` (the detector raised: the
    caller retries), ``not_installed`` (this worker lacks the run's detector version; content not read).
    """

    run_id: int
    outcome: str
    info: DetectorInfo | None = None
    findings: list[Finding] = field(default_factory=list)
    error: str = ""
    started_at: datetime | None = None
    duration_ms: int = 0
    tries: int = 1  # analyses of this run by this caller, killed workers included (added to ``attempts``)


def runs_analyse(
    subject: Subject,
    runs: Iterable[tuple[int, str, str]],
    *,
    stop_on: tuple[type[BaseException], ...] = (),
) -> Iterator[RunResult]:
    """Run each (run id, detector name, version) on the one shared ``subject``, yielding its result as it
    finishes; writes nothing (``detection_results_store`` records them).

    A detector that raises gives a ``raised`` result and the next detector still runs, except for the
    exception types in ``stop_on`` (a Celery task's soft time limit), which propagate: the results already
    yielded are the caller's to record.
    """
    installed = detectors()
    for run_id, name, version in runs:
        plugin = installed.get(name)
        if plugin is None or plugin.info.version != version:
            have = f"version {plugin.info.version}" if plugin is not None else "no such detector"
            yield RunResult(
                run_id=run_id,
                outcome="not_installed",
                error=f"detector {name} {version} is not installed on {socket.gethostname()} (it has "
                f"{have}): install that version, or re-scan with the installed one "
                f"(manage.py rescan --detector {name})",
            )
            continue
        started = timezone.now()
        t0 = time.perf_counter()
        try:
            ensure_loaded(plugin)
            findings = list(plugin.analyze(subject))
        except UndecodableMedia as exc:
            outcome, error, findings = "undecodable", undecodable_message(exc), []
        except stop_on:
            raise
        except Exception as exc:  # the caller retries it; the other detectors of the item still run
            outcome, error, findings = "raised", f"{type(exc).__name__}: {exc}", []
        else:
            outcome, error = "done", ""
        yield RunResult(
            run_id=run_id,
            outcome=outcome,
            info=plugin.info if outcome == "done" else None,
            findings=findings,
            error=error,
            started_at=started,
            duration_ms=_ms_since(t0),
        )


def runs_mark_raised(*, results: Iterable[RunResult]) -> None:
    """Runs whose detector raised end ``failed`` with the error, unless another worker finished them
    meanwhile; the caller retries them (``detect_item_task``) or gives up on them."""
    for result in results:
        _fail(result.run_id, result.duration_ms, result.error)


def detection_results_store(
    *, results: Sequence[RunResult], plugins: Mapping[str, DetectorPlugin]
) -> list[DetectionRun]:
    """Record runs analysed by pool workers, all in one transaction; returns the runs it finished.

    The same records as ``detection_run``: each finished run's annotations, its ``done`` or ``failed``
    status and its ``analysed`` custody event commit together, so a batch is recorded whole or not at all.
    A run another process finished meanwhile is left as it is (no duplicate annotation or event).
    ``raised`` results are not recorded here: the caller retries them or gives up on them.
    ``plugins`` (by name) give each detector's ``after_store`` (victim matching, bank lookups); every
    finished run also goes to ``run_listeners``, as in ``detection_run``.
    """
    wanted = {r.run_id: r for r in results if r.outcome != "raised"}
    if not wanted:
        return []
    finished: list[DetectionRun] = []
    events: list[EventSpec] = []
    with ledger_transaction():
        runs = (
            DetectionRun.objects.select_for_update(of=("self",))
            .filter(pk__in=list(wanted))
            .select_related("detector", "item", "job__requested_by")
            .order_by("pk")
        )
        for run in runs:
            if run.status in FINISHED:
                continue
            result = wanted[run.pk]
            actor = run.job.requested_by if run.job is not None else None
            run.started_at = result.started_at or timezone.now()
            run.finished_at = timezone.now()
            run.duration_ms = result.duration_ms
            run.attempts = run.attempts + result.tries
            fields = ["status", "started_at", "finished_at", "duration_ms", "error", "attempts"]
            if result.outcome == "done" and result.info is not None:
                annotations = _store(run, run.item, result.info, result.findings)
                run.status, run.error = RunStatus.DONE, ""
                run.save(update_fields=fields)
                plugin = plugins.get(run.detector.name)
                after_store = getattr(plugin, "after_store", None)
                if (
                    after_store is not None
                    and plugin is not None
                    and plugin.info.version == result.info.version
                ):
                    after_store(run=run, annotations=annotations)
                for listener in run_listeners:  # as detection_run: search indexes the text found
                    listener(run, annotations)
                events.append(
                    _done_spec(
                        run=run, item=run.item, actor=actor, detector=result.info, annotations=annotations
                    )
                )
            else:
                run.status, run.error = RunStatus.FAILED, result.error[:2000]
                run.save(update_fields=fields)
                if result.outcome == "undecodable":  # the content was read: on the custody chain
                    events.append(_failed_spec(run=run, item=run.item, actor=actor, message=result.error))
            finished.append(run)
        custody_append_many(events)
    return finished


def _analysed_spec(
    *, run: DetectionRun, item: EvidenceItem, actor: User | None, detector: Any, outcome: str, **result: Any
) -> EventSpec:
    """The ``analysed`` event: ``detector`` (its name, version, model) read the item's content for ``run``."""
    return EventSpec(
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


def _done_spec(
    *,
    run: DetectionRun,
    item: EvidenceItem,
    actor: User | None,
    detector: DetectorInfo,
    annotations: list[Annotation],
) -> EventSpec:
    """A finished run's ``analysed`` event: how many findings, with which labels."""
    labels = sorted({a.label for a in annotations})
    return _analysed_spec(
        run=run,
        item=item,
        actor=actor,
        detector=detector,
        outcome="done",
        findings=len(annotations),
        labels=labels,
    )


def _failed_spec(*, run: DetectionRun, item: EvidenceItem, actor: User | None, message: str) -> EventSpec:
    """The content was read even though the analysis failed: that read is on the item's custody chain."""
    return _analysed_spec(
        run=run, item=item, actor=actor, detector=run.detector, outcome="failed", error=message[:500]
    )


def _fail(run_id: int, duration_ms: int, message: str) -> bool:
    """Mark the run failed unless another worker finished it meanwhile; True when it was marked."""
    return bool(
        DetectionRun.objects.filter(pk=run_id)
        .exclude(status__in=FINISHED)
        .update(
            status=RunStatus.FAILED,
            finished_at=timezone.now(),
            duration_ms=duration_ms,
            error=message[:2000],
        )
    )


def _ms_since(t0: float) -> int:
    return int((time.perf_counter() - t0) * 1000)


def detection_run_give_up(*, run: DetectionRun, message: str, actor: User | None) -> None:
    """A run that will not be retried ends failed with ``message``, recorded on the item's custody chain."""
    # The ledger lock comes before the run's row lock: the one lock order (docs/ledger.md)
    with ledger_transaction():
        updated = (
            DetectionRun.objects.filter(pk=run.pk)
            .exclude(status__in=FINISHED)
            .update(status=RunStatus.FAILED, finished_at=timezone.now(), error=message[:2000])
        )
        if updated:
            run.refresh_from_db()
            custody_append_many([_failed_spec(run=run, item=run.item, actor=actor, message=message)])


REVIEW_DECISIONS = frozenset({ReviewStatus.CONFIRMED, ReviewStatus.REJECTED})


@retry_on_conflict
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
    with ledger_transaction():
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
