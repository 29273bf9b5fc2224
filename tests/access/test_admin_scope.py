"""The admin site keeps need-to-know: every registered admin page of a case's rows shows nothing of a case to
an administrator without a break-glass grant, and with one each look is a custody event on the case."""

from typing import Any

import pytest
from django.contrib import admin
from django.db import models
from django.test import Client
from django.urls import reverse

from access.admin_scope import CaseScopedAdmin
from access.choices import CaseMemberRole
from access.models import BreakGlassGrant, Case
from access.selectors import case_get_for
from detection.models import BankEntry, HashBank
from evidence.models import CustodyEvent
from parties.services.people import person_account_add
from support import services as support
from tests.access.matrix_world import World, build_world
from tests.factories import CaseMemberFactory, UserFactory, live_grant, verified_login

pytestmark = pytest.mark.django_db

# Models related to a case that the admin shows unscoped, and why that reveals no case work.
UNSCOPED_WITH_REASON: dict[type[models.Model], str] = {
    BreakGlassGrant: "filtered to the holder's own grants and those on cases they lead",
    HashBank: "hash banks are the administrators' to run (names, thresholds, on/off); no case content",
    BankEntry: "digests only, managed by administrators; matches against a case are not in the admin",
}


def forward_case_path(model: type[models.Model], depth: int = 4) -> str | None:
    """The lookup from a row of ``model`` to its case along foreign keys, if there is one."""
    if model is Case:
        return "pk"
    frontier: list[tuple[type[models.Model], str]] = [(model, "")]
    for _ in range(depth):
        following = []
        for current, prefix in frontier:
            for field in current._meta.get_fields():
                if not (field.many_to_one or field.one_to_one) or not field.concrete:
                    continue
                target = field.related_model
                path = f"{prefix}{field.name}"
                if target is Case:
                    return path
                if isinstance(target, type):
                    following.append((target, f"{path}__"))
        frontier = following
    return None


def test_every_admin_model_reaching_a_case_is_case_scoped() -> None:
    """A new admin page over case rows fails here until it goes through ``CaseScopedAdmin`` (or says why
    it need not)."""
    unscoped = [
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if forward_case_path(model) is not None
        and not isinstance(model_admin, CaseScopedAdmin)
        and model not in UNSCOPED_WITH_REASON
    ]
    assert not unscoped, f"admin pages of case rows outside CaseScopedAdmin: {unscoped}"


def _scoped_admins() -> list[tuple[type[models.Model], CaseScopedAdmin]]:
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, CaseScopedAdmin)
    ]


def _target_rows(model: type[models.Model], model_admin: CaseScopedAdmin, world: World) -> list[Any]:
    lookup = "pk" if model_admin.case_path == "pk" else f"{model_admin.case_path}__pk"
    return list(
        model._default_manager.filter(**{lookup: world.target.pk}).distinct().values_list("pk", flat=True)
    )


def _urls(model: type[models.Model], pk: Any) -> tuple[str, str, str]:
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    return (
        reverse(f"{name}_changelist"),
        reverse(f"{name}_change", args=[pk]),
        reverse(f"{name}_history", args=[pk]),
    )


def _listed(response: Any) -> set[Any]:
    return {row.pk for row in response.context["cl"].result_list}


@pytest.fixture
def world() -> World:
    """The access matrix's world, plus the rows it does not need: an account, a note, a reappearance."""
    w = build_world()
    person_account_add(person=w.suspect, platform="telegram", handle="@target_suspect_marker", actor=w.owner)
    worker = CaseMemberFactory(case=w.target, user=UserFactory(), role=CaseMemberRole.VICTIM_SUPPORT).user
    case = case_get_for(user=worker, number=w.target.number)
    support.note_add(case=case, support_file=w.support_file, text="a sealed note", actor=worker)
    support.takedown_record_reappearance(
        case=w.target, takedown=w.removed, actor=w.owner, url="https://t.me/target_marker_room/18"
    )
    w.markers.append("@target_suspect_marker")
    return w


def test_an_administrator_without_a_grant_sees_no_case_row_in_any_admin_page(world: World) -> None:
    operator = UserFactory(username="operator.no.grant", is_staff=True, is_superuser=True)
    client = Client()
    verified_login(client, operator)
    events = CustodyEvent.objects.count()
    scoped = _scoped_admins()
    assert len(scoped) >= 15, "the registry walk found too few case-scoped admin pages"
    for model, model_admin in scoped:
        rows = _target_rows(model, model_admin, world)
        assert rows, f"the test world holds no {model._meta.label} of the target case: add one"
        changelist, change, history = _urls(model, rows[0])
        listing = client.get(changelist)
        assert listing.status_code == 200, changelist
        assert not _listed(listing), f"{changelist} lists the target case's rows without a grant"
        html = listing.content.decode()
        leaked = [marker for marker in world.markers if marker in html]
        assert not leaked, f"{changelist} shows {leaked}"
        for page in (change, history):
            # Django's admin answers a row it cannot see by sending the user to the index ("does not exist").
            response = client.get(page)
            assert response.status_code == 302, f"{page} answers {response.status_code} without a grant"
            # The index shows the "does not exist" message, echoing only the key the caller typed.
            client.get(response["Location"])
    assert CustodyEvent.objects.count() == events, "a refused admin look wrote a custody event"


def test_an_administrators_admin_look_under_a_grant_is_logged_on_the_case(world: World) -> None:
    operator = UserFactory(username="operator.with.grant", is_staff=True, is_superuser=True)
    grant = live_grant(case=world.target, user=operator, reason="court order 2024-77: check the team")
    client = Client()
    verified_login(client, operator)
    for model, model_admin in _scoped_admins():
        rows = _target_rows(model, model_admin, world)
        changelist, change, _history = _urls(model, rows[0])
        before = CustodyEvent.objects.filter(case=world.target, action="break_glass").count()
        listing = client.get(changelist)
        assert listing.status_code == 200
        assert set(rows) <= _listed(listing) or len(_listed(listing)) >= 100, changelist
        response = client.get(change)
        assert response.status_code == 200, change
        looks = CustodyEvent.objects.filter(case=world.target, action="break_glass").order_by("seq")[before:]
        pages = [
            (e.details.get("event"), e.details.get("page"), e.purpose, e.details.get("grant")) for e in looks
        ]
        label = f"{model._meta.app_label}.{model._meta.model_name}"
        assert pages == [
            ("admin_viewed", f"{label} list", grant.reason, grant.pk),
            ("admin_viewed", label, grant.reason, grant.pk),
        ], f"{label}: {pages}"
        assert str(rows[0]) in looks[1].details["rows"]
        # Read-only all the same: the grant opens no change.
        assert client.post(change, {}).status_code == 403


def test_a_users_admin_page_lists_only_the_teams_of_cases_the_operator_may_see(world: World) -> None:
    operator = UserFactory(username="operator.users", is_staff=True, is_superuser=True)
    client = Client()
    verified_login(client, operator)
    page = client.get(reverse("admin:auth_user_change", args=[world.owner.pk])).content.decode()
    assert world.target.number not in page and world.home.number not in page
    live_grant(case=world.target, user=operator)
    page = client.get(reverse("admin:auth_user_change", args=[world.owner.pk])).content.decode()
    assert world.target.number in page and world.home.number not in page
