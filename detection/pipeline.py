"""The detection pipeline: which runs to queue, when to send them, and how a worker processes an item.

Work is queued durably first: the runs are created ``queued`` in the same transaction as the items they
are for (ingest) or the job that asks for them (detect, re-scan), and one task per item is sent to the
``detect`` queue when that transaction commits. A task runs every queued detector of its item on one
shared ``Subject``, so a file is read from the vault, verified and decoded once, not once per detector.

Idempotency rests on the database, not on the broker: one run per (item, detector version) (a unique
constraint), and a run's annotations commit together with its ``done`` status. A task delivered twice,
retried, or redelivered after its worker was killed finds finished runs finished and adds nothing.
"""

import logging
import socket
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from detection import registry
from detection.models import DetectionRun, Detector, ScanJob
from detection.models.runs import JobKind, JobStatus, RunStatus
from detection.registry import Detector as DetectorPlugin
from detection.registry import detector_get, detectors
from detection.services import (
    FINISHED,
    RunResult,
    detection_results_store,
    detection_run,
    detection_run_give_up,
    detector_record,
    runs_analyse,
    runs_mark_raised,
)
from detection.subject import Subject, media_type_of
from evidence.choices import ItemStatus
from evidence.models import Acquisition, EvidenceItem
from haetae.errors import RejectedInput
from haetae.toolkit import task_queue_on_commit

logger = logging.getLogger(__name__)

_CHUNK = 1000


def detectors_enabled() -> list[DetectorPlugin]:
    """Registered detectors that run automatically: not disabled by setting, nor their version (admin)."""
    disabled_names = set(getattr(settings, "HAETAE_DETECTORS_DISABLED", []))
    candidates = [d for name, d in sorted(detectors().items()) if name not in disabled_names]
    if not candidates:
        return []
    disabled_versions = set(
        Detector.objects.filter(enabled=False, name__in=[d.info.name for d in candidates]).values_list(
            "name", "version"
        )
    )
    return [d for d in candidates if (d.info.name, d.info.version) not in disabled_versions]


def _applies(detector: DetectorPlugin, item: EvidenceItem) -> bool:
    return media_type_of(item.mime or "") in detector.info.media_types


def runs_queue(
    *, items: Sequence[EvidenceItem], plugins: Sequence[DetectorPlugin], job: ScanJob, retry_failed: bool
) -> dict[int, list[int]]:
    """Queue a run of each applicable detector on each item, in the caller's transaction.

    Items that already have a finished run of a detector's version are left alone (re-running adds
    nothing). A ``failed`` run is queued again only with ``retry_failed``; a queued or running one is
    taken into ``job``. Returns the run ids to process, by item id.
    """
    rows = {plugin.info.name: detector_record(plugin.info) for plugin in plugins}
    planned: dict[int, list[int]] = defaultdict(list)
    for start in range(0, len(items), _CHUNK):
        chunk = items[start : start + _CHUNK]
        wanted = [(item, rows[p.info.name]) for item in chunk for p in plugins if _applies(p, item)]
        if not wanted:
            continue
        detector_ids = {row.pk for _, row in wanted}
        existing = {
            (run.item_id, run.detector_id): run
            for run in DetectionRun.objects.filter(
                item_id__in=[item.pk for item in chunk], detector_id__in=detector_ids
            ).only("pk", "item_id", "detector_id", "status")
        }
        fresh = []
        again = []
        for item, row in wanted:
            run = existing.get((item.pk, row.pk))
            if run is None:
                fresh.append(DetectionRun(item=item, detector=row, job=job, input_sha256=str(item.blob_id)))
            elif run.status in (RunStatus.QUEUED, RunStatus.RUNNING) or (
                retry_failed and run.status == RunStatus.FAILED
            ):
                again.append(run.pk)
        DetectionRun.objects.bulk_create(fresh, ignore_conflicts=True)
        if again:
            DetectionRun.objects.filter(pk__in=again, status=RunStatus.FAILED).update(
                status=RunStatus.QUEUED, queued_at=timezone.now()
            )
            DetectionRun.objects.filter(pk__in=again).update(job=job)
        # ignore_conflicts leaves pks unset (and another transaction may have won a race): read them back.
        for item_id, run_id in DetectionRun.objects.filter(
            Q(pk__in=again) | Q(job=job, item_id__in=[item.pk for item in chunk], status=RunStatus.QUEUED)
        ).values_list("item_id", "pk"):
            if run_id not in planned[item_id]:
                planned[item_id].append(run_id)
    total = DetectionRun.objects.filter(job=job).count()
    if planned:
        ScanJob.objects.filter(pk=job.pk).update(total=total, status=JobStatus.RUNNING, finished_at=None)
    else:
        ScanJob.objects.filter(pk=job.pk).update(total=total)
    return dict(planned)


