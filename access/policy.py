"""Who may do what: the one policy table, and the one predicate, gate and queryset restriction over it.

Need-to-know is membership first, role second, a reason for every look at content. Membership and the
caller's role on a case (a team role, or ``break_glass`` for an administrator under a live grant) are
looked up here; which role may take which ``Action`` is ``POLICY``, and nowhere else. Every door (API view,
portal view, service, management command) asks ``may`` / ``require`` / ``restrict``:

- ``may(user=…, case=…, action=…)`` — a yes or no;
- ``require(case=…, action=…, doing=…)`` — AccessDenied with a message that says what the caller's role is,
  which roles may, and whom to ask; the case comes from ``access.selectors`` with ``caller_role`` annotated;
- ``restrict(queryset, user=…, action=…)`` — the rows of the cases on which the user may take the action
  (NetBox's ``RestrictedQuerySet.restrict(user, action)`` is the model).

Two rules sit beside the table because they are not "role → action": a prosecutor takes the ``*_SHARED``
actions only on the items of the case's shared exhibits (``access.hooks`` asks the exhibits app which), and
``NEVER_CONTENT_ROLES`` never receive content or previews whatever reason they give (DESIGN invariant 4).
"""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Case as CaseWhen
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery, TextChoices, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from access.choices import CaseMemberRole, GlobalRole
from access.models import BreakGlassGrant, Case, CaseMember
from haetae.errors import AccessDenied

Caller = AbstractBaseUser | AnonymousUser

# Not a team role: an administrator holding a live break-glass grant on the case (read-only, no content).
BREAK_GLASS_ROLE = "break_glass"

LEAD = CaseMemberRole.LEAD
INVESTIGATOR = CaseMemberRole.INVESTIGATOR
ANALYST = CaseMemberRole.ANALYST
PROSECUTOR = CaseMemberRole.PROSECUTOR
VICTIM_SUPPORT = CaseMemberRole.VICTIM_SUPPORT
AUDITOR = CaseMemberRole.AUDITOR
SUPERVISOR = CaseMemberRole.SUPERVISOR


