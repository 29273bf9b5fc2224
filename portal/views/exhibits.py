"""Exhibit pages of a case: list, create (choosing items), edit while draft, request approval, approve (a
supervisor on the team, not the author), share with the prosecutor, withdraw; reports and export bundles with
their progress and logged downloads.

Every change goes through ``exhibits.services`` (which checks the role again and writes the custody events);
reports and bundles through ``exhibits.reports.services`` and ``exhibits.bundles``. Those two packages are
imported inside the views that use them, so the portal's other pages never load the PDF, signing and
encryption stack. Buttons appear only to whom the service would allow; the service still decides.
"""

import functools
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from access.models import Case
from access.policy import POLICY, Action, require, role_may, shared_only
from access.selectors import case_get_for
from evidence.choices import ItemStatus
from evidence.models import EvidenceItem
from evidence.selectors import case_custody_for, evidence_visible_to
from exhibits import selectors as exhibit_selectors
from exhibits import services as exhibit_services
from exhibits.bundles import bundle_open, bundle_queue
from exhibits.choices import ExhibitStatus, ReportStatus
from exhibits.models import Exhibit, ExhibitItem, ExportBundle, Report
from exhibits.reports.services import report_open, report_queue
from haetae.auth import verified_login_required
from haetae.errors import AccessDenied, HaetaeError, NotFound, RejectedInput
from haetae.toolkit import request_actor, streamed_file
from portal.forms_exhibits import (
    ApproveForm,
    BundleForm,
    ExhibitForm,
    ReportForm,
    WithdrawForm,
    item_ids_from,
)
from portal.views.work import is_partial, shows_errors

SEARCH_RESULTS = 30
POLL_SECONDS = 1


def _role(case: Case) -> str:
    return str(getattr(case, "caller_role", "") or "")


def _case(request: HttpRequest, number: str) -> Case:
    return case_get_for(user=request.user, number=number)


def _exhibit_pages(case: Case) -> None:
    """Victim support works from the support pages: the exhibit pages show file names and item lists."""
    if not role_may(_role(case), Action.ITEM_RECORDS):
        raise AccessDenied(
            f"victim support does not use the exhibit pages of case {case.number} (they list file names and "
            "evidence): the support pages list what you need"
        )


def exhibit_items(*, user: Any, exhibit: Exhibit) -> list[ExhibitItem]:
    """The exhibit's items in order, narrowed by the item rule (``evidence_visible_to``)."""
    return list(
        ExhibitItem.objects.filter(
            exhibit_id=exhibit.pk, item_id__in=evidence_visible_to(user=user).values("pk")
        )
        .select_related("item", "item__blob")
        .order_by("position")
    )


def exhibits_items(*, user: Any, exhibits: list[Exhibit]) -> list[tuple[Exhibit, list[ExhibitItem]]]:
    """Each exhibit with its items in order, as ``exhibit_items`` gives them, read in one query for all."""
    rows = (
        ExhibitItem.objects.filter(
            exhibit_id__in=[exhibit.pk for exhibit in exhibits],
            item_id__in=evidence_visible_to(user=user).values("pk"),
        )
        .select_related("item", "item__blob")
        .order_by("exhibit_id", "position")
    )
    by_exhibit: dict[int, list[ExhibitItem]] = {exhibit.pk: [] for exhibit in exhibits}
    for row in rows:
        by_exhibit[row.exhibit_id].append(row)
    return [(exhibit, by_exhibit[exhibit.pk]) for exhibit in exhibits]


def _report_of(request: HttpRequest, case: Case, pk: int) -> Report:
    report = exhibit_selectors.report_get_for(user=request.user, report_id=pk)
    if report.case_id != case.pk:
        raise NotFound(f"no report {pk} in case {case.number} among those you may see")
    return report


def _bundle_of(request: HttpRequest, case: Case, pk: int) -> ExportBundle:
    bundle = exhibit_selectors.bundle_get_for(user=request.user, bundle_id=pk)
    if bundle.case_id != case.pk:
        raise NotFound(f"no export bundle {pk} in case {case.number} among those you may see")
    return bundle


