"""Ingest pages: the seizure record and the files of one upload, then the acquisition's processing progress.

The upload posts (with the page's XHR, so the browser reports upload progress) to ``ingest_upload``, which
calls the same service as the upload API (``evidence.ingest.evidence_ingest``) with the same fields. The
request body is parsed — streamed encrypted into the vault's scratch area by ``VaultUploadHandler`` — only
after the caller's role on the case allowed it; the CSRF check therefore runs inside the view, after the
role check, rather than in the middleware before it. The answer lists every file's outcome (rejected
archive members with their reasons) and a progress panel that HTMX polls until ingest and detection are done.
"""

from typing import Any, BinaryIO, cast

from django.contrib.auth.models import User
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from access.models import Case
from access.policy import Action, require, role_may
from access.selectors import (
    case_get_for,
    legal_authority_list,
    visible_case_ids,
)
from detection.selectors import acquisition_progress
from evidence.choices import AcquisitionStatus, ItemStatus
from evidence.ingest import UploadSource, evidence_ingest
from evidence.models import Acquisition
from evidence.selectors import evidence_visible_to
from haetae.auth import verified_login_required
from haetae.errors import NotFound, RejectedInput
from portal.forms_ingest import SeizureForm
from portal.views.work import error_page, is_partial, shows_errors
from sources.selectors import acquisition_source_progress

# Outcomes listed after an upload: every rejected one, and this many of the others (the counts say the rest).
LISTED_OUTCOMES = 200
RECENT_ACQUISITIONS = 10
POLL_SECONDS = 1


def _ingest_case(request: HttpRequest, number: str) -> Case:
    case = case_get_for(user=request.user, number=number)
    require(case=case, action=Action.EVIDENCE_INGEST, doing="add evidence to it")
    return case


def _form(case: Case, data: Any = None) -> SeizureForm:
    return SeizureForm(data, authorities=list(legal_authority_list(case=case).order_by("issued_at", "pk")))


def _recent(case: Case, user: Any) -> list[Acquisition]:
    """The case's newest acquisitions with ``items_committed`` (items recorded so far, while one runs)."""
    return list(
        Acquisition.objects.filter(case_id=case.pk, case_id__in=visible_case_ids(user=user))
        .select_related("actor")
        .annotate(items_committed=Count("items"))
        .order_by("-started_at", "-pk")[:RECENT_ACQUISITIONS]
    )


def _recent_context(case: Case, user: Any) -> dict[str, Any]:
    recent = _recent(case, user)
    return {
        "case": case,
        "recent": recent,
        # While an ingest runs (a large upload is hashed and unpacked inside its request), the list polls.
        "any_running": any(a.status == AcquisitionStatus.RUNNING for a in recent),
    }


@require_GET
@verified_login_required
@shows_errors
def ingest_page(request: HttpRequest, number: str) -> HttpResponse:
    """The seizure form and file picker of a case, with its recent acquisitions."""
    case = _ingest_case(request, number)
    if is_partial(request):  # the recent acquisitions, refreshed during and after an upload
        return render(request, "portal/ingest/_recent.html", _recent_context(case, request.user))
    return render(
        request, "portal/ingest/page.html", {"form": _form(case), **_recent_context(case, request.user)}
    )


@csrf_exempt  # checked in _receive, after the role check: a refused upload is never parsed
@require_POST
@verified_login_required
@shows_errors
def ingest_upload(request: HttpRequest, number: str) -> HttpResponse:
    """Receive the files and the seizure record and ingest them (the upload API's service and fields)."""
    case = _ingest_case(request, number)
    return _receive(request, case)


