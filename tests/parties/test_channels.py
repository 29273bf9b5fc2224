"""Channels: recorded once per case by handle or URL, observed over time; each a case-level event."""

from datetime import timedelta

import pytest
from django.utils import timezone

from evidence.models import CustodyEvent
from haetae.errors import RejectedInput
from parties.models import Channel, ChannelObservation
from parties.selectors import channel_get, channel_list
from parties.services.channels import channel_observe, channel_record
from tests.factories import channel, team

pytestmark = pytest.mark.django_db


def test_record_and_observe_a_channel() -> None:
    t = team()
    room = channel(t)
    observer = t.member("analyst")
    earlier = timezone.now() - timedelta(days=30)
    channel_observe(channel=room, actor=observer, observed_at=earlier, member_count=1200)
    channel_observe(channel=room, actor=observer, member_count=220000, note="after press coverage")
    events = CustodyEvent.objects.filter(case=t.case, action="channel_recorded").order_by("seq")
    assert [e.details.get("member_count") for e in events] == [None, 1200, 220000]
    assert events[0].details["handle"] == "@deepfake_room"
    assert all(e.item_id is None for e in events)
    listed = channel_list(case=t.case).get()
    assert listed.latest_member_count == 220000  # type: ignore[attr-defined]
    detail = channel_get(case=t.case, channel_id=room.pk)
    assert [o.member_count for o in detail.observations.all()] == [1200, 220000]
    assert detail.observations.last().observed_by == observer


def test_a_channel_needs_a_handle_or_url_and_a_known_platform() -> None:
    t = team()
    with pytest.raises(RejectedInput, match="handle"):
        channel_record(case=t.case, platform="telegram", actor=t.lead)
    with pytest.raises(RejectedInput, match="not a platform"):
        channel_record(case=t.case, platform="friendster", handle="x", actor=t.lead)
    channel_record(case=t.case, platform="website", url="https://example.test/board", actor=t.lead)
    with pytest.raises(RejectedInput, match="already recorded"):
        channel_record(case=t.case, platform="website", url="https://example.test/board", actor=t.lead)
    assert Channel.objects.count() == 1
    assert CustodyEvent.objects.filter(action="channel_recorded").count() == 1


def test_bad_observations_are_refused() -> None:
    t = team()
    room = channel(t)
    with pytest.raises(RejectedInput, match="future"):
        channel_observe(
            channel=room, actor=t.lead, observed_at=timezone.now() + timedelta(days=1), member_count=5
        )
    with pytest.raises(RejectedInput, match="negative"):
        channel_observe(channel=room, actor=t.lead, member_count=-1)
    with pytest.raises(RejectedInput, match="says nothing"):
        channel_observe(channel=room, actor=t.lead)
    assert not ChannelObservation.objects.exists()