# Queued by name: the task module imports this one, never the reverse.
DETECT_TASK = "detection.tasks.detect_item_task"


_collecting: ContextVar[dict[int, list[int]] | None] = ContextVar("haetae_runs_collected", default=None)


@contextmanager
def runs_collected() -> Iterator[dict[int, list[int]]]:
    """Inside, runs queued on commit are gathered (run ids by item id) instead of sent as tasks; the
    caller then processes them all at once (``detection.pool``). Work that rolled back is never gathered."""
    collected: dict[int, list[int]] = {}
    token = _collecting.set(collected)
    try:
        yield collected
    finally:
        _collecting.reset(token)


def _gather(collected: dict[int, list[int]], planned: dict[int, list[int]]) -> None:
    for item_id, run_ids in planned.items():
        known = collected.setdefault(item_id, [])
        known.extend(run_id for run_id in run_ids if run_id not in known)


def _send_on_commit(planned: dict[int, list[int]]) -> None:
    """One task per item, sent when the current transaction commits (never for work that rolled back)."""
    if not planned:
        return
    collected = _collecting.get()
    if collected is not None:
        transaction.on_commit(lambda: _gather(collected, planned))
        return

    # A broker that is down (or an eager task that raises) must not undo or fail the caller, whose
    # transaction has committed; the runs stay queued and `manage.py detect` picks them up.
    for item_id, run_ids in planned.items():
        task_queue_on_commit(DETECT_TASK, item_id, sorted(run_ids))


def detection_enqueue_ingested(*, items: Sequence[EvidenceItem], acquisition: Acquisition) -> None:
    """The ingest hook: queue the enabled detectors on a batch's new items, in the batch's transaction."""
    if not getattr(settings, "HAETAE_DETECT_ON_INGEST", True):
        return
    try:
        plugins = detectors_enabled()
    except Exception:  # a registry that cannot load must not stop an ingest; the log and the API say why
        logger.exception("detectors unavailable: items of acquisition %s were not queued", acquisition.pk)
        return
    wanted = [item for item in items if item.blob_id and any(_applies(p, item) for p in plugins)]
    if not wanted:
        return
    job, _ = ScanJob.objects.get_or_create(
        kind=JobKind.ACQUISITION,
        acquisition=acquisition,
        defaults={"case_id": acquisition.case_id, "requested_by_id": acquisition.actor_id},
    )
    _send_on_commit(runs_queue(items=wanted, plugins=plugins, job=job, retry_failed=False))


def _case_items(case_id: int | None) -> QuerySet[EvidenceItem]:
    items = EvidenceItem.objects.filter(status=ItemStatus.INGESTED, blob__isnull=False)
    return items if case_id is None else items.filter(case_id=case_id)


def _plugins_named(detector_name: str | None) -> list[DetectorPlugin]:
    if detector_name:
        return [detector_get(detector_name)]
    plugins = detectors_enabled()
    if not plugins:
        raise RejectedInput(
            "no detector is enabled: install detector packages (entry points 'haetae.detectors') or "
            "enable one in the admin"
        )
    return plugins


