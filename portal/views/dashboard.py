"""The dashboard: the signed-in user's cases (alerts and jobs are added by their areas)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from casefile.selectors import case_list
from haetae.auth import verified_login_required


@verified_login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    cases = case_list(user=request.user).order_by("-opened_at")[:50]
    return render(request, "portal/dashboard.html", {"cases": cases})
