"""The dashboard: the signed-in user's cases with their role, alerts, and jobs in progress (HTMX polls)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render, resolve_url
from django.views.decorators.http import require_POST

from detection.alerts import match_alert_mark_seen
from haetae.admin_site import totp_required
from haetae.auth import verified_login_required
from portal.selectors import (
    incidents_for,
    jobs_for,
    match_alerts_for,
    my_cases,
    overdue_takedowns_for,
    shows_jobs,
)
from search.services import cross_case_search_allowed


def _jobs_context(request: HttpRequest) -> dict[str, object]:
    jobs = jobs_for(user=request.user)
    return {"jobs": jobs, "jobs_running": any(not job.finished for job in jobs)}


@verified_login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    context: dict[str, object] = {
        "cases": my_cases(user=request.user),
        "match_alerts": match_alerts_for(user=request.user),
        "overdue_takedowns": overdue_takedowns_for(user=request.user),
        "incidents": incidents_for(user=request.user),
        "shows_jobs": shows_jobs(user=request.user),
        "may_search_across": cross_case_search_allowed(user=request.user),
    }
    if context["shows_jobs"]:
        context.update(_jobs_context(request))
    return render(request, "portal/dashboard.html", context)


def dashboard_jobs(request: HttpRequest) -> HttpResponseBase:
    """The jobs section alone, for HTMX to swap in every few seconds.

    When the session has ended, HTMX is told to load the sign-in page as a whole page (``HX-Redirect``)
    rather than swap it into the section.
    """
    if request.headers.get("HX-Request") and not _verified(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = f"{resolve_url(settings.LOGIN_URL)}?next={resolve_url('portal:dashboard')}"
        return response
    return _jobs_view(request)


@verified_login_required
def _jobs_view(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/_jobs.html", _jobs_context(request))


def _verified(request: HttpRequest) -> bool:
    user = request.user
    is_verified = getattr(user, "is_verified", None)
    return bool(
        user.is_authenticated and (not totp_required() or (is_verified is not None and is_verified()))
    )


@require_POST
@verified_login_required
def alert_seen(request: HttpRequest, alert_id: int) -> HttpResponse:
    """Mark a match alert seen; HTMX removes its row, a plain form comes back to the dashboard."""
    match_alert_mark_seen(alert_id=alert_id, user=request.user)
    if request.headers.get("HX-Request"):
        return HttpResponse("")
    return redirect("portal:dashboard")