def _can_approve(request: HttpRequest, case: Case, exhibit: Exhibit) -> bool:
    """What ``exhibit_approve`` allows: a supervisor on the team, never the author, a draft or pending."""
    return (
        role_may(_role(case), Action.EXHIBIT_APPROVE)
        and exhibit.status in exhibit_services.APPROVABLE_STATUSES
        and exhibit.created_by_id != request.user.pk
        and exhibit_services.is_supervisor(request_actor(request))
    )


def _abilities(request: HttpRequest, case: Case, exhibit: Exhibit | None = None) -> dict[str, bool]:
    role = _role(case)
    abilities = {
        "author": role_may(role, Action.EXHIBIT_DRAFT),
        "release": role_may(role, Action.EXHIBIT_SHARE),
        "report": role_may(role, Action.REPORT_REQUEST),
        "bundle": role_may(role, Action.BUNDLE_EXPORT),
        "thumbnails": role_may(role, Action.CONTENT_VIEW),
        # Free text written for the court (description, opinion, withdrawal reason) is not for these roles.
        "free_text": not role_may(role, Action.EXHIBIT_SUMMARY),
    }
    if exhibit is not None:
        status = exhibit.status
        abilities.update(
            {
                "edit": abilities["author"] and status in exhibit_services.EDITABLE_STATUSES,
                "request_approval": abilities["author"] and status == ExhibitStatus.DRAFT,
                "approve": _can_approve(request, case, exhibit),
                "share": abilities["release"] and status == ExhibitStatus.APPROVED,
                "withdraw": abilities["release"] and status != ExhibitStatus.WITHDRAWN,
            }
        )
    return abilities


def _require_author(case: Case) -> None:
    """The exhibit form and its item search are for those who draft exhibits (the service checks again)."""
    if not role_may(_role(case), Action.EXHIBIT_DRAFT):
        allowed = ", ".join(sorted(str(r) for r in POLICY[Action.EXHIBIT_DRAFT]))
        raise AccessDenied(
            f"your role on case {case.number} is {_role(case) or 'none'}; only members with the role "
            f"{allowed} draft and edit exhibits"
        )


def _open_numbers(case: Case) -> list[str]:
    return [
        e.number for e in exhibit_selectors.exhibit_list(case=case).exclude(status=ExhibitStatus.WITHDRAWN)
    ]


# --- list, create, edit -------------------------------------------------------------------------------


@require_GET
@verified_login_required
@shows_errors
def exhibit_list(request: HttpRequest, number: str) -> HttpResponse:
    """The case's exhibits with their statuses, its reports and export bundles."""
    case = _case(request, number)
    if shared_only(_role(case)):
        return redirect("portal:prosecutor_case", number=case.number)
    _exhibit_pages(case)
    exhibits = list(exhibit_selectors.exhibit_list(case=case))
    return render(
        request,
        "portal/exhibits/list.html",
        {
            "case": case,
            "exhibits": exhibits,
            "reports": list(exhibit_selectors.case_reports(case=case, user=request.user)[:20]),
            "bundles": list(exhibit_selectors.case_bundles(case=case, user=request.user)[:20]),
            "report_form": ReportForm(numbers=_open_numbers(case)),
            "can": _abilities(request, case),
        },
    )


def _chosen(request: HttpRequest, case: Case, ids: Iterable[int]) -> list[EvidenceItem]:
    """The chosen items the caller may see, in the order chosen (ids they may not see are dropped)."""
    ids = list(ids)
    found = {
        item.pk: item
        for item in evidence_visible_to(user=request.user)
        .filter(case_id=case.pk, pk__in=ids)
        .select_related("blob")
    }
    return [found[i] for i in ids if i in found]


def _form_page(
    request: HttpRequest,
    case: Case,
    form: ExhibitForm,
    chosen: list[EvidenceItem],
    exhibit: Exhibit | None = None,
    status: int = 200,
    error: str = "",
) -> HttpResponse:
    return render(
        request,
        "portal/exhibits/form.html",
        {
            "case": case,
            "form": form,
            "chosen": chosen,
            "exhibit": exhibit,
            "error": error,
            "can": _abilities(request, case, exhibit),
        },
        status=status,
    )


def _posted_items(request: HttpRequest, form: ExhibitForm) -> list[int]:
    try:
        return item_ids_from(request.POST.getlist("items"))
    except ValidationError as exc:
        form.add_error(None, exc)
        return []


