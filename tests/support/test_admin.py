"""The victim-support admin: pages render read-only, and a restricted note's text never appears."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from access.selectors import case_get_for
from support import services as support
from support.choices import ConsentKind, TakedownAddressee, TakedownPlatform
from support.models import SupportNote
from tests.factories import full_team, live_grant, person, verified_login

pytestmark = pytest.mark.django_db

SECRET = "reach her only through the school counsellor"


@pytest.fixture
def admin_user():
    return get_user_model().objects.create_superuser("root", "root@example.org", "pw")


@pytest.fixture
def admin_client(settings, admin_user) -> Client:
    # What the admin shows is under test here, not staff sign-in (TOTP is tested with the access code).
    settings.HAETAE_REQUIRE_TOTP = False
    admin = admin_user
    client = Client()
    verified_login(client, admin)  # admin needs a TOTP session
    return client


@pytest.fixture
def records(admin_user):
    t = full_team()
    live_grant(case=t.case, user=admin_user)  # admin pages show a case's rows only under a grant
    sfile = support.support_file_open(case=t.case, person=person(t.case, pseudonym="V-1"), actor=t.support)
    support.consent_give(
        support_file=sfile, kind=ConsentKind.SHARE_HASHES, given_by="victim", actor=t.support
    )
    support.note_add(
        case=case_get_for(user=t.support, number=t.case.number),
        support_file=sfile,
        text=SECRET,
        actor=t.support,
    )
    takedown = support.takedown_create(
        case=t.case,
        support_file=sfile,
        actor=t.support,
        addressee=TakedownAddressee.KCSC,
        platform=TakedownPlatform.WEBSITE,
        target_url="https://example.org/post/1",
    )
    support.takedown_send(takedown=takedown, actor=t.support)
    support.takedown_mark_removed(takedown=takedown, actor=t.support)
    support.takedown_record_reappearance(
        case=t.case, takedown=takedown, actor=t.support, url="https://example.org/2"
    )
    return sfile


@pytest.mark.parametrize(
    "model", ["supportfile", "supportconsent", "supportnote", "takedownrequest", "takedownreappearance"]
)
def test_admin_pages_render_read_only_and_never_show_note_text(admin_client, records, model):
    changelist = admin_client.get(f"/admin/support/{model}/")
    assert changelist.status_code == 200
    assert SECRET not in changelist.content.decode()
    assert f"/admin/support/{model}/add/" not in changelist.content.decode()
    first = changelist.context["cl"].result_list[0]
    change = admin_client.get(f"/admin/support/{model}/{first.pk}/change/")
    assert change.status_code == 200
    page = change.content.decode()
    assert SECRET not in page
    assert 'name="_save"' not in page  # nothing to save: changes go through the API and the ledger
    assert admin_client.post(f"/admin/support/{model}/{first.pk}/delete/").status_code == 403


def test_the_note_admin_shows_only_the_envelope(admin_client, records):
    note = SupportNote.objects.get()
    page = admin_client.get(f"/admin/support/supportnote/{note.pk}/change/").content.decode()
    assert "sealed bytes" in page.lower()
    assert str(len(bytes(note.sealed))) in page
