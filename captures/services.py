"""Capturing reported URLs: request (any door), run (a task or the command), and the record of the result.

A request is a row and a ``capture_requested`` case event in one transaction. A run drives Chromium
(``captures.browser``) outside any transaction, then hands the files to ``evidence.ingest.evidence_ingest``
as one acquisition (same vault, hashing, custody and manifest as any other; the manifest is timestamped
when a TSA is configured) and records ``capture_completed``; a site that is down, refuses, or breaks a
limit is a ``failed`` capture with its reason and a ``capture_failed`` event, never an exception.
"""

import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from access.models import Case
from access.policy import Action, require
from access.selectors import case_for
from captures.browser import CaptureFailed, capture_limits_from_settings, page_capture, url_check
from captures.choices import CaptureStatus
from captures.listeners import capture_completed
from captures.models import Capture
from evidence.choices import CustodyAction
from evidence.custody import actor_role, custody_append
from evidence.ingest import PathSource, evidence_ingest
from haetae.errors import HaetaeError, RejectedInput
from haetae.toolkit import task_queue_on_commit

__all__ = [
    "capture_queue",
    "capture_request",
    "capture_run",
    "capture_urls_check",
    "captures_recover_interrupted",
]

MAX_URL_LENGTH = 4000
# The order the files are ingested (and listed) in.
FILE_ROLES = ("wacz", "screenshot", "dom_html", "dom_text", "facts")


def capture_urls_check(urls: list[str]) -> list[str]:
    """The URLs stripped, or RejectedInput naming the first that cannot be captured at all."""
    cleaned = [url.strip() for url in urls if url.strip()]
    if not cleaned:
        raise RejectedInput("name at least one URL to capture (http:// or https://)")
    for url in cleaned:
        why = "the address is too long" if len(url) > MAX_URL_LENGTH else url_check(url)
        if why:
            raise RejectedInput(f"cannot capture {url[:200]!r}: {why}")
    return cleaned


def capture_request(*, case: Case, url: str, actor: User) -> Capture:
    """Record a request to capture ``url`` for ``case`` (the caller must hold ``capture_request``)."""
    if not hasattr(case, "caller_role"):  # a case not read through access.selectors: look the role up
        case = case_for(user=actor, number=case.number)
    require(case=case, action=Action.CAPTURE_REQUEST, doing="ask for a URL to be captured")
    (url,) = capture_urls_check([url])
    with transaction.atomic():
        capture = Capture.objects.create(
            case=case, url=url, requested_by=actor, requested_role=actor_role(actor, case.pk)
        )
        # The URL may name a victim: the ledger names the capture, whose row holds the address.
        custody_append(
            case_id=case.pk,
            action=CustodyAction.CAPTURE_REQUESTED,
            actor=actor,
            actor_role=capture.requested_role,
            details={"capture": capture.pk},
        )
    return capture


def capture_queue(*, case: Case, url: str, actor: User) -> Capture:
    """Request a capture and queue its run once the request commits (the API's and portal's way)."""
    with transaction.atomic():
        capture = capture_request(case=case, url=url, actor=actor)
        task_queue_on_commit("captures.tasks.capture_run_task", capture.pk)
    return capture


def _fail(capture: Capture, reason: str) -> Capture:
    with transaction.atomic():
        capture.status = CaptureStatus.FAILED
        capture.reason = reason
        capture.finished_at = timezone.now()
        capture.save(update_fields=["status", "reason", "finished_at", "facts"])
        custody_append(
            case_id=capture.case_id,
            action=CustodyAction.CAPTURE_FAILED,
            actor=capture.requested_by,
            actor_role=capture.requested_role,
            details={"capture": capture.pk, "reason": reason},
        )
    return capture


def captures_recover_interrupted() -> list[Capture]:
    """Captures left running by a process that died (past any run's time limit): recorded as failed."""
    stale = timezone.now() - timedelta(seconds=3 * float(settings.HAETAE_CAPTURE_TIMEOUT_SECONDS) + 300)
    stopped = []
    for capture in Capture.objects.filter(status=CaptureStatus.RUNNING, started_at__lt=stale):
        stopped.append(
            _fail(
                capture,
                "interrupted: the process running this capture stopped before it finished (nothing was "
                "kept from it, or its acquisition is recorded as interrupted); ask for the capture again",
            )
        )
    return stopped


def capture_run(*, capture: Capture) -> Capture:
    """Capture the page and store its files as one acquisition; a failure is recorded on the row."""
    captures_recover_interrupted()
    claimed = Capture.objects.filter(pk=capture.pk, status=CaptureStatus.REQUESTED).update(
        status=CaptureStatus.RUNNING, started_at=timezone.now()
    )
    capture.refresh_from_db()
    if not claimed:
        return capture  # already run (or running) elsewhere: one run per request
    limits = capture_limits_from_settings(settings)
    with tempfile.TemporaryDirectory(prefix="haetae-capture-") as work:
        out = Path(work) / f"capture-{capture.pk}"
        try:
            page = page_capture(capture.url, out_dir=out, limits=limits)
        except CaptureFailed as exc:
            return _fail(capture, str(exc))
        except Exception as exc:  # a browser crash is a failed capture with its reason
            return _fail(capture, f"the browser stopped: {type(exc).__name__}: {str(exc)[:300]}")
        facts: dict[str, Any] = page.facts()
        capture.facts = facts
        try:
            result = evidence_ingest(
                case=capture.case,
                sources=[PathSource(page.files[role]) for role in FILE_ROLES],
                actor=capture.requested_by,
                source_label=f"capture {capture.pk} of a reported URL",
            )
        except HaetaeError as exc:
            return _fail(capture, f"the captured files could not be stored: {exc}")
    items = {
        outcome.path.rsplit("/", 1)[-1]: outcome.id for outcome in result.items if outcome.parent is None
    }
    with transaction.atomic():
        capture.status = CaptureStatus.CAPTURED
        capture.finished_at = timezone.now()
        capture.final_url = page.final_url
        capture.resolved_ip = page.resolved_ip
        capture.user_agent = page.user_agent
        capture.acquisition = result.acquisition
        capture.save()
        custody_append(
            case_id=capture.case_id,
            action=CustodyAction.CAPTURE_COMPLETED,
            actor=capture.requested_by,
            actor_role=capture.requested_role,
            details={
                "capture": capture.pk,
                "acquisition": result.acquisition.pk,
                "manifest_sha256": result.acquisition.manifest_sha256,
                "items": items,
                "resolved_ip": page.resolved_ip,
                "started_at": page.started_at,
                "finished_at": page.finished_at,
            },
        )
        capture_completed(capture)
    return capture