@require_http_methods(["GET", "POST"])
@verified_login_required
@shows_errors
def exhibit_create(request: HttpRequest, number: str) -> HttpResponse:
    """Draft an exhibit: items chosen by search (blurred thumbnails) or passed from the evidence list."""
    case = _case(request, number)
    _require_author(case)
    if request.method == "GET":
        try:
            preselected = item_ids_from(request.GET.getlist("items"))
        except ValidationError:
            preselected = []  # a mangled link from the evidence list: start with nothing chosen
        return _form_page(request, case, ExhibitForm(), _chosen(request, case, preselected))
    form = ExhibitForm(request.POST)
    ids = _posted_items(request, form)
    if not form.is_valid():
        return _form_page(request, case, form, _chosen(request, case, ids), status=400)
    try:
        exhibit = exhibit_services.exhibit_create(
            case=case,
            item_ids=ids,
            description=form.cleaned_data["description"],
            opinion=form.cleaned_data["opinion"],
            actor=request_actor(request),
        )
    except RejectedInput as exc:
        return _form_page(request, case, form, _chosen(request, case, ids), status=400, error=exc.message)
    messages.success(request, gettext("Exhibit %(number)s drafted.") % {"number": exhibit.number})
    return redirect("portal:exhibit_detail", number=case.number, exhibit=exhibit.number)


@require_http_methods(["GET", "POST"])
@verified_login_required
@shows_errors
def exhibit_edit(request: HttpRequest, number: str, exhibit: str) -> HttpResponse:
    """Change a draft's description, opinion or items (one awaiting approval goes back to draft)."""
    case = _case(request, number)
    _require_author(case)
    found = exhibit_selectors.exhibit_get(case=case, number=exhibit)
    if request.method == "GET":
        form = ExhibitForm(initial={"description": found.description, "opinion": found.opinion})
        ids = [row.item_id for row in exhibit_items(user=request.user, exhibit=found)]
        return _form_page(request, case, form, _chosen(request, case, ids), exhibit=found)
    form = ExhibitForm(request.POST)
    ids = _posted_items(request, form)
    if not form.is_valid():
        return _form_page(request, case, form, _chosen(request, case, ids), exhibit=found, status=400)
    try:
        exhibit_services.exhibit_update(
            exhibit=found,
            actor=request_actor(request),
            description=form.cleaned_data["description"],
            opinion=form.cleaned_data["opinion"],
            item_ids=ids,
        )
    except RejectedInput as exc:
        return _form_page(
            request, case, form, _chosen(request, case, ids), exhibit=found, status=400, error=exc.message
        )
    messages.success(request, gettext("Exhibit %(number)s saved.") % {"number": found.number})
    return redirect("portal:exhibit_detail", number=case.number, exhibit=found.number)


@require_GET
@verified_login_required
@shows_errors
def exhibit_item_search(request: HttpRequest, number: str) -> HttpResponse:
    """Stored items of the case by id or name (HTMX), as checkboxes with blurred thumbnails only."""
    case = _case(request, number)
    _require_author(case)
    query = request.GET.get("q", "").strip()
    items = evidence_visible_to(user=request.user).filter(
        case_id=case.pk, status=ItemStatus.INGESTED, blob__isnull=False
    )
    if query.isdigit():
        items = items.filter(pk=int(query)) | items.filter(original_name__icontains=query)
    elif query:
        items = items.filter(original_name__icontains=query)
    results = list(items.order_by("-pk")[:SEARCH_RESULTS])
    return render(
        request,
        "portal/exhibits/_search.html",
        {"case": case, "results": results, "query": query, "can": _abilities(request, case)},
    )


# --- one exhibit and its steps -------------------------------------------------------------------------


def _detail(
    request: HttpRequest, case: Case, exhibit: Exhibit, *, status: int = 200, error: str = ""
) -> HttpResponse:
    history = case_custody_for(user=request.user, case_id=case.pk).filter(details__exhibit=exhibit.number)
    return render(
        request,
        "portal/exhibits/detail.html",
        {
            "case": case,
            "exhibit": exhibit,
            "rows": exhibit_items(user=request.user, exhibit=exhibit),
            "history": list(history.select_related("actor")),
            "can": _abilities(request, case, exhibit),
            "withdraw_form": WithdrawForm(),
            "approve_form": ApproveForm(),
            "error": error,
        },
        status=status,
    )


