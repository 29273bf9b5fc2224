"""API authentication: sessions count only when OTP-verified (when TOTP is required); tokens as before."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from drf_spectacular.authentication import SessionScheme
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from haetae.admin_site import totp_required


class OTPSessionAuthentication(SessionAuthentication):
    """Django's session, refused when TOTP is required and the session was not verified with a code."""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        result = super().authenticate(request)
        if result is None or not totp_required():
            return result
        user = result[0]
        is_verified = getattr(user, "is_verified", None)
        if is_verified is None or not is_verified():
            raise AuthenticationFailed(
                "this session was signed in without a one-time code: sign in again with your TOTP code "
                "(or call the API with a token)"
            )
        return result


class OTPSessionScheme(SessionScheme):
    """Describes OTPSessionAuthentication in the OpenAPI schema as the cookie session it is."""

    target_class = "haetae.auth.OTPSessionAuthentication"


def verified_login_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """For portal views: a signed-in user whose session is OTP-verified when TOTP is required; anyone else
    goes to the sign-in page (settings.LOGIN_URL)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        verified = getattr(user, "is_verified", None)
        if not user.is_authenticated or (totp_required() and not (verified is not None and verified())):
            return redirect_to_login(request.get_full_path(), str(settings.LOGIN_URL))
        return view(request, *args, **kwargs)

    return wrapper
