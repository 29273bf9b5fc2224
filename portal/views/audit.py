"""Auditor pages: the custody ledger of the audited cases, an event with its proof, checkpoints, verification.

Auditors read records, never content: nothing here links to content, previews or thumbnails.
"""

from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from access.policy import Action, restrict
from access.selectors import case_list
from evidence.audit_selectors import (
    LedgerFilter,
    audit_require,
    checkpoint_rows,
    ledger_actor_names,
    ledger_event_check,
    ledger_event_get,
    ledger_page,
    verification_results_for,
    verification_runs_for,
)
from evidence.choices import CustodyAction
from evidence.ledger import checkpoint_latest
from haetae.auth import verified_login_required
from haetae.errors import RejectedInput

RESULTS_SHOWN = 200


def _number(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise RejectedInput(f"{name} must be a whole number, not {value!r}: clear the field or correct it")
    return int(value)


@verified_login_required
def ledger(request: HttpRequest) -> HttpResponse:
    audit_require(user=request.user)
    action = request.GET.get("action", "").strip()
    if action and action not in CustodyAction.values:
        raise RejectedInput(f"{action!r} is not a custody action: choose one from the list")
    filters = LedgerFilter(
        case_number=request.GET.get("case", "").strip(),
        item_id=_number(request, "item"),
        actor=request.GET.get("actor", "").strip(),
        action=action,
    )
    page = ledger_page(
        user=request.user, filters=filters, before=_number(request, "before"), after=_number(request, "after")
    )
    query = request.GET.copy()
    for key in ("before", "after"):
        query.pop(key, None)
    cases = restrict(
        case_list(user=request.user), user=request.user, action=Action.LEDGER_READ, case_path="pk"
    )
    return render(
        request,
        "portal/audit/ledger.html",
        {
            "page": page,
            "filters": filters,
            "filter_query": query.urlencode(),
            "cases": cases,
            "actors": ledger_actor_names(user=request.user),
            "actions": CustodyAction.choices,
            "latest": checkpoint_latest(),
        },
    )


@verified_login_required
def event(request: HttpRequest, seq: int) -> HttpResponse:
    audit_require(user=request.user)
    found = ledger_event_get(user=request.user, seq=seq)
    check = ledger_event_check(event=found)
    return render(request, "portal/audit/event.html", {"event": found, "check": check})


@verified_login_required
def checkpoints(request: HttpRequest) -> HttpResponse:
    audit_require(user=request.user)
    return render(request, "portal/audit/checkpoints.html", {"rows": checkpoint_rows()})


@verified_login_required
def verification_runs(request: HttpRequest) -> HttpResponse:
    audit_require(user=request.user)
    return render(request, "portal/audit/runs.html", {"runs": verification_runs_for(user=request.user)})


@verified_login_required
def verification_run(request: HttpRequest, run: str) -> HttpResponse:
    audit_require(user=request.user)
    results = verification_results_for(user=request.user, run=run)
    passing = Q(action=CustodyAction.VERIFIED, details__ok=True)
    # One pass counts both; the lists then stop after RESULTS_SHOWN rows.
    counts = results.aggregate(problems=Count("pk", filter=~passing), passed=Count("pk", filter=passing))
    problems = list(results.exclude(passing)[:RESULTS_SHOWN]) if counts["problems"] else []
    passed = list(results.filter(passing)[:RESULTS_SHOWN]) if counts["passed"] else []
    return render(
        request,
        "portal/audit/run.html",
        {
            "run": run,
            "problems": problems,
            "problem_count": counts["problems"],
            "passed": passed,
            "passed_count": counts["passed"],
            "shown": RESULTS_SHOWN,
        },
    )
