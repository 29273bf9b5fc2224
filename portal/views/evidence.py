"""The evidence item page: hashes, metadata, parent and children, custody with its verification state,
findings with confirm / reject, matches, and the reveal of the original (a reason first, then the view on
record through ``evidence.content``, then the bytes, never cached).

Items come from ``evidence_get_for`` (404 for anyone not on the case), custody from
``custody_events_for``, findings from ``annotations_visible_to``, matches from ``match_list``; thumbnails
from ``evidence.previews.preview_serve`` and originals from ``evidence.content.item_content_open``, both of
which check need-to-know again and write the custody event before any byte leaves.
"""

import secrets
import time
from typing import Any, cast

from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from access.policy import Action, role_may
from detection.ela import ela_map_serve
from detection.labels import ABSENCE_CATEGORY, SIGNAL_CATEGORIES
from detection.match_selectors import (
    match_list_for_item,
    match_view,
    pseudonymised_case_ids,
    visible_case_ids,
)
from detection.models import Annotation
from detection.models.runs import ReviewStatus
from detection.selectors import annotations_visible_to
from detection.services import annotation_review
from evidence.choices import ItemStatus
from evidence.content import content_access_check, item_content_open
from evidence.ledger import checkpoint_latest
from evidence.models import EvidenceItem
from evidence.previews import preview_serve
from evidence.selectors import custody_events_for, evidence_get_for, evidence_visible_to, exposure_for
from evidence.verify import chain_check
from haetae.auth import verified_login_required
from haetae.errors import AccessDenied, RejectedInput
from haetae.toolkit import no_store, streamed_file
from portal.views.cases import GREYSCALE_SESSION_KEY, greyscale_on, portal_errors, refused, shows_media
from sources.selectors import message_refs_for_item

# A reveal's one-time token: the image must be fetched within this many seconds of the reason being given.
REVEAL_TOKEN_SECONDS = 120
REVEALS_SESSION_KEY = "portal_reveals"
CHILDREN_SHOWN = 100
MATCHES_SHOWN = 100
# Types a browser shows inline without running anything; any other original (HTML, SVG, scripts …) is sent
# as an opaque download, so evidence can never execute in the portal's origin.
INLINE_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "image/bmp",
        "video/mp4",
        "video/webm",
        "audio/mpeg",
    }
)


def _item_for(request: HttpRequest, pk: int) -> EvidenceItem:
    """The item if the user may see its case; victim support is sent to the support pages."""
    item = evidence_get_for(user=request.user, item_id=pk)
    if not role_may(getattr(item, "caller_role", None), Action.ITEM_RECORDS):
        raise AccessDenied(
            "victim support sees items only as pseudonymised references with their hashes, in the support "
            "pages: file names, places and custody can name a victim"
        )
    return item


def custody_timeline(*, user: Any, item: EvidenceItem) -> dict[str, Any]:
    """The item's custody events, each with its verification state from the verifier (``chain_check``) and
    whether a signed checkpoint includes it yet."""
    events = list(custody_events_for(user=user, item=item).select_related(None))
    checkpoint = checkpoint_latest()
    rows = [
        {
            "event": check.event,
            "chain_ok": check.chain_ok,
            "leaf_ok": check.leaf_ok,
            "link_ok": check.link_ok,
            "signed": checkpoint is not None and check.event.seq < checkpoint.tree_size,
        }
        for check in chain_check(events)
    ]
    return {
        "rows": rows,
        "checkpoint": checkpoint,
        "chain_ok": all(row["chain_ok"] for row in rows),
        "pending": sum(1 for row in rows if not row["signed"]),
    }


def _findings(*, user: Any, item: EvidenceItem) -> list[Annotation]:
    return list(
        annotations_visible_to(user=user)
        .filter(item_id=item.pk)
        .select_related("run__detector")
        .order_by("id")
    )


def findings_by_detector(findings: list[Annotation]) -> dict[str, Any]:
    """The item's findings grouped by detector, so that a dozen boxes of one detector fold into one line.

    ``groups`` holds the detectors that found something (signals first), each with its findings and how many
    still wait for review; ``nothing_found`` names the detectors whose only findings say they checked and
    found nothing (absence is never probative), shown once as a sentence rather than as findings to review.
    """
    by_detector: dict[tuple[str, str], list[Annotation]] = {}
    for finding in findings:
        by_detector.setdefault((finding.detector_name, finding.detector_version), []).append(finding)
    groups: list[dict[str, Any]] = []
    nothing_found: list[dict[str, Any]] = []
    for (name, version), rows in by_detector.items():
        if all(row.category == ABSENCE_CATEGORY for row in rows):
            nothing_found.append(
                {"detector": name, "version": version, "labels": [row.label for row in rows]}
            )
            continue
        signals = [row for row in rows if row.category in SIGNAL_CATEGORIES]
        groups.append(
            {
                "detector": name,
                "version": version,
                "findings": rows,
                "signal_labels": sorted({row.label for row in signals}),
                "to_review": sum(1 for row in rows if row.review_status == ReviewStatus.LEAD),
                "has_signal": bool(signals),
            }
        )
    groups.sort(key=lambda group: (not group["has_signal"], group["detector"]))
    nothing_found.sort(key=lambda row: row["detector"])
    return {"groups": groups, "nothing_found": nothing_found}


