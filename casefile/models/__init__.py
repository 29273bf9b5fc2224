"""casefile models, one module per part: cases and teams, people and links, victim support, access."""

from casefile.models.access import BreakGlassGrant
from casefile.models.case import Case, CaseMember, case_number_validator
from casefile.models.people import ItemPersonLink, Person
from casefile.models.support import SupportFile

__all__ = [
    "BreakGlassGrant",
    "Case",
    "CaseMember",
    "ItemPersonLink",
    "Person",
    "SupportFile",
    "case_number_validator",
]
