"""Sending a task to the worker so that a broker that is down fails clearly and leaves nothing.

A job row written for a task that was never sent would wait for a worker forever (and
/cluster would refuse new requests meanwhile), so `send_after_commit` undoes it and raises
`QueueDown`, whose message tells the operator what is wrong.
"""

import logging
from collections.abc import Callable

from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

logger = logging.getLogger(__name__)


class QueueDown(Exception):
    """The task queue (the broker, Redis in production) did not take the task; nothing was queued."""


def send_after_commit(send: Callable[[], object], *, undo: Callable[[], None] | None = None) -> None:
    """Call `send` (e.g. `lambda: task.delay(...)`) once the current transaction commits (at
    once outside one). If the broker refuses, run `undo` (delete the job row) and raise QueueDown."""

    def _send() -> None:
        try:
            send()
        except (BrokerError, OSError) as exc:
            logger.error("the task queue is unreachable, nothing was queued: %s", exc)
            if undo:
                undo()
            raise QueueDown(
                "The task queue (Redis) is unreachable, so nothing was queued; "
                "try again once it is back (operators: check the broker, REDIS_URL)."
            ) from exc

    transaction.on_commit(_send)


def send_once(mark_key: str, seconds: float, send: Callable[[], object]) -> str:
    """Send unless the cache mark `mark_key` says the same task is already on its way; mark it
    for `seconds` ("fetching…" on the page). Returns "" when queued (or already on its way),
    else why not: with the broker down the mark is removed again, so nothing says "fetching…"."""
    from .cache import soft_cache

    if soft_cache("get", mark_key):
        return ""
    soft_cache("set", mark_key, 1, seconds)
    try:
        send_after_commit(send, undo=lambda: soft_cache("delete", mark_key))
    except QueueDown as exc:
        return str(exc)
    return ""