@require_GET
@verified_login_required
@shows_errors
def exhibit_detail(request: HttpRequest, number: str, exhibit: str) -> HttpResponse:
    """One exhibit: who did what when, its items, its custody history and the steps open to the caller."""
    case = _case(request, number)
    _exhibit_pages(case)
    return _detail(request, case, exhibit_selectors.exhibit_get(case=case, number=exhibit))


def _step(request: HttpRequest, number: str, exhibit: str, do: Any, done: str) -> HttpResponse:
    case = _case(request, number)
    _exhibit_pages(case)  # a refused step shows the exhibit page, which lists the items' file names
    found = exhibit_selectors.exhibit_get(case=case, number=exhibit)
    try:
        do(found)
    except HaetaeError as exc:
        found.refresh_from_db()
        return _detail(request, case, found, status=exc.http_status, error=exc.message)
    messages.success(request, done % {"number": found.number})
    return redirect("portal:exhibit_detail", number=case.number, exhibit=found.number)


_StepTaker = Callable[[HttpRequest, Exhibit], object]


def _exhibit_step(done: str) -> Callable[[_StepTaker], Callable[..., HttpResponseBase]]:
    """A POSTed step on one exhibit: ``take(request, exhibit)`` calls its service; the page says ``done``
    (a message marked with ``gettext_noop``, translated per request), or shows the exhibit with the error."""

    def decorate(take: _StepTaker) -> Callable[..., HttpResponseBase]:
        @require_POST
        @verified_login_required
        @shows_errors
        @functools.wraps(take)
        def view(request: HttpRequest, number: str, exhibit: str) -> HttpResponse:
            return _step(request, number, exhibit, lambda found: take(request, found), gettext(done))

        return view

    return decorate


@_exhibit_step(gettext_noop("Exhibit %(number)s sent for a supervisor's approval."))
def exhibit_request_approval(request: HttpRequest, exhibit: Exhibit) -> object:
    return exhibit_services.exhibit_request_approval(exhibit=exhibit, actor=request_actor(request))


@_exhibit_step(gettext_noop("Exhibit %(number)s approved."))
def exhibit_approve(request: HttpRequest, exhibit: Exhibit) -> object:
    form = ApproveForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    return exhibit_services.exhibit_approve(exhibit=exhibit, actor=request_actor(request), note=note)


@_exhibit_step(gettext_noop("Exhibit %(number)s shared with the prosecutor."))
def exhibit_share(request: HttpRequest, exhibit: Exhibit) -> object:
    return exhibit_services.exhibit_share(exhibit=exhibit, actor=request_actor(request))


@_exhibit_step(gettext_noop("Exhibit %(number)s withdrawn."))
def exhibit_withdraw(request: HttpRequest, exhibit: Exhibit) -> object:
    reason = request.POST.get("reason", "")
    return exhibit_services.exhibit_withdraw(exhibit=exhibit, actor=request_actor(request), reason=reason)


# --- reports -------------------------------------------------------------------------------------------


@require_POST
@verified_login_required
@shows_errors
def report_create(request: HttpRequest, number: str) -> HttpResponse:
    """Ask for a report (a new version) in the chosen language; a Celery job generates and signs it."""
    case = _case(request, number)
    form = ReportForm(request.POST, numbers=_open_numbers(case))
    if not form.is_valid():
        raise RejectedInput(
            gettext("Choose the report's language (and, if you like, which exhibits): %(errors)s")
            % {"errors": "; ".join(str(e) for errors in form.errors.values() for e in errors)}
        )
    report = report_queue(
        case=case,
        exhibit_numbers=list(form.cleaned_data["exhibits"]) or None,
        language=form.cleaned_data["language"],
        actor=request_actor(request),
    )
    return redirect("portal:report_detail", number=case.number, pk=report.pk)


def _job_page(request: HttpRequest, case: Case, job: Report | ExportBundle, kind: str) -> HttpResponse:
    """A report's or bundle's page; HTMX polls its ``_job`` fragment until the job is done or failed."""
    context = {
        "case": case,
        "job": job,
        "kind": kind,
        "running": job.status in (ReportStatus.QUEUED, ReportStatus.RUNNING),
        "poll_seconds": POLL_SECONDS,
        # The 반출 확인서 of a bundle that has left the vault (records.documents).
        "may_confirm_export": kind == "bundle"
        and job.status == ReportStatus.DONE
        and role_may(_role(case), Action.PROCEDURE_RECORD),
    }
    if is_partial(request):
        return render(request, "portal/exhibits/_job.html", context)
    return render(request, f"portal/exhibits/{kind}.html", context)


