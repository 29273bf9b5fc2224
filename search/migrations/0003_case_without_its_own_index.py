"""The entries' case gets no index of its own (``IndexEntry.case`` says why), and their item keeps one index
(``search_item``) where it had two (the foreign key's own besides it): one fewer to write for every entry.

The field's state changes as ``AlterField`` says; the database only drops the index. ``AlterField`` itself
would make SQLite copy the table into a new one and drop the old, and with it the triggers that keep the
FTS5 table in step (``search.backends.SQLITE_DDL``)."""

import django.db.models.deletion
from django.db import migrations, models


def _single_column_indexes(schema_editor, column):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "search_indexentry")
    return [
        name
        for name, details in constraints.items()
        if details["index"]
        and not details["unique"]
        and not details["primary_key"]
        and details["columns"] == [column]
        and name != "search_item"
    ]


def drop_indexes(apps, schema_editor):
    for column in ("case_id", "item_id"):
        for name in _single_column_indexes(schema_editor, column):
            schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")


def create_indexes(apps, schema_editor):
    for column in ("case_id", "item_id"):
        if not _single_column_indexes(schema_editor, column):
            schema_editor.execute(f"CREATE INDEX search_indexentry_{column} ON search_indexentry ({column})")


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0003_units"),
        ("evidence", "0001_initial"),
        ("search", "0002_drop_rank_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="indexentry",
                    name="case",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="access.case",
                    ),
                ),
                migrations.AlterField(
                    model_name="indexentry",
                    name="item",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="evidence.evidenceitem",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop_indexes, create_indexes)],
        ),
    ]
