"""The case timeline: every dated thing about a case's evidence on one axis, each with where its time came
from and how far it can be trusted.

Kinds (docs/timeline.md has the table): ``acquired`` and ``custody`` (recorded by Haetae); file system
times ``file_modified``/``file_created``/``file_changed``/``file_accessed`` (weak: they change when a file
is copied); EXIF ``capture`` and ``digitised`` (claimed by the file); ``posted`` (attested: the platform's
time, from a confirmed item → channel link) and ``first_seen``; ``takedown`` steps; and the points of
registered sources (messages, captured pages).

``what`` and ``time_source`` are words for people, in the language active when the timeline is built (the
portal's, the API caller's, the report's); ``kind`` and ``trust`` are stable codes for scripts, with their
words beside them in ``kind_label`` and ``trust_label``.

Times are stored and sorted as UTC instants. A time whose zone is unknown (EXIF without an offset) is
placed as if in ``HAETAE_TIMELINE_ASSUMED_ZONE`` (default Asia/Seoul) and marked ``zone_known: false``:
its position is a guess to within a day. Looks at content (views, previews, searches, analyses) are not
points: they are the audit trail, read in the ledger.
"""

import zoneinfo
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from access.models import Case
from access.policy import Action, require, shared_only
from detection.models import Annotation
from detection.models.runs import ReviewStatus
from evidence.choices import CustodyAction, ItemStatus
from evidence.models import CustodyEvent, EvidenceItem
from evidence.selectors import shared_exhibit_item_ids
from haetae.errors import RejectedInput
from parties.choices import LinkConfidence
from parties.models import ItemChannelLink
from search.choices import TimeTrust, time_trust_word, timeline_kind_label
from support.choices import TakedownStatus
from support.models import TakedownRequest

Caller = AbstractBaseUser | AnonymousUser

# Custody actions that are looks or derived work, not events in the evidence's life.
NOT_POINTS = {
    CustodyAction.VIEWED,
    CustodyAction.PREVIEW_SERVED,
    CustodyAction.SEARCHED,
    CustodyAction.ANALYSED,
    CustodyAction.DERIVED,
    CustodyAction.IDENTITY_READ,
    CustodyAction.BREAK_GLASS,
}
MAX_POINTS = 50_000


@dataclass(frozen=True)
class Point:
    """One dated thing: ``at`` is an aware datetime (UTC instant); ``local`` is the time as its source wrote
    it (with the offset when known)."""

    at: datetime
    local: str
    kind: str
    item: int | None
    what: str
    time_source: str
    trust: str
    zone_known: bool = True

    def as_json(self) -> dict[str, Any]:
        return {
            "time": self.at.astimezone(zoneinfo.ZoneInfo("UTC")).isoformat().replace("+00:00", "Z"),
            "local": self.local,
            "kind": self.kind,
            "item": self.item,
            "what": self.what,
            "time_source": self.time_source,
            "trust": self.trust,
            "zone_known": self.zone_known,
            "kind_label": timeline_kind_label(self.kind),
            "trust_label": time_trust_word(self.trust),
        }


@dataclass
class Scope:
    """What the caller may see of the case: all its items, or only some (the prosecutor's shared ones)."""

    case: Case
    item_ids: set[int] | None  # None: every item of the case
    kinds: frozenset[str] = frozenset()  # the kinds asked for; empty: all
    start: datetime | None = None
    end: datetime | None = None

    def wants(self, *kinds: str) -> bool:
        """Whether any of these kinds is asked for (a source skips its queries otherwise)."""
        return not self.kinds or any(kind in self.kinds for kind in kinds)

    def items(self) -> Any:
        items = EvidenceItem.objects.filter(case_id=self.case.pk)
        return items if self.item_ids is None else items.filter(pk__in=self.item_ids)


TimelineSource = Callable[[Scope], Iterable[Point]]
_sources: dict[str, TimelineSource] = {}


def register(name: str, source: TimelineSource) -> None:
    """Add a source of points (messages, captures …): a function from the caller's scope to points."""
    _sources[name] = source


def assumed_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(getattr(settings, "HAETAE_TIMELINE_ASSUMED_ZONE", "Asia/Seoul"))


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _recorded(moment: datetime) -> str:
    return _iso(moment.astimezone(zoneinfo.ZoneInfo("UTC")))