@require_GET
@verified_login_required
@shows_errors
def report_detail(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    """A report version and its progress (HTMX polls the Report row until it is done or failed)."""
    case = _case(request, number)
    return _job_page(request, case, _report_of(request, case, pk), "report")


@require_GET
@verified_login_required
@shows_errors
def report_download(request: HttpRequest, number: str, pk: int) -> HttpResponseBase:
    """The signed PDF; ``report_open`` checks the role and records ``report_downloaded`` first."""
    case = _case(request, number)
    report = _report_of(request, case, pk)
    exhibit_selectors.download_allowed(row=report, kind="report")

    chunks = report_open(report=report, actor=request_actor(request), purpose=request.GET.get("purpose", ""))
    return streamed_file(
        iter(chunks),
        filename=f"{report.report_id}-v{report.version}.pdf",
        content_type="application/pdf",
        sha256=report.sha256,
        size=report.size,
    )


# --- export bundles ------------------------------------------------------------------------------------


def _bundle_numbers(case: Case) -> list[str]:
    """A bundle goes to the prosecutor, so it carries exhibits already shared with them."""
    return [e.number for e in exhibit_selectors.exhibit_list(case=case).filter(status=ExhibitStatus.SHARED)]


@require_http_methods(["GET", "POST"])
@verified_login_required
@shows_errors
def bundle_create(request: HttpRequest, number: str) -> HttpResponse:
    """The export bundle form: shared exhibits, the signed report to include (or a new one), the recipient,
    their public key or a passphrase; then a Celery job builds the bundle."""
    case = _case(request, number)
    require(case=case, action=Action.BUNDLE_EXPORT)  # the form lists the shared exhibits and signed reports
    numbers = _bundle_numbers(case)
    reports = list(
        exhibit_selectors.case_reports(case=case, user=request.user).filter(status=ReportStatus.DONE)
    )
    form = BundleForm(request.POST or None, request.FILES or None, numbers=numbers, reports=reports)
    if request.method == "POST" and form.is_valid():
        key = form.public_key_bytes
        passphrase = (
            form.cleaned_data["passphrase"] if form.cleaned_data["protection"] == form.PASSPHRASE else None
        )
        chosen = form.cleaned_data["report"]
        report_pk = _report_of(request, case, chosen).pk if chosen is not None else None
        language = form.cleaned_data["language"]
        try:
            bundle = bundle_queue(
                case=case,
                exhibit_numbers=list(form.cleaned_data["exhibits"]),
                recipient=form.cleaned_data["recipient"],
                actor=request_actor(request),
                recipient_public_key=key,
                passphrase=passphrase,
                report_pk=report_pk,
                language=language,
            )
        except RejectedInput as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("portal:bundle_detail", number=case.number, pk=bundle.pk)
    return render(
        request,
        "portal/exhibits/bundle_form.html",
        {
            "case": case,
            "form": form,
            "numbers": numbers,
            "reports": reports,
            "can": _abilities(request, case),
        },
        status=400 if request.method == "POST" else 200,
    )


@require_GET
@verified_login_required
@shows_errors
def bundle_detail(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    """An export bundle and its progress (HTMX polls the row until it is done or failed)."""
    case = _case(request, number)
    return _job_page(request, case, _bundle_of(request, case, pk), "bundle")


@require_GET
@verified_login_required
@shows_errors
def bundle_download(request: HttpRequest, number: str, pk: int) -> HttpResponseBase:
    """The bundle ZIP; ``bundle_open`` checks the role and records ``bundle_downloaded`` first."""
    case = _case(request, number)
    bundle = _bundle_of(request, case, pk)
    exhibit_selectors.download_allowed(row=bundle, kind="export bundle")

    chunks = bundle_open(bundle=bundle, actor=request_actor(request))
    return streamed_file(
        iter(chunks),
        filename=f"{case.number}-bundle-{bundle.pk}.zip",
        content_type="application/zip",
        sha256=bundle.sha256,
        size=bundle.size,
    )
