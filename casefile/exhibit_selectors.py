"""Reads on exhibits, reports and export bundles, filtered by who asks.

The case comes from ``casefile.selectors.case_get_for`` (membership first, with ``caller_role``); then the
role decides: prosecutors see only exhibits shared with them, and only the reports and bundles that cover
nothing else; victim support sees none of it (exhibits name files and hold the investigator's opinion);
everyone else on the team, auditors and break-glass readers included, sees every exhibit. Items inside an
exhibit are always narrowed through ``evidence_visible_to`` as well, so a change to the item rule (such as
the prosecutor rule) applies here without a second copy of it.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, QuerySet

from casefile.choices import ExhibitStatus
from casefile.models import Case, Exhibit, ExhibitItem, ExportBundle, Report
from evidence.selectors import PROSECUTOR_ROLE, VICTIM_SUPPORT_ROLE, evidence_visible_to
from haetae.errors import AccessDenied, NotFound

Caller = AbstractBaseUser | AnonymousUser


def _role(case: Case) -> str | None:
    role = getattr(case, "caller_role", None)
    if role is None:
        raise TypeError("pass a case from casefile.selectors.case_get_for (it carries the caller's role)")
    return str(role)


def _refuse_support(case: Case) -> None:
    if _role(case) == VICTIM_SUPPORT_ROLE:
        raise AccessDenied(
            f"victim support does not see the exhibits of case {case.number} (they name files and hold the "
            "investigators' opinion): the support pages list what you need"
        )


def exhibit_list_for(*, case: Case) -> QuerySet[Exhibit]:
    """The case's exhibits the caller may see, in number order, with ``item_count`` and the people loaded."""
    _refuse_support(case)
    exhibits = Exhibit.objects.filter(case_id=case.pk)
    if _role(case) == PROSECUTOR_ROLE:
        exhibits = exhibits.filter(status=ExhibitStatus.SHARED)
    return (
        exhibits.select_related("case", "created_by", "approved_by", "shared_by", "withdrawn_by")
        .annotate(item_count=Count("exhibit_items"))
        .order_by("sequence")
    )


def exhibit_get_for(*, case: Case, number: str) -> Exhibit:
    """One exhibit by number (E-001) if the caller may see it; NotFound otherwise."""
    exhibit = exhibit_list_for(case=case).filter(number=number.upper()).first()
    if exhibit is None:
        raise NotFound(f"no exhibit {number} in case {case.number} among those you may see")
    return exhibit


def exhibit_items_for(*, user: Caller, exhibit: Exhibit) -> QuerySet[ExhibitItem]:
    """The exhibit's items in order, each with its item and blob, narrowed by the item visibility rule."""
    return (
        ExhibitItem.objects.filter(
            exhibit_id=exhibit.pk, item_id__in=evidence_visible_to(user=user).values("pk")
        )
        .select_related("item", "item__blob")
        .order_by("position")
    )


def _covering_only_shared(rows: QuerySet) -> QuerySet:
    return rows.exclude(exhibits__status__in=[s for s in ExhibitStatus.values if s != ExhibitStatus.SHARED])


def report_list_for(*, case: Case) -> QuerySet[Report]:
    """Report versions of the case the caller may see: prosecutors only those covering shared exhibits."""
    _refuse_support(case)
    reports = Report.objects.filter(case_id=case.pk)
    if _role(case) == PROSECUTOR_ROLE:
        reports = _covering_only_shared(reports)
    return reports.select_related("requested_by").order_by("-requested_at", "-pk")


def report_get_for(*, case: Case, report_pk: int) -> Report:
    report = report_list_for(case=case).filter(pk=report_pk).first()
    if report is None:
        raise NotFound(f"no report {report_pk} in case {case.number} among those you may see")
    return report


def bundle_list_for(*, case: Case) -> QuerySet[ExportBundle]:
    """Export bundles of the case the caller may see: prosecutors only those covering shared exhibits."""
    _refuse_support(case)
    bundles = ExportBundle.objects.filter(case_id=case.pk)
    if _role(case) == PROSECUTOR_ROLE:
        bundles = _covering_only_shared(bundles)
    return bundles.select_related("requested_by", "report").order_by("-requested_at", "-pk")


def bundle_get_for(*, case: Case, bundle_pk: int) -> ExportBundle:
    bundle = bundle_list_for(case=case).filter(pk=bundle_pk).first()
    if bundle is None:
        raise NotFound(f"no export bundle {bundle_pk} in case {case.number} among those you may see")
    return bundle
