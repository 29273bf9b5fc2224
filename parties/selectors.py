"""Reads on a case's team, authorities, people, channels and links.

Every function takes a case that came from ``access.selectors.case_get_for`` (the one membership gate);
``case_for`` below is that gate plus the role check, for views that change things.
"""

from typing import Any

from django.db.models import IntegerField, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.fields import DateTimeField

from access import hooks
from access.models import Case
from access.policy import shared_only
from haetae.errors import NotFound
from parties.models import (
    Channel,
    ChannelObservation,
    ItemChannelLink,
    ItemDerivationLink,
    ItemPersonLink,
    Link,
    Person,
    PersonAccount,
    PersonChannelLink,
)
from parties.services.links import LINK_TYPES


def person_list(*, case: Case) -> QuerySet[Person]:
    """People of the case with their known accounts; identity stays sealed (see parties.services.people)."""
    accounts = Prefetch("accounts", queryset=PersonAccount.objects.select_related("added_by"))
    return Person.objects.filter(case=case).select_related("case", "created_by").prefetch_related(accounts)


def person_get(*, case: Case, pseudonym: str) -> Person:
    person = person_list(case=case).filter(pseudonym=pseudonym.upper()).first()
    if person is None:
        raise NotFound(f"no person {pseudonym!r} in case {case.number}: list them with GET people/")
    return person


def _latest_observation(column: str) -> Subquery:
    newest = ChannelObservation.objects.filter(channel_id=OuterRef("pk")).order_by("-observed_at", "-id")
    field = IntegerField() if column == "member_count" else DateTimeField()
    return Subquery(newest.values(column)[:1], output_field=field)


def channel_list(*, case: Case) -> QuerySet[Channel]:
    """Channels of the case, each with its latest observation's member count and time annotated."""
    return (
        Channel.objects.filter(case=case)
        .select_related("case", "recorded_by")
        .annotate(
            latest_member_count=_latest_observation("member_count"),
            latest_observed_at=_latest_observation("observed_at"),
        )
    )


def channel_get(*, case: Case, channel_id: int) -> Channel:
    observations = Prefetch("observations", queryset=ChannelObservation.objects.select_related("observed_by"))
    channel = channel_list(case=case).prefetch_related(observations).filter(pk=channel_id).first()
    if channel is None:
        raise NotFound(f"no channel {channel_id} in case {case.number}")
    return channel


def link_list(*, case: Case, link_type: str) -> QuerySet[Link]:
    """Links of one type in the case, active and withdrawn, with what they join loaded in the same query.

    For a prosecutor (``case.caller_role`` from ``case_get_for``), links that name an item only when every
    item they name is in a shared exhibit: the other items are not theirs to see, not even by id."""
    model = LINK_TYPES[link_type]
    common = ["asserted_by", "withdrawn_by"]
    shared = None
    if shared_only(getattr(case, "caller_role", None)):
        shared = hooks.shared_item_ids(Case.objects.filter(pk=case.pk).values("pk"))
    rows: QuerySet[Any]
    if model is PersonChannelLink:
        return PersonChannelLink.objects.filter(person__case=case).select_related(
            "person", "channel", *common
        )
    if model is ItemDerivationLink:
        derivations = ItemDerivationLink.objects.filter(item__case=case).select_related(
            "item", "source_item", *common
        )
        if shared is not None:
            derivations = derivations.filter(item_id__in=shared, source_item_id__in=shared)
        return derivations
    if model is ItemPersonLink:
        rows = ItemPersonLink.objects.filter(person__case=case).select_related("item", "person", *common)
    else:
        rows = ItemChannelLink.objects.filter(channel__case=case).select_related("item", "channel", *common)
    return rows if shared is None else rows.filter(item_id__in=shared)


def link_get(*, case: Case, link_type: str, link_id: int) -> Link:
    link = link_list(case=case, link_type=link_type).filter(pk=link_id).first()
    if link is None:
        raise NotFound(f"no {link_type} link {link_id} in case {case.number}")
    return link
