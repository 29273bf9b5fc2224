"""Database helpers shared by the apps (no domain logic here)."""

from collections.abc import Sequence

from django.db import connection, models

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
