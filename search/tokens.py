"""Korean-aware terms for the index, made here so that PostgreSQL and SQLite index exactly the same terms.

Text is NFKC-normalised and case-folded, then cut into runs of one script: Hangul (syllables and jamo),
other letters (Latin, Cyrillic, CJK ideographs …) and digits. ``3번방`` is ``3`` and ``번방``;
``deepfake_kr`` is ``deepfake`` and ``kr``.

- A Hangul run is indexed with every suffix (``성범죄피해자가`` → ``성범죄피해자가``, ``범죄피해자가``,
  ``죄피해자가``, ``피해자가``, ``해자가``, ``자가``, ``가``) and a query term matches by prefix: together, a
  query syllable string matches wherever it occurs inside a Korean word. ``피해자`` finds ``피해자가``,
  ``피해자의`` and ``성범죄피해자``; ``방`` finds ``텔레그램방``. Particles and endings need no analyser.
- Other letters are indexed as the word and matched by prefix (``tele`` finds ``telegram``).
- Digits are indexed as written and matched exactly (``3`` does not find ``30``).

Why not a morphological analyser (kiwipiepy is installed): measured at about 4.6 ms for a 156-character
text on this project's machines (about 200 texts a second a core, against the 2,000 items a second the
index must be built at), with a 2.4 s model load per process, and it keeps compounds such as
``텔레그램방`` whole, so ``방`` would not find them. Why not character n-grams: a query's bigrams may match
in different words of the same text (``피해`` in one word, ``해자`` in another), where a suffix match stays
inside one word. docs/search.md has the whole argument.
"""

import re
import unicodedata
from dataclasses import dataclass

# Runs of one script after NFKC and case folding. Hangul: syllables, jamo and compatibility jamo.
_HANGUL = "\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f"
_RUN = re.compile(rf"[{_HANGUL}]+|[0-9]+|[^\W\d_{_HANGUL}]+")
MAX_TERM = 32  # characters of a term kept (PostgreSQL lexemes are capped at 2 KiB; nobody types more)
MAX_SUFFIX_RUN = 16  # a longer Hangul run (no spaces) is indexed in pieces of this many syllables
MAX_TERMS = 200_000  # terms per entry (a 1,000,000-character document indexes its first part)
MAX_QUERY_TERMS = 8


def normalised(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def runs(text: str) -> list[str]:
    """The one-script runs of the normalised text."""
    return _RUN.findall(normalised(text))


def is_hangul(run: str) -> bool:
    return "\uac00" <= run[0] <= "\ud7a3" or "\u1100" <= run[0] <= "\u11ff" or "\u3130" <= run[0] <= "\u318f"


def index_terms(text: str) -> str:
    """The space-separated, de-duplicated terms of ``text`` as both backends index them."""
    seen: dict[str, None] = {}
    for run in runs(text):
        if is_hangul(run):
            for start in range(0, len(run), MAX_SUFFIX_RUN):
                piece = run[start : start + MAX_SUFFIX_RUN]
                for offset in range(len(piece)):
                    seen.setdefault(piece[offset:][:MAX_TERM], None)
        else:
            seen.setdefault(run[:MAX_TERM], None)
        if len(seen) >= MAX_TERMS:
            break
    return " ".join(seen)


@dataclass(frozen=True)
class QueryTerm:
    """One term of a query: matched as a prefix of an indexed term, or (digits) exactly."""

    text: str
    prefix: bool


def query_terms(query: str) -> list[QueryTerm]:
    """The terms of a query, in order, without repeats; every one must match (AND)."""
    terms: list[QueryTerm] = []
    for run in runs(query):
        term = QueryTerm(run[:MAX_TERM], prefix=not run.isdigit())
        if term not in terms:
            terms.append(term)
    return terms[:MAX_QUERY_TERMS]


def highlight_pattern(terms: list[QueryTerm]) -> re.Pattern[str] | None:
    """A pattern finding the query's terms in the original text, for snippets (longest first)."""
    if not terms:
        return None
    words = sorted({t.text for t in terms}, key=len, reverse=True)
    return re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
