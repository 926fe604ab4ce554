"""Fast bulk writes of plain rows: COPY on PostgreSQL, executemany of one INSERT elsewhere.

Ingestion writes ~100k rows at a time; building model instances and multi-row INSERTs costs
most of that time, COPY (PostgreSQL) and executemany (SQLite) do not. `staging_table` holds
rows in a temporary table so names are written and looked up in a few set-based statements
(INSERT ... SELECT, joins) instead of IN lists of thousands of names.
"""

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from django.db import OperationalError, connection, transaction
from psycopg import sql  # psycopg 3 is the PostgreSQL driver

# Column types whose Python values the drivers store as Django would (ints, text, bools).
_STORED_AS_IS = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "FloatField",
    "ForeignKey",
    "IntegerField",
    "OneToOneField",
    "PositiveBigIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SmallIntegerField",
    "TextField",
}


def in_clause_chunk() -> int:
    """How many values one `IN (...)` may carry: SQLite caps statement parameters."""
    return 900 if connection.vendor == "sqlite" else 20000


def _copy_rows(cursor, table: sql.Composable, names: sql.Composable, rows: Iterable[tuple]) -> None:
    with cursor.cursor.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(table, names)) as copy:
        for row in rows:
            copy.write_row(row)


def _prepared_rows(model, columns: Sequence[str], rows: list[tuple]) -> list[tuple]:
    """`rows` with each value as Django would store it (a time in UTC text on SQLite, JSON
    encoded by the field's encoder)."""
    fields = [model._meta.get_field(column) for column in columns]
    convert = [
        (position, field)
        for position, field in enumerate(fields)
        if field.get_internal_type() not in _STORED_AS_IS
    ]
    if not convert:
        return rows
    prepared = []
    for row in rows:
        values = list(row)
        for position, field in convert:
            values[position] = field.get_db_prep_save(values[position], connection)
        prepared.append(tuple(values))
    return prepared


def bulk_insert(model, columns: Sequence[str], rows: list[tuple]) -> None:
    """Insert `rows` (tuples in `columns` order) into `model`'s table, inside the caller's transaction."""
    if not rows:
        return
    db_columns = [model._meta.get_field(c).column for c in columns]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            names = sql.SQL(", ").join(map(sql.Identifier, db_columns))
            _copy_rows(
                cursor, sql.Identifier(model._meta.db_table), names, _prepared_rows(model, columns, rows)
            )
            return
        quote = connection.ops.quote_name
        table, names, marks = (
            quote(model._meta.db_table),
            ", ".join(map(quote, db_columns)),
            ", ".join(["%s"] * len(columns)),
        )
        # Quoted identifiers from model meta only; the values are parameters.
        statement = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608
        cursor.executemany(statement, _prepared_rows(model, columns, rows))


@contextmanager
def staging_table(name: str, columns: dict[str, str], rows: Iterable[tuple]) -> Iterator[str]:
    """A temporary table `name` with `columns` ({column: SQL type}) holding `rows`; yields its
    quoted name for the caller's SQL. Use inside a transaction: the table is dropped on
    exit, or with the transaction when it fails."""
    quote = connection.ops.quote_name
    # Qualified by the session's temporary schema, so no statement here can reach a real table.
    schema = "pg_temp" if connection.vendor == "postgresql" else "temp"
    table = f"{quote(schema)}.{quote(name)}"
    definition = ", ".join(f"{quote(column)} {kind}" for column, kind in columns.items())
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(f"CREATE TEMPORARY TABLE {quote(name)} ({definition})")
        if connection.vendor == "postgresql":
            copied = sql.SQL(", ").join(map(sql.Identifier, columns))
            _copy_rows(cursor, sql.Identifier(schema, name), copied, rows)
            # A temporary table has no statistics until asked: joins on it would be planned blind.
            cursor.execute(f"ANALYZE {table}")
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)  # noqa: S608 (quoted names)
    yield table
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {table}")


