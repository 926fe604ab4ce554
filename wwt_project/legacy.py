"""What the importers of the original tool's stores (`manage.py import_wwt`) share: the
per-store summary and the error for a store that cannot be read at all."""

import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path


class LegacyStoreError(Exception):
    """A store file is missing, corrupt or not the original tool's (wrong tables, not JSON).
    The message names the file; nothing of that store was imported."""


@dataclass
class ImportSummary:
    """What importing one store did: rows imported, rows that were already there, and the rows
    skipped, grouped by reason with a count and the first example of each."""

    store: str
    source: str
    imported: int = 0
    already_there: int = 0
    skipped: dict[str, list] = field(default_factory=dict)  # reason -> [count, [examples]]
    notes: list[str] = field(default_factory=list)
    dry_run: bool = False
    examples_kept: int = 1  # per reason; the actions store names more (each one is a workflow)

    def skip(self, reason: str, example: str) -> None:
        entry = self.skipped.setdefault(reason, [0, []])
        entry[0] += 1
        if len(entry[1]) < self.examples_kept:
            entry[1].append(example)

    @property
    def skipped_count(self) -> int:
        return sum(count for count, _ in self.skipped.values())

    def lines(self) -> list[str]:
        """The summary as the command prints it."""
        verb = "would import" if self.dry_run else "imported"
        lines = [
            f"{self.store} ({self.source}): {verb} {self.imported}, already there {self.already_there}, "
            f"skipped {self.skipped_count}"
        ]
        for reason, (count, examples) in self.skipped.items():
            more = f" (and {count - len(examples)} more)" if count > len(examples) else ""
            lines.append(f"  skipped {count}: {reason}; e.g. {'; '.join(examples)}{more}")
        lines.extend(f"  note: {note}" for note in self.notes)
        return lines


def read_sqlite_table(path: str, table: str, columns: list[str]) -> list[tuple]:
    """Every row of `table` (the given `columns`, in order) from the SQLite file at `path`,
    opened read-only. Text comes back as bytes: the caller decodes each value, so one bad
    value skips one row rather than failing the store. Raises LegacyStoreError naming the
    file when it is missing, not SQLite, or lacks the table or a column."""
    file = Path(path)
    if not file.is_file():
        raise LegacyStoreError(f"{path}: no such file")
    try:
        connection = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise LegacyStoreError(f"{path}: cannot open as SQLite: {exc}") from exc
    try:
        connection.text_factory = bytes
        found = {row[1] for row in connection.execute(f"PRAGMA table_info({_quoted(table)})")}
        if not found:
            tables = sorted(
                name.decode("utf-8", "replace")
                for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            )
            raise LegacyStoreError(
                f"{path}: no table {table!r} (holds {', '.join(tables) or 'no tables'}): "
                "not the original tool's store?"
            )
        missing = [column for column in columns if column.encode() not in found]
        if missing:
            raise LegacyStoreError(f"{path}: table {table!r} lacks the column(s) {', '.join(missing)}")
        names = ", ".join(_quoted(column) for column in columns)
        query = f"SELECT {names} FROM {_quoted(table)}"  # noqa: S608 (constant identifiers, see _quoted)
        return connection.execute(query).fetchall()
    except sqlite3.Error as exc:  # "file is not a database", a damaged page, ...
        raise LegacyStoreError(f"{path}: not a readable SQLite database: {exc}") from exc
    finally:
        connection.close()


def _quoted(identifier: str) -> str:
    # Only the importers' own constant names reach this; anything else is a programming error.
    if not re.fullmatch(r"[a-z_]+", identifier):
        raise ValueError(f"not a plain SQL identifier: {identifier!r}")
    return f'"{identifier}"'


def decoded(value) -> str | None:
    """A text value read with read_sqlite_table as str, or None when it is not UTF-8."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None if value is None else str(value)
