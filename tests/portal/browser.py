"""Signing in through the real sign-in form in a browser: password, then a confirmed device's TOTP code."""

from typing import Any

from django.contrib.auth import get_user_model
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

PASSWORD = "a long enough passphrase 42"


def browser_sign_in(page: Any, user: Any) -> None:
    """Sign ``user`` in on ``page`` with a password and the current code (TOTP is required in tests)."""
    # Leave the current page first: its HTMX polling must not query the live server's database while this
    # thread writes to it (SQLite's in-memory test database is one connection shared by both threads).
    page.goto("about:blank")
    user = get_user_model().objects.get(pk=user.pk)
    user.set_password(PASSWORD)
    user.save()
    device = TOTPDevice.objects.filter(user=user).first() or TOTPDevice.objects.create(
        user=user, name="phone", confirmed=True
    )
    # The same code may sign the same user in again within its 30 seconds only in tests.
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1, throttling_failure_count=0)
    device.refresh_from_db()
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
    page.context.clear_cookies()
    page.goto(page.base + "/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    if page.locator("#id_otp_token").count():
        page.fill("#id_otp_token", code)
    page.locator("button[type=submit]").last.click()
    page.wait_for_url(page.base + "/")
