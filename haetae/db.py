"""Database helpers shared by the apps (no domain logic here)."""

import functools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from django.db import OperationalError, connection, models, transaction

# Lock order, everywhere (docs/ledger.md): content locks (``evidence.vault.lock_blobs``), then the ledger
# lock, then row locks. A transaction that takes a row lock (or inserts a row referencing another, which
# key-share locks it) before the ledger lock can deadlock with one that holds the ledger lock.
LEDGER_LOCK_KEY = 0x4841455441450001  # "HAETAE" + 1: the advisory lock id for ledger appends
RETRY_SQLSTATES = {"40001", "40P01"}  # serialization_failure, deadlock_detected
RETRY_ATTEMPTS = 4

P = ParamSpec("P")
R = TypeVar("R")


def ledger_lock() -> None:
    """Take the ledger lock until the end of the current transaction (re-taking it is harmless).

    Every service that writes takes it at the start of its transaction, before any row lock.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("ledger appends must run inside transaction.atomic()")
    if connection.vendor == "postgresql":  # SQLite's IMMEDIATE transactions already serialise writers
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LEDGER_LOCK_KEY])


@contextmanager
def ledger_transaction() -> Iterator[None]:
    """A writing service's transaction: ``transaction.atomic()`` with the ledger lock taken first, before
    any row lock (the one lock order, docs/ledger.md)."""
    with transaction.atomic():
        ledger_lock()
        yield


def is_retryable(error: BaseException) -> bool:
    """True for a deadlock or serialisation failure: the database rolled the transaction back whole."""
    cause = error.__cause__ or error
    return (
        getattr(cause, "sqlstate", None) in RETRY_SQLSTATES
        or getattr(cause, "pgcode", None) in RETRY_SQLSTATES
    )


def retry_on_conflict(func: Callable[P, R]) -> Callable[P, R]:
    """Run a service again (a bounded number of times) when its transaction lost a deadlock.

    Only the outermost call retries: inside a caller's transaction the whole transaction is already lost,
    so the error goes up to whoever owns it. The service must own its transaction and have no effects
    outside the database before it commits (files it stages are cleaned up by its own ``with`` blocks).
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(1, RETRY_ATTEMPTS + 1):
            try:
                return func(*args, **kwargs)
            except OperationalError as error:
                if connection.in_atomic_block or attempt == RETRY_ATTEMPTS or not is_retryable(error):
                    raise
        raise AssertionError("unreachable")  # the loop returns or raises

    return wrapper


_PLAIN_FIELDS = {
    models.AutoField,
    models.BigAutoField,
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BigIntegerField,
    models.PositiveIntegerField,
    models.PositiveBigIntegerField,
    models.BooleanField,
    models.BinaryField,
    models.DateTimeField,
    models.ForeignKey,
}


def _auto_timestamp(field: models.Field) -> bool:
    return bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))


def bulk_insert(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """Insert new rows fast and set their primary keys: COPY on PostgreSQL, bulk_create elsewhere.

    Django's bulk_create builds one giant parameterised INSERT per batch, and on PostgreSQL the
    client-side query building dominates an ingest of many small files; COPY streams the rows instead.
    Auto primary keys are drawn from the table's identity sequence first, so the caller gets them back.
    """
    if not objs:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objs, batch_size=500)
        return
    meta = model._meta
    table = meta.db_table
    fields = list(meta.concrete_fields)
    if isinstance(meta.pk, models.AutoField | models.BigAutoField | models.SmallAutoField):
        pk_column = meta.pk.column
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, pk_column, len(objs)],
            )
            for obj, (new_id,) in zip(objs, cursor.fetchall(), strict=True):
                obj.pk = new_id
    # Plain columns go to psycopg as they are; only fields whose value needs Django's conversion (JSON,
    # auto timestamps, custom fields) pay for get_db_prep_save.
    plain = [type(field) in _PLAIN_FIELDS and not _auto_timestamp(field) for field in fields]
    columns = ", ".join(connection.ops.quote_name(str(field.column)) for field in fields)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {connection.ops.quote_name(table)} ({columns}) FROM STDIN") as copy,
    ):
        for obj in objs:
            copy.write_row(
                [
                    getattr(obj, field.attname)
                    if is_plain
                    else field.get_db_prep_save(field.pre_save(obj, add=True), connection)
                    for field, is_plain in zip(fields, plain, strict=True)
                ]
            )
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