class Action(TextChoices):
    """Everything a role set gates. Each label is the phrase a refusal uses ("only … may <label>"), in English
    like the other API and command messages."""

    CASE_OPEN = "case_open", "open a case"
    CASE_CHANGE = "case_change", "change the case"
    TEAM_CHANGE = "team_change", "change the team"
    BREAK_GLASS_SEE = "break_glass_see", "see who broke the glass on the case"
    PEOPLE_RECORD = "people_record", "record people, identities and legal authorities"
    IDENTITY_READ = "identity_read", "read people's restricted identities and reference photos"
    LINKS_RECORD = "links_record", "record channels and observations, assert and withdraw links"
    EVIDENCE_INGEST = "evidence_ingest", "add evidence to it"
    DETECTION_RUN = "detection_run", "run detectors on its evidence"
    FINDING_REVIEW = "finding_review", "review findings"
    BANK_MATCHES_SEE = "bank_matches_see", "see hash-bank matches"
    VICTIM_BANK_CHANGE = "victim_bank_change", "read and add to the case's victim hash bank"
    CONTENT_VIEW = "content_view", "see evidence content and previews"
    CONTENT_VIEW_SHARED = "content_view_shared", "see the content of items in shared exhibits"
    EXHIBIT_SUMMARY = "exhibit_summary", "see exhibits as numbers, statuses and item references only"
    EXHIBIT_DRAFT = "exhibit_draft", "draft exhibits"
    EXHIBIT_APPROVE = "exhibit_approve", "approve exhibits"
    EXHIBIT_SHARE = "exhibit_share", "share and withdraw exhibits"
    REPORT_REQUEST = "report_request", "ask for reports"
    REPORT_READ = "report_read", "see report and bundle rows"
    REPORT_DOWNLOAD = "report_download", "download reports"
    BUNDLE_EXPORT = "bundle_export", "export bundles"
    BUNDLE_DOWNLOAD = "bundle_download", "download bundles"
    INTERCHANGE_EXPORT = "interchange_export", "export items for other tools"
    LEDGER_READ = "ledger_read", "read the custody ledger and access logs"
    SUPPORT_READ = "support_read", "see victim support records"
    SUPPORT_WRITE = "support_write", "change victim support records"
    SUPPORT_NOTES = "support_notes", "read and write restricted support notes"
    # Retention and destruction (the records app): three different people take the three steps.
    DESTRUCTION_REQUEST = "destruction_request", "request, withdraw and carry out destruction orders"
    DESTRUCTION_AUTHORISE = "destruction_authorise", "authorise or refuse destruction orders"
    DESTRUCTION_WITNESS = "destruction_witness", "witness destructions"
    DESTRUCTION_READ = "destruction_read", "see destruction orders (items by id and hashes)"
    # The certificate names each item's original path, and a file name can name a victim.
    DESTRUCTION_CERTIFICATE = "destruction_certificate", "download destruction certificates"
    DESTRUCTION_CERTIFICATE_ISSUE = (
        "destruction_certificate_issue",
        "issue a destruction certificate again (when signing failed at execution)",
    )
    # Korean procedure records (the records app, docs/korean-procedure.md).
    PROCEDURE_RECORD = (
        "procedure_record",
        "record scene hash confirmations and issue detailed lists and export confirmations",
    )
    PROCEDURE_READ = "procedure_read", "see and download procedure records"
    UNRELATED_MARK = "unrelated_mark", "mark items unrelated to the warrant, or withdraw such a mark"
    UNRELATED_DISPOSE = "unrelated_dispose", "record the return or deletion of items unrelated to the warrant"
    # Everyone on the case but victim support: file names, sources and custody can name a victim.
    ITEM_RECORDS = "item_records", "see item file names, sources, custody records and the exhibit pages"
    MATCH_ALERTS = "match_alerts", "receive cross-case match alerts and be named as the case's contact"
    MESSAGES_LIST = "messages_list", "see the case's messages as ids, times and item references"
    # Captures of reported URLs (the captures app): asking for one and following it is not seeing it.
    CAPTURE_REQUEST = "capture_request", "ask for a reported URL to be captured and follow its status"
    CAPTURE_RESULT = "capture_result", "see what a capture found (its items, final address, server, headers)"
    # Search and the timeline (the search app). Search results quote the material (OCR, documents, prompts).
    CASE_SEARCH = "case_search", "search the text of its evidence"
    CROSS_CASE_SEARCH = "cross_case_search", "search the text of all their cases at once"
    TIMELINE_READ = "timeline_read", "see the case timeline"
    # Faces (parties.facesearch, parties.faceclusters): a victim's reference photos against every case.
    FACE_SEARCH = "face_search", "search every case for a victim's face with their reference photos"
    FACE_CLUSTERS = "face_clusters", "see the case's unknown faces grouped and name a group"