# A table's foreign keys, unique constraints (not its primary key) and the indexes of neither,
# as the catalog defines them, in the order they are dropped (and added back in reverse).
_DEFERRABLE_PARTS = """
SELECT 'constraint', conname, pg_get_constraintdef(oid), contype = 'f' FROM pg_constraint
 WHERE conrelid = %(table)s::regclass AND contype IN ('f', 'u')
UNION ALL
SELECT 'index', c.relname, pg_get_indexdef(i.indexrelid), false FROM pg_index i
  JOIN pg_class c ON c.oid = i.indexrelid
 WHERE i.indrelid = %(table)s::regclass AND NOT i.indisprimary
   AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
ORDER BY 4 DESC, 1, 2
"""


@contextmanager
def constraints_built_at_end(model) -> Iterator[None]:
    """On PostgreSQL, drop `model`'s foreign keys, unique constraints and other indexes (not
    its primary key) for the block and add them back, same names and definitions, at its end:
    the database then checks every row in one join and builds each index in one sort, instead
    of a trigger and a b-tree insert per row (half of a first load's time). For a bulk load
    into an empty table, inside the caller's transaction; if the block raises, that transaction
    must roll back. Until commit the table is locked against readers; when a reader already
    holds it for more than FIRST_LOAD_LOCK_WAIT, the block runs with everything in place
    instead (the plain load). On SQLite, whose keys and unique constraints belong to the table, only the other
    indexes are dropped and built again."""
    if connection.vendor == "sqlite":
        yield from _sqlite_indexes_built_at_end(model)
        return
    if connection.vendor != "postgresql":
        yield
        return
    table = sql.Identifier(model._meta.db_table)
    if not _locked_at_once(table):
        yield  # keys and indexes stay: the plain (slower) load, which no reader waits for
        return
    with connection.cursor() as cursor:
        # ALTER TABLE refuses a table with checks pending: run those of an enclosing
        # transaction now (they would at its commit), then defer again as Django's keys declare.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute(_DEFERRABLE_PARTS, {"table": model._meta.db_table})
        parts = cursor.fetchall()
        for kind, name, _, _ in parts:
            if kind == "constraint":
                cursor.execute(
                    sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(table, sql.Identifier(name))
                )
            else:
                cursor.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    yield
    with connection.cursor() as cursor:
        # The same for the checks deferred in the block (steps of new workflows...).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for kind, name, definition, _ in reversed(parts):
            # Definitions are the catalog's own text for these very constraints and indexes.
            if kind == "constraint":
                statement = sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                    table, sql.Identifier(name), sql.SQL(definition)
                )
            else:
                statement = sql.SQL(definition)
            cursor.execute(statement)
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


# How long a first load waits for readers of the table before it loads the plain way.
FIRST_LOAD_LOCK_WAIT = "2s"


def _locked_at_once(table: sql.Identifier) -> bool:
    """Take the table's exclusive lock (held to the end of the caller's transaction) unless a
    reader holds the table for more than FIRST_LOAD_LOCK_WAIT: queued behind that reader, the
    DROP would make every later page wait too."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:  # a savepoint: a timeout undoes only it
            cursor.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(FIRST_LOAD_LOCK_WAIT)))
            cursor.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(table))
            cursor.execute("SET LOCAL lock_timeout TO DEFAULT")
    except OperationalError:  # lock_not_available; the savepoint's rollback undid the SET
        return False
    return True


def _sqlite_indexes_built_at_end(model) -> Iterator[None]:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        # Indexes of their own (CREATE INDEX ...); a unique constraint's has no SQL and stays.
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
            [model._meta.db_table],
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
    yield
    with connection.cursor() as cursor:
        for _, definition in indexes:
            cursor.execute(definition)  # the schema's own text for this very index


def refresh_planner_statistics(*models) -> None:
    """After a bulk load, let PostgreSQL plan with the new row counts (ANALYZE): until
    autovacuum gets to it, a freshly filled table looks empty and one workflow's cells are
    read by scanning the whole snapshot (25 ms instead of 0.1 ms at 160k cells)."""
    if connection.vendor != "postgresql":
        return
    tables = sql.SQL(", ").join(sql.Identifier(model._meta.db_table) for model in models)
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("ANALYZE {}").format(tables))
