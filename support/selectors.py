"""Reads of victim support, filtered by who asks: the case comes from ``support_case_get`` (membership and
role checked through the policy); items appear only by id and SHA-256."""

from datetime import datetime, timedelta
from typing import TypeVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, IntegerField, Model, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from access.models import Case
from access.policy import POLICY, Action, require
from access.selectors import case_get_for, case_list
from detection.models import Annotation
from detection.models.runs import ReviewStatus
from evidence.choices import CustodyAction, ItemStatus
from evidence.models import CustodyEvent, EvidenceItem
from haetae.errors import HaetaeError, NotFound
from parties.choices import ItemPersonRelation
from parties.models import ItemPersonLink
from support.choices import TakedownAddressee, TakedownStatus
from support.models import SupportConsent, SupportFile, TakedownReappearance, TakedownRequest

# Requests still waiting on the addressee: a file cannot be closed while any is open.
TAKEDOWN_AWAITING = frozenset({TakedownStatus.SENT, TakedownStatus.ACKNOWLEDGED})


def support_case_get(
    *, user: AbstractBaseUser | AnonymousUser, number: str, action: Action, doing: str | None = None
) -> Case:
    """The caller's case by number (404 for non-members), once their role may take ``action`` (else 403)."""
    case = case_get_for(user=user, number=number)
    require(case=case, action=action, doing=doing)
    return case


def support_file_list(*, case: Case) -> QuerySet[SupportFile]:
    """Support files of the case's victims, with people, workers and consents loaded in a fixed number of
    queries."""
    return (
        SupportFile.objects.filter(person__case=case)
        .select_related("person", "assigned_worker", "opened_by", "status_changed_by")
        .prefetch_related(
            Prefetch(
                "consents",
                queryset=SupportConsent.objects.select_related("given_recorded_by", "withdrawn_recorded_by"),
            )
        )
        .order_by("id")
    )


_Row = TypeVar("_Row", bound=Model)


def _one_in_case(rows: QuerySet[_Row], pk: int, *, case: Case, what: str, listed_at: str) -> _Row:
    """The row ``pk`` among the case's ``rows``, or NotFound saying where the case's rows are listed."""
    row = rows.filter(pk=pk).first()
    if row is None:
        raise NotFound(
            f"no {what} {pk} in case {case.number}: list them with "
            f"GET /api/v1/cases/{case.number}/{listed_at}/"
        )
    return row


def support_file_get(*, case: Case, support_file_id: int) -> SupportFile:
    return _one_in_case(
        support_file_list(case=case),
        support_file_id,
        case=case,
        what="support file",
        listed_at="support-files",
    )


def consent_list(*, support_file: SupportFile) -> QuerySet[SupportConsent]:
    return SupportConsent.objects.filter(support_file=support_file).select_related(
        "given_recorded_by", "withdrawn_recorded_by"
    )


def consent_get(*, support_file: SupportFile, consent_id: int) -> SupportConsent:
    consent = consent_list(support_file=support_file).filter(pk=consent_id).first()
    if consent is None:
        raise NotFound(f"no consent {consent_id} on support file {support_file.pk}")
    return consent


def consent_in_force(*, support_file: SupportFile, kind: str) -> SupportConsent | None:
    return SupportConsent.objects.filter(
        support_file=support_file, kind=kind, withdrawn_at__isnull=True
    ).first()


def _takedowns_shown() -> QuerySet[TakedownRequest]:
    """Takedown requests with everything the API shows loaded up front (unfiltered: callers filter)."""
    return (
        TakedownRequest.objects.select_related(
            "support_file__person__case",
            "created_by",
            "sent_by",
            "acknowledged_by",
            "removed_recorded_by",
            "refused_recorded_by",
        )
        .prefetch_related(
            Prefetch("items", queryset=EvidenceItem.objects.only("id", "blob_id").order_by("id")),
            Prefetch("reappearances", queryset=TakedownReappearance.objects.select_related("recorded_by")),
        )
        .order_by("id")
    )


def takedown_list(*, case: Case) -> QuerySet[TakedownRequest]:
    """Takedown requests of the case's support files."""
    return _takedowns_shown().filter(support_file__person__case=case)


def takedown_get(*, case: Case, takedown_id: int) -> TakedownRequest:
    return _one_in_case(
        takedown_list(case=case), takedown_id, case=case, what="takedown request", listed_at="takedowns"
    )


def victim_depicting_links(*, support_file: SupportFile) -> QuerySet[ItemPersonLink]:
    """The victim's 'depicts' links (confirmed and suspected, not withdrawn) to stored items of their case."""
    return ItemPersonLink.objects.filter(
        person_id=support_file.person_id,
        relation=ItemPersonRelation.DEPICTS,
        withdrawn_at__isnull=True,
        item__case_id=support_file.person.case_id,
        item__status=ItemStatus.INGESTED,
        item__blob__isnull=False,
    )


