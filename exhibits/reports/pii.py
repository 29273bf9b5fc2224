"""The PII scan: refuse a document whose text holds any sealed identity field of anyone in the case.

A report (or any file of an export bundle) must name people only by pseudonym. ``pii_scan`` compares the
text with every identity field (name, birth date, contact, each identifier) of every person in the case,
victims first of all.

It reads the sealed identities at system level, with ``parties.services.people.identity_open`` and no reader
check, because the scan must see every identity to rule each one out and no person sees them: the
plaintext stays inside this function, only lowercase-normalised copies are compared, and neither values nor
fragments of them leave it — the refusal names the pseudonym and the field, never the value. For that
reason it writes no ``identity_read`` event (which records a person reading an identity); the service that
issues the document records in its own custody event that the scan ran.

Matching ignores case, Unicode compatibility forms, and runs of spaces, hyphens, dots and underscores
("Kim  Ji-woo" matches "kim ji woo"); Korean values also match with their spaces removed ("김 지수" for
"김지수", also followed by a particle); numbers (phones, registration numbers) match whatever separators
are between their digits; birth dates match as YYYY-MM-DD, YYYY.MM.DD, YYYY/MM/DD, YYYYMMDD and Korean
"YYYY년 M월 D일".
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from access.models import Case
from haetae.errors import RejectedInput
from parties.models import Person
from parties.services.people import identity_open

_SEPARATORS = re.compile(r"[\s\-‐‑–—_.·/]+")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_MIN_LENGTH = 2  # a single character would match everywhere
_MIN_DIGITS = 6  # shorter numbers (a house number) are not identifying on their own


def normalise(text: str) -> str:
    """NFKC, case-folded, every run of spaces and separators made one space."""
    return _SEPARATORS.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


@dataclass(frozen=True)
class _Needle:
    pseudonym: str
    field: str
    pattern: re.Pattern[str]
    haystack: str  # "raw" (case-folded), "normal" (separators made spaces) or "compact" (no spaces)


def _word_pattern(value: str) -> re.Pattern[str]:
    # ASCII letters and digits must not run on (no "Ann" inside "Annex"); Korean names take particles.
    left = r"(?<![0-9a-z])" if value[:1].isascii() and value[:1].isalnum() else ""
    right = r"(?![0-9a-z])" if value[-1:].isascii() and value[-1:].isalnum() else ""
    return re.compile(left + re.escape(value) + right)


def _digits_pattern(digits: str) -> re.Pattern[str]:
    separated = r"[\s\-‐‑–—_.·/()]*".join(re.escape(d) for d in digits)
    return re.compile(r"(?<![0-9a-z])" + separated + r"(?![0-9a-z])")


def _date_patterns(value: str) -> list[re.Pattern[str]]:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return []
    forms = [
        rf"{day.year}\s*[-./ ]\s*0?{day.month}\s*[-./ ]\s*0?{day.day}",
        rf"{day.year}{day.month:02d}{day.day:02d}",
        rf"{day.year}\s*년\s*0?{day.month}\s*월\s*0?{day.day}\s*일",
    ]
    return [re.compile(r"(?<![0-9])" + form + r"(?![0-9])") for form in forms]


def _needles(pseudonym: str, field: str, value: str) -> list[_Needle]:
    value = value.strip()
    if not value:
        return []
    if field == "birth_date":
        # Dates are matched on the raw text's digits: normalising would turn "2008.03.14" into spaces.
        return [_Needle(pseudonym, field, p, "raw") for p in _date_patterns(value)]
    needles: list[_Needle] = []
    digits = re.sub(r"\D", "", value)
    if len(digits) >= _MIN_DIGITS and len(digits) >= len(re.sub(r"[\s\-().+/]", "", value)) - 1:
        needles.append(_Needle(pseudonym, field, _digits_pattern(digits), "raw"))
    normal = normalise(value)
    if len(normal.replace(" ", "")) >= _MIN_LENGTH:
        needles.append(_Needle(pseudonym, field, _word_pattern(normal), "normal"))
        if _HANGUL.search(normal):
            needles.append(
                _Needle(pseudonym, field, re.compile(re.escape(normal.replace(" ", ""))), "compact")
            )
    return needles


def _case_needles(case: Case) -> list[_Needle]:
    needles: list[_Needle] = []
    people = Person.objects.filter(case_id=case.pk).exclude(identity_ciphertext=b"").order_by("kind", "id")
    for person in people:
        identity = identity_open(person=person)  # system-level read: see the module docstring
        needles += _needles(person.pseudonym, "name", identity.name)
        needles += _needles(person.pseudonym, "birth_date", identity.birth_date)
        needles += _needles(person.pseudonym, "contact", identity.contact)
        for kind, value in identity.identifiers:
            needles += _needles(person.pseudonym, f"identifiers ({kind})", value)
    return needles


def pii_scan(*, case: Case, texts: Iterable[str]) -> None:
    """Raise RejectedInput naming each (pseudonym, identity field) whose value appears in any of ``texts``.

    The message and details name the field and the pseudonym, never the value.
    """
    needles = _case_needles(case)
    if not needles:
        for _ in texts:  # consume, as a caller streaming files expects
            pass
        return
    hits: dict[tuple[str, str], None] = {}
    for text in texts:
        normal = normalise(text)
        haystacks = {
            "raw": unicodedata.normalize("NFKC", text).casefold(),
            "normal": normal,
            "compact": normal.replace(" ", ""),
        }
        for needle in needles:
            if (needle.pseudonym, needle.field) in hits:
                continue
            if needle.pattern.search(haystacks[needle.haystack]):
                hits[(needle.pseudonym, needle.field)] = None
    if hits:
        found = [{"person": pseudonym, "field": field} for pseudonym, field in hits]
        listed = "; ".join(f"the {field} of {pseudonym}" for pseudonym, field in hits)
        raise RejectedInput(
            f"the document contains {listed} (sealed identity fields of case {case.number}); people may "
            "appear only by pseudonym: find it in the exhibit descriptions, opinions or file names, replace "
            "it with the pseudonym, then generate again",
            details={"pii": found},
        )
