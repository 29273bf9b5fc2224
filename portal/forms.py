"""Portal forms: the sign-in form (password, then a TOTP code when the installation requires one)."""

from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_otp import match_token
from django_otp.models import Device

from haetae.admin_site import totp_required


class SignInForm(forms.Form):
    """Username, password and (when TOTP is required) the six-digit code from the user's authenticator."""

    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    otp_token = forms.CharField(
        label=_("One-time code"),
        required=False,
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text=_("the six digits your authenticator app shows now"),
    )

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.user: User | None = None
        self.device: Device | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        username, password = data.get("username"), data.get("password")
        if not username or not password:
            return data
        user = authenticate(self.request, username=username, password=password)
        if user is None or not user.is_active:
            raise forms.ValidationError(
                _(
                    "The username or password is not right. Check them and try again; after several failures "
                    "the account is locked for a while."
                ),
                code="invalid_login",
            )
        if totp_required():
            token = (data.get("otp_token") or "").strip()
            if not token:
                raise forms.ValidationError(
                    _(
                        "Enter the one-time code from your authenticator app. No device yet? Ask an "
                        "operator to enrol one (manage.py totp_enrol)."
                    ),
                    code="otp_missing",
                )
            device = match_token(user, token)
            if device is None:
                raise forms.ValidationError(
                    _("That one-time code is not right or has expired. Enter the code your app shows now."),
                    code="otp_invalid",
                )
            self.device = device
        self.user = user
        return data