def victim_item_links(*, support_file: SupportFile) -> QuerySet[ItemPersonLink]:
    """The stored items linked to the victim as 'depicts' (confirmed and suspected, not withdrawn), each
    with how many PDQ hashes it has: references and digests for takedowns and exports, never content."""
    pdq_count = (
        Annotation.objects.filter(item_id=OuterRef("item_id"), label=PDQ_LABEL)
        .exclude(review_status=ReviewStatus.REJECTED)
        .order_by()
        .values("item_id")
        .annotate(total=Count("pk"))
        .values("total")
    )
    return (
        victim_depicting_links(support_file=support_file)
        .select_related("item__blob")
        .annotate(pdq_count=Coalesce(Subquery(pdq_count, output_field=IntegerField()), Value(0)))
        .order_by("item_id", "id")
    )


def takedown_overdue_days() -> dict[str, int]:
    """Days after which an unanswered request is overdue, per addressee (HAETAE_TAKEDOWN_OVERDUE_DAYS)."""
    configured: dict[str, int] = dict(getattr(settings, "HAETAE_TAKEDOWN_OVERDUE_DAYS", {}) or {})
    default = configured.pop("default", 3)
    unknown = sorted(set(configured) - set(TakedownAddressee.values))
    if unknown:
        raise HaetaeError(
            f"HAETAE_TAKEDOWN_OVERDUE_DAYS names unknown addressees {', '.join(unknown)}: use "
            f"{', '.join(TakedownAddressee.values)}"
        )
    return {addressee: configured.get(addressee, default) for addressee in TakedownAddressee.values}


def takedown_overdue_filter(*, now: datetime | None = None) -> Q:
    """Requests sent and not answered, or acknowledged and not resolved, for longer than their limit."""
    now = now or timezone.now()
    condition = Q(pk__in=[])
    for addressee, days in takedown_overdue_days().items():
        cutoff = now - timedelta(days=days)
        condition |= Q(addressee=addressee) & (
            Q(status=TakedownStatus.SENT, sent_at__lt=cutoff)
            | Q(status=TakedownStatus.ACKNOWLEDGED, acknowledged_at__lt=cutoff)
        )
    return condition


def takedown_overdue(*, case: Case, now: datetime | None = None) -> QuerySet[TakedownRequest]:
    """The case's overdue requests, the longest-waiting first."""
    return (
        takedown_list(case=case)
        .filter(takedown_overdue_filter(now=now))
        .order_by("sent_at", "acknowledged_at", "id")
    )


def takedown_overdue_across_cases(
    *, user: AbstractBaseUser | AnonymousUser, now: datetime | None = None
) -> QuerySet[TakedownRequest]:
    """Overdue requests of every case where the caller is a support worker or the lead."""
    # caller_role is case_list's annotation (the stubs do not know it).
    cases = case_list(user=user).filter(caller_role__in=POLICY[Action.SUPPORT_READ]).values("pk")  # type: ignore[misc]
    return (
        _takedowns_shown()
        .filter(support_file__person__case__in=cases)
        .filter(takedown_overdue_filter(now=now))
        .order_by("sent_at", "acknowledged_at", "id")
    )


def takedown_waiting_since(takedown: TakedownRequest) -> datetime | None:
    """Since when the request has waited on the addressee (sent, or acknowledged), or None if it is not."""
    if takedown.status == TakedownStatus.SENT:
        return takedown.sent_at
    if takedown.status == TakedownStatus.ACKNOWLEDGED:
        return takedown.acknowledged_at
    return None


def takedown_is_overdue(takedown: TakedownRequest, *, now: datetime | None = None) -> bool:
    since = takedown_waiting_since(takedown)
    if since is None:
        return False
    days = takedown_overdue_days()[takedown.addressee]
    return since < (now or timezone.now()) - timedelta(days=days)


def hash_export_history(*, case: Case, support_file: SupportFile) -> QuerySet[CustodyEvent]:
    """Past hash exports of a support file, newest first, read from the ledger (who, when, to whom)."""
    return CustodyEvent.objects.filter(
        case=case,
        item__isnull=True,
        action=CustodyAction.HASHES_EXPORTED,
        details__support_file=support_file.pk,
    ).order_by("-seq")


def assigned_worker_of(person_id: int) -> int | None:
    """The user id of the support worker assigned to the person's support file (provided to parties)."""
    return (
        SupportFile.objects.filter(person_id=person_id).values_list("assigned_worker_id", flat=True).first()
    )


# Detection's PDQ annotations (details: "hash" 64 hex, "quality" int) carry this label, whichever detector
# made them: the image PDQ detector, or a video detector hashing sampled frames (with time_start_ms).
PDQ_LABEL = "pdq"
