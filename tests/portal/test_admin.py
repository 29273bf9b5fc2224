"""The operators' admin: users with their global role and TOTP state, devices and teams on the user page."""

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.choices import CaseMemberRole
from tests.factories import live_grant, new_user, team

pytestmark = pytest.mark.django_db


def test_the_user_list_shows_global_roles_and_who_has_a_totp_device(admin_client: Any) -> None:
    auditor = new_user(username="auditor-kim")
    auditor.groups.add(Group.objects.get_or_create(name="auditor")[0])
    TOTPDevice.objects.create(user=auditor, name="phone", confirmed=True)
    new_user(username="no-device-lee")
    page = admin_client.get("/admin/auth/user/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "auditor-kim" in page and "no-device-lee" in page
    assert "icon-yes.svg" in page and "icon-no.svg" in page
    filtered = admin_client.get("/admin/auth/user/?global_role=auditor").content.decode()
    assert "auditor-kim" in filtered and "no-device-lee" not in filtered


def test_the_user_page_lists_devices_and_teams_read_only(admin_client: Any, admin_user: Any) -> None:
    t = team()
    analyst = t.member(CaseMemberRole.ANALYST)
    TOTPDevice.objects.create(user=analyst, name="work phone", confirmed=True)
    page = admin_client.get(
        f"/admin/auth/user/{analyst.pk}/change/", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "work phone" in page and t.case.number not in page  # the operator is not on the case
    live_grant(case=t.case, user=admin_user)
    page = admin_client.get(f"/admin/auth/user/{analyst.pk}/change/").content.decode()
    assert t.case.number in page
    assert "totp_enrol" in page


def test_the_admin_refuses_a_session_without_a_code(client: Any, admin_user: Any) -> None:
    client.force_login(admin_user)
    assert client.get("/admin/auth/user/").status_code == 302