def scan_job_create(
    *, kind: str, case_id: int | None, detector_name: str | None, actor: User | None, send: bool
) -> tuple[ScanJob, dict[int, list[int]]]:
    """A job over a case (or, with no case, the whole vault) for one detector or every enabled one.

    Queues runs for items that have no finished run of the detector's current version (a new version
    therefore re-scans everything, and the old version's annotations stay); ``failed`` runs are retried.
    With ``send`` the tasks go to the workers on commit; otherwise the caller processes the plan itself.
    """
    plugins = _plugins_named(detector_name)
    job = ScanJob.objects.create(
        kind=kind, case_id=case_id, detector_name=detector_name or "", requested_by=actor
    )
    media_types = set().union(*(p.info.media_types for p in plugins))
    items = _case_items(case_id).only("pk", "mime", "blob_id", "case_id").order_by("pk")
    planned: dict[int, list[int]] = {}
    last_pk = 0
    while True:
        # One transaction per chunk: a whole-vault re-scan never holds one huge transaction, and workers
        # start on the first chunk while the next is queued. A re-scan cut short is completed by running
        # it again (queued runs are taken over, finished ones left alone).
        chunk = list(items.filter(pk__gt=last_pk)[:_CHUNK])
        if not chunk:
            break
        last_pk = chunk[-1].pk
        wanted = [item for item in chunk if media_type_of(item.mime or "") in media_types]
        with transaction.atomic():
            queued = runs_queue(items=wanted, plugins=plugins, job=job, retry_failed=True)
            if send:
                _send_on_commit(queued)
        planned.update(queued)
    scan_job_refresh(job_id=job.pk)  # nothing to do, or every run already finished: the job is done
    job.refresh_from_db()
    return job, planned


@dataclass
class ItemOutcome:
    """What one item's processing did: its runs after the attempt, and runs that raised (to retry)."""

    item_id: int
    runs: list[DetectionRun] = field(default_factory=list)
    raised: dict[int, str] = field(default_factory=dict)  # run id → the error, as a person reads it
    timed_out: int | None = None  # the run that hit the task's soft time limit; processing stopped there
    not_reached: list[int] = field(default_factory=list)  # runs after it, left queued


def _fail_permanently(run_id: int, message: str) -> None:
    DetectionRun.objects.filter(pk=run_id).exclude(status__in=FINISHED).update(
        status=RunStatus.FAILED, finished_at=timezone.now(), error=message[:2000]
    )


_REFRESH_INTERVAL_SECONDS = 60
_last_refresh = [0.0]


def _registry_refresh() -> bool:
    """Rebuild this process's registry (new model packs), at most once a minute; True when it did."""
    now = time.monotonic()
    if now - _last_refresh[0] < _REFRESH_INTERVAL_SECONDS:
        return False
    _last_refresh[0] = now
    registry.reset()
    return True


