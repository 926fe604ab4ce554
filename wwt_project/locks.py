"""One named job lock shared by every process (web, worker, commands) that dies with its holder.

`job_lock(name)` holds the lock for a block or raises `Busy` at once. A crashed or killed
holder frees it the moment its process ends, so nothing waits for an expiry:

- PostgreSQL: a session advisory lock on a connection of its own, which the server drops
  when that connection closes (the process exits or is killed).
- SQLite (the embedded default, one machine): an flock on a file under WWT_LOCK_DIR, which
  the kernel drops when the process exits or is killed.

Either way the holder (pid, host, since when) is recorded so `Busy` can say who holds it.
"""

import fcntl
import os
import socket
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

_NAMESPACE = 0x575754  # "WWT": the first key of our two-key advisory locks


class Busy(Exception):
    """Another process holds the lock. `detail` says who and since when ("" when unknown),
    `how_to_clear` what an operator does if that process hangs."""

    def __init__(self, name: str, *, detail: str = "", how_to_clear: str = ""):
        self.name, self.detail, self.how_to_clear = name, detail, how_to_clear
        super().__init__(f"lock {name!r} is held{detail}. {how_to_clear}".strip())


def _me() -> tuple[int, str]:
    return os.getpid(), socket.gethostname()


def _describe(pid, host: str, since: datetime | None) -> str:
    when = f" since {since:%Y-%m-%d %H:%M:%S} UTC" if since else ""
    return f"{when} by process {pid} on {host}"


@contextmanager
def job_lock(name: str) -> Iterator[None]:
    """Hold lock `name` for the block; raises Busy when another holder has it."""
    if connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
        with _advisory_lock(name):
            yield
    else:
        with _file_lock(name):
            yield


# -- PostgreSQL ------------------------------------------------------------------------------


def _advisory_key(name: str) -> int:
    # A signed 32-bit key (pg_try_advisory_lock(int, int) takes int4).
    return int.from_bytes(zlib.crc32(name.encode()).to_bytes(4, "big"), "big", signed=True)


@contextmanager
def _advisory_lock(name: str) -> Iterator[None]:
    # A connection of its own: the ORM's may be closed or reset between queries (CONN_MAX_AGE,
    # health checks), which would drop the lock; this one lives exactly as long as the block.
    conn = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with conn.cursor() as cursor:
            pid, host = _me()
            cursor.execute(
                "SELECT set_config('application_name', %s, false)", [f"wwt lock {pid}@{host}"[:63]]
            )
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_NAMESPACE, _advisory_key(name)])
            if not cursor.fetchone()[0]:
                raise _advisory_busy(cursor, name)
        yield
    finally:
        conn.close()  # closing the session frees the lock


def _advisory_busy(cursor, name: str) -> Busy:
    cursor.execute(
        "SELECT a.pid, a.application_name, a.backend_start, a.client_addr"
        " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s::bigint::oid"
        " AND l.objid = %s::bigint::oid AND l.objsubid = 2",
        [_NAMESPACE, _advisory_key(name) & 0xFFFFFFFF],
    )
    row = cursor.fetchone()
    if not row:  # freed meanwhile: the caller may simply try again
        return Busy(name, how_to_clear="It was just freed; try again.")
    backend_pid, application, since, client = row
    _, _, who = application.partition("wwt lock ")
    pid, _, host = who.partition("@")
    detail = _describe(pid or "?", host or str(client or "?"), since)
    return Busy(
        name,
        detail=detail,
        how_to_clear=(
            f"It is freed when that process ends; if it hangs, stop it (kill {pid or '?'} on "
            f"{host or client or '?'}) or end its database session: "
            f"SELECT pg_terminate_backend({backend_pid});"
        ),
    )


# -- SQLite: a file lock ---------------------------------------------------------------------


def lock_dir() -> Path:
    return Path(getattr(settings, "WWT_LOCK_DIR", Path(settings.VAR_DIR) / "locks"))


@contextmanager
def _file_lock(name: str) -> Iterator[None]:
    directory = lock_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.lock"
    # Opened without truncating: a refused taker must not erase the holder's record.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _file_busy(path, name) from None
        pid, host = _me()
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{pid} {host} {datetime.now(UTC).isoformat()}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # closing (or the process dying) frees the flock


def _file_busy(path: Path, name: str) -> Busy:
    try:
        pid, host, since = path.read_text().split()
        detail = _describe(pid, host, datetime.fromisoformat(since))
    except (OSError, ValueError):  # the holder has not written its record yet
        pid, host, detail = "?", "?", ""
    return Busy(
        name,
        detail=detail,
        how_to_clear=f"It is freed when that process ends; if it hangs, stop it (kill {pid} on {host}).",
    )
