"""Marking a cross-case match alert seen: only its recipient, once (the first time is kept)."""

import pytest

from detection.alerts import match_alert_mark_seen
from detection.models import HashBank
from haetae.errors import NotFound
from tests.factories import bank_match, item, team

pytestmark = pytest.mark.django_db


def test_the_recipient_marks_an_alert_seen_once() -> None:
    mine, other = team(), team()
    bank = HashBank.objects.create(name="originals", kind="victim", case=other.case)
    stored = item(mine)
    _match, alert = bank_match(item=stored, bank=bank, sha256=stored.blob_id or "", recipient=mine.lead)
    assert alert is not None
    seen = match_alert_mark_seen(alert_id=alert.pk, user=mine.lead)
    assert seen.seen_at is not None
    again = match_alert_mark_seen(alert_id=alert.pk, user=mine.lead)
    assert again.seen_at == seen.seen_at
    with pytest.raises(NotFound, match="addressed to you"):
        match_alert_mark_seen(alert_id=alert.pk, user=other.lead)
