"""The case graph: pseudonyms only, items by id and SHA-256, active links as edges, constant queries."""

import pytest

from parties.graph import case_graph
from parties.services.links import (
    Assertion,
    link_assert_derivation,
    link_assert_item_channel,
    link_assert_item_person,
    link_assert_person_channel,
    link_withdraw,
)
from parties.services.people import person_record
from tests.factories import IDENTITY, channel, item, suspect, team, victim

pytestmark = pytest.mark.django_db
SURE = Assertion(confidence="confirmed")


def _populate(t, n: int) -> None:
    room = channel(t, handle=f"@room{n}")
    offender = suspect(t)
    link_assert_person_channel(
        person=offender, channel=room, relation="administers", assertion=SURE, actor=t.lead
    )
    source = item(t, f"source {n}".encode())
    for k in range(2):
        fake = item(t, f"fake {n}-{k}".encode())
        link_assert_item_person(item=fake, person=victim(t), relation="depicts", assertion=SURE, actor=t.lead)
        link_assert_item_channel(
            item=fake, channel=room, assertion=SURE, actor=t.lead, message_reference=f"m{n}{k}"
        )
        link_assert_derivation(item=fake, source_item=source, assertion=SURE, actor=t.lead)


def test_graph_nodes_and_edges() -> None:
    t = team()
    person = person_record(case=t.case, kind="victim", actor=t.lead, identity=IDENTITY, is_minor=True)
    room = channel(t)
    photo = item(t)
    link = link_assert_item_person(
        item=photo, person=person, relation="depicts", assertion=SURE, actor=t.lead
    )
    link_assert_item_channel(
        item=photo, channel=room, assertion=SURE, actor=t.lead, message_reference="t.me/r/1"
    )
    item(t, b"unlinked")  # not in the graph: nothing names it

    graph = case_graph(case=t.case)

    nodes = {n["id"]: n for n in graph["nodes"]}
    assert set(nodes) == {f"person:{person.pk}", f"channel:{room.pk}", f"item:{photo.pk}"}
    assert nodes[f"person:{person.pk}"] == {
        "id": f"person:{person.pk}",
        "type": "person",
        "pseudonym": "V-1",
        "kind": "victim",
        "is_minor": True,
    }
    assert nodes[f"item:{photo.pk}"]["sha256"] == photo.blob_id
    assert "김지수" not in str(graph) and "photo.jpg" not in str(graph)
    edges = {e["id"]: e for e in graph["edges"]}
    assert edges[f"item_person:{link.pk}"]["source"] == f"item:{photo.pk}"
    assert edges[f"item_person:{link.pk}"]["target"] == f"person:{person.pk}"
    assert {e["relation"] for e in graph["edges"]} == {"depicts", "posted_in"}

    link_withdraw(link=link, actor=t.lead, reason="wrong")
    assert len(case_graph(case=t.case)["edges"]) == 1
    with_withdrawn = case_graph(case=t.case, include_withdrawn=True)["edges"]
    assert [e["withdrawn"] for e in with_withdrawn if e["type"] == "item_person"] == [True]


def test_graph_query_count_does_not_grow_with_the_case(django_assert_num_queries) -> None:
    t = team()
    _populate(t, 0)
    with django_assert_num_queries(6) as small:  # people, channels, four link types
        small_graph = case_graph(case=t.case)
    for n in range(1, 6):
        _populate(t, n)
    with django_assert_num_queries(len(small.captured_queries)):
        big_graph = case_graph(case=t.case)
    assert len(big_graph["edges"]) == 6 * len(small_graph["edges"])


def test_graph_keeps_the_newest_item_links_when_limited() -> None:
    from parties.graph import case_graph
    from parties.services.links import Assertion, link_assert_item_channel
    from tests.factories import channel, item, team

    t = team()
    room = channel(t)
    made = [item(t, f"bytes {n}".encode(), name=f"{n}.bin") for n in range(3)]
    for made_item in made:
        link_assert_item_channel(
            item=made_item, channel=room, assertion=Assertion(confidence="confirmed"), actor=t.lead
        )
    limited = case_graph(case=t.case, item_links_limit=2)
    assert limited["truncated"] == ["item_channel"] and limited["item_links_limit"] == 2
    assert {edge["source"] for edge in limited["edges"]} == {f"item:{made[2].pk}", f"item:{made[1].pk}"}
    whole = case_graph(case=t.case)
    assert len(whole["edges"]) == 3 and "truncated" not in whole
