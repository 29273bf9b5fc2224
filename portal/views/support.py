"""Victim-support pages: support files, consents, restricted notes, takedowns, overdue lists, hash export.

Every page goes through ``support.services`` (the same selectors and services as the API): support workers
(victim_support) read and act, the case lead reads (never the notes), other roles get the API's 403 and
non-members a 404. Nothing here renders media, a thumbnail or a content URL: items appear by number and
digests only, and no page links to an evidence page.
"""

from collections.abc import Callable
from functools import wraps
from itertools import groupby
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from access.models import Case
from access.policy import POLICY, Action, role_may
from access.selectors import case_list
from evidence.content import media_refusal
from evidence.selectors import evidence_get_for
from haetae.auth import verified_login_required
from haetae.errors import AccessDenied, HaetaeError, NotFound
from haetae.toolkit import request_actor
from portal.support_forms import (
    TAKEDOWN_STEP_FORMS,
    ConsentGiveForm,
    ConsentWithdrawForm,
    HashExportForm,
    NoteForm,
    ReappearanceForm,
    TakedownDraftForm,
)
from support import selectors as support_selectors
from support import services as support
from support.choices import TakedownAddressee, TakedownStatus
from support.models import TakedownRequest

REFUSED_TEMPLATE = "portal/support/refused.html"
# The service behind each takedown step button: the same functions the API's step actions call.
TAKEDOWN_STEPS: dict[str, Callable[..., TakedownRequest]] = {
    "send": support.takedown_send,
    "acknowledge": support.takedown_acknowledge,
    "removed": support.takedown_mark_removed,
    "refuse": support.takedown_refuse,
}
# Which steps a request in each status offers (the services check again).
STEPS_FROM: dict[str, list[str]] = {
    TakedownStatus.DRAFT: ["send"],
    TakedownStatus.SENT: ["acknowledge", "removed", "refuse"],
    TakedownStatus.ACKNOWLEDGED: ["removed", "refuse"],
}


def refused(request: HttpRequest, error: HaetaeError, *, hint: str = "", back: str = "") -> HttpResponse:
    """The page for a refusal: the service's own message (what was wrong, what to do) and its status."""
    return render(
        request,
        REFUSED_TEMPLATE,
        {"message": error.message, "hint": hint, "back": back, "status": error.http_status},
        status=error.http_status,
    )


