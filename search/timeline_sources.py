"""Timeline points of the records below search: message dates (``sources``), captures' start and end
(``captures``) and the RFC 3161 times of acquisition manifests (``evidence``), registered with the
timeline's sources in ``SearchConfig.ready``.

- A message's date is the messenger's time as its export wrote it (trust ``exported``): exact where the
  export gave an instant (Telegram's ``date_unixtime``, a UFDR time with its offset), otherwise a local
  time read in the zone the ingest was told (``--timezone``), marked ``zone_known: false`` as an EXIF time
  without an offset is. Each message point belongs to its export file, so the prosecutor sees it only when
  that file is shared; it names the message by chat and id, never its text.
- A capture's start and end are Haetae's clock around the browser's run (``recorded``).
- An acquisition manifest's RFC 3161 token gives the authority's time (``attested``); a capture's
  manifest is one of them, and says so.
"""

import zoneinfo
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from captures.choices import CaptureStatus
from captures.models import Capture
from evidence.choices import TimestampStatus, TimestampSubject
from evidence.models import EvidenceItem, TimestampToken
from search.choices import TimeTrust
from search.timeline import Point, Scope, register
from sources.models import Message

UTC = zoneinfo.ZoneInfo("UTC")
# How sources.parsed records a date that carried its own instant (sources/telegram.py, sources/ufdr.py).
EXACT_READINGS = {"UTC (date_unixtime)", "as written (with offset)"}


def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    try:
        return zoneinfo.ZoneInfo(name) if name else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def message_reading(moment: datetime, written: str, how: str) -> tuple[str, str, bool]:
    """(local, time_source, zone_known) of a message date read ``how`` (``Message.time_zone``)."""
    if how == "UTC (date_unixtime)":
        return _utc(moment), _("the export's date_unixtime (an instant, UTC)"), True
    if how == "as written (with offset)":
        return written or _utc(moment), _("the export's date, written with its offset"), True
    zone = _zone(how)
    if zone is not None:
        return (
            moment.astimezone(zone).isoformat(),
            _("the export's date, written without an offset: read as %(zone)s (the ingest's time zone)")
            % {"zone": zone.key},
            False,
        )
    return _utc(moment), _("the export's date"), False


def message_points(scope: Scope) -> Iterator[Point]:
    """Each message's date, and its edit date where the export gives one."""
    messages = Message.objects.filter(case_id=scope.case.pk, sent_at__isnull=False)
    if scope.item_ids is not None:
        messages = messages.filter(source_item_id__in=scope.item_ids)
    rows = messages.values(
        "chat_id", "key", "sent_at", "sent_at_text", "time_zone", "edited_at", "source_item_id", "kind"
    )
    for row in rows.iterator(chunk_size=2000):
        sent_at = row["sent_at"]
        if sent_at is None:
            continue
        local, source, zone_known = message_reading(sent_at, row["sent_at_text"], row["time_zone"])
        names = {"key": row["key"], "chat": row["chat_id"]}
        service = row["kind"] == "service"
        yield Point(
            sent_at,
            local,
            "message",
            row["source_item_id"],
            (
                _("service message %(key)s of chat %(chat)s sent")
                if service
                else _("message %(key)s of chat %(chat)s sent")
            )
            % names,
            source,
            TimeTrust.EXPORTED,
            zone_known=zone_known,
        )
        if row["edited_at"] is not None:
            exact = row["time_zone"] in EXACT_READINGS
            zone = None if exact else _zone(row["time_zone"])
            yield Point(
                row["edited_at"],
                row["edited_at"].astimezone(zone).isoformat() if zone else _utc(row["edited_at"]),
                "message_edited",
                row["source_item_id"],
                (
                    _("service message %(key)s of chat %(chat)s edited")
                    if service
                    else _("message %(key)s of chat %(chat)s edited")
                )
                % names,
                _("the export's edit date")
                if exact or zone is None
                else _("the export's edit date, read as %(zone)s") % {"zone": zone.key},
                TimeTrust.EXPORTED,
                zone_known=exact,
            )


