"""casefile models, one module per part: cases and teams, people and links, victim support, access."""

from casefile.models.case import Case, CaseMember, case_number_validator
from casefile.models.faces import ReferencePhoto
from casefile.models.people import ItemPersonLink, Person
from casefile.models.support import SupportFile

__all__ = [
    "Case",
    "CaseMember",
    "ItemPersonLink",
    "Person",
    "ReferencePhoto",
    "SupportFile",
    "case_number_validator",
]
