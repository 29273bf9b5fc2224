"""Reads for the dashboard, each built from the domain selectors so that need-to-know stays in one place.

Alerts: the user's unseen cross-case match alerts (shown through ``match_view``, so the other side of a
match reveals only whom to ask), overdue takedown requests of the cases where the user is a support worker
or the lead, and integrity incidents on the user's cases. Jobs: acquisitions, scan jobs, reports and export
bundles of the cases where the user may ingest (lead, investigator, analyst), running or finished in the
last few minutes, each with a percentage where one is known.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from access.models import Case
from access.policy import POLICY, Action
from access.selectors import case_list, visible_case_ids
from detection.match_selectors import match_alert_list, match_view, pseudonymised_case_ids
from detection.models.runs import JobStatus
from detection.selectors import DetectorProgress, jobs_detector_progress, jobs_visible_to
from evidence.choices import AcquisitionStatus, CustodyAction
from evidence.models import Acquisition, CustodyEvent
from exhibits.choices import ReportStatus
from exhibits.models import ExportBundle, Report
from support.selectors import takedown_overdue_across_cases, takedown_waiting_since

Caller = AbstractBaseUser | AnonymousUser

ALERTS_SHOWN = 20
# A finished job stays on the dashboard this long, so the person who started it sees it reach 100 %.
RECENTLY_FINISHED = timedelta(minutes=15)


def my_cases(*, user: Caller, limit: int = 50) -> QuerySet[Case]:
    """The user's cases, newest first, each with ``caller_role`` and ``item_count``."""
    return case_list(user=user, with_counts=True).order_by("-opened_at", "number")[:limit]


def match_alerts_for(*, user: Caller) -> list[dict[str, Any]]:
    """The user's unseen cross-case match alerts as they may see them (the other case only as a contact).

    Each entry: ``alert``, ``match`` (``match_view``), ``mine`` (the side in the alert's case) and ``theirs``
    (the other item's side, or None for a bank entry, which ``match["bank_entry"]`` describes).
    """
    alerts = list(match_alert_list(user=user).filter(seen_at__isnull=True)[:ALERTS_SHOWN])
    if not alerts:
        return []
    visible = set(visible_case_ids(user=user).values_list("pk", flat=True))
    hidden = pseudonymised_case_ids(user)
    entries = []
    for alert in alerts:
        view = match_view(alert.match, visible_cases=visible, pseudonymised_cases=hidden)
        mine, theirs = view["item"], view["other_item"]
        if theirs is not None and alert.match.item.case_id != alert.case_id:
            mine, theirs = theirs, mine
        entries.append({"alert": alert, "match": view, "mine": mine, "theirs": theirs})
    return entries


def overdue_takedowns_for(*, user: Caller) -> list[dict[str, Any]]:
    """Overdue takedown requests of the user's cases where they are a support worker or the lead."""
    takedowns = takedown_overdue_across_cases(user=user)[:ALERTS_SHOWN]
    return [
        {
            "takedown": takedown,
            "case": takedown.support_file.person.case,
            "person": takedown.support_file.person.pseudonym,
            "waiting_since": takedown_waiting_since(takedown),
        }
        for takedown in takedowns
    ]


def incidents_for(*, user: Caller) -> QuerySet[CustodyEvent]:
    """Integrity incidents recorded on the user's cases, newest first (items only by id)."""
    return (
        CustodyEvent.objects.filter(action=CustodyAction.INCIDENT, case_id__in=visible_case_ids(user=user))
        .select_related("case")
        .only("seq", "item_id", "case__number", "occurred_at", "details", "actor_name")
        .order_by("-seq")[:ALERTS_SHOWN]
    )


@dataclass
class Job:
    """One piece of work in progress for the dashboard: what, on which case, how far (None: unknown)."""

    kind: str
    key: str
    case_number: str
    title: str
    status: str
    status_label: str
    percent: int | None
    detail: str
    started_at: datetime
    finished: bool
    failed: bool
    detectors: list[DetectorProgress] = field(default_factory=list)  # a detection job's, per detector


def _working_case_ids(user: Caller) -> list[int]:
    # caller_role is case_list's annotation (the stubs do not know it).
    cases = case_list(user=user).filter(caller_role__in=POLICY[Action.EVIDENCE_INGEST])  # type: ignore[misc]
    return list(cases.values_list("pk", flat=True))