# Which case roles may take each action. Global-role actions (``GLOBAL_ACTIONS``) list global roles.
POLICY: dict[Action, frozenset[str]] = {
    Action.CASE_OPEN: frozenset({GlobalRole.INVESTIGATOR, GlobalRole.SUPERVISOR}),
    Action.CASE_CHANGE: frozenset({LEAD}),
    Action.TEAM_CHANGE: frozenset({LEAD}),
    Action.BREAK_GLASS_SEE: frozenset({LEAD}),
    Action.PEOPLE_RECORD: frozenset({LEAD, INVESTIGATOR}),
    # Besides these, a victim's assigned support worker (parties.hooks.assigned_worker_id) while on the team.
    Action.IDENTITY_READ: frozenset({LEAD}),
    Action.LINKS_RECORD: frozenset({LEAD, INVESTIGATOR, ANALYST}),
    Action.EVIDENCE_INGEST: frozenset({LEAD, INVESTIGATOR, ANALYST}),
    Action.DETECTION_RUN: frozenset({LEAD, INVESTIGATOR, ANALYST}),
    Action.FINDING_REVIEW: frozenset({LEAD, INVESTIGATOR, ANALYST}),
    Action.BANK_MATCHES_SEE: frozenset({LEAD, INVESTIGATOR, ANALYST}),
    # Administrators manage every bank (detection.match_selectors.is_bank_admin); a case role, this one only.
    Action.VICTIM_BANK_CHANGE: frozenset({LEAD}),
    Action.CONTENT_VIEW: frozenset({LEAD, INVESTIGATOR, ANALYST}),
    Action.CONTENT_VIEW_SHARED: frozenset({PROSECUTOR}),
    Action.EXHIBIT_SUMMARY: frozenset({VICTIM_SUPPORT, AUDITOR}),
    Action.EXHIBIT_DRAFT: frozenset({LEAD, INVESTIGATOR}),
    # A supervisor (global role) approves from within the team in one of these roles, never their own exhibit.
    Action.EXHIBIT_APPROVE: frozenset({LEAD, INVESTIGATOR, ANALYST, AUDITOR}),
    Action.EXHIBIT_SHARE: frozenset({LEAD}),
    Action.REPORT_REQUEST: frozenset({LEAD, INVESTIGATOR}),
    # The prosecutor sees only the rows whose every exhibit is shared with them.
    Action.REPORT_READ: frozenset({LEAD, INVESTIGATOR, ANALYST, PROSECUTOR, AUDITOR, BREAK_GLASS_ROLE}),
    # The prosecutor downloads only reports and bundles whose every exhibit is shared with them.
    Action.REPORT_DOWNLOAD: frozenset({LEAD, INVESTIGATOR, PROSECUTOR}),
    Action.BUNDLE_EXPORT: frozenset({LEAD, INVESTIGATOR}),
    Action.BUNDLE_DOWNLOAD: frozenset({LEAD, INVESTIGATOR, PROSECUTOR}),
    Action.INTERCHANGE_EXPORT: frozenset({LEAD, INVESTIGATOR}),
    Action.LEDGER_READ: frozenset({AUDITOR}),
    Action.SUPPORT_READ: frozenset({VICTIM_SUPPORT, LEAD}),
    Action.SUPPORT_WRITE: frozenset({VICTIM_SUPPORT}),
    Action.SUPPORT_NOTES: frozenset({VICTIM_SUPPORT}),
    # Retention and destruction. The authoriser also holds the supervisor global role (as for exhibits);
    # neither the authoriser nor the witness may be the requester, nor the witness the authoriser.
    Action.DESTRUCTION_REQUEST: frozenset({LEAD}),
    Action.DESTRUCTION_AUTHORISE: frozenset({LEAD, INVESTIGATOR, ANALYST, AUDITOR}),
    Action.DESTRUCTION_WITNESS: frozenset({LEAD, INVESTIGATOR, ANALYST, AUDITOR}),
    Action.DESTRUCTION_READ: frozenset({LEAD, INVESTIGATOR, ANALYST, AUDITOR, BREAK_GLASS_ROLE}),
    # The certificate lists each item's original path (a file name can name a victim): not the auditor, who
    # reads the orders' ids, hashes and steps. Signing it again writes a custody event: not under break-glass.
    Action.DESTRUCTION_CERTIFICATE: frozenset({LEAD, INVESTIGATOR, ANALYST, BREAK_GLASS_ROLE}),
    Action.DESTRUCTION_CERTIFICATE_ISSUE: frozenset({LEAD, INVESTIGATOR, ANALYST}),
    # Korean procedure records: the investigators who seize write them; the documents name files and places
    # (no content), so the analyst and the auditor read them too. Returning or deleting an unrelated item
    # erases the vault's copy: the lead does that.
    Action.PROCEDURE_RECORD: frozenset({LEAD, INVESTIGATOR}),
    Action.PROCEDURE_READ: frozenset({LEAD, INVESTIGATOR, ANALYST, AUDITOR}),
    Action.UNRELATED_MARK: frozenset({LEAD, INVESTIGATOR}),
    Action.UNRELATED_DISPOSE: frozenset({LEAD}),
    # The others see items as pseudonymised references (item-ID) with their hashes, and the graph as text.
    Action.ITEM_RECORDS: frozenset({LEAD, INVESTIGATOR, ANALYST, PROSECUTOR, AUDITOR, BREAK_GLASS_ROLE}),
    Action.MATCH_ALERTS: frozenset({LEAD}),
    # Messages parsed from exports and extraction reports, without their text, senders' names or chat
    # titles: those quote the material and name people, so reading them is a content view of the export
    # file they were parsed from (CONTENT_VIEW, with a reason, on record), which victim_support and auditor
    # never receive (docs/access.md).
    Action.MESSAGES_LIST: frozenset({LEAD, INVESTIGATOR, ANALYST, VICTIM_SUPPORT, AUDITOR}),
    # A support worker reports the links victims bring and follows the capture; the result quotes the page.
    Action.CAPTURE_REQUEST: frozenset({LEAD, INVESTIGATOR, ANALYST, VICTIM_SUPPORT}),
    Action.CAPTURE_RESULT: frozenset({LEAD, INVESTIGATOR, ANALYST}),
    # The prosecutor searches only the items of shared exhibits; victim support and auditors never search
    # (every hit quotes the material), nor does a break-glass grant (metadata only).
    Action.CASE_SEARCH: frozenset({LEAD, INVESTIGATOR, ANALYST, PROSECUTOR}),
    # A lead searches every case they may search; a hit in a case they are not on says only that it exists
    # and whom to ask (the rule of cross-case hash matches).
    Action.CROSS_CASE_SEARCH: frozenset({LEAD}),
    # Times and their sources, items by id: as item records (the prosecutor: shared exhibits' items only).
    Action.TIMELINE_READ: frozenset({LEAD, INVESTIGATOR, ANALYST, PROSECUTOR, AUDITOR, BREAK_GLASS_ROLE}),
    # The reference photos are the victim's identity (IDENTITY_READ); the search reaches other cases.
    Action.FACE_SEARCH: frozenset({LEAD}),
    Action.FACE_CLUSTERS: frozenset({LEAD, INVESTIGATOR, ANALYST}),
}

