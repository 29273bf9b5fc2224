"""manage.py detect NUMBER [--detector NAME] [--actor USERNAME] [--json]"""

import sys
from collections import Counter
from typing import Any

from access.models import Case
from access.policy import Action, require
from access.selectors import case_get_for
from access.services import case_get
from detection.models import Annotation, DetectionRun
from detection.models.runs import JobKind, RunStatus
from detection.pipeline import scan_job_create, scan_job_refresh
from detection.pool import detection_pool_run
from haetae.cli import DetectorProgress, HaetaeCommand


class Command(HaetaeCommand):
    """Run detectors over a case's items in this process: every enabled detector (or the one named) on each
    item that has no finished run of its current version; failed runs are tried again. Exit 0 when every
    run finished, 1 when any failed (each with its reason), 2 on usage errors."""

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("number", help="case number, e.g. 2024-SEOUL-0001")
        parser.add_argument("--detector", metavar="NAME", help="run only this detector")
        self.add_actor_and_json(
            parser,
            actor_help="the person asking (must be lead, investigator or analyst on the case); recorded on "
            "the custody events. Without it the run is recorded as the system's.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = self.actor_of(options)
        case: Case
        if actor is not None:
            case = case_get_for(user=actor, number=options["number"])
            require(case=case, action=Action.DETECTION_RUN, doing="run detectors on its evidence")
        else:
            case = case_get(number=options["number"])
        job, planned = scan_job_create(
            kind=JobKind.MANUAL, case_id=case.pk, detector_name=options["detector"], actor=actor, send=False
        )
        # On every core (HAETAE_DETECT_WORKERS), one progress bar per detector with the time left.
        with DetectorProgress(enabled=not options["json"]) as bars:
            detection_pool_run(planned=planned, progress=bars.update)
        scan_job_refresh(job_id=job.pk)
        runs = DetectionRun.objects.filter(job=job).select_related("detector")
        statuses = Counter(str(status) for status in runs.values_list("status", flat=True))
        findings = Counter(Annotation.objects.filter(run__job=job).values_list("label", flat=True))
        failures = [
            {"item": run.item_id, "run": run.pk, "detector": run.detector.name, "error": run.error}
            for run in runs.filter(status=RunStatus.FAILED).order_by("item_id", "pk")
        ]
        detectors = sorted({(run.detector.name, run.detector.version) for run in runs})
        if options["json"]:
            self.emit_json(
                {
                    "case": case.number,
                    "job": job.pk,
                    "detectors": [{"name": name, "version": version} for name, version in detectors],
                    "items": len(planned),
                    "runs": {status: statuses.get(status, 0) for status in RunStatus.values},
                    "findings": dict(sorted(findings.items())),
                    "failures": failures,
                }
            )
        else:
            self._print_human(case, job.pk, len(planned), statuses, findings, failures)
        if failures:
            sys.exit(1)

    def _print_human(
        self,
        case: Case,
        job_id: int,
        items: int,
        statuses: Counter[str],
        findings: Counter[str],
        failures: list[dict[str, Any]],
    ) -> None:
        if not items:
            self.stdout.write(
                f"case {case.number}: nothing to do: every item already has a finished run of these detector "
                "versions"
            )
            return
        counts = ", ".join(f"{statuses[s]} {s}" for s in RunStatus.values if statuses.get(s))
        self.stdout.write(f"case {case.number}: job {job_id}, {items} items, runs: {counts}")
        if findings:
            listed = ", ".join(f"{label} ×{count}" for label, count in sorted(findings.items()))
            self.stdout.write(f"findings (investigative leads, not conclusions): {listed}")
        for failure in failures:
            where = f"item {failure['item']} {failure['detector']} (run {failure['run']})"
            self.stdout.write(f"FAILED {where}: {failure['error']}")
