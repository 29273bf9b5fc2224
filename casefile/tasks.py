"""Celery tasks of the case file: thin wrappers that call a service (queue ``reports``)."""

import base64
import tempfile
from pathlib import Path

from celery import shared_task
from django.conf import settings

from casefile.bundles import bundle_export
from casefile.models import ExportBundle, Report


@shared_task(acks_late=False)
def bundle_export_task(
    bundle_pk: int,
    *,
    report_pk: int,
    recipient_public_key_b64: str | None = None,
    passphrase: str | None = None,
) -> str:
    """Build an export bundle into the vault (downloads then go through ``bundle_open``); returns its SHA-256.

    The ZIP is written to a scratch file that is removed afterwards: the vault copy is the one served.
    Not retried on failure (acks_late off): the row records the error and a person asks again.
    A passphrase passes through the broker (Redis) as a task argument: prefer a recipient key, whose public
    half is no secret.
    """
    bundle = ExportBundle.objects.get(pk=bundle_pk)
    report = Report.objects.get(pk=report_pk)
    public_key = base64.b64decode(recipient_public_key_b64) if recipient_public_key_b64 else None
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