def _matches(*, user: Any, item: EvidenceItem) -> list[dict[str, Any]]:
    matches = match_list_for_item(user=user, item_id=item.pk)[:MATCHES_SHOWN]
    visible, hidden = visible_case_ids(user), pseudonymised_case_ids(user)
    rows = []
    for match in matches:
        row = match_view(match, visible_cases=visible, pseudonymised_cases=hidden)
        # The side that is not this item: another item (seen, or only whom to ask) or nothing (a bank entry).
        row["other"] = row["other_item"] if match.item_id == item.pk else row["item"]
        rows.append(row)
    return rows


@verified_login_required
@portal_errors
def item_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The item page."""
    item = _item_for(request, pk)
    role = getattr(item, "caller_role", None)
    parent = None
    if item.parent_id is not None:
        parent = evidence_visible_to(user=request.user).filter(pk=item.parent_id).first()
    children = list(
        evidence_visible_to(user=request.user)
        .filter(parent_id=item.pk)
        .only("id", "original_name", "mime", "size", "status")
        .order_by("id")[:CHILDREN_SHOWN]
    )
    context = {
        "item": item,
        "case": item.case,
        "role": role,
        "parent": parent,
        "children": children,
        "custody": custody_timeline(user=request.user, item=item),
        "findings": findings_by_detector(_findings(user=request.user, item=item)),
        "may_review": role_may(role, Action.FINDING_REVIEW),
        "may_mark_unrelated": role_may(role, Action.UNRELATED_MARK) and item.status == ItemStatus.INGESTED,
        "matches": _matches(user=request.user, item=item),
        "media": shows_media(role) and item.blob_id is not None,
        "is_image": (item.mime or "").startswith("image/"),
        "is_jpeg": (item.mime or "").lower() in ("image/jpeg", "image/jpg", "image/pjpeg"),
        "needs_legal_basis": item.case.content_requires_legal_basis,
        "greyscale": greyscale_on(request),
        "exposure": exposure_for(user=request.user),
        "messages": message_refs_for_item(item=item),
    }
    return render(request, "portal/evidence/detail.html", context)


@verified_login_required
@portal_errors
def item_custody(request: HttpRequest, pk: int) -> HttpResponse:
    """The custody timeline fragment (HTMX refreshes it after a reveal or a review)."""
    item = _item_for(request, pk)
    context = {
        "item": item,
        "custody": custody_timeline(user=request.user, item=item),
        "exposure": exposure_for(user=request.user),
        "oob": True,  # the exposure count is refreshed with it (a reveal adds to it)
    }
    return render(request, "portal/evidence/_custody.html", context)


def _uncached(data: bytes, mime: str) -> HttpResponse:
    """An image derived from an item: served, never cached or content-sniffed."""
    response = HttpResponse(data, content_type=mime)
    no_store(response)
    return response


@require_GET
@verified_login_required
@portal_errors
def item_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """A blurred thumbnail through the preview service (its need-to-know check, its ``preview_served``)."""
    item = evidence_get_for(user=request.user, item_id=pk)
    preview = preview_serve(item=item, actor=cast(User, request.user), blur=True, grey=greyscale_on(request))
    return _uncached(preview.data, preview.mime)


@require_GET
@verified_login_required
@portal_errors
def item_ela(request: HttpRequest, pk: int) -> HttpResponse:
    """The ELA map through its service: blurred, or with ``blur=0`` and a reason a recorded content view."""
    item = evidence_get_for(user=request.user, item_id=pk)
    ela = ela_map_serve(
        item=item,
        actor=cast(User, request.user),
        blur=request.GET.get("blur") != "0",
        purpose=request.GET.get("reason", ""),
        legal_basis=request.GET.get("legal_basis", ""),
    )
    return _uncached(ela.data, ela.mime)


@require_POST
@verified_login_required
@portal_errors
def item_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Check need-to-know with the stated reason (and legal basis where the case needs one), then hand the
    page a one-time URL for the original. Fetching it records the ``viewed`` event and streams the bytes."""
    item = _item_for(request, pk)
    reason = request.POST.get("reason", "")
    legal_basis = request.POST.get("legal_basis", "")
    try:
        access = content_access_check(item=item, actor=request.user, purpose=reason, legal_basis=legal_basis)
    except RejectedInput as exc:  # no reason (or no legal basis): the form again, saying what is missing
        context = {
            "item": item,
            "error": exc.message,
            "reason_given": reason,
            "legal_basis_given": legal_basis,
        }
        return render(request, "portal/evidence/_reveal_form.html", context, status=400)
    if item.blob_id is None:
        raise RejectedInput(f"item {item.pk} has no stored content ({item.status}), so nothing to reveal")
    token = secrets.token_urlsafe(24)
    reveals = {
        key: grant
        for key, grant in request.session.get(REVEALS_SESSION_KEY, {}).items()
        if grant["expires"] > time.time()
    }
    reveals[token] = {
        "item": item.pk,
        "reason": access.purpose,
        "legal_basis": access.legal_basis,
        "expires": time.time() + REVEAL_TOKEN_SECONDS,
    }
    request.session[REVEALS_SESSION_KEY] = reveals
    context = {"item": item, "token": token, "greyscale": greyscale_on(request), "reason": access.purpose}
    # Without JavaScript the form posts normally: the same fragment inside a whole page.
    template = "_revealed.html" if request.headers.get("HX-Request") else "revealed.html"
    return render(request, f"portal/evidence/{template}", context)


