"""Celery tasks of detection: one task per item, on the ``detect`` queue; thin wrappers over the pipeline.

``acks_late`` with ``reject_on_worker_lost``: the message is acknowledged only after the task returns, so a
worker that is killed mid-task leaves it to be delivered again (at once when a pool child dies, after the
broker's visibility timeout when the whole worker dies). Redelivery is safe because runs are idempotent
(``detection.pipeline``). Detectors raise for transient reasons too (memory, a database restart): those
runs are retried with exponential backoff, up to ``HAETAE_DETECT_MAX_ATTEMPTS`` attempts in all.

Models load once per worker process, right after the pool forks it (``worker_process_init``), with
one thread per library in each process (onnxruntime unless ``HAETAE_ONNX_THREADS`` says otherwise, OpenCV,
numpy's BLAS: ``registry.one_thread_per_library``): run one process per core (``celery worker -Q detect``,
whose default concurrency is the number of cores).
"""

import logging
from typing import Any

from celery import Task, shared_task
from celery.signals import worker_process_init
from django.conf import settings

from detection import pipeline
from detection.registry import detectors, ensure_loaded, one_thread_per_library

logger = logging.getLogger(__name__)


@worker_process_init.connect
def _load_models_after_fork(**_: Any) -> None:
    """Each pool process loads every detector's models once, before its first task (not in the parent)."""
    one_thread_per_library()
    for name, detector in detectors().items():
        try:
            ensure_loaded(detector)
        except Exception:  # the run will fail with the reason; the other detectors still serve
            logger.exception("detector %s failed to load in this worker process", name)


def _backoff(retries: int) -> int:
    base = int(getattr(settings, "HAETAE_DETECT_RETRY_BACKOFF_SECONDS", 15))
    return int(base * (2**retries))


TIME_LIMIT_SECONDS = int(getattr(settings, "HAETAE_DETECT_TIME_LIMIT_SECONDS", 3600))


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,
    soft_time_limit=TIME_LIMIT_SECONDS,  # raised inside the detector: its run fails with what to do
)
def detect_item_task(self: Task, item_id: int, run_ids: list[int]) -> dict[str, Any]:
    """Run an item's queued detector runs; retry the ones whose detector raised, with backoff."""
    attempt = int(self.request.retries or 0) + 1
    max_attempts = int(getattr(settings, "HAETAE_DETECT_MAX_ATTEMPTS", 4))
    all_runs = list(run_ids)
    while True:
        outcome = pipeline.detection_item_process(item_id=item_id, run_ids=run_ids)
        if outcome.timed_out is not None:
            pipeline.run_mark_timed_out(run_id=outcome.timed_out, limit_seconds=TIME_LIMIT_SECONDS)
            if outcome.not_reached:  # the item's other detectors run in a fresh task, with its own limit
                detect_item_task.apply_async(args=(item_id, outcome.not_reached))
            for job_id in {run.job_id for run in outcome.runs if run.job_id is not None}:
                pipeline.scan_job_refresh(job_id=job_id)
        if not outcome.raised:
            break
        errors = "; ".join(outcome.raised.values())
        if attempt >= max_attempts:
            pipeline.runs_mark_given_up(run_ids=outcome.raised, attempts=attempt)
            for job_id in {run.job_id for run in outcome.runs if run.job_id is not None}:
                pipeline.scan_job_refresh(job_id=job_id)
            logger.error("item %s: giving up after %s attempts: %s", item_id, attempt, errors)
            break
        countdown = _backoff(attempt - 1)
        pipeline.runs_mark_retrying(
            run_ids=outcome.raised, attempt=attempt, countdown=countdown, error=errors
        )
        logger.warning("item %s: %s; retry %s in %s s", item_id, errors, attempt, countdown)
        run_ids = sorted(outcome.raised)
        if not self.request.is_eager:
            raise self.retry(args=(item_id, run_ids), countdown=countdown)
        attempt += 1  # eager (the embedded default): no broker to wait on, so the retry runs now
    runs = pipeline.runs_status(run_ids=all_runs)
    return {"item": item_id, "runs": runs}
