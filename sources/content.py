"""A look at messages' text: a content view of the export file they were parsed from, on its record.

A message's text, its sender's name and its chat's title quote the material and name people; they are
served only under the rule for the export file's content (``evidence.content.content_access_check``:
membership, a role that may see content, a stated purpose, a legal basis where the case requires one),
and each request that serves them writes ONE ``viewed`` event on each export file's chain, naming how many
messages of which chats it served. A refusal writes nothing.
"""

from collections import defaultdict
from collections.abc import Sequence

from django.contrib.auth.models import User

from evidence.choices import CustodyAction
from evidence.content import content_access_check
from evidence.custody import EventSpec, custody_append_many
from haetae.db import ledger_transaction
from sources.models import Message


def messages_text_open(
    *, messages: Sequence[Message], actor: User, purpose: str, legal_basis: str = "", served: str = "messages"
) -> None:
    """Check need-to-know for the export files behind ``messages`` and record one view of each."""
    by_source: dict[int, list[Message]] = defaultdict(list)
    for message in messages:
        by_source[message.source_item_id].append(message)
    if not by_source:
        return
    accesses = {
        source_id: content_access_check(
            item=group[0].source_item,
            actor=actor,
            purpose=purpose,
            legal_basis=legal_basis,
            what="message text",
        )
        for source_id, group in by_source.items()
    }
    with ledger_transaction():
        custody_append_many(
            [
                EventSpec(
                    case_id=group[0].case_id,
                    item_id=source_id,
                    action=CustodyAction.VIEWED,
                    actor=actor,
                    actor_role=accesses[source_id].role,
                    purpose=accesses[source_id].purpose,
                    legal_authority=accesses[source_id].legal_basis,
                    sha256_before=group[0].source_item.blob_id or "",
                    sha256_after=group[0].source_item.blob_id or "",
                    details={
                        "served": served,
                        "messages": len(group),
                        "chats": sorted({m.chat_id for m in group}),
                        "first_message": min(m.pk for m in group),
                        "last_message": max(m.pk for m in group),
                    },
                )
                for source_id, group in sorted(by_source.items())
            ]
        )
