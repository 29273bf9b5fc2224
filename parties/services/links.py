"""Typed links: assertions that an item, a person and a channel relate, each with who, when, how sure.

A link is asserted (LINK_ASSERTED) and may later be withdrawn with a reason (LINK_WITHDRAWN); rows are
never deleted or edited otherwise. Asserting a link that is already active with another confidence
withdraws the old assertion ("superseded") in the same transaction: that is how a detector's suspected
link becomes a confirmed one. The custody event goes on the item's chain where the link has an item, on the
case's chain otherwise. A detector's or an export's suggestion is always ``suspected``: only a person
confirms.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError
from django.db.models import Model, QuerySet, TextChoices
from django.utils import timezone

from access.services import case_require_working
from evidence.choices import CustodyAction, ItemStatus
from evidence.custody import EventSpec, custody_append_many
from evidence.models import EvidenceItem
from haetae.db import ledger_transaction
from haetae.errors import RejectedInput
from haetae.toolkit import utc_iso
from parties.choices import ItemPersonRelation, LinkConfidence, LinkSource, PersonChannelRelation
from parties.models import (
    Channel,
    ItemChannelLink,
    ItemDerivationLink,
    ItemPersonLink,
    Link,
    Person,
    PersonChannelLink,
)

# The short names links go by in the API, custody details and the graph.
LINK_TYPES: dict[str, type[Link]] = {
    "item_person": ItemPersonLink,
    "item_channel": ItemChannelLink,
    "person_channel": PersonChannelLink,
    "item_derivation": ItemDerivationLink,
}


# Sources whose links are suggestions: suspected until an investigator asserts them confirmed.
SUGGESTING_SOURCES = frozenset({LinkSource.DETECTOR, LinkSource.EXPORT})


def link_type_of(link: Link) -> str:
    return next(name for name, model in LINK_TYPES.items() if isinstance(link, model))


def _require_choice(field: str, value: str, choices: type[TextChoices]) -> None:
    """Refuse a value that is not one of ``choices``; the message names the field and lists them."""
    if value not in choices.values:
        raise RejectedInput.for_field(field, f"use one of {', '.join(choices.values)}")


@dataclass(frozen=True)
class Assertion:
    """How sure and on what basis: common to every link type."""

    confidence: str
    source: str = LinkSource.INVESTIGATOR
    annotation: Any = None  # detection.Annotation, for links a detector suggested
    note: str = ""


def _check_assertion(assertion: Assertion, *, item: EvidenceItem | None) -> None:
    _require_choice("confidence", assertion.confidence, LinkConfidence)
    _require_choice("source", assertion.source, LinkSource)
    if assertion.source in SUGGESTING_SOURCES and assertion.confidence == LinkConfidence.CONFIRMED:
        raise RejectedInput.for_field(
            "confidence",
            f"a {assertion.source}'s suggestion is suspected until a person confirms it: assert it again as "
            "an investigator with confidence confirmed",
        )
    if assertion.annotation is not None:
        if assertion.source != LinkSource.DETECTOR:
            raise RejectedInput.for_field(
                "annotation", "only a detector-sourced link names the finding that suggested it"
            )
        if item is None or assertion.annotation.item_id != item.pk:
            raise RejectedInput.for_field("annotation", "the finding must be one on the link's item")


def _check_item(item: EvidenceItem, case_id: int, field: str) -> None:
    if item.case_id != case_id:
        raise RejectedInput.for_field(
            field, f"item {item.pk} belongs to another case: link items within one case"
        )
    if item.status != ItemStatus.INGESTED:
        raise RejectedInput.for_field(
            field, f"item {item.pk} was rejected at ingest (no content was stored): it cannot be linked"
        )


def _item_details(item: EvidenceItem) -> dict[str, Any]:
    return {"item_id": item.pk, "sha256": item.blob_id}


def _assert(
    *,
    model: type[Link],
    key: dict[str, Any],
    assertion: Assertion,
    actor: User | None,
    details: dict[str, Any],
    fields: dict[str, Any] | None = None,
) -> Link:
    """Create the link (superseding an active one of other confidence) and its event, in one transaction;
    the event goes on the chain ``_link_case_and_item`` names for the link."""
    link_type = next(name for name, m in LINK_TYPES.items() if m is model)
    try:
        with ledger_transaction():
            active: QuerySet[Model] = model._default_manager.select_for_update().filter(
                withdrawn_at__isnull=True, **key
            )
            specs = []
            new = model(
                **key,
                **(fields or {}),
                confidence=assertion.confidence,
                source=assertion.source,
                annotation=assertion.annotation,
                note=assertion.note.strip(),
                asserted_by=actor,
            )
            case_id, item_id, _ = _link_case_and_item(new)
            for old in active:
                assert isinstance(old, Link)
                if old.confidence == assertion.confidence:
                    raise RejectedInput.for_field(
                        "confidence",
                        f"this link is already asserted as {old.confidence} ({link_type} {old.pk}); withdraw "
                        "it first to assert it again",
                    )
                reason = f"superseded by a {assertion.confidence} assertion"
                _withdraw_row(old, actor=actor, reason=reason)
                specs.append(_withdraw_event(old, link_type, case_id, item_id, actor, reason, details))
            new.save()
            specs.append(
                EventSpec(
                    case_id=case_id,
                    item_id=item_id,
                    action=CustodyAction.LINK_ASSERTED,
                    actor=actor,
                    purpose=new.note,
                    details={
                        **details,
                        "link": link_type,
                        "link_id": new.pk,
                        "confidence": new.confidence,
                        "source": new.source,
                        "annotation_id": assertion.annotation.pk
                        if assertion.annotation is not None
                        else None,
                    },
                )
            )
            custody_append_many(specs)
    except IntegrityError:
        raise RejectedInput(
            "the same link was asserted at the same moment by someone else: reload and check"
        ) from None
    return new


def _withdraw_row(link: Link, *, actor: User | None, reason: str) -> None:
    link.withdrawn_at = timezone.now()
    link.withdrawn_by = actor
    link.withdrawn_reason = reason
    link.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawn_reason"])


def _withdraw_event(
    link: Link,
    link_type: str,
    case_id: int,
    item_id: int | None,
    actor: User | None,
    reason: str,
    details: dict[str, Any],
) -> EventSpec:
    return EventSpec(
        case_id=case_id,
        item_id=item_id,
        action=CustodyAction.LINK_WITHDRAWN,
        actor=actor,
        purpose=reason,
        details={**details, "link": link_type, "link_id": link.pk, "confidence": link.confidence},
    )


def link_assert_item_person(
    *, item: EvidenceItem, person: Person, relation: str, assertion: Assertion, actor: User | None
) -> ItemPersonLink:
    """Assert that an item depicts a person, or was created / possessed / distributed by them."""
    _require_choice("relation", relation, ItemPersonRelation)
    _check_item(item, person.case_id, "item")
    _check_assertion(assertion, item=item)
    case_require_working(case=person.case, action="link evidence")
    link = _assert(
        model=ItemPersonLink,
        key={"item": item, "person": person, "relation": relation},
        assertion=assertion,
        actor=actor,
        details={**_item_details(item), "person": person.pseudonym, "relation": relation},
    )
    assert isinstance(link, ItemPersonLink)
    return link


def link_assert_item_channel(
    *,
    item: EvidenceItem,
    channel: Channel,
    assertion: Assertion,
    actor: User | None,
    posted_at: datetime | None = None,
    message_reference: str = "",
    first_seen_at: datetime | None = None,
) -> ItemChannelLink:
    """Assert that an item was posted in a channel (when, under which message, first seen when)."""
    _check_item(item, channel.case_id, "item")
    _check_assertion(assertion, item=item)
    if posted_at and first_seen_at and first_seen_at < posted_at:
        raise RejectedInput.for_field(
            "first_seen_at", "an item cannot be seen in a channel before it was posted there"
        )
    case_require_working(case=channel.case, action="link evidence")
    message_reference = message_reference.strip()
    link = _assert(
        model=ItemChannelLink,
        key={"item": item, "channel": channel, "message_reference": message_reference},
        fields={"posted_at": posted_at, "first_seen_at": first_seen_at},
        assertion=assertion,
        actor=actor,
        details={
            **_item_details(item),
            "channel_id": channel.pk,
            "message_reference": message_reference,
            "posted_at": utc_iso(posted_at) if posted_at else None,
            "first_seen_at": utc_iso(first_seen_at) if first_seen_at else None,
        },
    )
    assert isinstance(link, ItemChannelLink)
    return link


def link_assert_person_channel(
    *, person: Person, channel: Channel, relation: str, assertion: Assertion, actor: User | None
) -> PersonChannelLink:
    """Assert that a person administers, uploads to, or belongs to a channel (a case-level event)."""
    _require_choice("relation", relation, PersonChannelRelation)
    if person.case_id != channel.case_id:
        raise RejectedInput.for_field("channel", "the person and the channel belong to different cases")
    _check_assertion(assertion, item=None)
    case_require_working(case=person.case, action="link people and channels")
    link = _assert(
        model=PersonChannelLink,
        key={"person": person, "channel": channel, "relation": relation},
        assertion=assertion,
        actor=actor,
        details={"person": person.pseudonym, "channel_id": channel.pk, "relation": relation},
    )
    assert isinstance(link, PersonChannelLink)
    return link


def link_assert_derivation(
    *, item: EvidenceItem, source_item: EvidenceItem, assertion: Assertion, actor: User | None
) -> ItemDerivationLink:
    """Assert that ``item`` was derived from ``source_item`` (a deepfake from its source photo)."""
    if item.pk == source_item.pk:
        raise RejectedInput.for_field("source_item", "an item cannot be derived from itself")
    _check_item(item, item.case_id, "item")
    _check_item(source_item, item.case_id, "source_item")
    _check_assertion(assertion, item=item)
    case_require_working(case=item.case, action="link evidence")
    link = _assert(
        model=ItemDerivationLink,
        key={"item": item, "source_item": source_item},
        assertion=assertion,
        actor=actor,
        details={
            **_item_details(item),
            "source_item_id": source_item.pk,
            "source_sha256": source_item.blob_id,
        },
    )
    assert isinstance(link, ItemDerivationLink)
    return link


def _link_case_and_item(link: Link) -> tuple[int, int | None, dict[str, Any]]:
    if isinstance(link, ItemPersonLink):
        return link.person.case_id, link.item_id, {"item_id": link.item_id, "person": link.person.pseudonym}
    if isinstance(link, ItemChannelLink):
        return link.channel.case_id, link.item_id, {"item_id": link.item_id, "channel_id": link.channel_id}
    if isinstance(link, PersonChannelLink):
        return link.person.case_id, None, {"person": link.person.pseudonym, "channel_id": link.channel_id}
    if isinstance(link, ItemDerivationLink):
        return (
            link.item.case_id,
            link.item_id,
            {"item_id": link.item_id, "source_item_id": link.source_item_id},
        )
    raise TypeError(f"not a link: {link!r}")


def link_withdraw(*, link: Link, actor: User | None, reason: str) -> Link:
    """Withdraw an active link with a reason (a LINK_WITHDRAWN event); the row stays, marked withdrawn."""
    reason = (reason or "").strip()
    if not reason:
        raise RejectedInput.for_field(
            "reason", "say why the link is withdrawn; it goes into the custody record"
        )
    link_type = link_type_of(link)
    case_id, item_id, details = _link_case_and_item(link)
    with ledger_transaction():
        locked = type(link)._default_manager.select_for_update().get(pk=link.pk)
        assert isinstance(locked, Link)
        if locked.withdrawn_at is not None:
            raise RejectedInput.for_field(
                "link", f"{link_type} {locked.pk} was already withdrawn at {utc_iso(locked.withdrawn_at)}"
            )
        _withdraw_row(locked, actor=actor, reason=reason)
        custody_append_many([_withdraw_event(locked, link_type, case_id, item_id, actor, reason, details)])
    return locked
