"""casefile models, one module per part: cases and teams, people and links, victim support, access."""

from casefile.models.case import Case, CaseMember, case_number_validator
from casefile.models.people import ItemPersonLink, Person
from casefile.models.support import (
    SupportConsent,
    SupportFile,
    SupportNote,
    TakedownReappearance,
    TakedownRequest,
)

__all__ = [
    "Case",
    "CaseMember",
    "ItemPersonLink",
    "Person",
    "SupportConsent",
    "SupportFile",
    "SupportNote",
    "TakedownReappearance",
    "TakedownRequest",
    "case_number_validator",
]
