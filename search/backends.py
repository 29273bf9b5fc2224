"""The match index of each database: PostgreSQL full-text search over a GIN index, or SQLite FTS5.

Both index the same terms (``search.tokens``, stored in ``IndexEntry.terms``) and answer the same boolean
question — does every query term match a term of the entry (by prefix, or exactly for digits)? — so both
return the same entries; the order (rank, then id) is a stored column. Neither database's own word parser
is used: PostgreSQL builds the vector with ``array_to_tsvector`` (lexemes taken verbatim) and reads a
``tsquery`` literal of quoted lexemes; SQLite's ``unicode61`` tokenizer, with diacritics kept, splits the
stored terms only at the spaces between them.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from search.tokens import QueryTerm

# Constant SQL: table names are this app's own; query values always travel as parameters.
PG_MATCH = "array_to_tsvector(string_to_array(search_indexentry.terms, ' ')) @@ %s::tsquery"
POSTGRES_DDL = [
    "CREATE INDEX search_terms_gin ON search_indexentry USING gin "
    "((array_to_tsvector(string_to_array(terms, ' '))))"
]
POSTGRES_DROP = ["DROP INDEX IF EXISTS search_terms_gin"]

# An external-content FTS5 table over the terms, kept in step by triggers on the entries.
SQLITE_MATCH = (
    "search_indexentry.id IN (SELECT rowid FROM search_indexentry_fts WHERE search_indexentry_fts MATCH %s)"
)
SQLITE_DDL = [
    "CREATE VIRTUAL TABLE search_indexentry_fts USING fts5(terms, content='search_indexentry', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER search_fts_insert AFTER INSERT ON search_indexentry BEGIN "
    "INSERT INTO search_indexentry_fts(rowid, terms) VALUES (new.id, new.terms); END",
    "CREATE TRIGGER search_fts_delete AFTER DELETE ON search_indexentry BEGIN "
    "INSERT INTO search_indexentry_fts(search_indexentry_fts, rowid, terms) "
    "VALUES ('delete', old.id, old.terms); END",
    "CREATE TRIGGER search_fts_update AFTER UPDATE OF terms ON search_indexentry BEGIN "
    "INSERT INTO search_indexentry_fts(search_indexentry_fts, rowid, terms) "
    "VALUES ('delete', old.id, old.terms); "
    "INSERT INTO search_indexentry_fts(rowid, terms) VALUES (new.id, new.terms); END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS search_fts_insert",
    "DROP TRIGGER IF EXISTS search_fts_delete",
    "DROP TRIGGER IF EXISTS search_fts_update",
    "DROP TABLE IF EXISTS search_indexentry_fts",
]
SQLITE_REBUILD = "INSERT INTO search_indexentry_fts(search_indexentry_fts) VALUES ('rebuild')"


def create_match_index(schema_editor: BaseDatabaseSchemaEditor) -> None:
    """The migration's step: the GIN index (PostgreSQL) or the FTS5 table and its triggers (SQLite)."""
    vendor = schema_editor.connection.vendor
    for statement in POSTGRES_DDL if vendor == "postgresql" else SQLITE_DDL if vendor == "sqlite" else []:
        schema_editor.execute(statement)


def drop_match_index(schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    for statement in POSTGRES_DROP if vendor == "postgresql" else SQLITE_DROP if vendor == "sqlite" else []:
        schema_editor.execute(statement)


def _tsquery(terms: list[QueryTerm]) -> str:
    """A tsquery literal: quoted lexemes, verbatim (no parser, no stemming), ``:*`` for a prefix."""
    return " & ".join("'" + t.text.replace("'", "''") + "'" + (":*" if t.prefix else "") for t in terms)


def _fts5_query(terms: list[QueryTerm]) -> str:
    """An FTS5 query: each term a quoted string, ``*`` for a prefix, all of them required."""
    return " AND ".join('"' + t.text.replace('"', '""') + '"' + ("*" if t.prefix else "") for t in terms)


def matching(entries: QuerySet[Any], terms: list[QueryTerm]) -> QuerySet[Any]:
    """The entries of ``entries`` matching every term (none when there are no terms)."""
    if not terms:
        return entries.none()
    vendor = connection.vendor
    if vendor == "postgresql":
        condition = RawSQL(PG_MATCH, [_tsquery(terms)], output_field=BooleanField())  # noqa: S611 - a parameter
    elif vendor == "sqlite":
        condition = RawSQL(SQLITE_MATCH, [_fts5_query(terms)], output_field=BooleanField())  # noqa: S611
    else:
        raise ImproperlyConfigured(
            f"search needs PostgreSQL or SQLite, not {vendor}: point DATABASE_URL at one of them"
        )
    return entries.filter(condition)


@contextmanager
def index_plans() -> Iterator[None]:
    """PostgreSQL: read matches through the GIN index, never by a scan of the whole table, inside the
    caller's transaction.

    The match condition builds each entry's vector from its terms; the planner prices that at almost
    nothing, so for a word in a third of the entries (``사진``, ``방``) it chose a parallel scan of the
    table that built 190,000 vectors: 1.1-1.4 s, where the index answers in 60-80 ms (docs/benchmarks.md,
    P9). Parallel workers are off for the same reason: on two cores they only add start-up time.
    Both settings are local to the transaction and restored when the block ends."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('enable_seqscan'), current_setting('max_parallel_workers_per_gather'), "
            "set_config('enable_seqscan', 'off', true), "
            "set_config('max_parallel_workers_per_gather', '0', true)"
        )
        seqscan, workers, *_ = cursor.fetchone()
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('enable_seqscan', %s, true), "
                "set_config('max_parallel_workers_per_gather', %s, true)",
                [seqscan, workers],
            )


class EntryRow(NamedTuple):
    """A new index entry, as the database stores it (``IndexEntry``'s columns but its id and time)."""

    case_id: int
    item_id: int | None
    kind: str
    object_id: int
    field: str
    source: str
    text: str
    terms: str
    rank: float


# PostgreSQL: new entries go through one COPY, no SQL text built for each row.
PG_COPY = (
    "COPY search_indexentry (case_id, item_id, kind, object_id, field, source, text, terms, rank, "
    "indexed_at) FROM STDIN"
)


def copy_available() -> bool:
    """Whether new entries can stream through ``entries_copy`` (PostgreSQL); otherwise ``bulk_create``."""
    return connection.vendor == "postgresql"


def entries_copy(rows: Iterable[EntryRow]) -> int:
    """PostgreSQL: store new index entries through one ``COPY``; returns how many.

    A psycopg thread sends the data while the rows are still being made (``QueuedLibpqWriter``), so the
    server's work (the rows, the GIN index) runs on another core beside the tokenising in this process."""
    # Imported here: on SQLite nothing else imports psycopg (~0.15 s of every process's start-up).
    from psycopg.copy import QueuedLibpqWriter

    stored = 0
    now = timezone.now()
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor under Django's wrapper
        with raw.copy(PG_COPY, writer=QueuedLibpqWriter(raw)) as copy:
            for row in rows:
                copy.write_row((*row, now))
                stored += 1
    return stored


def rebuild_match_index() -> None:
    """Rebuild SQLite's FTS5 table from the entries (PostgreSQL's GIN index needs nothing)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(SQLITE_REBUILD)
