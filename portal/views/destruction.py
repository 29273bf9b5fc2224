"""A case's destruction orders (docs/destruction.md): the list with the retention state and the request form,
one order's page with the buttons its next step allows the viewer, and the signed certificate.

Every step goes through ``records.services`` (which checks the role and the four-eyes rules again and writes
the custody events); a refusal shows the page again with the service's message and what was typed. Items
appear by number and SHA-256, never by file name, except in the lead's request form.
"""

import re
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from access.models import Case
from access.policy import Action, require, role_may
from access.selectors import case_get_for
from evidence.choices import ItemStatus
from evidence.models import EvidenceItem
from exhibits.services import is_supervisor
from haetae.auth import verified_login_required
from haetae.errors import HaetaeError, RejectedInput
from haetae.toolkit import request_actor, streamed_file
from portal.views.work import shows_errors
from records.certificate import destruction_certificate_read
from records.choices import DestructionOrderStatus
from records.models import DestructionOrder
from records.retention import retention_state
from records.selectors import destruction_order_get, destruction_orders
from records.services import (
    destruction_certificate_reissue,
    destruction_order_authorise,
    destruction_order_execute,
    destruction_order_refuse,
    destruction_order_request,
    destruction_order_withdraw,
    destruction_order_witness,
)

_READ = "see destruction orders"
_IN_PROGRESS = (
    DestructionOrderStatus.REQUESTED,
    DestructionOrderStatus.AUTHORISED,
    DestructionOrderStatus.WITNESSED,
)


def _case(request: HttpRequest, number: str) -> Case:
    case = case_get_for(user=request.user, number=number)
    require(case=case, action=Action.DESTRUCTION_READ, doing=_READ)
    return case


# The request form ticks items one by one up to this many live items; beyond, their numbers are typed.
LISTED_ITEMS = 200
# Items one order may name (ranges counted in full); an order for every item names none.
NAMED_ITEMS_MAX = 10_000
_NUMBER = re.compile(r"[0-9]{1,12}")


def _ids(values: list[str]) -> list[int]:
    ids = []
    for value in values:
        if not _NUMBER.fullmatch(value.strip()):
            raise RejectedInput(f"an item is named by its number, not {value!r}")
        ids.append(int(value))
    return ids


def _typed_numbers(text: str) -> list[int]:
    """Item numbers typed as ``12, 15-20 31``: numbers and low-high ranges, separated by commas or spaces."""
    ids: list[int] = []
    for token in re.split(r"[,\s]+", text.strip()):
        if not token:
            continue
        low, dash, high = token.partition("-")
        if not _NUMBER.fullmatch(low) or (dash and not _NUMBER.fullmatch(high)):
            raise RejectedInput(
                f"{token!r} is not an item number or a range such as 120-180: type the items' numbers "
                "separated by commas"
            )
        first, last = int(low), int(high) if dash else int(low)
        if last < first:
            raise RejectedInput(
                f"the range {token} runs backwards: write it from low to high ({last}-{first})"
            )
        if len(ids) + last - first + 1 > NAMED_ITEMS_MAX:
            raise RejectedInput(
                f"more than {NAMED_ITEMS_MAX:,} items named: name none to destroy every item of the case, or "
                "request the rest in another order"
            )
        ids.extend(range(first, last + 1))
    return ids


def _list_page(request: HttpRequest, case: Case, *, error: str = "", status: int = 200) -> HttpResponse:
    role = str(getattr(case, "caller_role", "") or "")
    may_request = role_may(role, Action.DESTRUCTION_REQUEST)
    live = (
        EvidenceItem.objects.filter(case=case, blob__isnull=False)
        .exclude(status=ItemStatus.DESTROYED)
        .order_by("pk")
        .only("pk", "original_name", "blob_id", "status")
        if may_request
        else EvidenceItem.objects.none()
    )
    live_count = live.count() if may_request else 0
    context: dict[str, Any] = {
        "case": case,
        "orders": list(destruction_orders(case=case)),
        "retention": retention_state(case=case, now=timezone.now()),
        "may_request": may_request,
        "live_count": live_count,
        "live_items": list(live) if live_count <= LISTED_ITEMS else [],
        "listed_items": LISTED_ITEMS,
        "error": error,
        "posted": request.POST if error else {},
        "posted_items": request.POST.getlist("items") if error else [],
    }
    return render(request, "portal/destruction/list.html", context, status=status)


def _order_page(
    request: HttpRequest,
    case: Case,
    order: DestructionOrder,
    *,
    error: str = "",
    form: str = "",
    status: int = 200,
) -> HttpResponse:
    role = str(getattr(case, "caller_role", "") or "")
    user = request_actor(request)
    supervising = role_may(role, Action.DESTRUCTION_AUTHORISE) and is_supervisor(user)
    is_requester = user.pk == order.requested_by_id
    state = order.status
    context: dict[str, Any] = {
        "case": case,
        "order": order,
        "entries": getattr(order, "items", []),
        "may_authorise": state == DestructionOrderStatus.REQUESTED and supervising and not is_requester,
        "may_witness": state == DestructionOrderStatus.AUTHORISED
        and role_may(role, Action.DESTRUCTION_WITNESS)
        and user.pk not in (order.requested_by_id, order.authorised_by_id),
        "may_execute": state == DestructionOrderStatus.WITNESSED
        and is_requester
        and role_may(role, Action.DESTRUCTION_REQUEST),
        "may_refuse": state in _IN_PROGRESS and supervising,
        "may_withdraw": state in _IN_PROGRESS and is_requester and role_may(role, Action.DESTRUCTION_REQUEST),
        # The certificate names each item's file: the auditor reads the order's ids, hashes and steps only.
        "may_download_certificate": role_may(role, Action.DESTRUCTION_CERTIFICATE),
        # Signing failed at execution: the order stands, its certificate is signed again from here.
        "may_reissue": order.executed_at is not None
        and order.certificate_id is None
        and role_may(role, Action.DESTRUCTION_CERTIFICATE_ISSUE),
        "error": error,
        "form": form,
    }
    return render(request, "portal/destruction/order.html", context, status=status)