# Actions decided by the user's global role (a Django group), not a role on a case.
GLOBAL_ACTIONS = frozenset({Action.CASE_OPEN})

# A unit supervisor (the ``supervisor`` case role, held on every case of the units they supervise) may all an
# investigator may on those cases (DESIGN.md), and these: approve exhibits, assign the team, authorise
# destruction. Derived here, in the table's own module, so that a new row an investigator is given reaches
# the supervisor too; content still needs a stated reason like every look at content.
SUPERVISOR_BEYOND_INVESTIGATOR = frozenset(
    {Action.EXHIBIT_APPROVE, Action.TEAM_CHANGE, Action.DESTRUCTION_AUTHORISE}
)
POLICY = {
    action: roles | {SUPERVISOR}
    if action not in GLOBAL_ACTIONS and (INVESTIGATOR in roles or action in SUPERVISOR_BEYOND_INVESTIGATOR)
    else roles
    for action, roles in POLICY.items()
}

# Team roles that never receive content or previews, blurred or not, whatever reason they give.
NEVER_CONTENT_ROLES = frozenset({VICTIM_SUPPORT, AUDITOR})

# Roles that see a case only through its shared exhibits: their items, the reports and bundles made wholly
# of them, and the links naming only them.
SHARED_ONLY_ROLES = frozenset(POLICY[Action.CONTENT_VIEW_SHARED] - POLICY[Action.CONTENT_VIEW])

# A user holding a global role may take only these case roles (users with no global role: any).
CASE_ROLES_FOR_GLOBAL_ROLE: dict[str, frozenset[str]] = {
    GlobalRole.INVESTIGATOR: frozenset({LEAD, INVESTIGATOR, ANALYST}),
    GlobalRole.SUPERVISOR: frozenset({LEAD, INVESTIGATOR, ANALYST, AUDITOR, SUPERVISOR}),
    GlobalRole.PROSECUTOR: frozenset({PROSECUTOR}),
    GlobalRole.VICTIM_SUPPORT: frozenset({VICTIM_SUPPORT}),
    GlobalRole.AUDITOR: frozenset({AUDITOR}),
    # Administrators run the system; they reach a case only by a logged break-glass, never as members.
    GlobalRole.ADMIN: frozenset(),
}


def _signed_in(user: Caller) -> bool:
    return bool(user.is_authenticated and getattr(user, "is_active", False))


def user_pk(user: Caller) -> int:
    """The user's id for lookups (0 matches nobody: a signed-out caller)."""
    return int(user.pk or 0)


def live_grants(*, user: Caller) -> QuerySet[Any]:
    """The user's break-glass grants that have neither expired nor been ended."""
    if not _signed_in(user):
        return BreakGlassGrant.objects.none()
    return BreakGlassGrant.objects.filter(
        user_id=user_pk(user), ended_at__isnull=True, expires_at__gt=timezone.now()
    )


