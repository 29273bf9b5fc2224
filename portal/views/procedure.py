"""The case's Korean procedure records page (docs/korean-procedure.md) and its buttons elsewhere: the detailed
list on an acquisition's page, the mark as unrelated on an item's page, the export confirmation on a
bundle's page.

Every step goes through ``records.procedure`` or ``records.documents`` (which check the role again and write
the custody events). A refused form shows the page again with the message and what was typed, so nothing
entered is lost. Buttons appear only to whom the policy allows; the service still decides.
"""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from access.models import Case
from access.policy import Action, require, role_may
from access.selectors import case_get_for
from evidence.models import Acquisition
from exhibits.models import ExportBundle
from haetae.auth import verified_login_required
from haetae.errors import HaetaeError, NotFound, RejectedInput
from haetae.toolkit import request_actor, streamed_file
from portal.forms_exhibits import item_ids_from
from portal.views.work import shows_errors
from records.choices import UnrelatedDisposalKind, UnrelatedMarkStatus
from records.documents import (
    export_confirmation_issue,
    procedure_document_read,
    scene_confirmation_issue,
    seized_list_issue,
)
from records.procedure import scene_confirmation_record, unrelated_dispose, unrelated_mark, unrelated_unmark
from records.selectors import (
    procedure_document_get,
    procedure_documents,
    scene_confirmation_get,
    scene_confirmations,
    unrelated_disposals,
    unrelated_mark_get,
    unrelated_marks,
)


def _case(request: HttpRequest, number: str, action: Action, doing: str) -> Case:
    case = case_get_for(user=request.user, number=number)
    require(case=case, action=action, doing=doing)
    return case


def _page(
    request: HttpRequest, case: Case, *, error: str = "", form: str = "", status: int = 200
) -> HttpResponse:
    role = str(getattr(case, "caller_role", "") or "")
    marks = list(unrelated_marks(case=case).select_related("item"))
    context: dict[str, Any] = {
        "case": case,
        "documents": list(procedure_documents(case=case).select_related("confirmation")),
        "confirmations": list(scene_confirmations(case=case)),
        "marks": marks,
        "open_marks": [m for m in marks if m.status == UnrelatedMarkStatus.MARKED],
        "disposals": list(unrelated_disposals(case=case)),
        "may_record": role_may(role, Action.PROCEDURE_RECORD),
        "may_mark": role_may(role, Action.UNRELATED_MARK),
        "may_dispose": role_may(role, Action.UNRELATED_DISPOSE),
        "kinds": UnrelatedDisposalKind.choices,
        "error": error,
        "form": form,
        "posted": request.POST if error else {},
    }
    return render(request, "portal/procedure/page.html", context, status=status)


@require_GET
@verified_login_required
@shows_errors
def procedure_page(request: HttpRequest, number: str) -> HttpResponse:
    """The case's procedure documents, scene confirmations, items marked unrelated and their disposals."""
    return _page(request, _case(request, number, Action.PROCEDURE_READ, "see procedure records"))


@require_GET
@verified_login_required
@shows_errors
def procedure_download(request: HttpRequest, number: str, document: str) -> HttpResponseBase:
    """An issued document's signed PDF."""
    case = _case(request, number, Action.PROCEDURE_READ, "see procedure records")
    row = procedure_document_get(case=case, number=document)
    response = streamed_file(
        iter([procedure_document_read(row)]),
        content_type="application/pdf",
        filename=f"{case.number}-{row.number}.pdf",
        sha256=None,
        size=None,
    )
    response["X-Haetae-Document-SHA256"] = row.blob_id
    return response


def _issued(request: HttpRequest, case: Case, number: str) -> HttpResponse:
    messages.success(request, gettext("Document %(number)s issued and signed.") % {"number": number})
    return redirect(reverse("portal:procedure", args=[case.number]) + "#documents")


@require_POST
@verified_login_required
@shows_errors
def procedure_issue(request: HttpRequest, number: str) -> HttpResponse:
    """Issue a detailed list (of an acquisition), a printed confirmation, or an export confirmation."""
    case = _case(request, number, Action.PROCEDURE_RECORD, "issue procedure documents")
    actor = request_actor(request)
    kind = request.POST.get("kind", "")
    reference = request.POST.get("of", "").strip()
    if kind == "seized_list":
        acquisition = Acquisition.objects.filter(
            case=case, pk=int(reference) if reference.isdigit() else 0
        ).first()
        if acquisition is None:
            raise NotFound(f"case {case.number} has no acquisition {reference}")
        document = seized_list_issue(acquisition=acquisition, actor=actor)
    elif kind == "scene_confirmation":
        document = scene_confirmation_issue(
            confirmation=scene_confirmation_get(case=case, number=reference), actor=actor
        )
    elif kind == "export_confirmation":
        bundle = ExportBundle.objects.filter(
            case=case, pk=int(reference) if reference.isdigit() else 0
        ).first()
        if bundle is None:
            raise NotFound(f"case {case.number} has no export bundle {reference}")
        document = export_confirmation_issue(bundle=bundle, actor=actor)
    else:
        raise RejectedInput(f"no such procedure document {kind!r}")
    return _issued(request, case, document.number)


