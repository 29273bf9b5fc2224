"""Detection on every core of one machine without a broker: the embedded default's ``ingest`` and ``detect``.

With a broker, Celery runs one worker process per core (``detection.tasks``). Without one, tasks would run
eagerly in the process that queued them, on one core. ``detection_pool_run`` forks worker processes
instead (``HAETAE_DETECT_WORKERS``, by default one per core):

- Workers only read. Each is handed one item at a time (its blob's SHA-256, its type and the runs to do),
  reads and verifies the content from the vault, decodes it once (``Subject``), runs the item's detectors
  and sends the findings back. Models load once per worker, after the fork, with one onnxruntime and one
  OpenCV thread each (``HAETAE_ONNX_THREADS`` overrides the first).
- This process records the results, one transaction per batch (``detection_results_store``: annotations,
  run status and ``analysed`` custody events together; one ledger checkpoint per batch, not per run).
  Runs stay idempotent per (item, detector version): a run another process finished meanwhile is left
  alone.
- A worker that dies (killed, out of memory, a crash in a detector's native code) loses only the item it
  was analysing, of which nothing was recorded: a new worker is started and the item is analysed again,
  up to ``HAETAE_DETECT_MAX_ATTEMPTS`` times in all, after which its runs fail saying what to do.
- Workers cannot see uncommitted rows: a caller inside a transaction (a test, a service) gets the same
  processing in its own process, as does a machine with one core. Items that are not images (video
  frames are decoded by detectors that keep state until their results are stored) run in this process.
"""

import logging
import multiprocessing
import os
import signal
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from functools import partial
from multiprocessing.connection import Connection, wait
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import connection, connections

from detection import pipeline, registry
from detection.models import DetectionRun
from detection.registry import detectors, ensure_loaded
from detection.services import FINISHED, RunResult, detection_results_store, runs_analyse
from detection.subject import Subject, media_type_of

logger = logging.getLogger(__name__)

# A batch is recorded when it holds this many results, or this long after its first one.
BATCH_RUNS = 256
BATCH_SECONDS = 2.0
_CHUNK = 1000

Progress = Callable[[Mapping[str, int], Counter[str]], None]  # (totals by detector, newly finished)


@dataclass(frozen=True)
class ItemWork:
    """One item's queued runs, as handed to a worker: no database row, only what reading it needs."""

    item_id: int
    case_id: int
    sha256: str
    mime: str
    size: int
    runs: tuple[tuple[int, str, str], ...]  # (run id, detector name, detector version)


def workers_configured() -> int:
    """``HAETAE_DETECT_WORKERS``, or the number of cores when it is 0 or unset."""
    configured = int(getattr(settings, "HAETAE_DETECT_WORKERS", 0) or 0)
    return configured if configured > 0 else (os.cpu_count() or 1)


def item_analyse(work: ItemWork) -> list[RunResult]:
    """Run an item's detectors on one shared Subject and return their results; writes nothing."""
    from evidence.vault import open_object

    subject = Subject(
        sha256=work.sha256,
        mime=work.mime,
        size=work.size,
        item_id=work.item_id,
        case_id=work.case_id,
        _opener=partial(open_object, work.sha256),
    )
    return list(runs_analyse(subject, work.runs))