def detection_item_process(*, item_id: int, run_ids: Iterable[int]) -> ItemOutcome:
    """Run an item's queued runs (those named) on one shared Subject; the core of ``detect_item_task``.

    A run whose detector version is not installed here, or whose worker died on it too often, fails with a
    message saying what to do. A detector that raises leaves its run failed and is reported in ``raised``
    for the caller to retry; the other detectors of the item still run.

    An image's runs are marked running together, analysed, and recorded in one transaction
    (``detection_results_store``, as the embedded pool records its batches): one commit for the item's
    findings, statuses and ``analysed`` events instead of two per run. Other media go run by run
    (``detection_run``): a video's detectors keep decoded frames until their results are stored.
    """
    outcome = ItemOutcome(item_id=item_id)
    item = EvidenceItem.objects.select_related("blob", "case").filter(pk=item_id).first()
    if item is None:
        logger.warning("detection task for item %s: no such item (a stale message?); nothing to do", item_id)
        return outcome
    runs = list(
        DetectionRun.objects.filter(pk__in=list(run_ids), item_id=item_id)
        .select_related("detector", "job", "job__requested_by")
        .order_by("pk")
    )
    pending = [run for run in runs if run.status not in FINISHED]
    if pending and item.status != ItemStatus.INGESTED:
        # Marked unrelated to the warrant (or destroyed) after the runs were queued: not analysed.
        for run in pending:
            _fail_permanently(
                run.pk,
                f"item {item.pk} is {item.status} ({item.status_reason or 'no reason recorded'}): it is "
                "not analysed. If it was marked unrelated by mistake, withdraw the mark and run the detector "
                "again",
            )
        pending = []
    installed = detectors()
    max_attempts = int(getattr(settings, "HAETAE_DETECT_MAX_ATTEMPTS", 4))
    runnable: list[tuple[DetectionRun, DetectorPlugin]] = []  # each with the plugin it was checked against
    for run in pending:
        plugin = installed.get(run.detector.name)
        if (plugin is None or plugin.info.version != run.detector.version) and _registry_refresh():
            installed = detectors()  # a model pack imported since this process started is found now
            plugin = installed.get(run.detector.name)
        if plugin is None or plugin.info.version != run.detector.version:
            have = f"version {plugin.info.version}" if plugin is not None else "no such detector"
            _fail_permanently(
                run.pk,
                f"detector {run.detector.name} {run.detector.version} is not installed on worker "
                f"{socket.gethostname()} (it has {have}): install that version on every worker, or "
                f"re-scan with the installed one (manage.py rescan --detector {run.detector.name})",
            )
            continue
        if run.status == RunStatus.RUNNING and run.attempts >= max_attempts:
            detection_run_give_up(
                run=run,
                actor=run.job.requested_by if run.job is not None else None,
                message=f"the worker stopped {run.attempts} times while {run.detector.name} analysed this "
                "item (out of memory, or a crash inside the detector): check the worker logs and memory, "
                f"then run manage.py detect {item.case.number} --detector {run.detector.name} again",
            )
            continue
        runnable.append((run, plugin))
    if runnable:
        subject = Subject.for_item(item)
        if media_type_of(item.mime or "") == "image":
            _image_runs(subject, [run for run, _ in runnable], installed, outcome)
        else:
            _runs_one_by_one(item, subject, runnable, outcome)
    outcome.runs = list(DetectionRun.objects.filter(pk__in=[r.pk for r in runs]).order_by("pk"))
    for job_id in {run.job_id for run in runs if run.job_id is not None}:
        scan_job_refresh(job_id=job_id)
    return outcome


def _image_runs(
    subject: Subject, runnable: list[DetectionRun], installed: dict[str, DetectorPlugin], outcome: ItemOutcome
) -> None:
    """An image's runs: marked running together (an attempt each, counted before the content is read, so a
    worker killed on it leaves a trace), analysed, then recorded in one transaction."""
    ids = [run.pk for run in runnable]
    DetectionRun.objects.filter(pk__in=ids).exclude(status__in=FINISHED).update(
        status=RunStatus.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1
    )
    results: list[RunResult] = []
    try:
        for result in runs_analyse(
            subject,
            [(run.pk, run.detector.name, run.detector.version) for run in runnable],
            stop_on=(SoftTimeLimitExceeded,),
        ):
            result.tries = 0  # counted above
            results.append(result)
    except SoftTimeLimitExceeded:
        outcome.timed_out = ids[len(results)]
        outcome.not_reached = ids[len(results) + 1 :]
        # Not started: back to queued, their attempt not counted (they run in a fresh task).
        DetectionRun.objects.filter(pk__in=outcome.not_reached, status=RunStatus.RUNNING).update(
            status=RunStatus.QUEUED, started_at=None, attempts=F("attempts") - 1
        )
    detection_results_store(results=results, plugins=installed)
    raised = [result for result in results if result.outcome == "raised"]
    runs_mark_raised(results=raised)
    outcome.raised.update({result.run_id: result.error for result in raised})


def _runs_one_by_one(
    item: EvidenceItem,
    subject: Subject,
    runnable: list[tuple[DetectionRun, DetectorPlugin]],
    outcome: ItemOutcome,
) -> None:
    """Other media's runs, each recorded as it finishes (``detection_run``)."""
    for index, (run, plugin) in enumerate(runnable):
        actor = run.job.requested_by if run.job is not None else None
        try:
            detection_run(item=item, detector=plugin, job=run.job, subject=subject, actor=actor)
        except SoftTimeLimitExceeded:
            outcome.timed_out = run.pk
            outcome.not_reached = [later.pk for later, _ in runnable[index + 1 :]]
            break
        except Exception as exc:
            outcome.raised[run.pk] = describe(exc)


