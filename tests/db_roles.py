"""The PostgreSQL leg under the application role (HAETAE_TEST_APP_ROLE): what the owner may do, in tests.

With ``HAETAE_TEST_APP_ROLE=haetae_app`` the suite connects as the owner (who made the test database and
ran the migrations), runs ``scripts/pg-app-role.sql``, and then every connection does ``SET ROLE`` to the
application role, so the code under test has only the privileges production gives it. Tests that play the
database owner (lifting the ledger's triggers, rewriting rows) do so inside ``database_owner()``.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection

APP_ROLE = os.environ.get("HAETAE_TEST_APP_ROLE", "")


def set_app_role(sender: Any = None, connection: Any = None, **kwargs: Any) -> None:
    """connection_created receiver: new connections act as the application role."""
    if APP_ROLE and connection is not None and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f'SET ROLE "{APP_ROLE}"')


@contextmanager
def database_owner() -> Iterator[None]:
    """Act as the owner (the connecting role) for the block; back to the application role afterwards."""
    if not APP_ROLE or connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'SET ROLE "{APP_ROLE}"')
