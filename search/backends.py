"""The match index of each database: PostgreSQL full-text search over a GIN index, or SQLite FTS5.

Both index the same terms (``search.tokens``, stored in ``IndexEntry.terms``) and answer the same boolean
question — does every query term match a term of the entry (by prefix, or exactly for digits)? — so both
return the same entries; the order (rank, then id) is a stored column. Neither database's own word parser
is used: PostgreSQL builds the vector with ``array_to_tsvector`` (lexemes taken verbatim) and reads a
``tsquery`` literal of quoted lexemes; SQLite's ``unicode61`` tokenizer, with diacritics kept, splits the
stored terms only at the spaces between them.
"""

from typing import Any

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


# PostgreSQL: new entries go through COPY, no SQL text built for each row.
PG_COPY_COLUMNS = "case_id, item_id, kind, object_id, field, source, text, terms, rank, indexed_at"
PG_COPY = f"COPY search_indexentry ({PG_COPY_COLUMNS}) FROM STDIN"


def entries_insert(entries: list[Any]) -> int:
    """Store new index entries (unsaved ``IndexEntry`` rows); returns how many."""
    if connection.vendor != "postgresql":
        if entries:
            type(entries[0]).objects.bulk_create(entries)
        return len(entries)
    now = timezone.now()
    with connection.cursor() as cursor, cursor.copy(PG_COPY) as copy:
        for e in entries:
            copy.write_row(
                (
                    e.case_id,
                    e.item_id,
                    e.kind,
                    e.object_id,
                    e.field,
                    e.source,
                    e.text,
                    e.terms,
                    e.rank,
                    now,
                )
            )
    return len(entries)


def rebuild_match_index() -> None:
    """Rebuild SQLite's FTS5 table from the entries (PostgreSQL's GIN index needs nothing)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(SQLITE_REBUILD)