def support_page(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A signed-in (OTP-verified) page whose HaetaeErrors render as the refusal page."""

    @verified_login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except HaetaeError as error:
            return refused(request, error)

    return wrapper


def _case(request: HttpRequest, number: str, *, write: bool = False) -> Case:
    action = Action.SUPPORT_WRITE if write else Action.SUPPORT_READ
    return support_selectors.support_case_get(user=request.user, number=number, action=action)


def _can_write(case: Case) -> bool:
    return role_may(getattr(case, "caller_role", None), Action.SUPPORT_WRITE)


def _file_url(case: Case, support_file_id: int) -> str:
    return reverse("portal:support-file", args=[case.number, support_file_id])


def _takedown_url(case: Case, takedown_id: int) -> str:
    return reverse("portal:support-takedown", args=[case.number, takedown_id])


def _form_error(form: Any) -> HaetaeError:
    fields = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
    return HaetaeError(_("Some fields were not right, nothing was recorded: %(fields)s") % {"fields": fields})


# --- pages ------------------------------------------------------------------------------------------------


@require_GET
@support_page
def support_home(request: HttpRequest) -> HttpResponse:
    """The cases where the caller does victim support (or leads), and overdue requests across them."""
    # caller_role is case_list's annotation (the stubs do not know it).
    cases = case_list(user=request.user).filter(caller_role__in=POLICY[Action.SUPPORT_READ])  # type: ignore[misc]
    now = timezone.now()
    overdue = list(support_selectors.takedown_overdue_across_cases(user=request.user, now=now))
    return render(
        request,
        "portal/support/home.html",
        {
            "cases": cases,
            "overdue_groups": _by_addressee(overdue),
            "limits": support_selectors.takedown_overdue_days(),
        },
    )


@require_GET
@support_page
def support_case(request: HttpRequest, number: str) -> HttpResponse:
    """A case's support files (victims by pseudonym) and its takedown requests by status."""
    case = _case(request, number)
    files = list(support_selectors.support_file_list(case=case))
    takedowns = list(support_selectors.takedown_list(case=case))
    counts = {status: 0 for status in TakedownStatus.values}
    for takedown in takedowns:
        counts[takedown.status] += 1
    return render(
        request,
        "portal/support/case.html",
        {
            "case": case,
            "files": files,
            "status_counts": [(TakedownStatus(s).label, n) for s, n in counts.items()],
            "can_write": _can_write(case),
        },
    )


@require_GET
@support_page
def support_file(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    """One support file: consents with their history, items by reference, takedowns, hash exports."""
    case = _case(request, number)
    support_file = support_selectors.support_file_get(case=case, support_file_id=pk)
    items = list(support_selectors.victim_item_links(support_file=support_file))
    now = timezone.now()
    takedowns = list(support_selectors.takedown_list(case=case).filter(support_file=support_file))
    can_write = _can_write(case)
    return render(
        request,
        "portal/support/file.html",
        {
            "case": case,
            "file": support_file,
            "consents": list(
                support_selectors.consent_list(support_file=support_file).order_by("-given_at", "-id")
            ),
            "items": items,
            "takedowns": [(t, support_selectors.takedown_is_overdue(t, now=now)) for t in takedowns],
            "history": list(support_selectors.hash_export_history(case=case, support_file=support_file)),
            "share_hashes": support_selectors.consent_in_force(
                support_file=support_file, kind="share_hashes"
            ),
            "can_write": can_write,
            "consent_form": ConsentGiveForm() if can_write else None,
            "export_form": HashExportForm() if can_write else None,
            "draft_form": _draft_form(items) if can_write else None,
        },
    )


def _draft_form(links: list[Any], data: Any = None) -> TakedownDraftForm:
    choices = [(link.item_id, f"#{link.item_id} · {link.item.blob_id[:16]}…") for link in links]
    return TakedownDraftForm(data, item_choices=choices)


@require_POST
@support_page
def consent_record(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    case = _case(request, number, write=True)
    support_file = support_selectors.support_file_get(case=case, support_file_id=pk)
    form = ConsentGiveForm(request.POST)
    if not form.is_valid():
        raise _form_error(form)
    consent = support.consent_give(
        support_file=support_file, actor=request_actor(request), **form.cleaned_data
    )
    messages.success(request, _("Consent recorded: %(kind)s.") % {"kind": consent.get_kind_display()})
    return redirect(_file_url(case, pk) + "#consents")


@require_POST
@support_page
def consent_withdraw(request: HttpRequest, number: str, pk: int, consent_id: int) -> HttpResponse:
    case = _case(request, number, write=True)
    support_file = support_selectors.support_file_get(case=case, support_file_id=pk)
    consent = support_selectors.consent_get(support_file=support_file, consent_id=consent_id)
    form = ConsentWithdrawForm(request.POST)
    if not form.is_valid():
        raise _form_error(form)
    support.consent_withdraw(consent=consent, actor=request_actor(request), **form.cleaned_data)
    messages.success(request, _("Withdrawal recorded: %(kind)s.") % {"kind": consent.get_kind_display()})
    return redirect(_file_url(case, pk) + "#consents")


@require_http_methods(["GET", "POST"])
@support_page
def notes(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    """Restricted notes: support workers only (the lead gets the service's 403)."""
    case = _case(request, number)
    support_file = support_selectors.support_file_get(case=case, support_file_id=pk)
    form = NoteForm(request.POST or None)
    if request.method == "POST":
        if not form.is_valid():
            raise _form_error(form)
        support.note_add(
            case=case, support_file=support_file, text=form.cleaned_data["text"], actor=request_actor(request)
        )
        messages.success(request, _("Note saved (encrypted)."))
        return redirect(reverse("portal:support-notes", args=[case.number, pk]))
    views = support.note_list(case=case, support_file=support_file)
    return render(
        request,
        "portal/support/notes.html",
        {"case": case, "file": support_file, "notes": views, "form": NoteForm()},
    )


@require_POST
@support_page
def hash_export(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    """The consent-gated hash list as a download (JSON or CSV), logged as hashes_exported."""
    case = _case(request, number, write=True)
    support_file = support_selectors.support_file_get(case=case, support_file_id=pk)
    form = HashExportForm(request.POST)
    if not form.is_valid():
        raise _form_error(form)
    try:
        export = support.hash_export(
            case=case,
            support_file=support_file,
            actor=request_actor(request),
            export_format=form.cleaned_data["format"],
            recipient=form.cleaned_data["recipient"],
            include_pseudonym=form.cleaned_data["include_pseudonym"],
        )
    except AccessDenied as error:
        hint = _(
            "In the portal: once the victim (or their guardian) agrees, record the consent “to share hashes” "
            "under Consents on this support file, then export again."
        )
        return refused(request, error, hint=hint, back=_file_url(case, pk) + "#consents")
    response = HttpResponse(export.body, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["X-Haetae-Export-SHA256"] = export.sha256
    return response


@require_GET
@support_page
def takedowns(request: HttpRequest, number: str) -> HttpResponse:
    """The case's takedown requests with their statuses (filter by status)."""
    case = _case(request, number)
    rows = support_selectors.takedown_list(case=case)
    status = request.GET.get("status", "")
    if status:
        if status not in TakedownStatus.values:
            raise NotFound(
                _("no status %(status)s: use one of %(all)s")
                % {"status": status, "all": ", ".join(TakedownStatus.values)}
            )
        rows = rows.filter(status=status)
    now = timezone.now()
    # The status filter swaps just the table in (HTMX); a plain request gets the whole page.
    template = (
        "portal/support/_takedown_rows.html"
        if request.headers.get("HX-Request")
        else "portal/support/takedowns.html"
    )
    return render(
        request,
        template,
        {
            "case": case,
            "rows": [(t, support_selectors.takedown_is_overdue(t, now=now)) for t in rows],
            "status": status,
            "statuses": TakedownStatus.choices,
        },
    )


@require_POST
@support_page
def takedown_draft(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    case = _case(request, number, write=True)
    support_file = support_selectors.support_file_get(case=case, support_file_id=pk)
    form = _draft_form(list(support_selectors.victim_item_links(support_file=support_file)), request.POST)
    if not form.is_valid():
        raise _form_error(form)
    fields = dict(form.cleaned_data)
    takedown = support.takedown_create(
        case=case,
        support_file=support_file,
        actor=request_actor(request),
        item_ids=fields.pop("items"),
        **fields,
    )
    messages.success(request, _("Draft saved. Send it when it has gone out."))
    return redirect(_takedown_url(case, takedown.pk))


@require_GET
@support_page
def takedown(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    """One request: who did each step and when, the next steps, reappearances."""
    case = _case(request, number)
    row = support_selectors.takedown_get(case=case, takedown_id=pk)
    can_write = _can_write(case)
    steps = (
        [(step, TAKEDOWN_STEP_FORMS[step](auto_id=f"{step}-%s")) for step in STEPS_FROM.get(row.status, [])]
        if can_write
        else []
    )
    return render(
        request,
        "portal/support/takedown.html",
        {
            "case": case,
            "t": row,
            "overdue": support_selectors.takedown_is_overdue(row),
            "waiting_since": support_selectors.takedown_waiting_since(row),
            "steps": steps,
            "can_write": can_write,
            "reappearance_form": ReappearanceForm()
            if can_write and row.status == TakedownStatus.REMOVED
            else None,
        },
    )


@require_POST
@support_page
def takedown_step(request: HttpRequest, number: str, pk: int, step: str) -> HttpResponse:
    """Send, acknowledge, removed or refuse: the same services as the API's step actions."""
    case = _case(request, number, write=True)
    if step not in TAKEDOWN_STEPS:
        raise NotFound(
            _("no step %(step)s: the steps are %(all)s") % {"step": step, "all": ", ".join(TAKEDOWN_STEPS)}
        )
    row = support_selectors.takedown_get(case=case, takedown_id=pk)
    form = TAKEDOWN_STEP_FORMS[step](request.POST)
    if not form.is_valid():
        raise _form_error(form)
    fields = {k: v for k, v in form.cleaned_data.items() if v not in (None, "") or k == "reason"}
    done = TAKEDOWN_STEPS[step](takedown=row, actor=request_actor(request), **fields)
    messages.success(request, _("Recorded: %(status)s.") % {"status": done.get_status_display()})
    return redirect(_takedown_url(case, pk))


@require_POST
@support_page
def takedown_capture(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    """Ask for the takedown's target URL to be captured as evidence (status on the captures page)."""
    case = _case(request, number, write=True)
    row = support_selectors.takedown_get(case=case, takedown_id=pk)
    support.takedown_capture(case=case, takedown=row, actor=request_actor(request))
    messages.success(request, _("Capture requested: follow its status on the captures page."))
    return redirect(_takedown_url(case, pk))


@require_POST
@support_page
def reappearance_record(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    case = _case(request, number, write=True)
    row = support_selectors.takedown_get(case=case, takedown_id=pk)
    form = ReappearanceForm(request.POST)
    if not form.is_valid():
        raise _form_error(form)
    result = support.takedown_record_reappearance(
        case=case, takedown=row, actor=request_actor(request), **form.cleaned_data
    )
    if result.support_file_reopened:
        messages.info(request, _("The closed support file went back to monitoring."))
    if result.follow_up is not None:
        messages.success(request, _("Reappearance recorded and a new draft made."))
        return redirect(_takedown_url(case, result.follow_up.pk))
    messages.success(request, _("Reappearance recorded; the new address is being captured."))
    return redirect(_takedown_url(case, pk))


def _by_addressee(rows: list[TakedownRequest]) -> list[tuple[str, list[TakedownRequest]]]:
    ordered = sorted(
        rows, key=lambda t: (TakedownAddressee.values.index(t.addressee), t.sent_at or t.created_at)
    )
    return [
        (str(TakedownAddressee(addressee).label), list(group))
        for addressee, group in groupby(ordered, key=lambda t: t.addressee)
    ]


@require_GET
@support_page
def overdue(request: HttpRequest, number: str) -> HttpResponse:
    """The case's overdue requests, per addressee, with the limit in force for each."""
    case = _case(request, number)
    now = timezone.now()
    rows = list(support_selectors.takedown_overdue(case=case, now=now))
    return render(
        request,
        "portal/support/overdue.html",
        {
            "case": case,
            "groups": _by_addressee(rows),
            "limits": support_selectors.takedown_overdue_days(),
            "now": now,
        },
    )


# --- evidence pages -------------------------------------------------------------------------------------


def evidence_page_refusal(request: HttpRequest, *, item_id: int) -> HttpResponse | None:
    """For an evidence item page: the API's explanation (403) for victim support, who never receive content
    or custody records, a 404 for non-members, None for everyone else. Evidence pages call this
    first, so a support worker who follows or types an evidence address reads why, not a bare error."""
    try:
        item = evidence_get_for(user=request.user, item_id=item_id)
    except NotFound as error:
        return refused(request, error)
    role = getattr(item, "caller_role", None)
    if not role_may(role, Action.SUPPORT_WRITE):
        return None
    refusal = media_refusal(role=role, item_id=item_id, what="content")
    return refused(request, refusal) if refusal is not None else None
