"""SQL that makes the ledger tables append-only, for PostgreSQL and SQLite (used by migration 0002)."""

from django.db.backends.base.schema import BaseDatabaseSchemaEditor

APPEND_ONLY_TABLES = ("evidence_custodyevent", "evidence_checkpoint")
_WHY = "the custody ledger is append-only"


def _postgres(table: str) -> list[str]:
    return [
        """CREATE OR REPLACE FUNCTION haetae_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = 'haetae: ' || TG_OP || ' on ' || TG_TABLE_NAME
                      || ' refused: the custody ledger is append-only';
        END $$""",
        f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION haetae_refuse_change()",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION haetae_refuse_change()",
    ]


def _sqlite(table: str) -> list[str]:
    # SQLite has no TRUNCATE: "DELETE FROM t" is its truncate, and a DELETE trigger disables that shortcut.
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'haetae: UPDATE on {table} refused: {_WHY}'); END",
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'haetae: DELETE on {table} refused: {_WHY}'); END",
    ]


def create_statements(vendor: str) -> list[str]:
    builder = {"postgresql": _postgres, "sqlite": _sqlite}.get(vendor)
    if builder is None:
        raise RuntimeError(f"Haetae supports PostgreSQL and SQLite, not {vendor}")
    return [sql for table in APPEND_ONLY_TABLES for sql in builder(table)]


def drop_statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {t}_{suffix} ON {t}"
            for t in APPEND_ONLY_TABLES
            for suffix in ("no_update_delete", "no_truncate")
        ]
    return [
        f"DROP TRIGGER IF EXISTS {t}_{suffix}"
        for t in APPEND_ONLY_TABLES
        for suffix in ("no_update", "no_delete")
    ]


def install(schema_editor: BaseDatabaseSchemaEditor) -> None:
    for sql in create_statements(schema_editor.connection.vendor):
        schema_editor.execute(sql)


def uninstall(schema_editor: BaseDatabaseSchemaEditor) -> None:
    for sql in drop_statements(schema_editor.connection.vendor):
        schema_editor.execute(sql)