def item_points(scope: Scope) -> Iterator[Point]:
    """Acquisition and the file system's times of each item."""
    fields = [
        ("file_modified_at", "file_modified", _("file system: last modified (mtime) — not a capture time")),
        ("file_created_at", "file_created", _("file system: created (birth time), where the source kept it")),
        ("file_changed_at", "file_changed", _("file system: metadata changed (ctime)")),
        ("file_accessed_at", "file_accessed", _("file system: last accessed (atime)")),
    ]
    acquired_what, acquired_source = _("taken into the vault"), _("Haetae's clock at ingest")
    if not scope.wants("acquired", *(kind for _, kind, _ in fields)):
        return
    rows = (
        scope.items()
        .exclude(status=ItemStatus.REJECTED)
        .values("pk", "acquired_at", *[name for name, _, _ in fields])
    )
    for row in rows.iterator(chunk_size=2000):
        yield Point(
            row["acquired_at"],
            _recorded(row["acquired_at"]),
            "acquired",
            row["pk"],
            acquired_what,
            acquired_source,
            TimeTrust.RECORDED,
        )
        for name, kind, source in fields:
            if row[name] is not None:
                yield Point(
                    row[name],
                    _recorded(row[name]),
                    kind,
                    row["pk"],
                    timeline_kind_label(kind),
                    source,
                    TimeTrust.WEAK,
                )


def custody_points(scope: Scope) -> Iterator[Point]:
    """Custody events that change the evidence's state (item events; case events for whole-case roles)."""
    if not scope.wants("custody"):
        return
    events = CustodyEvent.objects.filter(case_id=scope.case.pk).exclude(action__in=NOT_POINTS)
    if scope.start is not None:
        events = events.filter(occurred_at__gte=scope.start)
    if scope.end is not None:
        events = events.filter(occurred_at__lte=scope.end)
    if scope.item_ids is not None:
        events = events.filter(item_id__in=scope.item_ids)
    ledger = _("the custody ledger")
    for action, item_id, occurred in events.values_list("action", "item_id", "occurred_at").iterator(2000):
        label = str(CustodyAction(action).label) if action in CustodyAction.values else action
        yield Point(occurred, _recorded(occurred), "custody", item_id, label, ledger, TimeTrust.RECORDED)


EXIF_KINDS = {"capture_time": "capture", "digitised_time": "digitised"}


def exif_point(item_id: int, label: str, details: dict[str, Any]) -> Point | None:
    """A capture or digitised time from a metadata finding: with its offset an instant, without one a local
    time placed in the assumed zone and marked so."""
    kind = EXIF_KINDS[label]
    what = f"EXIF {details['tag']}" if details.get("tag") else timeline_kind_label(kind)
    if details.get("iso"):
        parsed = parse_datetime(str(details["iso"]))
        if parsed is None or parsed.tzinfo is None:
            return None
        return Point(
            parsed,
            str(details["iso"]),
            kind,
            item_id,
            what,
            _("the file's EXIF, with its offset"),
            TimeTrust.CLAIMED,
        )
    if details.get("local"):
        parsed = parse_datetime(str(details["local"]))
        if parsed is None:
            return None
        zone = assumed_zone()
        return Point(
            parsed.replace(tzinfo=zone),
            str(details["local"]),
            kind,
            item_id,
            what,
            _("the file's EXIF, no offset recorded: placed as if in %(zone)s") % {"zone": zone.key},
            TimeTrust.CLAIMED,
            zone_known=False,
        )
    return None


def exif_points(scope: Scope) -> Iterator[Point]:
    if not scope.wants(*EXIF_KINDS.values()):
        return
    findings = Annotation.objects.filter(
        item__case_id=scope.case.pk, detector_name="metadata", label__in=list(EXIF_KINDS)
    ).exclude(review_status=ReviewStatus.REJECTED)
    if scope.item_ids is not None:
        findings = findings.filter(item_id__in=scope.item_ids)
    for item_id, label, details in findings.values_list("item_id", "label", "details").iterator(2000):
        point = exif_point(item_id, label, details if isinstance(details, dict) else {})
        if point is not None:
            yield point


def link_points(scope: Scope) -> Iterator[Point]:
    """Posting times of confirmed, active item → channel links."""
    if not scope.wants("posted", "first_seen"):
        return
    links = ItemChannelLink.objects.filter(
        item__case_id=scope.case.pk, confidence=LinkConfidence.CONFIRMED, withdrawn_at__isnull=True
    ).select_related("channel")
    if scope.item_ids is not None:
        links = links.filter(item_id__in=scope.item_ids)
    for link in links:
        where = f"{link.channel.get_platform_display()} {link.channel.handle}".strip()
        if link.posted_at is not None:
            yield Point(
                link.posted_at,
                _recorded(link.posted_at),
                "posted",
                link.item_id,
                _("posted in %(channel)s") % {"channel": where},
                _("the platform's posting time, as the investigator recorded it from the channel"),
                TimeTrust.ATTESTED,
            )
        if link.first_seen_at is not None:
            yield Point(
                link.first_seen_at,
                _recorded(link.first_seen_at),
                "first_seen",
                link.item_id,
                _("first seen in %(channel)s") % {"channel": where},
                _("the investigator's record of the channel"),
                TimeTrust.RECORDED,
            )


