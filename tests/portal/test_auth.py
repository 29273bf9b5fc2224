"""Portal sign-in: password plus TOTP code, refusals that say what to do, and a real browser walk."""

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.portal.conftest import screenshot

PASSWORD = "a long enough passphrase 42"


def _user_with_device(username: str = "kim") -> tuple[Any, TOTPDevice]:
    user = get_user_model().objects.create_user(username, password=PASSWORD)
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return user, device


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


@pytest.mark.django_db
@override_settings(HAETAE_REQUIRE_TOTP=True, HAETAE_LOGIN_THROTTLE=False)
def test_sign_in_needs_the_one_time_code_when_totp_is_required() -> None:
    _, device = _user_with_device()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")  # the messages below are checked in English
    refused = client.post("/login/", {"username": "kim", "password": PASSWORD})
    assert refused.status_code == 400
    assert "authenticator" in refused.content.decode()
    wrong = client.post("/login/", {"username": "kim", "password": PASSWORD, "otp_token": "000000"})
    assert wrong.status_code == 400
    device.refresh_from_db()
    device.throttle_reset()  # django-otp makes a device wait after a wrong code; the user would wait a second
    signed_in = client.post("/login/", {"username": "kim", "password": PASSWORD, "otp_token": _code(device)})
    assert signed_in.status_code == 302
    assert client.get("/").status_code == 200


@pytest.mark.django_db
@override_settings(HAETAE_REQUIRE_TOTP=True)
def test_pages_send_the_unsigned_to_sign_in_and_refuse_foreign_next_urls() -> None:
    client = Client()
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    _, device = _user_with_device()
    response = client.post(
        "/login/?next=https://evil.example/",
        {
            "username": "kim",
            "password": PASSWORD,
            "otp_token": _code(device),
            "next": "https://evil.example/",
        },
    )
    assert response["Location"] == "/"


@pytest.mark.django_db(transaction=True)
@override_settings(HAETAE_REQUIRE_TOTP=True, HAETAE_LOGIN_THROTTLE=False)
@pytest.mark.browser_locale("ko-KR")
def test_browser_signs_in_with_a_code_and_switches_language(page: Any) -> None:
    _, device = _user_with_device()
    page.goto(page.base + "/")
    page.fill("#id_username", "kim")
    page.fill("#id_password", PASSWORD)
    page.fill("#id_otp_token", _code(device))
    screenshot(page, "sign-in")
    page.locator("button[type=submit]").last.click()
    page.wait_for_url(page.base + "/")
    assert page.locator("html").get_attribute("lang") == "ko"
    with page.expect_navigation():
        page.select_option("#lang-select", "en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="Dashboard").is_visible()
    screenshot(page, "dashboard-en")
