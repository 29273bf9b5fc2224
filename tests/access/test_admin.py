"""The admin shows cases, people, channels and links read-only, and never an identity's plaintext."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from access.models import Case
from parties.models import Person
from parties.services.links import Assertion, link_assert_item_person
from tests.factories import IDENTITY, channel, item, live_grant, new_user, team, verified_login, victim

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user() -> Any:
    return new_user(is_superuser=True, is_staff=True)


@pytest.fixture
def admin_client(admin_user: Any) -> Client:
    client = Client()
    verified_login(client, admin_user)  # admin needs a TOTP session
    return client


ADMIN_APP = {"case": "access", "casemember": "access", "legalauthority": "access", "offence": "access"}


def test_every_case_work_admin_page_renders_without_identity_plaintext(
    admin_client: Client, admin_user: Any
) -> None:
    t = team()
    live_grant(case=t.case, user=admin_user)  # without one the pages show nothing of the case
    person = victim(t, identity=IDENTITY)
    photo = item(t, name="김지수_사진.jpg")
    link_assert_item_person(
        item=photo, person=person, relation="depicts", assertion=Assertion("confirmed"), actor=t.lead
    )
    channel(t)
    pages = []
    for model in [
        "case",
        "casemember",
        "legalauthority",
        "offence",
        "person",
        "personaccount",
        "channel",
        "channelobservation",
        "itempersonlink",
        "itemchannellink",
        "personchannellink",
        "itemderivationlink",
    ]:
        pages.append(reverse(f"admin:{ADMIN_APP.get(model, 'parties')}_{model}_changelist"))
    pages += [
        reverse("admin:parties_person_change", args=[person.pk]),
        reverse("admin:access_case_change", args=[t.case.pk]),
    ]
    for page in pages:
        response = admin_client.get(page)
        assert response.status_code == 200, page
        html = response.content.decode()
        for secret in ["김지수", "2008-03-14", "010-1234-5678", "@jisu.kim"]:
            assert secret not in html, (page, secret)
    assert "V-1" in admin_client.get(reverse("admin:parties_person_changelist")).content.decode()


def test_the_admin_changes_nothing_the_ledger_would_miss(admin_client: Client) -> None:
    t = team()
    person = victim(t)
    assert admin_client.get(reverse("admin:access_case_add")).status_code == 403
    assert admin_client.get(reverse("admin:parties_person_add")).status_code == 403
    assert admin_client.get(reverse("admin:access_casemember_add")).status_code == 403
    response = admin_client.post(
        reverse("admin:access_case_change", args=[t.case.pk]), {"title": "changed", "status": "closed"}
    )
    assert response.status_code == 403
    assert Case.objects.get(pk=t.case.pk).status == "open"
    assert (
        admin_client.post(
            reverse("admin:parties_person_delete", args=[person.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert Person.objects.filter(pk=person.pk).exists()
