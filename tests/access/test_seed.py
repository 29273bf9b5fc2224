"""The seed migration's function: offences and role groups, idempotent, and re-runnable after edits."""

import pytest
from django.apps import apps
from django.contrib.auth.models import Group

from access.models import Offence
from access.seed import OFFENCES, ROLE_GROUPS, seed_all

pytestmark = pytest.mark.django_db


def test_seed_ran_with_the_migrations_and_runs_again_without_duplicates() -> None:
    assert Offence.objects.count() == len(OFFENCES)
    assert set(Group.objects.values_list("name", flat=True)) >= set(ROLE_GROUPS)
    assert set(ROLE_GROUPS) == {
        "investigator",
        "supervisor",
        "prosecutor",
        "victim_support",
        "auditor",
        "admin",
    }
    Offence.objects.filter(code="sc-14-2-possess").update(label_en="edited by mistake")
    seed_all(apps)
    assert Offence.objects.count() == len(OFFENCES)
    assert Group.objects.filter(name__in=ROLE_GROUPS).count() == len(ROLE_GROUPS)
    assert Offence.objects.get(code="sc-14-2-possess").label_en.startswith("possessing")
