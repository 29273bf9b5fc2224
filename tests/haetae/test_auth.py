"""Staff sign-in: TOTP at the admin and for API sessions, login throttling, both on by default and never
switched off silently; the enrolment command."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from access.choices import CaseMemberRole
from accounts.services import api_token_issue
from haetae.checks import sign_in_protections
from tests.factories import CaseMemberFactory, UserFactory, verified_login

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"  # UserFactory's


def current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture
def staff():
    return UserFactory(username="sysadmin", is_staff=True, is_superuser=True)


def admin_login(client: Client, username: str, password: str, code: str = "", device: str = "") -> Any:
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "otp_device": device, "otp_token": code},
    )


# --- TOTP ------------------------------------------------------------------------------------------------


def test_admin_sign_in_asks_for_a_code_and_refuses_without_one(staff, settings) -> None:
    assert settings.HAETAE_REQUIRE_TOTP  # on by default (HAETAE_LOCAL_TRIAL is off)
    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    client = Client()
    assert b"otp_token" in client.get("/admin/login/").content
    refused = admin_login(client, "sysadmin", PASSWORD)
    assert refused.status_code == 200  # the form again, now offering the user's devices
    assert device.persistent_id.encode() in refused.content
    assert client.get("/admin/").status_code == 302  # still outside
    not_the_code = f"{(int(current_code(device)) + 500_000) % 1_000_000:06d}"
    wrong = admin_login(client, "sysadmin", PASSWORD, not_the_code, device.persistent_id)
    assert wrong.status_code == 200 and client.get("/admin/").status_code == 302
    device.refresh_from_db()
    device.throttling_failure_count, device.throttling_failure_timestamp = 0, None  # TOTP's own back-off
    device.save()
    accepted = admin_login(client, "sysadmin", PASSWORD, current_code(device), device.persistent_id)
    assert accepted.status_code == 302 and accepted["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_password_only_session_does_not_enter_the_admin(staff) -> None:
    client = Client()
    client.force_login(staff.__class__.objects.get(pk=staff.pk))
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    verified_login(client, staff)
    assert client.get("/admin/").status_code == 200


def test_with_totp_off_the_password_suffices(staff, settings) -> None:
    settings.HAETAE_REQUIRE_TOTP = False
    client = Client()
    assert b"otp_token" not in client.get("/admin/login/").content
    assert admin_login(client, "sysadmin", PASSWORD).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_api_sessions_must_be_verified_tokens_work_as_before() -> None:
    membership: Any = CaseMemberFactory(role=CaseMemberRole.LEAD)
    url = f"/api/v1/cases/{membership.case.number}/"
    unverified = APIClient()
    unverified.force_login(membership.user.__class__.objects.get(pk=membership.user.pk))
    refused = unverified.get(url)
    assert refused.status_code in {401, 403}
    assert "without a one-time code" in refused.json()["detail"]
    verified = APIClient()
    verified_login(verified, membership.user)
    assert verified.get(url).status_code == 200
    _, token = api_token_issue(user=membership.user, actor=None)
    assert APIClient().get(url, HTTP_AUTHORIZATION=f"Token {token}").status_code == 200


def test_api_sessions_without_totp_required(settings) -> None:
    settings.HAETAE_REQUIRE_TOTP = False
    membership: Any = CaseMemberFactory()
    client = APIClient()
    client.force_login(membership.user.__class__.objects.get(pk=membership.user.pk))
    assert client.get(f"/api/v1/cases/{membership.case.number}/").status_code == 200


def test_totp_enrol_issues_a_device_once_unless_replaced(staff, capsys) -> None:
    out = io.StringIO()
    call_command("totp_enrol", "sysadmin", "--json", stdout=out)
    issued = json.loads(out.getvalue())
    assert issued["user"] == "sysadmin" and issued["uri"].startswith("otpauth://totp/")
    device = TOTPDevice.objects.get(user=staff)
    assert device.confirmed and device.pk == issued["device"]
    with pytest.raises(SystemExit) as exited:
        call_command("totp_enrol", "sysadmin")
    assert exited.value.code == 1 and "--replace" in capsys.readouterr().err
    call_command("totp_enrol", "sysadmin", "--replace", stdout=io.StringIO())
    assert TOTPDevice.objects.get(user=staff).pk != device.pk


# --- throttling ------------------------------------------------------------------------------------------


def test_repeated_failures_lock_the_account_out_from_that_address(staff, settings) -> None:
    settings.HAETAE_REQUIRE_TOTP = False
    assert settings.AXES_ENABLED and settings.AXES_FAILURE_LIMIT == 5
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        admin_login(client, "sysadmin", "wrong password")
    locked = admin_login(client, "sysadmin", PASSWORD)  # even the right password now
    assert locked.status_code in {403, 429}
    assert client.get("/admin/").status_code == 302
    other_address = Client(REMOTE_ADDR="10.0.0.9")  # the lockout is per username and address
    assert admin_login(other_address, "sysadmin", PASSWORD).status_code == 302


def test_with_throttling_off_failures_do_not_lock(staff, settings) -> None:
    settings.HAETAE_REQUIRE_TOTP = False
    settings.AXES_ENABLED = False
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        admin_login(client, "sysadmin", "wrong password")
    assert admin_login(client, "sysadmin", PASSWORD).status_code == 302


# --- never silently off ----------------------------------------------------------------------------------


def test_system_check_warns_when_either_is_off(settings) -> None:
    assert sign_in_protections() == []
    settings.HAETAE_REQUIRE_TOTP = False
    settings.AXES_ENABLED = False
    assert [warning.id for warning in sign_in_protections()] == ["haetae.W001", "haetae.W002"]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "True True"),
        ({"HAETAE_DEBUG": "1"}, "True True"),
        ({"HAETAE_LOCAL_TRIAL": "1"}, "False False"),
        ({"HAETAE_REQUIRE_TOTP": "0"}, "False True"),
        ({"HAETAE_LOGIN_THROTTLE": "off"}, "True False"),
        ({"HAETAE_LOCAL_TRIAL": "1", "HAETAE_REQUIRE_TOTP": "1", "HAETAE_LOGIN_THROTTLE": "1"}, "True True"),
    ],
)
def test_defaults_follow_the_local_trial_and_env_vars_switch_them(env: dict[str, str], expected: str) -> None:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "HAETAE_DEBUG",
            "HAETAE_LOCAL_TRIAL",
            "HAETAE_REQUIRE_TOTP",
            "HAETAE_LOGIN_THROTTLE",
            "HAETAE_ALLOWED_HOSTS",
        }
    }
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.HAETAE_REQUIRE_TOTP, settings.AXES_ENABLED)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**clean, **env, "DJANGO_SETTINGS_MODULE": "haetae.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == expected


def test_portal_views_need_a_verified_session_when_totp_is_required(settings) -> None:
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpResponse
    from django.test import RequestFactory
    from django_otp.middleware import OTPMiddleware

    from haetae.auth import verified_login_required

    @verified_login_required
    def page(request: Any) -> HttpResponse:
        return HttpResponse("portal page")

    user = UserFactory(username="investigator")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)

    def call(who: Any, device_id: str | None = None) -> Any:
        request = RequestFactory().get("/portal/cases/")
        request.user = who
        request.session = {"otp_device_id": device_id} if device_id else {}  # type: ignore[assignment]
        OTPMiddleware(lambda r: HttpResponse())(request)  # wraps request.user with is_verified()
        return page(request)

    assert call(AnonymousUser()).status_code == 302
    refused = call(user)
    assert refused.status_code == 302 and "next=/portal/cases/" in refused["Location"]
    assert call(user, device.persistent_id).content == b"portal page"
    settings.HAETAE_REQUIRE_TOTP = False
    assert call(user).content == b"portal page"