def _acquisition_jobs(case_ids: list[int], since: datetime) -> list[Job]:
    acquisitions = (
        Acquisition.objects.filter(case_id__in=case_ids)
        .filter(Q(status=AcquisitionStatus.RUNNING) | Q(finished_at__gte=since))
        .select_related("case")
        .annotate(stored=Count("items"))
        .order_by("-started_at")[:20]
    )
    jobs = []
    for acquisition in acquisitions:
        running = acquisition.status == AcquisitionStatus.RUNNING
        counts = acquisition.counts or {}
        jobs.append(
            Job(
                kind="acquisition",
                key=f"acquisition-{acquisition.pk}",
                case_number=acquisition.case.number,
                title=_("Acquisition %(id)s") % {"id": acquisition.pk},
                status=acquisition.status,
                status_label=acquisition.get_status_display(),
                # The number of files is known only as they are found: a running ingest has no percentage.
                percent=None if running else 100,
                detail=(
                    _("%(count)s items stored so far") % {"count": acquisition.stored}
                    if running
                    else _("%(ingested)s ingested, %(duplicate)s duplicates, %(rejected)s rejected")
                    % {
                        "ingested": counts.get("ingested", 0),
                        "duplicate": counts.get("duplicate", 0),
                        "rejected": counts.get("rejected", 0),
                    }
                ),
                started_at=acquisition.started_at,
                finished=not running,
                failed=acquisition.status == AcquisitionStatus.INTERRUPTED,
            )
        )
    return jobs


def _scan_jobs(user: Caller, case_ids: list[int], since: datetime) -> list[Job]:
    scans = list(
        jobs_visible_to(user=user)
        .filter(case_id__in=case_ids)
        .filter(Q(status=JobStatus.RUNNING) | Q(finished_at__gte=since))[:20]
    )
    per_detector = jobs_detector_progress(job_ids=[scan.pk for scan in scans])
    jobs = []
    for scan in scans:
        total = scan.runs_total  # type: ignore[attr-defined]
        finished_runs = scan.runs_done + scan.runs_failed  # type: ignore[attr-defined]
        jobs.append(
            Job(
                kind="scan",
                key=f"scan-{scan.pk}",
                case_number=scan.case.number if scan.case else "",
                title=_("Detection: %(kind)s") % {"kind": scan.get_kind_display()},
                status=scan.status,
                status_label=scan.get_status_display(),
                percent=round(100 * finished_runs / total) if total else 100,
                detail=_("%(done)s of %(total)s detector runs finished, %(failed)s failed")
                % {"done": finished_runs, "total": total, "failed": scan.runs_failed},  # type: ignore[attr-defined]
                started_at=scan.created_at,
                finished=scan.status != JobStatus.RUNNING,
                failed=scan.status == JobStatus.DONE_WITH_FAILURES,
                detectors=per_detector.get(scan.pk, []),
            )
        )
    return jobs


def _document_job(run: Report | ExportBundle, *, kind: str, title: str) -> Job:
    """A report's or an export bundle's run as a job (both go through ReportStatus with a progress)."""
    return Job(
        kind=kind,
        key=f"{kind}-{run.pk}",
        case_number=run.case.number,
        title=title,
        status=run.status,
        status_label=run.get_status_display(),
        percent=100 if run.status == ReportStatus.DONE else run.progress,
        detail=run.error,
        started_at=run.requested_at,
        finished=run.status in (ReportStatus.DONE, ReportStatus.FAILED),
        failed=run.status == ReportStatus.FAILED,
    )


def _document_jobs(case_ids: list[int], since: datetime) -> list[Job]:
    active = Q(status__in=[ReportStatus.QUEUED, ReportStatus.RUNNING]) | Q(finished_at__gte=since)
    reports = Report.objects.filter(case_id__in=case_ids).filter(active).select_related("case")
    jobs = [
        _document_job(
            report,
            kind="report",
            title=_("Report %(id)s, version %(version)s")
            % {"id": report.report_id, "version": report.version},
        )
        for report in reports.order_by("-requested_at")[:20]
    ]
    bundles = ExportBundle.objects.filter(case_id__in=case_ids).filter(active).select_related("case")
    jobs.extend(
        _document_job(
            bundle,
            kind="bundle",
            title=_("Export bundle %(id)s for %(recipient)s")
            % {"id": bundle.pk, "recipient": bundle.recipient},
        )
        for bundle in bundles.order_by("-requested_at")[:20]
    )
    return jobs


def jobs_for(*, user: Caller, now: datetime | None = None) -> list[Job]:
    """Work in progress (and just finished) on the cases where the user may ingest, newest first."""
    case_ids = _working_case_ids(user)
    if not case_ids:
        return []
    since = (now or timezone.now()) - RECENTLY_FINISHED
    jobs = [
        *_acquisition_jobs(case_ids, since),
        *_scan_jobs(user, case_ids, since),
        *_document_jobs(case_ids, since),
    ]
    jobs.sort(key=lambda job: job.started_at, reverse=True)
    return jobs


def shows_jobs(*, user: Caller) -> bool:
    """Whether the dashboard has a jobs section for this user (they may ingest on some case)."""
    return bool(_working_case_ids(user))
