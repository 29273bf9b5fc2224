"""Celery tasks of cases, on the ``reports`` queue: thin wrappers that call a service.

``acks_late`` with ``reject_on_worker_lost`` (as in ``detection.tasks``): a worker killed mid-task leaves the
message to be delivered again, and ``report_generate`` takes over a row left ``running`` (nothing is stored
before its final transaction, so starting again is safe).
"""

from typing import Any

from celery import shared_task

from casefile.models import Report
from casefile.reports.services import report_generate


@shared_task(acks_late=True, reject_on_worker_lost=True)
def report_generate_task(report_pk: int) -> dict[str, Any]:
    """Generate, sign and store one queued report; returns its outcome (the row holds it too)."""
    report = report_generate(report=Report.objects.select_related("case").get(pk=report_pk))
    return {
        "report": report.pk,
        "report_id": report.report_id,
        "version": report.version,
        "status": report.status,
        "sha256": report.sha256,
        "error": report.error,
    }
