"""Distribution channels of a case and what was observed of them over time."""

from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError
from django.utils import timezone

from access.models import Case
from access.services import case_require_working
from evidence.choices import CustodyAction
from evidence.custody import EventSpec, custody_append_many
from haetae.db import ledger_transaction, retry_on_conflict
from haetae.errors import RejectedInput
from haetae.toolkit import utc_iso
from parties.choices import ChannelPlatform
from parties.models import Channel, ChannelObservation


def platform_require(platform: str) -> None:
    """Refuse a platform that is not one of ``ChannelPlatform`` (a channel's, or a person's account's)."""
    if platform not in ChannelPlatform.values:
        raise RejectedInput.for_field(
            "platform", f"{platform!r} is not a platform; use one of {', '.join(ChannelPlatform.values)}"
        )


def _channel_recorded(channel: Channel, actor: User, **details: Any) -> list[EventSpec]:
    """The CHANNEL_RECORDED case event of a channel or of an observation of it."""
    details = {"channel_id": channel.pk, **details}
    return [
        EventSpec(
            case_id=channel.case_id, action=CustodyAction.CHANNEL_RECORDED, actor=actor, details=details
        )
    ]


@retry_on_conflict
def channel_record(
    *,
    case: Case,
    platform: str,
    actor: User,
    handle: str = "",
    url: str = "",
    title: str = "",
    description: str = "",
) -> Channel:
    """Record a channel (a handle or a URL, or both); a CHANNEL_RECORDED case event."""
    platform_require(platform)
    handle, url = handle.strip(), url.strip()
    if not handle and not url:
        raise RejectedInput.for_field("handle", "give the channel's handle (e.g. @name) or its URL")
    case_require_working(case=case, action="record channels")
    try:
        # The ledger lock comes before the insert, whose foreign key share-locks the case row (docs/ledger.md)
        with ledger_transaction():
            channel = Channel.objects.create(
                case=case,
                platform=platform,
                handle=handle,
                url=url,
                title=title.strip(),
                description=description.strip(),
                recorded_by=actor,
            )
            custody_append_many(
                _channel_recorded(
                    channel, actor, platform=platform, handle=handle, url=url, title=channel.title
                )
            )
    except IntegrityError:
        raise RejectedInput.for_field(
            "handle", f"{platform} channel {handle or url} is already recorded in this case"
        ) from None
    return channel


@retry_on_conflict
def channel_observe(
    *,
    channel: Channel,
    actor: User,
    observed_at: datetime | None = None,
    member_count: int | None = None,
    note: str = "",
) -> ChannelObservation:
    """Record what was seen of a channel at a time (member count, a note); a CHANNEL_RECORDED event."""
    observed_at = observed_at or timezone.now()
    if observed_at > timezone.now() + timedelta(minutes=5):
        raise RejectedInput.for_field(
            "observed_at", "an observation cannot be in the future: check the date and time zone"
        )
    if member_count is not None and member_count < 0:
        raise RejectedInput.for_field("member_count", "a member count cannot be negative")
    if member_count is None and not note.strip():
        raise RejectedInput.for_field(
            "member_count", "give a member count or a note: an empty observation says nothing"
        )
    case_require_working(case=channel.case, action="record observations")
    with ledger_transaction():
        observation = ChannelObservation.objects.create(
            channel=channel,
            observed_at=observed_at,
            member_count=member_count,
            note=note.strip(),
            observed_by=actor,
        )
        custody_append_many(
            _channel_recorded(
                channel,
                actor,
                observation_id=observation.pk,
                observed_at=utc_iso(observed_at),
                member_count=member_count,
            )
        )
    return observation
