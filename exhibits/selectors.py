"""Reads on exhibits, reports and export bundles, filtered by who asks.

- Every team member (and an administrator under a live break-glass grant) sees the case's exhibits, except a
  prosecutor, who sees only those shared with them (status ``shared``; withdrawn ones drop out).
- victim_support and auditor see an exhibit's number, status, item references and dates, never its
  description, opinion or withdrawal reason: those are free text written for the court, which may describe
  the material itself and name people (``Action.EXHIBIT_SUMMARY``).
- Reports and bundles: lead, investigator and analyst see all of the case's; a prosecutor sees those whose
  every exhibit is shared with them; the auditor sees the rows (that a report was made, its SHA-256) but
  never downloads one (a report carries blurred thumbnails, a bundle the originals); victim_support sees
  none (``Action.REPORT_READ``, ``Action.REPORT_DOWNLOAD``).
"""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet

from access.models import Case, CaseMember
from access.policy import (
    SHARED_ONLY_ROLES,
    Action,
    access_role_expression,
    case_memberships,
    live_grants,
    require,
    role_may,
    shared_only,
)
from exhibits.choices import ExhibitStatus
from exhibits.models import Exhibit, ExhibitItem, ExportBundle, Report
from haetae.errors import AccessDenied, NotFound

Caller = AbstractBaseUser | AnonymousUser


def exhibit_list(*, case: Case) -> QuerySet[Exhibit]:
    """The exhibits of a case resolved through ``case_get_for`` (``caller_role`` annotated), as that caller
    may see them: a prosecutor only the shared ones. Items (ids, in order) prefetched."""
    exhibits = Exhibit.objects.filter(case_id=case.pk)
    if shared_only(getattr(case, "caller_role", None)):
        exhibits = exhibits.filter(status=ExhibitStatus.SHARED)
    return exhibits.select_related(
        "case", "created_by", "approval_requested_by", "approved_by", "shared_by", "withdrawn_by"
    ).prefetch_related("exhibit_items")


def exhibit_get(*, case: Case, number: str) -> Exhibit:
    """One exhibit of the case by number (E-001), as ``exhibit_list`` shows it; NotFound otherwise."""
    exhibit = exhibit_list(case=case).filter(number=number.upper()).first()
    if exhibit is None:
        raise NotFound(
            f"no exhibit {number} in case {case.number} among those you may see: list them with "
            f"GET /api/v1/cases/{case.number}/exhibits/"
        )
    return exhibit


def exhibits_by_numbers(*, case: Case, numbers: list[str]) -> list[Exhibit]:
    """The named exhibits of the case, as the caller may see them, in the order given; names each missing."""
    wanted = [n.strip().upper() for n in numbers if n.strip()]
    found = {e.number: e for e in exhibit_list(case=case).filter(number__in=wanted)}
    missing = [n for n in wanted if n not in found]
    if missing:
        raise NotFound(f"no exhibit {', '.join(missing)} in case {case.number} among those you may see")
    return [found[n] for n in dict.fromkeys(wanted)]


def _unshared_exhibit(model: type[Report] | type[ExportBundle]) -> Exists:
    through = model.exhibits.through
    column = "report_id" if model is Report else "exportbundle_id"
    return Exists(
        through.objects.filter(**{column: OuterRef("pk")}).exclude(exhibit__status=ExhibitStatus.SHARED)
    )


def _visible(model: type[Report] | type[ExportBundle], user: Caller) -> QuerySet:
    """Rows of the cases where the user's role reads reports; a prosecutor's only when all shared."""
    if not user.is_authenticated:
        return model.objects.none()
    memberships = case_memberships(action=Action.REPORT_READ).filter(user_id=user.pk)
    on_any_team = CaseMember.objects.filter(user_id=user.pk).values("case_id")
    granted = live_grants(user=user).exclude(case_id__in=on_any_team).values("case_id")
    whole = memberships.exclude(role__in=SHARED_ONLY_ROLES).values("case_id")
    prosecuted = memberships.filter(role__in=SHARED_ONLY_ROLES).values("case_id")
    return model.objects.filter(
        Q(case_id__in=whole)
        | Q(case_id__in=granted)
        | (Q(case_id__in=prosecuted) & ~Q(_unshared_exhibit(model)))
    ).select_related("case", "requested_by")


