"""getaction's reply kept per version of the actions: a poll reads one short row (the
version's token), or none while this process's lease on the token it last read holds
(models.ServedTokenLease: 20 ms, which every write waits out after its commit), and answers
bytes built once for that version.

Every write to actions gives the version a new random token in the writer's transaction
(`forget_served_actions`: ActionQuerySet's bulk writes and the save/delete signals in
actions/apps.py call it, so a new write path cannot forget it). A reply is kept under its
token, in this process and in Django's cache (Redis in production, shared by the workers), so
no reply is read after the write that changed it, in any process, even when the write came
while Redis was down. With Redis down a poll builds the reply from the database as before.
"""

import time
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from wwt_project.cache import soft_cache

from . import selectors
from .models import SERVED_VERSION_PK, ServedTokenLease, ServedVersion, forget_served_actions

__all__ = ["forget_served_actions", "served_actions_bytes", "served_version"]

CACHE_SECONDS = 3600
# Replies kept in this process, of the current versions only (each a few hundred kB); they
# cannot go stale, as every poll checks the version first (in the database, or its lease).
KEPT_IN_PROCESS = 8
_kept: dict[str, tuple[bytes, float | None]] = {}
_READ_TOKEN = f"SELECT token FROM {ServedVersion._meta.db_table} WHERE id = %s"  # noqa: S608 -- a constant


def served_version() -> str | None:
    """The current token, or None when its row is missing (a flushed database): the one this
    process read last while its lease holds, else read from the database."""
    now = time.monotonic()
    trusted, token = ServedTokenLease.trusted_token(now)
    if trusted:
        return token
    # A plain cursor: the ORM's query building cost a poll more than the query itself.
    with connection.cursor() as cursor:
        cursor.execute(_READ_TOKEN, [SERVED_VERSION_PK])
        row = cursor.fetchone()
    token = row[0] if row else None
    ServedTokenLease.take(token, read_started=now)
    return token


def served_actions_bytes(*, days: int = 0, acted: int = 0, now: datetime | None = None) -> bytes:
    """`selectors.served_actions_json(...)` encoded, from the reply kept for the current
    version when there is one still valid at `now` (see `_build`)."""
    token = served_version()
    if token is None:
        return selectors.served_actions_json(days=days, acted=acted, now=now).encode()
    moment = (now or timezone.now()).timestamp()
    key = f"getaction:{token}:{days}:{acted}"
    reply = _kept.get(key) or soft_cache("get", key)
    if reply is None or (reply[1] is not None and moment > reply[1]):
        reply = _build(days=days, acted=acted, now=now)
        soft_cache("set", key, reply, CACHE_SECONDS)
    if key not in _kept:
        if len(_kept) >= KEPT_IN_PROCESS:
            _kept.clear()
        _kept[key] = reply
    return reply[0]


def _build(*, days: int, acted: int, now: datetime | None) -> tuple[bytes, float | None]:
    """The reply and the time (a timestamp) after which it is stale although no action was
    written: with an age limit, when its oldest action grows older than `days`."""
    text, oldest = selectors.served_actions_with_oldest(days=days, acted=acted, now=now)
    expires = (oldest + timedelta(days=days)).timestamp() if days > 0 and oldest else None
    return text.encode(), expires