@require_GET
@verified_login_required
@portal_errors
def item_original(request: HttpRequest, pk: int, token: str) -> StreamingHttpResponse:
    """The original bytes, once per reveal: ``item_content_open`` writes the ``viewed`` event (who, why, under
    what basis) before the first byte; the response is never cached."""
    reveals = dict(request.session.get(REVEALS_SESSION_KEY, {}))
    grant = reveals.pop(token, None)
    request.session[REVEALS_SESSION_KEY] = reveals
    if grant is None or grant["item"] != pk or grant["expires"] <= time.time():
        raise Http404("this reveal link was used already or has expired: reveal the item again with a reason")
    item = _item_for(request, pk)
    chunks = item_content_open(
        item=item, actor=cast(User, request.user), purpose=grant["reason"], legal_basis=grant["legal_basis"]
    )
    inline = (item.mime or "") in INLINE_TYPES
    response = streamed_file(
        chunks,
        content_type=item.mime if inline else "application/octet-stream",
        filename=f"item-{item.pk}",
        sha256=None,
        size=item.size,
        disposition="inline" if inline else "attachment",
    )
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'"
    response["Pragma"] = "no-cache"
    return response


@require_POST
@verified_login_required
@portal_errors
def finding_review(request: HttpRequest, pk: int, annotation_id: int) -> HttpResponse:
    """Confirm or reject a finding with a reason (``annotation_review``); returns the finding's row."""
    item = _item_for(request, pk)
    annotation = annotations_visible_to(user=request.user).filter(pk=annotation_id, item_id=item.pk).first()
    if annotation is None:
        raise Http404(f"no finding {annotation_id} on item {item.pk}")
    role = getattr(item, "caller_role", None)
    if not role_may(role, Action.FINDING_REVIEW):
        raise AccessDenied(
            f"your role on case {item.case.number} is {role}; only a lead, investigator or analyst confirms "
            "or rejects findings"
        )
    decision = request.POST.get("decision", "")
    error = ""
    try:
        annotation = annotation_review(
            annotation=annotation,
            actor=cast(User, request.user),
            decision=decision,
            reason=request.POST.get("reason", ""),
        )
        annotation = (
            annotations_visible_to(user=request.user).select_related("run__detector").get(pk=annotation.pk)
        )
    except RejectedInput as exc:
        error = exc.message
    if not request.headers.get("HX-Request"):  # a plain form post: back to the page, or the refusal
        if error:
            return refused(request, RejectedInput(error))
        return redirect("portal:evidence_detail", pk=item.pk)
    context = {"item": item, "finding": annotation, "may_review": True, "error": error}
    response = render(request, "portal/evidence/_finding.html", context, status=400 if error else 200)
    if not error:
        response["HX-Trigger"] = "custody-changed"
    return response


@require_POST
@verified_login_required
def greyscale_toggle(request: HttpRequest) -> HttpResponse:
    """Switch greyscale images on or off for this user (kept in the session), then back to the page."""
    request.session[GREYSCALE_SESSION_KEY] = request.POST.get("greyscale") == "on"
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = ""
    return redirect(target or "portal:dashboard")