def access_role_expression(*, user: Caller, case_ref: str) -> Coalesce:
    """An SQL expression for the user's role on the case at ``case_ref`` (an OuterRef path to a case id):
    the team role, else ``break_glass`` under a live grant, else NULL."""
    team_role = CaseMember.objects.filter(case_id=OuterRef(case_ref), user_id=user_pk(user)).values("role")[
        :1
    ]
    granted = live_grants(user=user).filter(case_id=OuterRef(case_ref))
    return Coalesce(
        Subquery(team_role),
        CaseWhen(When(Exists(granted), then=Value(BREAK_GLASS_ROLE)), default=Value(None)),
    )


def case_access_role(*, user: Caller, case_id: int) -> str | None:
    """The user's role on one case: team role, ``break_glass`` under a live grant, or None (no access)."""
    if not _signed_in(user):
        return None
    role = CaseMember.objects.filter(case_id=case_id, user_id=user_pk(user)).values_list("role", flat=True)
    found = role.first()
    if found:
        return str(found)
    return BREAK_GLASS_ROLE if live_grants(user=user).filter(case_id=case_id).exists() else None


def role_may(role: str | None, action: Action) -> bool:
    """Whether a role (a case role, ``break_glass``, or for ``GLOBAL_ACTIONS`` a global role) may act."""
    return role is not None and role in POLICY[action]


def shared_only(role: str | None) -> bool:
    """Whether the role sees the case only through its shared exhibits (``SHARED_ONLY_ROLES``)."""
    return role in SHARED_ONLY_ROLES


def case_memberships(*, action: Action, shared_only: bool | None = None) -> QuerySet[Any]:
    """Team memberships whose role may take ``action`` (``shared_only``: True only those of
    ``SHARED_ONLY_ROLES``, False none of them, None either). Break-glass is no membership."""
    members = CaseMember.objects.filter(role__in=POLICY[action])
    if shared_only is True:
        members = members.filter(role__in=SHARED_ONLY_ROLES)
    elif shared_only is False:
        members = members.exclude(role__in=SHARED_ONLY_ROLES)
    return members


def may(*, user: Caller, action: Action, case: Case | None = None) -> bool:
    """Whether the user may take ``action`` on ``case`` (for ``GLOBAL_ACTIONS``: at all)."""
    if action in GLOBAL_ACTIONS:
        return _signed_in(user) and user.groups.filter(name__in=POLICY[action]).exists()  # type: ignore[union-attr]
    if case is None:
        raise TypeError(f"{action} is decided per case: pass the case")
    # A case from access.selectors carries the caller's role; any other is looked up.
    if hasattr(case, "caller_role"):
        return role_may(case.caller_role, action)
    return role_may(case_access_role(user=user, case_id=case.pk), action)


def _allowed(action: Action) -> str:
    return ", ".join(sorted(str(role) for role in POLICY[action]))


def require(*, case: Case, action: Action, doing: str | None = None) -> None:
    """AccessDenied unless the caller's role on ``case`` (``caller_role``, as annotated by
    ``access.selectors``) may take ``action``. ``doing`` words the refusal (default: the action's label)."""
    role = getattr(case, "caller_role", None)
    if role_may(role, action):
        return
    what = doing or str(action.label)
    if role == BREAK_GLASS_ROLE:
        raise AccessDenied(
            f"you see case {case.number} through a break-glass grant, which is read-only; only team "
            f"members with the role {_allowed(action)} may {what}: ask the case lead to add you to the team"
        )
    raise AccessDenied(
        f"your role on case {case.number} is {role or 'none'}; only members with the role {_allowed(action)} "
        f"may {what}: ask the case lead to change your role if you need to"
    )


def require_global(*, user: Caller, action: Action, refusal: str) -> None:
    """AccessDenied with ``refusal`` unless the user's global role may take ``action``."""
    if not may(user=user, action=action):
        raise AccessDenied(refusal)


def restrict(
    queryset: QuerySet[Any], *, user: Caller, action: Action, case_path: str = "case"
) -> QuerySet[Any]:
    """The rows of ``queryset`` on cases where the user may take ``action``; ``case_path`` is the lookup from
    a row to its case (``"pk"`` for cases themselves). Nothing for a signed-out user."""
    if not _signed_in(user):
        return queryset.none()
    roles = POLICY[action]
    on_team = CaseMember.objects.filter(user_id=user_pk(user), role__in=roles).values("case_id")
    allowed = Q(**{f"{case_path}__in": on_team})
    if BREAK_GLASS_ROLE in roles:
        allowed |= Q(**{f"{case_path}__in": live_grants(user=user).values("case_id")})
    return queryset.filter(allowed)
