"""Ticket links: a page's "link for a ticket" pins the snapshot it shows, copying its cells
into PinnedCell, so `?snapshot=<id>` shows the same numbers after later ingestions. Only
snapshots someone pinned are copied (copying every half-hourly snapshot of 5,000 workflows
would keep millions of rows); the refresh job prunes those older than PINNED_DAYS days."""

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from .models import ErrorCount, ErrorImport, PinnedCell
from .selectors.snapshot import PINNED_DAYS, ErrorsQueryError, last_refresh


class PinRefused(ErrorsQueryError):
    """The snapshot asked for can no longer be pinned (a newer one replaced it)."""


def _copy_current_cells(snapshot_id: int) -> None:
    # One INSERT ... SELECT in the database: no row passes through Python. The table and
    # column names come from the models, the snapshot id is a parameter.
    pinned, current = PinnedCell._meta.db_table, ErrorCount._meta.db_table
    columns = "step_id, exit_code, site, count"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {pinned} (snapshot_id, {columns}) SELECT %s, {columns} FROM {current}",  # noqa: S608
            [snapshot_id],
        )


def pin_snapshot(snapshot_id: int, *, now: datetime | None = None) -> ErrorImport:
    """Keep the cells of current-errors snapshot `snapshot_id` for ticket links. Pinning a
    pinned snapshot changes nothing. Raises PinRefused when it is not the current snapshot
    (its cells are gone) and not pinned; nothing is stored then."""
    with transaction.atomic():
        snapshot = (
            ErrorImport.objects.select_for_update()
            .filter(pk=snapshot_id, kind=ErrorImport.Kind.CURRENT)
            .first()
        )
        if snapshot is None:
            raise PinRefused(f"There is no snapshot {snapshot_id}.")
        if snapshot.pinned_at is not None:
            return snapshot
        _copy_current_cells(snapshot.pk)
        # Checked after the copy: if the snapshot is still the latest now, the copy (an
        # earlier statement) read its cells, not a newer ingestion's.
        latest = last_refresh()
        if latest is None or latest.pk != snapshot.pk:  # the exception rolls the copy back
            raise PinRefused(
                "The errors were refreshed since this page was shown, so its snapshot cannot be "
                "pinned any more: reload the page and ask for the link again."
            )
        snapshot.pinned_at = now or timezone.now()
        snapshot.save(update_fields=["pinned_at"])
    return snapshot


def prune_pinned_snapshots(*, now: datetime | None = None) -> int:
    """Drop the kept cells of snapshots older than PINNED_DAYS days (their links then say so).
    Returns how many snapshots were pruned."""
    cutoff = (now or timezone.now()) - timedelta(days=PINNED_DAYS)
    with transaction.atomic():
        old = ErrorImport.objects.filter(pinned_at__isnull=False, finished_at__lt=cutoff)
        old_ids = list(old.values_list("pk", flat=True))
        PinnedCell.objects.filter(snapshot_id__in=old_ids).delete()
        ErrorImport.objects.filter(pk__in=old_ids).update(pinned_at=None)
    return len(old_ids)