@require_GET
@verified_login_required
@shows_errors
def destruction_list(request: HttpRequest, number: str) -> HttpResponse:
    """The case's destruction orders, its retention state, and (for a lead) the request form."""
    return _list_page(request, _case(request, number))


@require_POST
@verified_login_required
@shows_errors
def destruction_request(request: HttpRequest, number: str) -> HttpResponse:
    """A lead requests an order: the legal basis, the items ticked or typed (none: every item), a court order
    when the case is not due."""
    case = _case(request, number)
    require(case=case, action=Action.DESTRUCTION_REQUEST, doing="request a destruction order")
    post = request.POST
    try:
        order = destruction_order_request(
            case=case,
            actor=request_actor(request),
            item_ids=sorted({*_ids(post.getlist("items")), *_typed_numbers(post.get("item_numbers", ""))})
            or None,
            legal_basis=post.get("legal_basis", ""),
            reason=post.get("reason", ""),
            court_order=post.get("court_order", ""),
        )
    except HaetaeError as exc:
        return _list_page(request, case, error=exc.message, status=exc.http_status)
    messages.success(
        request,
        gettext(
            "Destruction order %(number)s requested: a supervisor authorises it, a third person witnesses it."
        )
        % {"number": order.number},
    )
    return redirect("portal:destruction_order", case.number, order.number)


@require_GET
@verified_login_required
@shows_errors
def destruction_order(request: HttpRequest, number: str, order: str) -> HttpResponse:
    """One order: its steps, items by number and SHA-256, and the button the viewer's next step allows."""
    case = _case(request, number)
    return _order_page(request, case, destruction_order_get(case=case, number=order))


_DONE = {
    "authorise": gettext_lazy("Destruction order %(number)s authorised."),
    "witness": gettext_lazy("You witnessed destruction order %(number)s."),
    "execute": gettext_lazy("Destruction order %(number)s carried out; the certificate is signed."),
    "refuse": gettext_lazy("Destruction order %(number)s refused."),
    "withdraw": gettext_lazy("Destruction order %(number)s withdrawn."),
    "reissue": gettext_lazy("The certificate of destruction order %(number)s is signed."),
}


@require_POST
@verified_login_required
@shows_errors
def destruction_step(request: HttpRequest, number: str, order: str, step: str) -> HttpResponse:
    """Authorise, witness, execute (typing the order's number to confirm), refuse or withdraw an order, or
    sign its certificate again (``reissue``: signing failed at execution)."""
    case = _case(request, number)
    row = destruction_order_get(case=case, number=order)
    actor, post = request_actor(request), request.POST
    try:
        if step == "authorise":
            destruction_order_authorise(order=row, actor=actor, note=post.get("note", ""))
        elif step == "witness":
            destruction_order_witness(order=row, actor=actor)
        elif step == "execute":
            if post.get("confirm", "").strip().upper() != row.number:
                raise RejectedInput(
                    f"type the order's number ({row.number}) to confirm: its items' content is erased for "
                    "good"
                )
            destruction_order_execute(order=row, actor=actor)
        elif step == "refuse":
            destruction_order_refuse(order=row, actor=actor, reason=post.get("reason", ""))
        elif step == "reissue":
            require(
                case=case, action=Action.DESTRUCTION_CERTIFICATE_ISSUE, doing="issue the certificate again"
            )
            destruction_certificate_reissue(order=row, actor=actor)
        else:
            destruction_order_withdraw(order=row, actor=actor, reason=post.get("reason", ""))
    except HaetaeError as exc:
        fresh = destruction_order_get(case=case, number=order)
        return _order_page(request, case, fresh, error=exc.message, form=step, status=exc.http_status)
    messages.success(request, str(_DONE[step]) % {"number": row.number})
    return redirect(reverse("portal:destruction_order", args=[case.number, row.number]))


@require_GET
@verified_login_required
@shows_errors
def destruction_certificate(request: HttpRequest, number: str, order: str) -> HttpResponseBase:
    """The signed certificate of an executed order (it names each item's file: not the auditor's)."""
    case = _case(request, number)
    require(case=case, action=Action.DESTRUCTION_CERTIFICATE, doing="download destruction certificates")
    row = destruction_order_get(case=case, number=order)
    response = streamed_file(
        iter([destruction_certificate_read(row)]),
        content_type="application/pdf",
        filename=f"{case.number}-{row.number}-certificate.pdf",
        sha256=None,
        size=None,
    )
    response["X-Haetae-Document-SHA256"] = row.certificate_id or ""
    return response
