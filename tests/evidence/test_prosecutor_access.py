"""Prosecutor need-to-know: a prosecutor member sees the items of the case's shared exhibits (metadata,
custody, previews, content with a reason, findings, matches) and nothing else of the case's evidence; any
other item is "not found", word for word as an item of another case."""

from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import User

from access.choices import CaseMemberRole
from detection.models import HashBank
from evidence.choices import CustodyAction
from evidence.content import item_content_open
from evidence.models import CustodyEvent, EvidenceItem
from evidence.previews import preview_serve
from evidence.selectors import case_custody_for, custody_events_for, evidence_visible_to
from exhibits.services import exhibit_withdraw
from haetae.errors import NotFound
from tests.factories import Team, bank_match, detection_rows, exhibit_to, item, jpeg_bytes, team
from tests.factories import api_client as api_for

pytestmark = pytest.mark.django_db


def world() -> tuple[Team, User, EvidenceItem, EvidenceItem, EvidenceItem]:
    """A case with a prosecutor; one item in a shared exhibit, one in an approved (unshared) exhibit, one in
    no exhibit."""
    t = team()
    prosecutor = t.member(CaseMemberRole.PROSECUTOR)
    shared = item(t, jpeg_bytes("astronaut"), name="shared.jpg")
    approved = item(t, jpeg_bytes("coffee"), name="approved-only.jpg")
    loose = item(t, jpeg_bytes("chelsea"), name="loose.jpg")
    exhibit_to(t, [shared], status="shared")
    exhibit_to(t, [approved], status="approved")
    return t, prosecutor, shared, approved, loose


def test_selectors_show_a_prosecutor_only_shared_exhibit_items() -> None:
    t, prosecutor, shared, approved, loose = world()
    assert list(evidence_visible_to(user=prosecutor).values_list("pk", flat=True)) == [shared.pk]
    # The lead still sees every item of the case.
    assert set(evidence_visible_to(user=t.lead).values_list("pk", flat=True)) == {
        shared.pk,
        approved.pk,
        loose.pk,
    }
    assert custody_events_for(user=prosecutor, item=shared).exists()
    assert not custody_events_for(user=prosecutor, item=loose).exists()
    # Case-level custody: only the shared exhibit's own events (E-001), not E-002's or the case's others.
    events = list(case_custody_for(user=prosecutor, case_id=t.case.pk))
    assert events and {e.details["exhibit"] for e in events} == {"E-001"}
    assert len(case_custody_for(user=t.lead, case_id=t.case.pk)) > len(events)


def test_api_metadata_custody_preview_and_content_of_a_shared_exhibit_item() -> None:
    _, prosecutor, shared, _, _ = world()
    client = api_for(prosecutor)
    detail = client.get(f"/api/v1/evidence/{shared.pk}/")
    assert detail.status_code == 200 and detail.json()["original_name"] == "shared.jpg"
    custody = client.get(f"/api/v1/evidence/{shared.pk}/custody/")
    assert custody.status_code == 200
    assert CustodyAction.EXHIBITED in [e["action"] for e in custody.json()["events"]]
    preview = client.get(f"/api/v1/evidence/{shared.pk}/preview/")
    assert preview.status_code == 200 and preview["X-Haetae-Preview"] == "blurred"
    served = CustodyEvent.objects.get(item=shared, action=CustodyAction.PREVIEW_SERVED)
    assert (served.actor_id, served.actor_role) == (prosecutor.pk, "prosecutor")
    # Content needs a stated reason, as for investigators, and is recorded as `viewed` before any byte.
    no_reason = client.get(f"/api/v1/evidence/{shared.pk}/content/")
    assert no_reason.status_code == 400 and "stated purpose" in no_reason.json()["detail"]
    assert not CustodyEvent.objects.filter(action=CustodyAction.VIEWED).exists()
    query = urlencode({"reason": "prepare the indictment"})
    content = client.get(f"/api/v1/evidence/{shared.pk}/content/?{query}")
    assert content.status_code == 200
    assert b"".join(content.streaming_content) == jpeg_bytes("astronaut")  # type: ignore[attr-defined]
    viewed = CustodyEvent.objects.get(item=shared, action=CustodyAction.VIEWED)
    assert (viewed.actor_id, viewed.actor_role, viewed.purpose) == (
        prosecutor.pk,
        "prosecutor",
        "prepare the indictment",
    )
    unblurred = client.get(f"/api/v1/evidence/{shared.pk}/preview/?blur=0&{query}")
    assert unblurred.status_code == 200 and unblurred["X-Haetae-Preview"] == "unblurred"


