"""casefile models, one module per part: cases and teams, people and links, victim support,
access, faces, exhibits."""

from casefile.models.access import BreakGlassGrant
from casefile.models.case import Case, CaseMember, LegalAuthority, Offence, case_number_validator
from casefile.models.exhibits import Exhibit, ExhibitItem, ExportBundle, Report
from casefile.models.faces import ReferencePhoto
from casefile.models.people import (
    Channel,
    ChannelObservation,
    ItemChannelLink,
    ItemDerivationLink,
    ItemPersonLink,
    Person,
    PersonAccount,
    PersonChannelLink,
)
from casefile.models.support import (
    SupportConsent,
    SupportFile,
    SupportNote,
    TakedownReappearance,
    TakedownRequest,
)

__all__ = [
    "BreakGlassGrant",
    "Case",
    "CaseMember",
    "Channel",
    "ChannelObservation",
    "Exhibit",
    "ExhibitItem",
    "ExportBundle",
    "ItemChannelLink",
    "ItemDerivationLink",
    "ItemPersonLink",
    "LegalAuthority",
    "Offence",
    "Person",
    "PersonAccount",
    "PersonChannelLink",
    "ReferencePhoto",
    "Report",
    "SupportConsent",
    "SupportFile",
    "SupportNote",
    "TakedownReappearance",
    "TakedownRequest",
    "case_number_validator",
]
