"""The ledger's append-only guarantees in the database: triggers, and the application role's privileges."""

from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction

from evidence.choices import CustodyAction
from evidence.custody import custody_append
from evidence.ledger import checkpoint_create
from evidence.ledger_sql import APPEND_ONLY_TABLES, drop_statements
from evidence.models import Checkpoint, CustodyEvent
from tests.db_roles import database_owner
from tests.evidence.test_verify import make_actor
from tests.factories import CaseFactory

APP_ROLE_SQL = Path(__file__).resolve().parents[2] / "scripts" / "pg-app-role.sql"


def as_app_role(sql: str) -> str:
    """Run ``sql`` as haetae_app in a savepoint; returns the error PostgreSQL answered ('' if none)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL ROLE haetae_app")
            cursor.execute(sql)
    except DatabaseError as exc:
        return str(exc)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
    return ""


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_app_role_cannot_rewrite_the_ledger_even_with_the_triggers_dropped() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: roles and privileges (run with DATABASE_URL=postgres://…)")
    with database_owner():
        _app_role_refuses_changes_to_the_ledger()


def _app_role_refuses_changes_to_the_ledger() -> None:
    case = CaseFactory.create()
    custody_append(case_id=case.pk, action=CustodyAction.TRANSFERRED, actor=make_actor())
    checkpoint_create()
    with connection.cursor() as cursor:
        cursor.execute(APP_ROLE_SQL.read_text())  # as the owner, as operators run it
    for table in APPEND_ONLY_TABLES:
        answer = as_app_role(f"DROP TRIGGER {table}_no_update_delete ON {table}")
        assert f"must be owner of relation {table}" in answer
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # pending FK checks block DROP TRIGGER
        for sql in drop_statements("postgresql"):  # the owner lifts the triggers: only privileges remain
            cursor.execute(sql)
    # the role the application runs as still appends and reads
    assert as_app_role("SELECT count(*) FROM evidence_custodyevent") == ""
    for table in APPEND_ONLY_TABLES:
        changes = (f"UPDATE {table} SET id = id", f"DELETE FROM {table}", f"TRUNCATE {table}")  # noqa: S608
        for statement in changes:
            answer = as_app_role(statement)
            assert f"permission denied for table {table}" in answer, (statement, answer)
    assert CustodyEvent.objects.count() == 1 and Checkpoint.objects.count() == 1
