"""manage.py first_steps (run by `make run`): a new installation is pointed at the demo and the portal."""

import io

import pytest
from django.core.management import call_command

from tests.factories import new_user

pytestmark = pytest.mark.django_db


def test_a_new_installation_is_pointed_at_the_demo_and_the_portal() -> None:
    out = io.StringIO()
    call_command("first_steps", stdout=out)
    text = out.getvalue()
    assert "manage.py demo" in text and "manage.py createsuperuser" in text
    assert "Portal: http://127.0.0.1:8000/ " in text


def test_with_users_it_no_longer_offers_the_first_user_steps() -> None:
    new_user()
    out = io.StringIO()
    call_command("first_steps", stdout=out)
    assert "manage.py demo" not in out.getvalue() and "Portal: http://127.0.0.1:8000/" in out.getvalue()
