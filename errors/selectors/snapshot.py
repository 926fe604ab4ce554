"""The current snapshot's name, which keys the per-snapshot page caches."""

import hashlib

from django.core.cache import cache

from ..models import ErrorImport

_GROUPING_GENERATION_KEY = "wwt:globalview:grouping"


class ErrorsQueryError(Exception):
    """A request the error pages cannot answer (bad combination of parameters)."""


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


def snapshot_key() -> str:
    """Names the current snapshot (its import and grouping), or "" when there is none to name.
    The snapshot changes only when an import replaces it, so a page is built once per
    snapshot (the key names the import) and served from Django's cache afterwards."""
    return current_snapshot()[0]


def current_snapshot() -> tuple[str, bool]:
    """(snapshot_key(), whether that import stored its totals: errors/snapshot_totals.py)."""
    refresh = last_refresh()
    if not refresh:
        return "", False
    key = f"{refresh.pk}:{refresh.finished_at.timestamp()}:{cache.get(_GROUPING_GENERATION_KEY) or 0}"
    return key, refresh.totals_built


def digest(*parts) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode("utf-8", "surrogatepass")).hexdigest()