def runs_give_up_worker_lost(*, run_ids: Iterable[int], max_attempts: int) -> None:
    """Runs left ``running`` by workers that died on them ``max_attempts`` times fail, saying what to do."""
    stuck = DetectionRun.objects.filter(
        pk__in=list(run_ids), status=RunStatus.RUNNING, attempts__gte=max_attempts
    ).values_list("pk", flat=True)
    _give_up(
        list(stuck),
        lambda run: (
            f"the worker stopped {run.attempts} times while {run.detector.name} analysed this item (out of "
            "memory, or a crash inside the detector): check the worker logs and memory, then run "
            f"manage.py detect {run.item.case.number} --detector {run.detector.name} again"
        ),
    )


def runs_mark_retrying(*, run_ids: Iterable[int], attempt: int, countdown: int, error: str) -> None:
    """Runs whose detector raised go back to queued, the error kept, while a retry is pending."""
    DetectionRun.objects.filter(pk__in=list(run_ids), status=RunStatus.FAILED).update(
        status=RunStatus.QUEUED,
        error=f"attempt {attempt} failed ({error[:1500]}); retrying in {countdown} s",
    )


def runs_mark_given_up(*, run_ids: Iterable[int], attempts: int) -> None:
    """After the last retry, the run stays failed with what to do next."""
    _give_up(
        run_ids,
        lambda run: (
            f"{run.error or 'the detector failed'}; gave up after {attempts} attempt(s): fix the cause (see "
            f"the worker log), then run manage.py detect {run.item.case.number} "
            f"--detector {run.detector.name}"
        ),
    )


def run_mark_timed_out(*, run_id: int, limit_seconds: int) -> None:
    """A run that hit the task's time limit fails (retrying would only hit it again), with what to do."""
    _give_up(
        [run_id],
        lambda run: (
            f"the item's analysis took longer than the time limit of {limit_seconds} s while "
            f"{run.detector.name} ran: raise HAETAE_DETECT_TIME_LIMIT_SECONDS on the workers (long videos "
            f"need more), then run manage.py detect {run.item.case.number} --detector {run.detector.name}"
        ),
    )


def _give_up(run_ids: Iterable[int], message_for: Callable[[DetectionRun], str]) -> None:
    runs = DetectionRun.objects.filter(pk__in=list(run_ids)).select_related(
        "detector", "item__case", "job__requested_by"
    )
    for run in runs:
        if run.status in FINISHED:
            continue
        actor = run.job.requested_by if run.job is not None else None
        detection_run_give_up(run=run, message=message_for(run), actor=actor)


def scan_job_refresh(*, job_id: int) -> None:
    """Record a job as finished (with or without failures) once none of its runs is queued or running."""
    runs = DetectionRun.objects.filter(job_id=job_id)
    if runs.filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).exists():
        ScanJob.objects.filter(pk=job_id).exclude(status=JobStatus.RUNNING).update(
            status=JobStatus.RUNNING, finished_at=None
        )
        return
    failed = runs.filter(status=RunStatus.FAILED).exists()
    ScanJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
        status=JobStatus.DONE_WITH_FAILURES if failed else JobStatus.DONE, finished_at=timezone.now()
    )


def item_ids_pending(*, case_id: int | None) -> dict[int, list[int]]:
    """Queued runs by item (e.g. whose task was lost with a broker's queue), for ``detect`` to pick up."""
    planned: dict[int, list[int]] = defaultdict(list)
    runs = DetectionRun.objects.filter(status=RunStatus.QUEUED)
    if case_id is not None:
        runs = runs.filter(item__case_id=case_id)
    for item_id, run_id in runs.values_list("item_id", "pk").order_by("item_id", "pk"):
        planned[item_id].append(run_id)
    return dict(planned)


def describe(value: Any) -> str:
    """An exception as a person reads it in a run's error."""
    return f"{type(value).__name__}: {value}" if isinstance(value, BaseException) else str(value)


def runs_status(*, run_ids: Iterable[int]) -> dict[str, str]:
    """Run id (as a string, JSON-ready) → status, for a task's result."""
    return {
        str(pk): str(status)
        for pk, status in DetectionRun.objects.filter(pk__in=list(run_ids)).values_list("pk", "status")
    }
