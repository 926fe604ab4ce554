"""The snapshot a page shows (the current one, or one a ticket link pinned) and its name,
which keys the per-snapshot page caches."""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db.models import QuerySet
from django.utils import timezone

from ..models import ErrorCount, ErrorImport, PinnedCell

# Ticket links keep their snapshot this long; the refresh job prunes older ones.
PINNED_DAYS = 30
MAX_SNAPSHOT_ID = 2**63 - 1  # ErrorImport's big auto field

_GROUPING_GENERATION_KEY = "wwt:globalview:grouping"


class ErrorsQueryError(Exception):
    """A request the error pages cannot answer (bad combination of parameters)."""


class SnapshotNotKept(ErrorsQueryError):
    """A ticket link names a snapshot whose cells are not (or no longer) kept."""


class NoSuchSnapshot(ErrorsQueryError):
    """`?snapshot=` names no snapshot of current errors."""


@dataclass(frozen=True)
class ShownSnapshot:
    """The snapshot a page shows: `pinned` when a ticket link's `?snapshot=` named a kept one
    (its cells are PinnedCell rows), else the current errors (`id` None before any import)."""

    id: int | None
    finished_at: datetime | None
    pinned: bool = False


def shown_snapshot(asked: str = "", *, needs_cells: bool = True) -> ShownSnapshot:
    """The snapshot for `?snapshot=` (`asked`; "" is the current one). Raises ErrorsQueryError
    for a value that is not an id, NoSuchSnapshot for an id that names no snapshot of current
    errors, SnapshotNotKept for a snapshot whose cells are not kept
    (pruned after PINNED_DAYS days, or never pinned). A page read from the history, which is
    kept, gives `needs_cells=False`: any snapshot then names a fixed time. One query."""
    if not asked:
        refresh = last_refresh()
        return ShownSnapshot(refresh.pk, refresh.finished_at) if refresh else ShownSnapshot(None, None)
    if not asked.isascii() or not asked.isdigit() or not 0 < int(asked) <= MAX_SNAPSHOT_ID:
        raise ErrorsQueryError(f"snapshot must be a snapshot id (a whole number from 1), not {asked!r}")
    found = (
        ErrorImport.objects.filter(pk=int(asked), kind=ErrorImport.Kind.CURRENT)
        .values_list("finished_at", "pinned_at")
        .first()
    )
    if found is None:
        raise NoSuchSnapshot(f"There is no snapshot {asked}.")
    finished_at, pinned_at = found
    if pinned_at is None and needs_cells:
        when = timezone.localtime(finished_at).strftime("%Y-%m-%d %H:%M")
        if finished_at < timezone.now() - timedelta(days=PINNED_DAYS):
            raise SnapshotNotKept(
                f"Snapshot {asked} (of {when}) is no longer kept: ticket links keep their errors "
                f"for {PINNED_DAYS} days. The page without ?snapshot= shows the current errors."
            )
        raise SnapshotNotKept(
            f"Snapshot {asked} (of {when}) was not pinned by a ticket link, so its errors were not "
            "kept. The page without ?snapshot= shows the current errors."
        )
    return ShownSnapshot(int(asked), finished_at, pinned=True)


def snapshot_cells(snapshot: ShownSnapshot | None = None) -> QuerySet:
    """The cells of `snapshot` (default: the current errors): ErrorCount or PinnedCell rows,
    which have the same fields, so a selector's query reads either."""
    if snapshot is not None and snapshot.pinned:
        return PinnedCell.objects.filter(snapshot_id=snapshot.id)
    return ErrorCount.objects.all()


def last_refresh() -> ErrorImport | None:
    """The latest import of current errors, or None before the first one."""
    return ErrorImport.objects.filter(kind=ErrorImport.Kind.CURRENT).order_by("-finished_at").first()


def forget_grouped_pages() -> None:
    """Retire the pages built for the current snapshot: the workflows' campaigns or prep IDs
    changed (ReqMgr2 said better than their names), so the same snapshot groups differently."""
    try:
        cache.incr(_GROUPING_GENERATION_KEY)
    except ValueError:  # not set yet
        cache.set(_GROUPING_GENERATION_KEY, 1, None)


def snapshot_key(snapshot: ShownSnapshot | None = None) -> str:
    """Names the current snapshot (its import and grouping), or "" when there is none to name.
    The snapshot changes only when an import replaces it, so a page is built once per
    snapshot (the key names the import) and served from Django's cache afterwards. A pinned
    snapshot never changes its cells; its grouping is the workflows' campaigns and prep IDs now."""
    grouping = cache.get(_GROUPING_GENERATION_KEY) or 0
    if snapshot is not None and snapshot.pinned:
        return f"pinned{snapshot.id}:{grouping}"
    # A page that resolved its snapshot already knows the current one: no second query.
    refresh = snapshot if snapshot is not None else last_refresh()
    if not refresh or refresh.id is None:
        return ""
    return f"{refresh.id}:{refresh.finished_at.timestamp()}:{grouping}"


def current_snapshot() -> tuple[str, bool]:
    """(snapshot_key(), whether that import stored its totals: errors/snapshot_totals.py)."""
    refresh = last_refresh()
    if not refresh:
        return "", False
    return snapshot_key(ShownSnapshot(refresh.pk, refresh.finished_at)), refresh.totals_built


def digest(*parts) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode("utf-8", "surrogatepass")).hexdigest()
