"""Celery tasks of exhibits, on the ``reports`` queue: thin wrappers that call a service.

Services queue them by name once their transaction commits (``haetae.toolkit.task_queue_on_commit``), so
this module imports services and no service imports it. ``report_generate_task`` runs with ``acks_late``
and ``reject_on_worker_lost`` (as in ``detection.tasks``): a worker killed mid-task leaves the message to be
delivered again, and ``report_generate`` takes over a row left ``running`` (nothing is stored before its
final transaction, so starting again is safe).
"""

import base64
from typing import Any

from celery import shared_task

from exhibits.models import ExportBundle, Report


@shared_task(acks_late=True, reject_on_worker_lost=True)
def report_generate_task(report_pk: int) -> dict[str, Any]:
    """Generate, sign and store one queued report; returns its outcome (the row holds it too)."""
    # Imported here: every process registers this module (exhibits.apps), and the report stack (PDF, signing)
    # is a third of a management command's start-up that only a worker running this task needs.
    from exhibits.reports.services import report_generate

    report = report_generate(report=Report.objects.select_related("case").get(pk=report_pk))
    return {
        "report": report.pk,
        "report_id": report.report_id,
        "version": report.version,
        "status": report.status,
        "sha256": report.sha256,
        "error": report.error,
    }


@shared_task(acks_late=False)
def bundle_export_task(
    bundle_pk: int,
    *,
    recipient_public_key: str | None = None,
    passphrase: str | None = None,
    report_pk: int | None = None,
    language: str = "ko",
) -> str:
    """Build one queued export bundle (``bundle_build``); returns its SHA-256. ``recipient_public_key`` is
    the X25519 public key in base64. Not retried on failure (acks_late off): the row records the error and a
    person asks again."""
    from exhibits.bundles import bundle_build  # imported here, as in report_generate_task

    done = bundle_build(
        bundle=ExportBundle.objects.get(pk=bundle_pk),
        recipient_public_key=base64.b64decode(recipient_public_key) if recipient_public_key else None,
        passphrase=passphrase,
        report=Report.objects.get(pk=report_pk) if report_pk is not None else None,
        language=language,
    )
    return done.sha256
