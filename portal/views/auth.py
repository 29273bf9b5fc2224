"""Sign-in (password and TOTP code) and sign-out."""

from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from haetae.admin_site import totp_required
from portal.forms import SignInForm


def sign_in(request: HttpRequest) -> HttpResponse:
    """The sign-in page; on success, back to where the user was going (same host only) or the dashboard."""
    form = SignInForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        assert form.user is not None
        login(request, form.user, backend="django.contrib.auth.backends.ModelBackend")
        if form.device is not None:
            otp_login(request, form.device)
        target = request.POST.get("next") or request.GET.get("next") or ""
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = ""
        return redirect(target or "portal:dashboard")
    return render(
        request,
        "portal/sign_in.html",
        {"form": form, "next": request.GET.get("next", ""), "totp_required": totp_required()},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("portal:login")
