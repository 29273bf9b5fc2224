"""The case graph for the portal: people (by pseudonym only), channels and items, and the links between.

A fixed number of queries whatever the size of the case: people, channels (with their latest member
count), and one query per link type with both ends joined in.
"""

from typing import Any

from access.models import Case
from evidence.models import EvidenceItem
from parties.selectors import channel_list, link_list, person_list


def _item_node(item: EvidenceItem) -> dict[str, Any]:
    # By id and SHA-256 only: an original file name can itself name a victim.
    return {
        "id": f"item:{item.pk}",
        "type": "item",
        "item_id": item.pk,
        "sha256": item.blob_id,
        "mime": item.mime,
    }


def case_graph(
    *, case: Case, include_withdrawn: bool = False, item_links_limit: int | None = None
) -> dict[str, Any]:
    """Nodes and edges of a case; items appear when a link names them. Withdrawn links only on request.

    ``item_links_limit`` keeps only the newest that many links of each type that names an item (a case of
    100,000 items can have tens of thousands, more than a drawing can show); ``truncated`` then lists the
    link types that had more.
    """
    truncated: list[str] = []
    nodes: dict[str, dict[str, Any]] = {}
    for person in person_list(case=case).prefetch_related(None):
        nodes[f"person:{person.pk}"] = {
            "id": f"person:{person.pk}",
            "type": "person",
            "pseudonym": person.pseudonym,
            "kind": person.kind,
            "is_minor": person.is_minor,
        }
    for channel in channel_list(case=case):
        nodes[f"channel:{channel.pk}"] = {
            "id": f"channel:{channel.pk}",
            "type": "channel",
            "platform": channel.platform,
            "handle": channel.handle,
            "url": channel.url,
            "title": channel.title,
            "member_count": channel.latest_member_count,  # type: ignore[attr-defined]
        }
    edges: list[dict[str, Any]] = []

    def edge(link_type: str, link: Any, source: str, target: str, relation: str, **extra: Any) -> None:
        edges.append(
            {
                "id": f"{link_type}:{link.pk}",
                "type": link_type,
                "relation": relation,
                "source": source,
                "target": target,
                "confidence": link.confidence,
                "origin": link.source,
                "asserted_at": link.asserted_at,
                "withdrawn": link.withdrawn_at is not None,
                **extra,
            }
        )

    def links(link_type: str) -> Any:
        rows = link_list(case=case, link_type=link_type)
        rows = rows if include_withdrawn else rows.filter(withdrawn_at__isnull=True)
        if item_links_limit is None or link_type == "person_channel":
            return rows
        # The newest ids first (no joins), then only those rows with both ends loaded.
        newest = list(
            rows.order_by("-asserted_at", "-pk").values_list("pk", flat=True)[: item_links_limit + 1]
        )
        if len(newest) > item_links_limit:
            truncated.append(link_type)
        # Only the items are drawn from the joined rows (people and channels come by id), so join only them.
        items = ("item", "source_item") if link_type == "item_derivation" else ("item",)
        chosen = rows.filter(pk__in=newest[:item_links_limit]).select_related(None).select_related(*items)
        return chosen.order_by("-asserted_at", "-pk")

    for link in links("item_person"):
        nodes.setdefault(f"item:{link.item_id}", _item_node(link.item))
        edge("item_person", link, f"item:{link.item_id}", f"person:{link.person_id}", link.relation)
    for link in links("item_channel"):
        nodes.setdefault(f"item:{link.item_id}", _item_node(link.item))
        edge(
            "item_channel",
            link,
            f"item:{link.item_id}",
            f"channel:{link.channel_id}",
            "posted_in",
            posted_at=link.posted_at,
            message_reference=link.message_reference,
        )
    for link in links("person_channel"):
        edge("person_channel", link, f"person:{link.person_id}", f"channel:{link.channel_id}", link.relation)
    for link in links("item_derivation"):
        nodes.setdefault(f"item:{link.item_id}", _item_node(link.item))
        nodes.setdefault(f"item:{link.source_item_id}", _item_node(link.source_item))
        edge("item_derivation", link, f"item:{link.item_id}", f"item:{link.source_item_id}", "derived_from")
    graph: dict[str, Any] = {"case": case.number, "nodes": list(nodes.values()), "edges": edges}
    if item_links_limit is not None:
        graph["item_links_limit"] = item_links_limit
        graph["truncated"] = truncated
    return graph
