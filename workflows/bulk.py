"""Fast bulk inserts of plain rows: COPY on PostgreSQL, bulk_create elsewhere.

Ingestion writes ~160k rows at a time; building model instances and multi-row
INSERTs costs most of that time on PostgreSQL, COPY does not.
"""

from collections.abc import Sequence

from django.db import connection
from psycopg import sql  # psycopg 3 is the PostgreSQL driver

BATCH = 5000


def in_clause_chunk() -> int:
    """How many values one `IN (...)` may carry: SQLite caps statement parameters."""
    return 900 if connection.vendor == "sqlite" else 20000


def bulk_insert(model, columns: Sequence[str], rows: list[tuple], *, ignore_conflicts: bool = False) -> None:
    """Insert `rows` (tuples in `columns` order) into `model`'s table, inside the caller's transaction."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        objects = [model(**dict(zip(columns, row, strict=True))) for row in rows]
        model.objects.bulk_create(objects, batch_size=BATCH, ignore_conflicts=ignore_conflicts)
        return
    table = sql.Identifier(model._meta.db_table)
    names = sql.SQL(", ").join(sql.Identifier(model._meta.get_field(c).column) for c in columns)
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        if not ignore_conflicts:
            with raw.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(table, names)) as copy:
                for row in rows:
                    copy.write_row(row)
            return
        # COPY cannot skip duplicates: stage the rows, then insert what is new.
        staging = sql.Identifier(f"staging_{model._meta.db_table}")
        raw.execute(
            sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA").format(
                staging, names, table
            )
        )
        with raw.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(staging, names)) as copy:
            for row in rows:
                copy.write_row(row)
        raw.execute(
            sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT DO NOTHING").format(
                table, names, names, staging
            )
        )
        raw.execute(sql.SQL("DROP TABLE {}").format(staging))


def refresh_planner_statistics(*models) -> None:
    """After a bulk load, let PostgreSQL plan with the new row counts (ANALYZE): until
    autovacuum gets to it, a freshly filled table looks empty and one workflow's cells are
    read by scanning the whole snapshot (25 ms instead of 0.1 ms at 160k cells)."""
    if connection.vendor != "postgresql":
        return
    tables = sql.SQL(", ").join(sql.Identifier(model._meta.db_table) for model in models)
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("ANALYZE {}").format(tables))