def takedown_points(scope: Scope) -> Iterator[Point]:
    """Takedown steps (whole-case roles only: they name no item's content, but belong to support files)."""
    if scope.item_ids is not None or not scope.wants("takedown"):
        return
    steps = [
        ("sent_at", TakedownStatus.SENT.label),
        ("acknowledged_at", TakedownStatus.ACKNOWLEDGED.label),
        ("removed_at", TakedownStatus.REMOVED.label),
        ("refused_at", TakedownStatus.REFUSED.label),
    ]
    for takedown in TakedownRequest.objects.filter(support_file__person__case_id=scope.case.pk):
        for name, step in steps:
            moment = getattr(takedown, name)
            if moment is not None:
                yield Point(
                    moment,
                    _recorded(moment),
                    "takedown",
                    None,
                    _("takedown %(number)s to %(platform)s: %(step)s")
                    % {"number": takedown.pk, "platform": takedown.get_platform_display(), "step": step},
                    _("the support worker's record"),
                    TimeTrust.RECORDED,
                )


register("items", item_points)
register("custody", custody_points)
register("exif", exif_points)
register("links", link_points)
register("takedowns", takedown_points)


def _bound(raw: str, name: str, end: bool) -> datetime | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    moment = parse_datetime(raw)
    if moment is None:
        day: date | None = parse_date(raw)
        if day is None:
            raise RejectedInput(
                f"{name} must be a date (2024-05-01) or a date and time with its offset "
                f"(2024-05-01T09:00:00+09:00), not {raw!r}"
            )
        moment = datetime.combine(day, time.max if end else time.min)
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=assumed_zone())
    return moment


def case_timeline(
    *, case: Case, user: Caller, since: str = "", until: str = "", kinds: str = ""
) -> list[Point]:
    """The caller's timeline of the case, oldest first (``case`` from ``access.selectors``)."""
    require(case=case, action=Action.TIMELINE_READ)
    start, end = _bound(since, "since", end=False), _bound(until, "until", end=True)
    wanted = {k.strip() for k in kinds.split(",") if k.strip()}
    item_ids: set[int] | None = None
    if shared_only(getattr(case, "caller_role", None)):
        item_ids = set(
            EvidenceItem.objects.filter(
                case_id=case.pk, pk__in=shared_exhibit_item_ids(user=user)
            ).values_list("pk", flat=True)
        )
    return _collect(Scope(case=case, item_ids=item_ids, kinds=frozenset(wanted), start=start, end=end))


def _collect(scope: Scope, *, unwanted: frozenset[str] = frozenset()) -> list[Point]:
    points: list[Point] = []
    for source in _sources.values():
        for point in source(scope):
            if (scope.kinds and point.kind not in scope.kinds) or point.kind in unwanted:
                continue
            if (scope.start and point.at < scope.start) or (scope.end and point.at > scope.end):
                continue
            points.append(point)
            if len(points) > MAX_POINTS:
                raise RejectedInput(
                    f"more than {MAX_POINTS} points: narrow the timeline with since, until or kind"
                )
    points.sort(key=lambda p: (p.at, p.kind, p.item or 0, p.what))
    return points


def items_timeline(*, case: Case, item_ids: Iterable[int]) -> list[Point]:
    """The timeline of some items of a case (an exhibit's, for the court report), oldest first, without
    custody events (the report lists each item's custody chain in full) or takedown steps (not the items').

    No access check: the caller (the report) decides who may have it made."""
    scope = Scope(case=case, item_ids=set(item_ids))
    return _collect(scope, unwanted=frozenset({"custody"}))


# The codes first (scripts read them), then the words for kind and trust in the caller's language.
CSV_HEADER = [
    "time_utc",
    "local",
    "kind",
    "item",
    "what",
    "time_source",
    "trust",
    "zone_known",
    "kind_label",
    "trust_label",
]


def timeline_rows(points: list[Point]) -> list[list[str]]:
    rows = [CSV_HEADER]
    for point in points:
        data = point.as_json()
        rows.append([str(data[k]) if data[k] is not None else "" for k in ["time", *CSV_HEADER[1:]]])
    return rows
