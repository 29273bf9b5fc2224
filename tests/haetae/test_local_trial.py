"""HAETAE_LOCAL_TRIAL: sign-in without TOTP on this machine only, loudly, and never Django's debug pages."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from haetae.checks import sign_in_protections
from haetae.local_trial import check_hosts

REPO = Path(__file__).resolve().parents[2]
SWITCHES = {
    "HAETAE_DEBUG",
    "HAETAE_LOCAL_TRIAL",
    "HAETAE_REQUIRE_TOTP",
    "HAETAE_LOGIN_THROTTLE",
    "HAETAE_ALLOWED_HOSTS",
}

# A request for a page that does not exist, answered by a fresh process with only the given switches.
_NOT_FOUND = (
    "import django; django.setup(); from django.conf import settings; "
    "from django.test.utils import setup_test_environment; setup_test_environment(debug=settings.DEBUG); "
    "from django.test import Client; "
    "r = Client().get('/cases/no-such-case/items/999/', HTTP_HOST='127.0.0.1'); "
    "print(r.status_code, settings.DEBUG); print(r.content.decode())"
)


def _serve_in_fresh_process(tmp_path: Path, env: dict[str, str]) -> tuple[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in SWITCHES and k != "DATABASE_URL"}
    done = subprocess.run(
        [sys.executable, "-c", _NOT_FOUND],
        cwd=REPO,
        env={**clean, **env, "HAETAE_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "haetae.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    first, _, body = done.stdout.partition("\n")
    return first, body


def test_a_trial_answers_a_missing_page_with_a_plain_404(tmp_path: Path) -> None:
    first, body = _serve_in_fresh_process(tmp_path, {"HAETAE_LOCAL_TRIAL": "1"})
    assert first == "404 False"
    assert "URLconf" not in body and "admin/" not in body
    assert "trial-banner" in body  # the banner is on the error page too


def test_debug_pages_come_only_from_haetae_debug(tmp_path: Path) -> None:
    # The control for the test above: the same request does list URL patterns when DEBUG is asked for.
    first, body = _serve_in_fresh_process(tmp_path, {"HAETAE_DEBUG": "1"})
    assert first == "404 True"
    assert "URLconf" in body


def test_a_trial_refuses_to_start_for_other_hosts() -> None:
    check_hosts(["127.0.0.1", "localhost", "::1"])
    with pytest.raises(ImproperlyConfigured, match=r"also names evidence\.example"):
        check_hosts(["127.0.0.1", "evidence.example"])


@pytest.mark.django_db
@pytest.mark.parametrize(("address", "status"), [("127.0.0.1", 200), ("::1", 200), ("10.1.2.3", 403)])
def test_a_trial_answers_this_machine_only(settings, address: str, status: int) -> None:
    settings.HAETAE_LOCAL_TRIAL = True
    response = Client(REMOTE_ADDR=address).get("/login/")
    assert response.status_code == status
    if status == 403:
        assert "answers only this machine" in response.content.decode()


@pytest.mark.django_db
def test_other_addresses_are_served_when_no_trial_runs(settings) -> None:
    settings.HAETAE_LOCAL_TRIAL = False
    response = Client(REMOTE_ADDR="10.1.2.3").get("/login/")
    assert response.status_code == 200
    assert "trial-banner" not in response.content.decode()


@pytest.mark.django_db
def test_every_page_of_a_trial_says_so(settings) -> None:
    settings.HAETAE_LOCAL_TRIAL = True
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get("/login/")
    assert 'class="trial-banner"' in response.content.decode()


def test_the_system_check_names_the_trial(settings) -> None:
    settings.HAETAE_LOCAL_TRIAL = True
    assert "haetae.W003" in [warning.id for warning in sign_in_protections()]
    settings.HAETAE_LOCAL_TRIAL = False
    assert "haetae.W003" not in [warning.id for warning in sign_in_protections()]
