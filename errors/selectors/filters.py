"""Noise filters of the global view and the list page (issue 17 item 5), kept in the URL.

- `min_errors`: only workflows with at least this many failed jobs on the page (after the
  site choices: a hidden site's errors do not count);
- `no_pending`: only workflows without a pending action (one Unified has not reported yet);
- `grew`: only workflows whose errors grew since the previous snapshot (see `previous_bucket`);
- `hide_campaign`, `hide_site` (each repeatable): leave out those campaigns' workflows, those
  sites' errors.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db.models import Max, QuerySet, Sum

from workflows import workflow_sets

from ..history import history_bucket
from ..models import ErrorCount, ErrorHistory, ErrorImport, SnapshotWorkflowTotal
from .snapshot import current_snapshot, last_refresh


@dataclass(frozen=True)
class NoiseFilters:
    min_errors: int = 0
    no_pending: bool = False
    grew: bool = False
    hide_campaigns: tuple[str, ...] = ()
    hide_sites: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.narrows_workflows or bool(self.hide_sites)

    @property
    def narrows_workflows(self) -> bool:
        """Does it leave out workflows (not only sites)?"""
        return self.min_errors > 1 or self.no_pending or self.grew or bool(self.hide_campaigns)

    def query(self) -> list[tuple[str, str]]:
        """The filters as URL parameters (defaults left out), for pager and sort links."""
        items: list[tuple[str, str]] = []
        if self.min_errors > 1:
            items.append(("min_errors", str(self.min_errors)))
        if self.no_pending:
            items.append(("no_pending", "1"))
        if self.grew:
            items.append(("grew", "1"))
        items += [("hide_campaign", campaign) for campaign in self.hide_campaigns]
        items += [("hide_site", site) for site in self.hide_sites]
        return items

    def cache_part(self) -> str:
        """What a cached page built with these filters depends on besides the snapshot: the
        choices, the pending actions (they change without a new snapshot) and the history."""
        if not self:
            return ""
        parts = [repr(self.query())]
        if self.no_pending:
            pending = workflow_sets.workflow_ids(workflow_sets.PENDING_ACTION).order_by("workflow_id")
            parts.append(",".join(map(str, pending.values_list("workflow_id", flat=True))))
        if self.grew:
            parts.append(str(_history_version()))
        return hashlib.sha256("|".join(parts).encode("utf-8", "surrogatepass")).hexdigest()

    def apply(self, cells: QuerySet) -> QuerySet:
        """The ErrorCount queryset `cells` less what the filters leave out."""
        if self.hide_sites:
            cells = cells.exclude(site__in=self.hide_sites)
        if self.hide_campaigns:
            cells = cells.exclude(step__workflow__campaign__in=self.hide_campaigns)
        if self.no_pending:
            cells = cells.exclude(
                step__workflow_id__in=workflow_sets.workflow_ids(workflow_sets.PENDING_ACTION)
            )
        if self.grew:
            cells = cells.filter(step__workflow_id__in=sorted(grown_workflow_ids()))
        if self.min_errors > 1:
            # Last: the minimum counts what the other choices leave on the page.
            big_enough = (
                cells.values("step__workflow_id")
                .annotate(workflow_total=Sum("count"))
                .filter(workflow_total__gte=self.min_errors)
                .values("step__workflow_id")
            )
            cells = cells.filter(step__workflow_id__in=big_enough)
        return cells


def _history_version() -> int:
    latest = ErrorImport.objects.exclude(kind=ErrorImport.Kind.CURRENT).order_by("-finished_at").first()
    return latest.pk if latest else 0


def previous_bucket() -> datetime | None:
    """The previous snapshot that `grew` compares with: the newest history bucket that starts
    before the bucket holding the current snapshot's import (that bucket itself may already
    hold the current snapshot, appended by the history job). None without such history."""
    refresh = last_refresh()
    if refresh is None:
        return None
    before = ErrorHistory.objects.filter(bucket__lt=history_bucket(refresh.finished_at))
    return before.aggregate(latest=Max("bucket"))["latest"]


def grown_workflow_ids() -> frozenset[int]:
    """Ids of the workflows whose failed jobs (all steps, codes and sites) in the current
    snapshot exceed their count in `previous_bucket()`; a workflow absent there counts from
    0, so without history every workflow with errors has grown. Cached per snapshot and
    history import."""
    refresh = last_refresh()
    key = f"wwt:grown:{refresh.pk if refresh else 0}:{_history_version()}"
    grown = cache.get(key)
    if grown is not None:
        return grown
    bucket = previous_bucket()
    before = {}
    if bucket is not None:
        history = ErrorHistory.objects.filter(bucket=bucket)
        before = dict(history.values_list("step__workflow_id").annotate(total=Sum("count")).order_by())
    if current_snapshot()[1]:  # the per-workflow totals stored at ingestion
        now = SnapshotWorkflowTotal.objects.values_list("workflow_id", "total")
    else:
        now = ErrorCount.objects.values_list("step__workflow_id").annotate(total=Sum("count")).order_by()
    grown = frozenset(workflow for workflow, total in now if total > before.get(workflow, 0))
    cache.set(key, grown, settings.WWT["cache"]["errors_minutes"] * 60)
    return grown


NO_FILTERS = NoiseFilters()
