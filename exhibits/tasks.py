"""Celery tasks of the case file, on the ``reports`` queue: thin wrappers that call a service.

``report_generate_task`` runs with ``acks_late`` and ``reject_on_worker_lost`` (as in ``detection.tasks``): a
worker killed mid-task leaves the message to be delivered again, and ``report_generate`` takes over a row left
``running`` (nothing is stored before its final transaction, so starting again is safe).
"""

import base64
import tempfile
from pathlib import Path
from typing import Any

from celery import shared_task
from django.conf import settings

from exhibits.bundles import bundle_export
from exhibits.models import ExportBundle, Report
from exhibits.reports.services import report_generate, report_request


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


@shared_task(acks_late=False)
def bundle_export_task(
    bundle_pk: int,
    *,
    recipient_public_key: str | None = None,
    passphrase: str | None = None,
    report_pk: int | None = None,
    language: str = "ko",
) -> str:
    """Build an export bundle into the vault (downloads then go through ``bundle_open``); returns its SHA-256.

    Without ``report_pk`` a fresh signed report of the bundle's exhibits is generated first (a bundle carries
    the report of exactly its exhibits). ``recipient_public_key`` is the recipient's X25519 public key in
    base64. The ZIP is written to a scratch file that is removed afterwards: the vault copy is the one served.
    Not retried on failure (acks_late off): the row records the error and a person asks again.
    A passphrase passes through the broker (Redis) as a task argument: prefer a recipient key, whose public
    half is no secret.
    """
    bundle = ExportBundle.objects.select_related("case", "requested_by").get(pk=bundle_pk)
    if report_pk is None:
        report = report_request(
            case=bundle.case, exhibit_numbers=list(bundle.scope), language=language, actor=bundle.requested_by
        )
        report = report_generate(report=report)
    else:
        report = Report.objects.get(pk=report_pk)
    public_key = base64.b64decode(recipient_public_key) if recipient_public_key else None
    scratch_root = Path(settings.DATA_DIR) / "tmp"
    scratch_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch_root, prefix="export-") as scratch:
        done = bundle_export(
            bundle=bundle,
            out=Path(scratch) / "bundle.zip",
            recipient_public_key=public_key,
            passphrase=passphrase,
            report=report,
        )
    return done.sha256
