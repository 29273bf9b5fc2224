"""API tokens: only a digest at rest (a stolen backup authenticates nobody), an expiry, revocation by the
owner or an administrator, the token shown once, and every issue and revocation recorded."""

import io
import json
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.choices import AccountAction
from accounts.models import AccountEvent, ApiToken
from accounts.services import api_token_issue, api_token_revoke, token_digest
from haetae.errors import AccessDenied, RejectedInput
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/tokens/"


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_an_issued_token_authenticates_and_only_its_digest_is_stored() -> None:
    user: Any = UserFactory()
    row, token = api_token_issue(user=user, actor=user)
    assert bearer(token).get(URL).status_code == 200
    stored = json.dumps(list(ApiToken.objects.values()), default=str)
    assert token not in stored and row.key_sha256 == token_digest(token)
    assert len(token) >= 40  # 256 random bits


def test_a_backup_of_the_token_table_does_not_authenticate() -> None:
    user: Any = UserFactory()
    row, _token = api_token_issue(user=user, actor=user)
    # Everything a backup holds about the token, tried as the token itself.
    for leaked in (row.key_sha256, row.prefix, str(row.pk)):
        response = bearer(leaked).get(URL)
        assert response.status_code == 401, leaked
        assert "invalid token" in response.json()["detail"]


def test_an_expired_token_is_refused_with_when_and_what_to_do() -> None:
    user: Any = UserFactory()
    row, token = api_token_issue(user=user, actor=user, days=1)
    ApiToken.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = bearer(token).get(URL)
    assert response.status_code == 401
    assert (
        "this token was expired on" in response.json()["detail"]
        and "ask for a new one" in response.json()["detail"]
    )
    assert AccountEvent.objects.filter(user=user, action=AccountAction.TOKEN_REFUSED).count() == 1


def test_a_revoked_token_is_refused() -> None:
    user: Any = UserFactory()
    row, token = api_token_issue(user=user, actor=user)
    api_token_revoke(token=row, actor=user, reason="laptop lost")
    response = bearer(token).get(URL)
    assert response.status_code == 401 and "revoked" in response.json()["detail"]


def test_tokens_of_a_deactivated_user_are_refused() -> None:
    user: Any = UserFactory()
    _, token = api_token_issue(user=user, actor=user)
    user.is_active = False
    user.save()
    assert bearer(token).get(URL).status_code == 401


def test_default_expiry_comes_from_the_setting_and_lifetimes_are_bounded(settings) -> None:
    settings.HAETAE_API_TOKEN_DAYS = 12
    user: Any = UserFactory()
    row, _ = api_token_issue(user=user, actor=user)
    assert timedelta(days=11, hours=23) < row.expires_at - row.created_at <= timedelta(days=12)
    with pytest.raises(RejectedInput, match="1 to 365 days"):
        api_token_issue(user=user, actor=user, days=400)


def test_issue_over_the_api_shows_the_token_once_and_records_it() -> None:
    user: Any = UserFactory()
    client = APIClient()
    client.force_authenticate(user)
    response = client.post(URL, {"name": "nightly export", "days": 7}, format="json")
    assert response.status_code == 201 and response["Cache-Control"] == "no-store"
    token = response.json()["token"]
    assert bearer(token).get(URL).status_code == 200
    listed = client.get(URL).json()["results"]
    assert [t["name"] for t in listed] == ["nightly export"] and "token" not in listed[0]
    assert token not in json.dumps(listed)
    event = AccountEvent.objects.get(user=user, action=AccountAction.TOKEN_ISSUED)
    assert event.actor == user and event.details["prefix"] == token[:12]


def test_users_revoke_their_own_tokens_and_no_one_elses() -> None:
    owner: Any = UserFactory()
    other: Any = UserFactory()
    row, _token = api_token_issue(user=owner, actor=owner)
    intruder = APIClient()
    intruder.force_authenticate(other)
    assert intruder.post(f"{URL}{row.pk}/revoke/", {}, format="json").status_code == 404
    assert intruder.get(URL).json()["results"] == []
    with pytest.raises(AccessDenied):
        api_token_revoke(token=row, actor=other)
    client = APIClient()
    client.force_authenticate(owner)
    response = client.post(f"{URL}{row.pk}/revoke/", {"reason": "rotated"}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "revoked"
    event = AccountEvent.objects.get(user=owner, action=AccountAction.TOKEN_REVOKED)
    assert event.actor == owner and event.details["reason"] == "rotated"
    again = client.post(f"{URL}{row.pk}/revoke/", {}, format="json")
    assert again.status_code == 400 and "already revoked" in again.json()["detail"]


def test_administrators_revoke_anyones_token_and_issue_for_others() -> None:
    owner: Any = UserFactory()
    admin: Any = UserFactory(is_staff=True, is_superuser=True)
    row, _ = api_token_issue(user=owner, actor=owner)
    client = APIClient()
    client.force_authenticate(admin)
    assert (
        client.post(f"{URL}{row.pk}/revoke/", {"reason": "left the unit"}, format="json").status_code == 200
    )
    assert AccountEvent.objects.get(action=AccountAction.TOKEN_REVOKED).actor == admin
    issued = client.post(URL, {"user": owner.username}, format="json")
    assert issued.status_code == 201 and issued.json()["user"] == owner.username
    plain = APIClient()
    plain.force_authenticate(UserFactory())
    assert plain.post(URL, {"user": owner.username}, format="json").status_code == 404


def test_the_admin_revokes_selected_tokens(admin_client: Any) -> None:
    owner: Any = UserFactory()
    row, token = api_token_issue(user=owner, actor=None)
    response = admin_client.post(
        "/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [row.pk]}, follow=True
    )
    assert response.status_code == 200
    row.refresh_from_db()
    assert row.state == "revoked"
    assert bearer(token).get(URL).status_code == 401
    page = admin_client.get(f"/admin/accounts/apitoken/{row.pk}/change/").content.decode()
    assert row.key_sha256 not in page


def test_the_command_issues_once_lists_and_revokes() -> None:
    user: Any = UserFactory(username="kim")
    out = io.StringIO()
    call_command("api_token", "issue", "kim", "--days", "3", "--json", stdout=out)
    issued = json.loads(out.getvalue())
    assert bearer(issued["token"]).get(URL).status_code == 200
    out = io.StringIO()
    call_command("api_token", "list", "kim", "--json", stdout=out)
    (listed,) = json.loads(out.getvalue())
    assert listed["state"] == "active" and issued["token"] not in out.getvalue()
    call_command("api_token", "revoke", "--user", "kim", "--reason", "offboarding", stdout=io.StringIO())
    assert bearer(issued["token"]).get(URL).status_code == 401
    event = AccountEvent.objects.get(user=user, action=AccountAction.TOKEN_REVOKED)
    assert event.actor is None and event.details["reason"] == "offboarding"