def report_list_for(*, user: Caller) -> QuerySet[Report]:
    """Reports the user may see (see the module docstring), newest first."""
    return _visible(Report, user).order_by("-requested_at", "-pk")


def bundle_list_for(*, user: Caller) -> QuerySet[ExportBundle]:
    """Export bundles the user may see (as reports), newest first."""
    return _visible(ExportBundle, user).order_by("-requested_at", "-pk")


def _role_gate(case: Case, kind: str) -> None:
    role = getattr(case, "caller_role", None)
    if role and not role_may(role, Action.ITEM_RECORDS):
        raise AccessDenied(
            f"victim support does not receive {kind}s: they carry (blurred) images of the evidence; the "
            "takedown and hash export pages have what support needs",
            details={"role": role},
        )
    require(case=case, action=Action.REPORT_READ, doing=f"see {kind}s")


def case_reports(*, case: Case, user: Caller) -> QuerySet[Report]:
    """The reports of one case (resolved through ``case_get_for``) that the user may see."""
    _role_gate(case, "report")
    return report_list_for(user=user).filter(case_id=case.pk)


def case_bundles(*, case: Case, user: Caller) -> QuerySet[ExportBundle]:
    """The export bundles of one case that the user may see."""
    _role_gate(case, "export bundle")
    return bundle_list_for(user=user).filter(case_id=case.pk)


def _annotated(rows: QuerySet, user: Caller) -> QuerySet:
    return rows.annotate(caller_role=access_role_expression(user=user, case_ref="case_id"))


def report_get_for(*, user: Caller, report_id: int) -> Report:
    """One report the user may see, with ``caller_role``; NotFound otherwise (the same for all reasons)."""
    report = _annotated(report_list_for(user=user), user).filter(pk=report_id).first()
    if report is None:
        raise NotFound(f"no report {report_id} among those of your cases that you may see")
    return report


def bundle_get_for(*, user: Caller, bundle_id: int) -> ExportBundle:
    """One export bundle the user may see, with ``caller_role``; NotFound otherwise."""
    bundle = _annotated(bundle_list_for(user=user), user).filter(pk=bundle_id).first()
    if bundle is None:
        raise NotFound(f"no export bundle {bundle_id} among those of your cases that you may see")
    return bundle


def download_allowed(*, row: Report | ExportBundle, kind: str) -> None:
    """AccessDenied unless the caller's role (``caller_role`` from ``*_get_for``) downloads ``kind``."""
    role = getattr(row, "caller_role", None)
    if not role_may(
        role, Action.BUNDLE_DOWNLOAD if isinstance(row, ExportBundle) else Action.REPORT_DOWNLOAD
    ):
        raise AccessDenied(
            f"the {role} role does not download {kind}s (they carry images of the evidence); its row, "
            "status and SHA-256 are what you may see",
            details={"role": role},
        )


def shared_item_ids_of(case_ids: QuerySet[Any]) -> QuerySet[Any]:
    """Ids (``values("item_id")``) of the items in the shared exhibits of ``case_ids`` (withdrawn ones drop
    out): what a prosecutor on those cases may see. Provided to ``access.hooks``."""
    return ExhibitItem.objects.filter(
        exhibit__status=ExhibitStatus.SHARED, exhibit__case_id__in=case_ids
    ).values("item_id")


def shared_exhibit_numbers_of(case_id: int) -> list[str]:
    """Numbers of the case's shared exhibits. Provided to ``access.hooks``."""
    shared = Exhibit.objects.filter(case_id=case_id, status=ExhibitStatus.SHARED)
    return list(shared.values_list("number", flat=True))
