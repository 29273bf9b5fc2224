"""The case timeline: mixed sources ordered on one axis across time zones, each with its source and trust;
filters, CSV, and need-to-know."""

import csv
import io
from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from access.choices import CaseMemberRole
from access.selectors import case_get_for
from evidence.models import EvidenceItem
from parties.choices import LinkConfidence
from parties.models import ItemChannelLink
from search.timeline import case_timeline
from tests.factories import channel, exhibit_to, stored_item, team
from tests.search.corpus import finding

pytestmark = pytest.mark.django_db

EVENTS = ["file_modified", "capture", "file_created", "capture", "posted", "capture"]


@pytest.fixture
def story(data_dir, settings):
    settings.HAETAE_TIMELINE_ASSUMED_ZONE = "Asia/Seoul"
    settings.LANGUAGE_CODE = (
        "en"  # the words are read in English here; tests/portal/test_i18n.py reads Korean
    )
    t = team()
    first = stored_item(case=t.case, data=b"first", actor=t.lead, name="first.jpg")
    second = stored_item(case=t.case, data=b"second", actor=t.lead, name="second.jpg")
    EvidenceItem.objects.filter(pk=first.pk).update(
        file_modified_at=datetime(2024, 4, 30, 10, 0, tzinfo=UTC),
        file_created_at=datetime(2024, 5, 1, 9, 0, tzinfo=UTC),
    )
    # 23:30 in Seoul is 14:30 UTC; 10:00 in New York (-05:00) is 15:00 UTC; noon with no zone, as if
    # in Seoul, is 03:00 UTC.
    finding(
        first,
        "metadata",
        "capture_time",
        "metadata",
        {"iso": "2024-05-01T23:30:00+09:00", "tag": "DateTimeOriginal"},
    )
    finding(
        second,
        "metadata",
        "capture_time",
        "metadata",
        {"iso": "2024-05-01T10:00:00-05:00", "tag": "DateTimeOriginal"},
    )
    finding(
        second,
        "metadata",
        "digitised_time",
        "metadata",
        {"local": "2024-05-01T12:00:00", "tag": "DateTimeDigitized"},
    )
    room = channel(t)
    ItemChannelLink.objects.create(
        item=first,
        channel=room,
        confidence=LinkConfidence.CONFIRMED,
        posted_at=datetime(2024, 5, 1, 14, 45, tzinfo=UTC),
    )
    ItemChannelLink.objects.create(
        item=second,
        channel=room,
        confidence=LinkConfidence.SUSPECTED,
        posted_at=datetime(2024, 5, 1, 1, 0, tzinfo=UTC),
    )
    return t, first, second


def _points(t, user=None, **filters):
    user = user or t.lead
    case = case_get_for(user=user, number=t.case.number)
    return case_timeline(case=case, user=user, **filters)


def test_mixed_sources_are_ordered_across_time_zones(story):
    t, first, second = story
    points = _points(t, until="2024-12-31")
    assert [(p.kind, p.item, p.as_json()["time"]) for p in points] == [
        ("file_modified", first.pk, "2024-04-30T10:00:00Z"),
        ("digitised", second.pk, "2024-05-01T03:00:00Z"),
        ("file_created", first.pk, "2024-05-01T09:00:00Z"),
        ("capture", first.pk, "2024-05-01T14:30:00Z"),
        ("posted", first.pk, "2024-05-01T14:45:00Z"),  # the suspected link's time is not a point
        ("capture", second.pk, "2024-05-01T15:00:00Z"),
    ]
    by_kind = {p.kind: p for p in points}
    assert (
        by_kind["file_modified"].trust == "weak"
        and "not a capture time" in by_kind["file_modified"].time_source
    )
    assert by_kind["capture"].trust == "claimed" and by_kind["posted"].trust == "attested"
    assert by_kind["capture"].local in {"2024-05-01T23:30:00+09:00", "2024-05-01T10:00:00-05:00"}
    digitised = by_kind["digitised"]
    assert digitised.zone_known is False and "Asia/Seoul" in digitised.time_source


def test_acquisition_and_custody_points_are_recorded_times(story):
    t, _first, _ = story
    points = _points(t, since="2025-01-01")
    kinds = {(p.kind, p.trust) for p in points}
    assert ("acquired", "recorded") in kinds and ("custody", "recorded") in kinds
    assert not any(p.what.startswith("content viewed") for p in points)


def test_filters_by_kind_and_time(story):
    t, first, second = story
    captures = _points(t, kinds="capture")
    assert [p.item for p in captures] == [first.pk, second.pk]
    window = _points(t, since="2024-05-01T12:00:00+00:00", until="2024-05-01T14:50:00Z")
    assert [p.kind for p in window] == ["capture", "posted"]


def _api(user, number, **params):
    client = APIClient()
    client.force_authenticate(user)
    return client.get(f"/api/v1/cases/{number}/timeline/", params)


def test_api_json_and_csv(story):
    t, first, _ = story
    body = _api(t.lead, t.case.number, kind="capture,posted").json()
    assert body["count"] == 3 and [p["kind"] for p in body["points"]] == ["capture", "posted", "capture"]
    assert set(body["points"][0]) == {
        "time",
        "local",
        "kind",
        "item",
        "what",
        "time_source",
        "trust",
        "zone_known",
        "kind_label",
        "trust_label",
    }
    assert (body["points"][0]["kind_label"], body["points"][0]["trust_label"]) == (
        "capture time (EXIF)",
        "claimed",
    )
    response = _api(t.lead, t.case.number, kind="posted", format="csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["time_utc", "local", "kind"] and rows[1][0] == "2024-05-01T14:45:00Z"
    assert rows[1][3] == str(first.pk) and len(rows) == 2
    assert rows[0][-2:] == ["kind_label", "trust_label"] and rows[1][-2:] == [
        "posted in a channel",
        "attested",
    ]
    assert _api(t.lead, t.case.number, since="yesterday").status_code == 400


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (CaseMemberRole.INVESTIGATOR, 200),
        (CaseMemberRole.AUDITOR, 200),
        (CaseMemberRole.PROSECUTOR, 200),
        (CaseMemberRole.VICTIM_SUPPORT, 403),
    ],
)
def test_timeline_by_role(story, role, status):
    t, _first, _ = story
    response = _api(t.member(role), t.case.number, kind="capture")
    assert response.status_code == status
    if role == CaseMemberRole.PROSECUTOR:
        assert response.json()["count"] == 0  # no shared exhibit


def test_prosecutor_sees_the_shared_items_points_only(story):
    t, _first, second = story
    prosecutor = t.member(CaseMemberRole.PROSECUTOR)
    exhibit_to(t, [second])
    body = _api(prosecutor, t.case.number, until="2024-12-31").json()
    assert {p["item"] for p in body["points"]} == {second.pk}
