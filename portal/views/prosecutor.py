"""Prosecutor pages: their cases, the exhibits shared with them (never other items), report and bundle
downloads (logged by the services behind ``exhibits.report_download`` and ``bundle_download``), and how to
verify.

What a prosecutor sees comes from the selectors: ``case_list`` for the cases, ``exhibit_list`` (shared
exhibits only for this role), ``case_reports`` / ``case_bundles`` (only those whose every exhibit is shared)
and the items narrowed by ``evidence_visible_to`` (``exhibits.exhibit_items``).
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from access.policy import shared_only
from access.selectors import case_get_for, case_list
from evidence import crypto
from exhibits.choices import ReportStatus
from exhibits.selectors import case_bundles, case_reports, exhibit_list
from haetae.auth import verified_login_required
from haetae.errors import AccessDenied
from portal.views.exhibits import exhibits_items
from portal.views.work import shows_errors


@require_GET
@verified_login_required
def prosecutor_home(request: HttpRequest) -> HttpResponse:
    """The cases on which the user is the prosecutor, with how many exhibits are shared with them."""
    cases = [case for case in case_list(user=request.user) if shared_only(getattr(case, "caller_role", None))]
    shared = {case.pk: exhibit_list(case=case).count() for case in cases}
    rows = [(case, shared[case.pk]) for case in cases]
    return render(request, "portal/prosecutor/home.html", {"rows": rows})


@require_GET
@verified_login_required
@shows_errors
def prosecutor_case(request: HttpRequest, number: str) -> HttpResponse:
    """One case as its prosecutor sees it: shared exhibits with their items' hashes, reports and bundles."""
    case = case_get_for(user=request.user, number=number)
    if not shared_only(getattr(case, "caller_role", None)):
        raise AccessDenied(
            f"this page shows case {case.number} as its prosecutor sees it; your role on it is "
            f"{getattr(case, 'caller_role', None)}: use the case's exhibit pages"
        )
    exhibits = exhibits_items(user=request.user, exhibits=list(exhibit_list(case=case)))
    return render(
        request,
        "portal/prosecutor/case.html",
        {
            "case": case,
            "exhibits": exhibits,
            "reports": list(case_reports(case=case, user=request.user).filter(status=ReportStatus.DONE)),
            "bundles": list(case_bundles(case=case, user=request.user).filter(status=ReportStatus.DONE)),
        },
    )


@require_GET
@verified_login_required
def prosecutor_verify(request: HttpRequest) -> HttpResponse:
    """How to check a report and a bundle with public tools, without trusting this server."""
    # The ledger key printed here is one of the two anchors a bundle verifier accepts (docs/export-bundle.md).
    public_key = crypto.public_key_hex(crypto.ledger_signing_key().public_key())
    return render(
        request,
        "portal/prosecutor/verify.html",
        {"ledger_public_key": public_key, "ledger_key_id": crypto.public_key_id(public_key)},
    )
