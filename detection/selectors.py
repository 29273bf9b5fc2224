"""Reads on detection, filtered by who asks: runs, findings and jobs of items in the caller's cases.

Visibility of items comes from ``evidence.selectors.evidence_visible_to`` (the one need-to-know rule);
jobs over a case follow case membership, jobs over the whole vault are for administrators only.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Max, Min, Q, QuerySet
from django.utils import timezone

from detection.models import Annotation, DetectionRun, Detector, ScanJob
from detection.models.runs import RunStatus
from detection.registry import detectors, load_errors
from evidence.models import Acquisition
from evidence.selectors import evidence_visible_to

Caller = AbstractBaseUser | AnonymousUser
FAILURES_SHOWN = 50

_DONE = [RunStatus.DONE, RunStatus.SKIPPED]
_PENDING = [RunStatus.QUEUED, RunStatus.RUNNING]


def is_administrator(user: Caller) -> bool:
    return bool(user.is_authenticated and getattr(user, "is_superuser", False))


def runs_visible_to(*, user: Caller) -> QuerySet[DetectionRun]:
    """Runs on items the user may see, with detector, item and case loaded and ``annotation_count``."""
    return (
        DetectionRun.objects.filter(item_id__in=evidence_visible_to(user=user).values("pk"))
        .select_related("detector", "item", "item__case")
        .annotate(annotation_count=Count("annotations"))
        .order_by("-id")
    )


def annotations_visible_to(*, user: Caller) -> QuerySet[Annotation]:
    """Findings on items the user may see, with their item, case and reviewer loaded."""
    return (
        Annotation.objects.filter(item_id__in=evidence_visible_to(user=user).values("pk"))
        .select_related("item", "item__case", "reviewed_by")
        .order_by("-id")
    )


def _with_progress(jobs: QuerySet[ScanJob]) -> QuerySet[ScanJob]:
    return jobs.annotate(
        runs_total=Count("runs"),
        runs_done=Count("runs", filter=Q(runs__status__in=_DONE)),
        runs_failed=Count("runs", filter=Q(runs__status=RunStatus.FAILED)),
        runs_pending=Count("runs", filter=Q(runs__status__in=_PENDING)),
    )


def jobs_visible_to(*, user: Caller) -> QuerySet[ScanJob]:
    """Jobs over the user's cases (and, for administrators, over the whole vault), with progress counts."""
    if not user.is_authenticated:
        return ScanJob.objects.none()
    visible = Q(case__members__user_id=user.pk)
    if is_administrator(user):
        visible |= Q(case__isnull=True)
    ids = ScanJob.objects.filter(visible).values("pk")  # a subquery: no join multiplies the counts below
    return (
        _with_progress(ScanJob.objects.filter(pk__in=ids))
        .select_related("case", "requested_by", "acquisition")
        .order_by("-created_at", "-pk")
    )


@dataclass
class Progress:
    """done / total / failed of a set of runs, for progress bars; failures say what went wrong."""

    total: int
    done: int
    failed: int
    pending: int
    by_status: dict[str, int]
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.pending == 0


def _progress(runs: QuerySet[DetectionRun], *, user: Caller) -> Progress:
    by_status = {status: 0 for status in RunStatus.values}
    for row in runs.order_by().values("status").annotate(n=Count("pk")):
        by_status[row["status"]] = row["n"]
    failures = [
        {
            "run": run.pk,
            "item": run.item_id,
            "detector": run.detector.name,
            "version": run.detector.version,
            "error": run.error,
            "finished_at": run.finished_at,
        }
        for run in runs.filter(
            status=RunStatus.FAILED, item_id__in=evidence_visible_to(user=user).values("pk")
        )
        .select_related("detector")
        .order_by("-finished_at", "-pk")[:FAILURES_SHOWN]
    ]
    return Progress(
        total=sum(by_status.values()),
        done=by_status[RunStatus.DONE] + by_status[RunStatus.SKIPPED],
        failed=by_status[RunStatus.FAILED],
        pending=by_status[RunStatus.QUEUED] + by_status[RunStatus.RUNNING],
        by_status=by_status,
        failures=failures,
    )


def job_progress(*, job: ScanJob, user: Caller) -> Progress:
    """A job's runs by status; failures only on items the user may see."""
    return _progress(DetectionRun.objects.filter(job=job), user=user)


def acquisition_progress(*, acquisition: Acquisition, user: Caller) -> Progress:
    """Every detector run on the items an acquisition took (whichever job queued it)."""
    return _progress(DetectionRun.objects.filter(item__acquisition=acquisition), user=user)


@dataclass(frozen=True)
class DetectorProgress:
    """How far one detector has come in a job: runs finished (done, skipped or failed) of its total, and
    the time left at the rate so far (None until a run has finished, or once none is left)."""

    name: str
    total: int
    finished: int
    failed: int
    seconds_left: int | None

    @property
    def percent(self) -> int:
        return round(100 * self.finished / self.total) if self.total else 100


def jobs_detector_progress(
    *, job_ids: list[int], now: datetime | None = None
) -> dict[int, list[DetectorProgress]]:
    """Per job, per detector: runs finished of the total and the time left (one grouped query).

    The rate is the detector's runs finished since its first run started in the job; with every core
    busy on the same items, each detector's share of the job advances at about that rate.
    """
    now = now or timezone.now()
    rows = (
        DetectionRun.objects.filter(job_id__in=job_ids)
        .values("job_id", "detector__name")
        .annotate(
            total=Count("pk"),
            finished=Count("pk", filter=Q(status__in=[*_DONE, RunStatus.FAILED])),
            failed=Count("pk", filter=Q(status=RunStatus.FAILED)),
            first_started=Min("started_at"),
            last_finished=Max("finished_at"),
        )
        .order_by("job_id", "detector__name")
    )
    progress: dict[int, list[DetectorProgress]] = {}
    for row in rows:
        left = row["total"] - row["finished"]
        seconds_left = None
        if left and row["finished"] and row["first_started"] is not None:
            elapsed = max(0.0, (now - row["first_started"]).total_seconds())
            seconds_left = round(elapsed / row["finished"] * left)
        progress.setdefault(row["job_id"], []).append(
            DetectorProgress(
                name=row["detector__name"],
                total=row["total"],
                finished=row["finished"],
                failed=row["failed"],
                seconds_left=seconds_left,
            )
        )
    return progress


def detectors_listed() -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Installed detectors and every version that has run, with whether each runs automatically."""
    disabled_names = set(getattr(settings, "HAETAE_DETECTORS_DISABLED", []))
    rows = {(row.name, row.version): row for row in Detector.objects.all()}
    listed: dict[tuple[str, str], dict[str, Any]] = {}
    for (name, version), row in rows.items():
        listed[(name, version)] = {
            "name": name,
            "version": version,
            "media_types": list(row.media_types),
            "parameters": row.parameters,
            "model_sha256": row.model_sha256,
            "model_card": row.model_card,
            "licence": row.licence,
            "validation": row.validation,
            "installed": False,
            "enabled": False,
        }
    for name, plugin in detectors().items():
        info = plugin.info
        recorded = rows.get((name, info.version))
        listed[(name, info.version)] = {
            "name": name,
            "version": info.version,
            **info.described(),
            "installed": True,
            "enabled": name not in disabled_names and (recorded is None or recorded.enabled),
        }
    return [listed[key] for key in sorted(listed)], load_errors()