@csrf_protect
def _receive(request: HttpRequest, case: Case) -> HttpResponse:
    form = _form(case, request.POST)
    files = request.FILES.getlist("files")
    status = 201
    context: dict[str, Any] = {"case": case, "form": form}
    if not files:
        form.add_error(None, gettext("Choose at least one file or a ZIP archive to upload."))
    if form.is_valid() and files:
        try:
            result = evidence_ingest(
                case=case,
                sources=[
                    UploadSource(name=upload.name or "upload", stream=cast(BinaryIO, upload))
                    for upload in files
                ],
                actor=cast(User, request.user),
                source_label=form.cleaned_data["source"],
                seizure_reference=form.seizure_reference_text(),
                seal_numbers=tuple(form.cleaned_data["seal_numbers"]),
                location=form.cleaned_data["location"],
                participants=tuple(form.cleaned_data["participants"]),
                source_kind=form.cleaned_data["source_kind"],
                source_options={"time_zone": form.cleaned_data["time_zone"]},
            )
        except RejectedInput as exc:
            return error_page(request, exc)
        rejected = [o for o in result.items if o.status == ItemStatus.REJECTED]
        others = [o for o in result.items if o.status != ItemStatus.REJECTED]
        if result.items and not others:
            status = 422
        context.update(
            {
                "result": result,
                "rejected": rejected,
                "others": others[:LISTED_OUTCOMES],
                "others_unlisted": max(0, len(others) - LISTED_OUTCOMES),
                "progress": _progress_context(result.acquisition, request.user),
            }
        )
    else:
        status = 400
    if is_partial(request):
        return render(request, "portal/ingest/_result.html", context, status=status)
    context.update(_recent_context(case, request.user))
    if status != 400:
        context["form"] = _form(case)
    return render(request, "portal/ingest/page.html", context, status=status)


def _progress_context(acquisition: Acquisition, user: Any) -> dict[str, Any]:
    """Where an acquisition stands: its ingest, its detector runs (done / total) and what was rejected."""
    items = evidence_visible_to(user=user).filter(acquisition_id=acquisition.pk)
    by_status = {ItemStatus.INGESTED: 0, ItemStatus.REJECTED: 0}
    for status in by_status:
        by_status[status] = items.filter(status=status).count()
    detection = acquisition_progress(acquisition=acquisition, user=user)
    ingest_done = acquisition.status != AcquisitionStatus.RUNNING
    settled = detection.done + detection.failed
    detection_percent = 100 if detection.total == 0 else (100 * settled) // detection.total
    finished = ingest_done and detection.finished
    return {
        "acquisition": acquisition,
        "ingest_done": ingest_done,
        "interrupted": acquisition.status == AcquisitionStatus.INTERRUPTED,
        "stored": by_status[ItemStatus.INGESTED],
        "rejected_count": by_status[ItemStatus.REJECTED],
        "detection": detection,
        "detection_percent": detection_percent,
        # A messenger export or an extraction report: the messages recorded so far (batches commit as read).
        "source": acquisition_source_progress(acquisition_id=acquisition.pk),
        # Ingest is the first half of the bar while it runs; once done, the bar is the detectors' share.
        "percent": 100 if finished else (detection_percent if ingest_done else 0),
        "finished": finished,
        "poll_seconds": POLL_SECONDS,
    }


@require_GET
@verified_login_required
@shows_errors
def ingest_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress panel of one acquisition (HTMX polls it every second until it reports 100 %)."""
    acquisition = (
        Acquisition.objects.filter(pk=pk, case_id__in=visible_case_ids(user=request.user))
        .select_related("case", "actor")
        .first()
    )
    if acquisition is None:
        raise NotFound(f"no acquisition {pk} in your cases: check the link")
    case = _ingest_case(request, acquisition.case.number)
    context: dict[str, Any] = {
        "progress": _progress_context(acquisition, request.user),
        "case": acquisition.case,
        # The 상세목록 (records.documents) is handed over once the acquisition is complete.
        "may_issue_list": role_may(getattr(case, "caller_role", None), Action.PROCEDURE_RECORD)
        and acquisition.status == AcquisitionStatus.COMPLETED,
    }
    if is_partial(request):
        return render(request, "portal/ingest/_progress.html", context)
    context["rejected_items"] = list(
        evidence_visible_to(user=request.user)
        .filter(acquisition_id=acquisition.pk, status=ItemStatus.REJECTED)
        .order_by("pk")
        .only("pk", "original_path", "status_reason")[:LISTED_OUTCOMES]
    )
    return render(request, "portal/ingest/progress.html", context)
