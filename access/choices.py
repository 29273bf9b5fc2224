"""Choice sets for cases, teams, global roles and legal authorities."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseStatus(models.TextChoices):
    OPEN = "open", _("open")
    REFERRED = "referred", _("referred to prosecution")
    CLOSED = "closed", _("closed")
    ARCHIVED = "archived", _("archived")


class CaseMemberRole(models.TextChoices):
    LEAD = "lead", _("lead investigator")
    INVESTIGATOR = "investigator", _("investigator")
    ANALYST = "analyst", _("analyst")
    PROSECUTOR = "prosecutor", _("prosecutor")
    VICTIM_SUPPORT = "victim_support", _("victim support")
    AUDITOR = "auditor", _("auditor")
    # Held through supervision of the case's unit (``UnitSupervisor``), never given by hand on the team page.
    SUPERVISOR = "supervisor", _("unit supervisor")


class CaseRetention(models.TextChoices):
    """How long a closed case's evidence is kept before review for destruction (the operator's schedule)."""

    STANDARD = "standard", _("standard")
    EXTENDED = "extended", _("extended (serious offence or minor victim)")
    PERMANENT = "permanent", _("permanent (never reviewed for destruction)")


class LegalAuthorityKind(models.TextChoices):
    SEARCH_WARRANT = "search_warrant", _("search and seizure warrant (압수·수색영장)")
    COMMUNICATIONS_ORDER = "communications_order", _("communications data order (통신사실확인자료 허가)")
    VOLUNTARY_SUBMISSION = "voluntary_submission", _("voluntary submission (임의제출)")
    OTHER = "other", _("other authority")


class GlobalRole(models.TextChoices):
    """A user's role in the organisation (a Django group, seeded); case roles come on top of it."""

    INVESTIGATOR = "investigator", _("investigator")
    SUPERVISOR = "supervisor", _("supervisor")
    PROSECUTOR = "prosecutor", _("prosecutor")
    VICTIM_SUPPORT = "victim_support", _("victim support worker")
    AUDITOR = "auditor", _("auditor")
    ADMIN = "admin", _("administrator")


# The caller's standing on a case as the API reports it: a team role, or an administrator's live grant.
CALLER_ROLE_CHOICES = [*CaseMemberRole.choices, ("break_glass", "administrator under a break-glass grant")]


class CaseEventAction(models.TextChoices):
    """The case-level custody actions this app records (values of the ledger's ``CustodyAction``; a test
    checks they agree)."""

    CASE_CREATED = "case_created", _("case created")
    CASE_UPDATED = "case_updated", _("case details changed")
    CASE_STATUS_CHANGED = "case_status_changed", _("case status changed")
    MEMBER_ADDED = "member_added", _("team member added")
    MEMBER_CHANGED = "member_changed", _("team member's role changed")
    MEMBER_REMOVED = "member_removed", _("team member removed")
    AUTHORITY_RECORDED = "authority_recorded", _("legal authority recorded")
    LEGAL_HOLD_CHANGED = "legal_hold_changed", _("legal hold changed")
    BREAK_GLASS = "break_glass", _("administrator break-glass access")
