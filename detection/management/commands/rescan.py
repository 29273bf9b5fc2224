"""manage.py rescan [--case NUMBER] --detector NAME [--actor USERNAME] [--json]"""

from typing import Any

from django.db.models import Count

from access.policy import Action, require
from access.selectors import case_get_for
from access.services import case_get
from detection.models import DetectionRun
from detection.models.runs import JobKind, RunStatus
from detection.pipeline import scan_job_create
from haetae.cli import HaetaeCommand
from haetae.errors import AccessDenied


class Command(HaetaeCommand):
    """Queue a detector's installed version over a case, or the whole vault, for the workers: every item it
    reads that has no finished run of that version (a new version re-scans everything; earlier versions'
    findings stay). Prints the job to follow (GET /api/v1/jobs/ID/)."""

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--case", metavar="NUMBER", help="re-scan only this case (default: whole vault)")
        parser.add_argument("--detector", metavar="NAME", required=True, help="detector to run")
        self.add_actor_and_json(
            parser,
            actor_help="the person asking: lead, investigator or analyst on the case, or an administrator "
            "for the whole vault; recorded on the custody events. Without it, the system's.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = self.actor_of(options)
        case = None
        if options["case"] and actor is not None:
            case = case_get_for(user=actor, number=options["case"])
            require(case=case, action=Action.DETECTION_RUN, doing="re-scan its evidence")
        elif options["case"]:
            case = case_get(number=options["case"])
        elif actor is not None and not actor.is_superuser:
            raise AccessDenied(
                f"{actor.get_username()} is not an administrator: only an administrator may re-scan the "
                "whole vault; name a case with --case"
            )
        job, planned = scan_job_create(
            kind=JobKind.RESCAN,
            case_id=case.pk if case is not None else None,
            detector_name=options["detector"],
            actor=actor,
            send=True,
        )
        counts = _counts(job.pk)
        scope = f"case {case.number}" if case is not None else "the whole vault"
        if options["json"]:
            self.emit_json(
                {
                    "job": job.pk,
                    "scope": case.number if case is not None else None,
                    "detector": options["detector"],
                    "items": len(planned),
                    "progress": counts,
                }
            )
            return
        if not planned:
            self.stdout.write(
                f"re-scan of {scope} with {options['detector']}: nothing to do: every item it reads already "
                f"has a finished run of its current version (job {job.pk})"
            )
            return
        self.stdout.write(
            f"re-scan of {scope} with {options['detector']}: job {job.pk}, {len(planned)} items queued; "
            f"{counts['done']} of {counts['total']} runs done, {counts['failed']} failed so far. "
            f"Follow it at /api/v1/jobs/{job.pk}/"
        )


def _counts(job_id: int) -> dict[str, int]:
    """Runs of the job done / total / failed / pending (eagerly run tasks may already have finished)."""
    by_status = dict(
        DetectionRun.objects.filter(job_id=job_id)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return {
        "total": sum(by_status.values()),
        "done": by_status.get(RunStatus.DONE, 0) + by_status.get(RunStatus.SKIPPED, 0),
        "failed": by_status.get(RunStatus.FAILED, 0),
        "pending": by_status.get(RunStatus.QUEUED, 0) + by_status.get(RunStatus.RUNNING, 0),
    }