def _worker_setup() -> None:
    """In a new worker: its own models and database connection, one thread per library, Ctrl-C ignored."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops its workers itself
    registry.one_thread_per_library()  # OpenCV's pool was made one thread before the fork (_run_forked)
    registry.reset()  # sessions built before the fork would share thread pools that did not survive it
    for name, detector in detectors().items():
        try:
            ensure_loaded(detector)
        except Exception:  # the run fails with the reason; the other detectors still serve
            logger.exception("detector %s failed to load in this worker process", name)


def _worker_main(conn: Connection) -> None:
    _worker_setup()
    while True:
        try:
            work = conn.recv()
        except EOFError:
            return
        if work is None:
            return
        conn.send(item_analyse(work))


class _Worker:
    """One forked worker process and the pipe it receives items and returns results on."""

    def __init__(self, context: Any) -> None:
        self.conn, child_end = context.Pipe()
        self.process = context.Process(
            target=_worker_main, args=(child_end,), name="haetae-detect", daemon=True
        )
        self.process.start()
        child_end.close()
        self.work: ItemWork | None = None

    def give(self, work: ItemWork) -> None:
        self.work = work
        self.conn.send(work)

    def stop(self) -> None:
        with suppress(OSError):  # a worker that died cannot be told to stop
            self.conn.send(None)
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


@dataclass
class _Recorder:
    """Results waiting for their batch's transaction, retries, and what to tell the progress display."""

    totals: Counter[str]
    names: dict[int, str]  # run id → detector name
    progress: Progress | None
    max_attempts: int
    tries: Counter[int] = field(default_factory=Counter)
    waiting: list[RunResult] = field(default_factory=list)
    first_waiting_at: float = 0.0

    def take(self, work: ItemWork, results: list[RunResult]) -> ItemWork | None:
        """Keep an item's results for the next batch; returns the work to retry (runs that raised)."""
        retry = []
        for result in results:
            self.tries[result.run_id] += 1
            result.tries = self.tries[result.run_id]
            if result.outcome == "raised" and result.tries < self.max_attempts:
                retry.append(result.run_id)
                continue
            if result.outcome == "raised":
                result.outcome = "gave_up"
                result.error = (
                    f"{result.error}; gave up after {result.tries} attempt(s): fix the cause (see the log), "
                    f"then run manage.py detect again with --detector {self.names[result.run_id]}"
                )
            self._wait(result)
        if not retry:
            return None
        return replace(work, runs=tuple(run for run in work.runs if run[0] in retry))

    def worker_lost(self, work: ItemWork) -> ItemWork | None:
        """The worker analysing ``work`` died: count an attempt for each of its runs; retry or give up."""
        for run_id, _, _ in work.runs:
            self.tries[run_id] += 1
        if max(self.tries[run_id] for run_id, _, _ in work.runs) < self.max_attempts:
            return work
        names = ", ".join(sorted(name for _, name, _ in work.runs))
        for run_id, _, _ in work.runs:
            self._wait(
                RunResult(
                    run_id=run_id,
                    outcome="gave_up",
                    tries=self.tries[run_id],
                    error=f"the worker process stopped {self.tries[run_id]} times while analysing this "
                    f"item ({names}): out of memory, or a crash inside a detector; check memory and the "
                    "log, then run manage.py detect again",
                )
            )
        return None

    def _wait(self, result: RunResult) -> None:
        if not self.waiting:
            self.first_waiting_at = time.monotonic()
        self.waiting.append(result)

    def due(self) -> bool:
        return len(self.waiting) >= BATCH_RUNS or (
            bool(self.waiting) and time.monotonic() - self.first_waiting_at >= BATCH_SECONDS
        )

    def flush(self) -> None:
        """Record the waiting results in one transaction; refresh their jobs; report progress."""
        if not self.waiting:
            return
        batch, self.waiting = self.waiting, []
        finished = detection_results_store(results=batch, plugins=detectors())
        for job_id in {run.job_id for run in finished if run.job_id is not None}:
            pipeline.scan_job_refresh(job_id=job_id)
        if self.progress is not None:
            self.progress(self.totals, Counter(self.names[result.run_id] for result in batch))


def _plan(
    planned: Mapping[int, list[int]], *, max_attempts: int
) -> tuple[list[ItemWork], dict[int, list[int]], dict[int, str]]:
    """Image items' work for the pool, the other items' runs (run here), and every run's detector name."""
    images: list[ItemWork] = []
    others: dict[int, list[int]] = {}
    names: dict[int, str] = {}
    item_ids = sorted(planned)
    for start in range(0, len(item_ids), _CHUNK):
        chunk = item_ids[start : start + _CHUNK]
        run_ids = [run_id for item_id in chunk for run_id in planned[item_id]]
        pipeline.runs_give_up_worker_lost(run_ids=run_ids, max_attempts=max_attempts)
        by_item: dict[int, list[tuple[int, str, str]]] = {}
        facts: dict[int, tuple[int, str, str, int]] = {}
        rows = (
            DetectionRun.objects.filter(pk__in=run_ids)
            .exclude(status__in=FINISHED)
            .values_list(
                "pk",
                "item_id",
                "detector__name",
                "detector__version",
                "item__case_id",
                "item__mime",
                "item__blob_id",
                "item__blob__size",
            )
            .order_by("item_id", "pk")
        )
        for run_id, item_id, name, version, case_id, mime, sha256, size in rows:
            names[run_id] = name
            if sha256 is None:
                continue
            by_item.setdefault(item_id, []).append((run_id, name, version))
            facts[item_id] = (case_id, mime or "", sha256, size or 0)
        for item_id, runs in by_item.items():
            case_id, mime, sha256, size = facts[item_id]
            if media_type_of(mime) == "image":
                images.append(ItemWork(item_id, case_id, sha256, mime, size, tuple(runs)))
            else:
                others[item_id] = [run_id for run_id, _, _ in runs]
    return images, others, names