@pytest.mark.parametrize("which", ["approved", "loose"])
@pytest.mark.parametrize(
    "suffix", ["", "custody/", "preview/", "content/?reason=r", "preview/?blur=0&reason=r"]
)
def test_other_items_of_the_case_read_exactly_like_an_item_of_another_case(which: str, suffix: str) -> None:
    _, prosecutor, _, approved, loose = world()
    other = team()
    foreign = item(other, jpeg_bytes("camera"), name="foreign.jpg")
    target = approved if which == "approved" else loose
    before = CustodyEvent.objects.count()
    client = api_for(prosecutor)
    mine = client.get(f"/api/v1/evidence/{target.pk}/{suffix}")
    theirs = client.get(f"/api/v1/evidence/{foreign.pk}/{suffix}")
    assert mine.status_code == theirs.status_code == 404
    assert mine.json()["detail"].replace(str(target.pk), "<id>") == theirs.json()["detail"].replace(
        str(foreign.pk), "<id>"
    )
    assert CustodyEvent.objects.count() == before  # nothing served, nothing logged


def test_services_refuse_other_items_with_not_found() -> None:
    _, prosecutor, shared, approved, loose = world()
    for target in (approved, loose):
        with pytest.raises(NotFound, match=f"no evidence item {target.pk} in your cases"):
            item_content_open(item=target, actor=prosecutor, purpose="curious")
        with pytest.raises(NotFound):
            preview_serve(item=target, actor=prosecutor)
    assert preview_serve(item=shared, actor=prosecutor).blurred


def test_withdrawing_the_exhibit_takes_its_items_away_from_the_prosecutor() -> None:
    t, prosecutor, shared, _, _ = world()
    client = api_for(prosecutor)
    assert client.get(f"/api/v1/evidence/{shared.pk}/").status_code == 200
    exhibit = shared.exhibits.get()
    exhibit_withdraw(exhibit=exhibit, actor=t.lead, reason="superseded by a better copy")
    assert client.get(f"/api/v1/evidence/{shared.pk}/").status_code == 404
    assert client.get(f"/api/v1/evidence/{shared.pk}/content/?reason=r").status_code == 404
    assert not evidence_visible_to(user=prosecutor).exists()


def test_a_prosecutor_of_one_case_sees_nothing_of_another_cases_shared_exhibits() -> None:
    _, prosecutor, _, _, _ = world()
    other = team()
    elsewhere = item(other, jpeg_bytes("camera"), name="elsewhere.jpg")
    exhibit_to(other, [elsewhere], status="shared")
    assert api_for(prosecutor).get(f"/api/v1/evidence/{elsewhere.pk}/").status_code == 404
    assert elsewhere.pk not in set(evidence_visible_to(user=prosecutor).values_list("pk", flat=True))


def _ids(response: Any, key: str = "item") -> set[int]:
    assert response.status_code == 200, response.content
    return {row[key] for row in response.json()["results"]}


def test_findings_runs_and_matches_only_of_shared_exhibit_items() -> None:
    t, prosecutor, shared, approved, loose = world()
    bank = HashBank.objects.create(name="V-1 originals", kind="victim_originals", case=t.case)
    for n, one in enumerate((shared, approved, loose)):
        detection_rows(item=one, name=f"detector-{n}")
        bank_match(item=one, bank=bank, sha256=f"{n}" * 64)
    client = api_for(prosecutor)
    assert _ids(client.get("/api/v1/annotations/")) == {shared.pk}
    assert _ids(client.get("/api/v1/runs/")) == {shared.pk}
    lead = api_for(t.lead)
    assert _ids(lead.get("/api/v1/annotations/")) == {shared.pk, approved.pk, loose.pk}
    hidden = approved.annotations.get()
    assert client.get(f"/api/v1/annotations/{hidden.pk}/").status_code == 404
    matches = client.get("/api/v1/matches/", {"case": t.case.number})
    assert matches.status_code == 200
    assert {row["item"]["item_id"] for row in matches.json()["results"]} == {shared.pk}


def test_links_graph_and_item_count_name_only_shared_exhibit_items() -> None:
    from parties.services.links import Assertion, link_assert_derivation, link_assert_item_person
    from tests.factories import victim

    t, prosecutor, shared, approved, loose = world()
    v1 = victim(t)
    sure = Assertion(confidence="confirmed")
    for one in (shared, approved, loose):
        link_assert_item_person(item=one, person=v1, relation="depicts", assertion=sure, actor=t.lead)
    link_assert_derivation(item=loose, source_item=shared, assertion=sure, actor=t.lead)
    client = api_for(prosecutor)
    base = f"/api/v1/cases/{t.case.number}/"
    links = client.get(base + "links/item-person/").json()["results"]
    assert [row["item"] for row in links] == [shared.pk]
    assert client.get(base + "links/item-derivation/").json()["results"] == []
    graph = client.get(base + "graph/").json()
    items = {node["item_id"] for node in graph["nodes"] if node["type"] == "item"}
    assert items == {shared.pk}
    assert client.get(base).json()["item_count"] == 1
    # The lead's view is unchanged.
    lead = api_for(t.lead)
    assert len(lead.get(base + "links/item-person/").json()["results"]) == 3
    assert lead.get(base).json()["item_count"] == 3


def test_the_case_event_actions_of_access_are_custody_actions() -> None:
    # access records case events through a hook (it may not import evidence): a renamed action must fail here.
    from access.choices import CaseEventAction
    from evidence.choices import CustodyAction

    assert set(CaseEventAction.values) <= set(CustodyAction.values)