def _first_items(acquisition_ids: list[int], item_ids: set[int] | None) -> dict[int, int]:
    """The first top-level item in the caller's scope of each acquisition (a capture's WACZ …)."""
    first: dict[int, int] = {}
    rows = EvidenceItem.objects.filter(acquisition_id__in=acquisition_ids, parent__isnull=True).order_by("id")
    for pk, acquisition_id in rows.values_list("pk", "acquisition_id"):
        if (item_ids is None or pk in item_ids) and acquisition_id not in first:
            first[acquisition_id] = pk
    return first


def _moment(value: Any, fallback: datetime | None) -> datetime | None:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    return parsed if parsed is not None and parsed.tzinfo is not None else fallback


def capture_points(scope: Scope) -> Iterator[Point]:
    """When each capture's browser run began and ended (a failed capture too, for whole-case roles)."""
    captures = list(
        Capture.objects.filter(case_id=scope.case.pk, started_at__isnull=False).values(
            "pk", "status", "acquisition_id", "started_at", "finished_at", "facts"
        )
    )
    first = _first_items([c["acquisition_id"] for c in captures if c["acquisition_id"]], scope.item_ids)
    for capture in captures:
        item = first.get(capture["acquisition_id"]) if capture["acquisition_id"] else None
        if scope.item_ids is not None and item is None:
            continue
        facts = capture["facts"] if isinstance(capture["facts"], dict) else {}
        failed = capture["status"] == CaptureStatus.FAILED
        started = _moment(facts.get("started_at"), capture["started_at"])
        finished = _moment(facts.get("finished_at"), capture["finished_at"])
        number = {"capture": capture["pk"]}
        steps: list[tuple[str, datetime | None, str]] = [
            ("capture_started", started, _("capture %(capture)s began loading the page") % number)
        ]
        if finished is not None and capture["status"] in {CaptureStatus.CAPTURED, CaptureStatus.FAILED}:
            ended = _("capture %(capture)s failed") if failed else _("capture %(capture)s finished")
            steps.append(("capture_finished", finished, ended % number))
        clock = _("Haetae's clock around the browser's run")
        for kind, moment, what in steps:
            if moment is None:
                continue
            yield Point(
                moment,
                _utc(moment),
                kind,
                item,
                what,
                clock,
                TimeTrust.RECORDED,
            )


def manifest_timestamp_points(scope: Scope) -> Iterator[Point]:
    """The RFC 3161 time of each acquisition manifest (a capture's included), from its granted token."""
    tokens = list(
        TimestampToken.objects.filter(
            subject=TimestampSubject.ACQUISITION,
            status=TimestampStatus.GRANTED,
            acquisition__case_id=scope.case.pk,
            gen_time__isnull=False,
        )
        .order_by("id")
        .values("acquisition_id", "gen_time", "tsa_subject", "tsa_url", "serial_number")
    )
    acquisition_ids = sorted({t["acquisition_id"] for t in tokens})
    first = _first_items(acquisition_ids, scope.item_ids)
    captures = dict(
        Capture.objects.filter(acquisition_id__in=acquisition_ids).values_list("acquisition_id", "pk")
    )
    for token in tokens:
        acquisition_id = token["acquisition_id"]
        if scope.item_ids is not None and acquisition_id not in first:
            continue
        capture = captures.get(acquisition_id)
        what = _("acquisition %(acquisition)s manifest timestamped") % {"acquisition": acquisition_id}
        if capture is not None:
            what = _("capture %(capture)s manifest timestamped (acquisition %(acquisition)s)") % {
                "capture": capture,
                "acquisition": acquisition_id,
            }
        authority = token["tsa_subject"] or token["tsa_url"] or _("the time-stamping authority")
        granted = token["gen_time"]
        if granted is None:
            continue
        yield Point(
            granted,
            _utc(granted),
            "timestamped",
            first.get(acquisition_id) if scope.item_ids is not None else None,
            what,
            _("RFC 3161 token of %(authority)s, serial %(serial)s")
            % {"authority": authority, "serial": token["serial_number"]},
            TimeTrust.ATTESTED,
        )


def register_all() -> None:
    """Add these sources to the timeline (idempotent: the registry is keyed by name)."""
    register("messages", message_points)
    register("captures", capture_points)
    register("manifest_timestamps", manifest_timestamp_points)