def detection_pool_run(
    *, planned: Mapping[int, list[int]], progress: Progress | None = None, workers: int | None = None
) -> None:
    """Run the planned runs (run ids by item id) on every core and record them; see the module's doc.

    Runs that a killed Celery worker left ``running`` too often are given up first, as a task would.
    """
    max_attempts = int(getattr(settings, "HAETAE_DETECT_MAX_ATTEMPTS", 4))
    images, others, names = _plan(planned, max_attempts=max_attempts)
    recorder = _Recorder(
        totals=Counter(names.values()), names=names, progress=progress, max_attempts=max_attempts
    )
    if progress is not None:
        progress(recorder.totals, Counter())
    count = min(workers or workers_configured(), len(images))
    if count <= 1 or connection.in_atomic_block:
        _run_here(images, recorder)
    else:
        _run_forked(images, recorder, count)
    for item_id, run_ids in others.items():
        outcome = pipeline.detection_item_process(item_id=item_id, run_ids=run_ids)
        if outcome.raised:  # as `detect` does: the person running it sees the failure at once
            pipeline.runs_mark_given_up(run_ids=outcome.raised, attempts=1)
        if progress is not None:
            progress(recorder.totals, Counter(names[run_id] for run_id in run_ids))


def _run_here(images: list[ItemWork], recorder: _Recorder) -> None:
    queue = deque(images)
    while queue:
        work = queue.popleft()
        again = recorder.take(work, item_analyse(work))
        if again is not None:
            queue.append(again)
        if recorder.due():
            recorder.flush()
    recorder.flush()


def _run_forked(images: list[ItemWork], recorder: _Recorder, count: int) -> None:
    # A forked child must not share this process's database connections: it opens its own.
    connections.close_all()
    # OpenCV's thread pool does not survive a fork: a child that reconfigures or uses the pool it inherited
    # waits for threads that only the parent has, for ever. Shrinking it to one thread here, where its
    # threads live, leaves the children nothing to tear down (a long-lived parent, such as a test worker or
    # a detect run after other work, may have used it).
    if "cv2" in sys.modules:
        sys.modules["cv2"].setNumThreads(1)
    context = multiprocessing.get_context("fork")
    pool = [_Worker(context) for _ in range(count)]
    queue = deque(images)
    try:
        while queue or any(worker.work is not None for worker in pool):
            for worker in pool:
                if worker.work is None and queue:
                    worker.give(queue.popleft())
            busy = [worker for worker in pool if worker.work is not None]
            ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout=1.0))
            for index, worker in enumerate(pool):
                if worker.work is None or not (worker.conn in ready or worker.process.sentinel in ready):
                    continue
                work = worker.work
                try:
                    results = worker.conn.recv()
                except (EOFError, OSError):  # it died mid-item: nothing of the item was recorded
                    results = None
                if results is None:
                    logger.warning(
                        "detection worker %s stopped (exit %s) while analysing item %s",
                        worker.process.pid,
                        worker.process.exitcode,
                        work.item_id,
                    )
                    worker.work = None
                    worker.stop()
                    pool[index] = _Worker(context)
                    again = recorder.worker_lost(work)
                else:
                    worker.work = None
                    again = recorder.take(work, results)
                if again is not None:
                    queue.append(again)
            if recorder.due():
                recorder.flush()
        recorder.flush()
    finally:
        for worker in pool:
            worker.stop()


@contextmanager
def detection_after_ingest(*, show_progress: bool) -> Iterator[None]:
    """Around a command's whole ingest (``HAETAE_INGEST_SCOPES``): without a broker, the new items' runs
    are collected as each batch commits and run on every core once the ingest has finished.

    With a broker, the tasks go to the Celery workers as each batch commits, as before. An ingest that
    raises leaves its runs queued (``manage.py detect`` finishes them).
    """
    if not current_app.conf.task_always_eager:
        yield
        return
    with pipeline.runs_collected() as collected:
        yield
    if collected:
        from haetae.cli import DetectorProgress

        with DetectorProgress(enabled=show_progress) as bars:
            detection_pool_run(planned=collected, progress=bars.update)
