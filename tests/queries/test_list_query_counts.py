"""Query counts of the evidence API, the detection API and the portal's list pages.

Each list is read with one row per kind, then again with five: the count must be the same (a list whose
queries grow with its rows has an N+1) and no higher than the baseline in ``query_counts.json`` (as the
parties, support and exhibits APIs check theirs in their own tests). A count that falls below its baseline
fails too, so the baseline is lowered with the change that earned it and cannot drift up again unnoticed.
"""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from access.choices import CaseMemberRole
from detection.models import HashBank
from evidence.models import EvidenceItem
from tests.factories import (
    Team,
    bank_match,
    detection_rows,
    exhibit_to,
    item,
    team,
)
from tests.factories import api_client as _api
from tests.factories import portal_client as _portal

BASELINES: dict[str, int] = json.loads((Path(__file__).parent / "query_counts.json").read_text())


def _grow(t: Team, bank: HashBank, n: int, first: EvidenceItem | None = None) -> EvidenceItem:
    """Row ``n`` of every kind the lists show: an item with a finding, a bank match alerting the lead, and a
    shared exhibit of the item (and of the first item, whose custody record grows with each exhibit)."""
    stored = item(t, data=f"photo {n}".encode(), name=f"photo-{n}.jpg")
    detection_rows(item=stored, name=f"detector-{n}")
    bank_match(item=stored, bank=bank, sha256=f"{n:064x}", recipient=t.lead)
    items = [stored] if first is None else [stored, first]
    exhibit_to(t, items, status="shared", description=f"Photo {n} posted in the room")
    return stored


# name → (who reads it, the path for the case): API lists by the lead; the prosecutor's own pages by them.
LISTS: dict[str, tuple[str, Callable[[Team, EvidenceItem], str]]] = {
    "evidence-api:item-custody": ("lead", lambda t, first: f"/api/v1/evidence/{first.pk}/custody/"),
    "detection-api:run-list": ("lead", lambda t, first: "/api/v1/runs/"),
    "detection-api:annotation-list": ("lead", lambda t, first: "/api/v1/annotations/"),
    "detection-api:hash-bank-list": ("lead", lambda t, first: "/api/v1/hash-banks/"),
    "detection-api:match-list": ("lead", lambda t, first: f"/api/v1/matches/?case={t.case.number}"),
    "detection-api:match-alert-list": ("lead", lambda t, first: "/api/v1/match-alerts/"),
    "portal:dashboard": ("lead", lambda t, first: "/"),
    "portal:case_detail": ("lead", lambda t, first: f"/cases/{t.case.number}/"),
    "portal:exhibit_list": ("lead", lambda t, first: f"/cases/{t.case.number}/exhibits/"),
    "portal:prosecutor_case": ("prosecutor", lambda t, first: f"/prosecutor/cases/{t.case.number}/"),
}


def test_every_list_has_a_baseline_and_every_baseline_a_list() -> None:
    assert sorted(BASELINES) == sorted(LISTS)


def _count(client: Any, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(captured.captured_queries)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(LISTS))
def test_list_query_count_is_constant_and_within_its_baseline(name: str) -> None:
    who, path_for = LISTS[name]
    t = team()
    readers = {"lead": t.lead, "prosecutor": t.member(CaseMemberRole.PROSECUTOR)}
    bank = HashBank.objects.create(name=f"originals {name}", kind="victim_originals", case=t.case)
    first = _grow(t, bank, 0)
    client = _api(readers[who]) if name.split(":")[0].endswith("api") else _portal(readers[who])
    path = path_for(t, first)
    client.get(path)  # warm: per-session and per-process caches are not the list's cost
    one = _count(client, path)
    for n in range(1, 5):
        _grow(t, bank, n, first)
    five = _count(client, path)
    assert five == one, f"{name}: {one} queries with one row, {five} with five: the list queries per row"
    assert one == BASELINES[name], (
        f"{name}: {one} queries, baseline {BASELINES[name]} in tests/queries/query_counts.json; "
        "fewer: lower the baseline with this change; more: find the new query (CaptureQueriesContext)"
    )