@require_POST
@verified_login_required
@shows_errors
def procedure_scene(request: HttpRequest, number: str) -> HttpResponse:
    """Record a hash confirmation made at the scene (one hash per line: name, algorithm, value)."""
    case = _case(request, number, Action.PROCEDURE_RECORD, "record scene hash confirmations")
    post = request.POST
    try:
        hashes = []
        for line in post.get("hashes", "").splitlines():
            parts = line.split()
            if not parts:
                continue
            if len(parts) < 3:
                raise RejectedInput(
                    f"hash line {line!r}: write NAME ALGORITHM VALUE (e.g. phone.E01 SHA-256 ab12…)"
                )
            hashes.append({"name": " ".join(parts[:-2]), "algorithm": parts[-2], "value": parts[-1]})
        computed_at = parse_datetime(post.get("computed_at", "")) if post.get("computed_at") else None
        acquisition = post.get("acquisition", "").strip()
        confirmation = scene_confirmation_record(
            case=case,
            actor=request_actor(request),
            subject=post.get("subject", ""),
            hashes=hashes,
            computed_by=post.get("computed_by", ""),
            computed_at=computed_at,
            acquisition_id=int(acquisition) if acquisition.isdigit() else None,
            tool=post.get("tool", ""),
            place=post.get("place", ""),
            person_searched=post.get("person_searched", ""),
            witness_name=post.get("witness_name", ""),
            witness_relation=post.get("witness_relation", ""),
            participant_refused=post.get("refused") == "on",
            refusal_reason=post.get("refusal_reason", ""),
        )
    except HaetaeError as exc:
        return _page(request, case, error=exc.message, form="scene", status=exc.http_status)
    messages.success(
        request, gettext("Scene confirmation %(number)s recorded.") % {"number": confirmation.number}
    )
    return redirect(reverse("portal:procedure", args=[case.number]) + "#confirmations")


@require_POST
@verified_login_required
@shows_errors
def procedure_mark(request: HttpRequest, number: str) -> HttpResponse:
    """Mark items unrelated to the warrant (from an item's page or the procedure page)."""
    case = _case(request, number, Action.UNRELATED_MARK, "mark items unrelated to the warrant")
    ids = item_ids_from(request.POST.getlist("items"))
    unrelated_mark(
        case=case, actor=request_actor(request), item_ids=ids, reason=request.POST.get("reason", "")
    )
    messages.success(
        request, gettext("Marked unrelated to the warrant: it leaves analysis, exhibits and exports.")
    )
    if len(ids) == 1:
        return redirect("portal:evidence_detail", ids[0])
    return redirect(reverse("portal:procedure", args=[case.number]) + "#marks")


@require_POST
@verified_login_required
@shows_errors
def procedure_unmark(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    """Withdraw a mark made by mistake."""
    case = _case(request, number, Action.UNRELATED_MARK, "withdraw marks as unrelated")
    mark = unrelated_mark_get(case=case, mark_id=pk)
    unrelated_unmark(mark=mark, actor=request_actor(request), reason=request.POST.get("reason", ""))
    messages.success(request, gettext("Mark withdrawn: the item is back in the case."))
    return redirect(reverse("portal:procedure", args=[case.number]) + "#marks")


@require_POST
@verified_login_required
@shows_errors
def procedure_dispose(request: HttpRequest, number: str) -> HttpResponse:
    """Record the return or deletion of marked items, with the person searched's confirmation."""
    case = _case(
        request, number, Action.UNRELATED_DISPOSE, "record the return or deletion of unrelated items"
    )
    post = request.POST
    try:
        disposal = unrelated_dispose(
            case=case,
            actor=request_actor(request),
            item_ids=item_ids_from(post.getlist("items")),
            kind=post.get("kind", ""),
            person_searched=post.get("person_searched", ""),
            confirmation=post.get("confirmation", ""),
            person_refused=post.get("refused") == "on",
            refusal_reason=post.get("refusal_reason", ""),
            handover=post.get("handover", ""),
        )
    except HaetaeError as exc:
        return _page(request, case, error=exc.message, form="dispose", status=exc.http_status)
    messages.success(
        request, gettext("%(number)s recorded; the vault's copies were erased.") % {"number": disposal.number}
    )
    return redirect(reverse("portal:procedure", args=[case.number]) + "#disposals")
