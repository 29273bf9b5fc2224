"""Which case roles may do what (the need-to-know table for cases, people, channels and links).

The gate itself is ``access.selectors.case_require_role``; these are the role sets the views pass it.
"""

from access.choices import CaseMemberRole, GlobalRole

# Change the case itself: status, details, team, legal hold.
CASE_LEAD_ROLES = frozenset({CaseMemberRole.LEAD})
# Record people, their accounts and identities, and legal authorities.
RECORD_ROLES = frozenset({CaseMemberRole.LEAD, CaseMemberRole.INVESTIGATOR})
# Record channels and observations, assert and withdraw links (investigators "link parties").
LINK_ROLES = frozenset({CaseMemberRole.LEAD, CaseMemberRole.INVESTIGATOR, CaseMemberRole.ANALYST})

# A user holding a global role may take only these case roles (users with no global role: any).
CASE_ROLES_FOR_GLOBAL_ROLE: dict[str, frozenset[str]] = {
    GlobalRole.INVESTIGATOR: frozenset(
        {CaseMemberRole.LEAD, CaseMemberRole.INVESTIGATOR, CaseMemberRole.ANALYST}
    ),
    GlobalRole.SUPERVISOR: frozenset(
        {CaseMemberRole.LEAD, CaseMemberRole.INVESTIGATOR, CaseMemberRole.ANALYST, CaseMemberRole.AUDITOR}
    ),
    GlobalRole.PROSECUTOR: frozenset({CaseMemberRole.PROSECUTOR}),
    GlobalRole.VICTIM_SUPPORT: frozenset({CaseMemberRole.VICTIM_SUPPORT}),
    GlobalRole.AUDITOR: frozenset({CaseMemberRole.AUDITOR}),
    # Administrators run the system; they reach a case only by a logged break-glass, never as members.
    GlobalRole.ADMIN: frozenset(),
}

# Global roles that may open a case through the API.
CASE_CREATOR_GLOBAL_ROLES = frozenset({GlobalRole.INVESTIGATOR, GlobalRole.SUPERVISOR})
