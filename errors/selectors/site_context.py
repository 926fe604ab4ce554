"""What the current snapshot says about each site, for every page that shows sites: its
errors, its failure share and its trend against the history, and the workflow page's verdict
(the site or the workflow?). Built once per snapshot in a fixed number of queries and cached
with the snapshot key; no query per site.

Failure share: the workflows with at least one error at the site, over all workflows with
errors in the snapshot. The snapshot only names workflows that failed somewhere, so this is
"fails N% of the failing workflows", not of every workflow that ran there (which no source
we read tells)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Subquery, Sum
from django.utils import timezone

from ..models import ErrorHistory, ErrorImport, SnapshotCellTotal, SnapshotSiteTotal, SnapshotWorkflowTotal
from .cells import site_totals
from .snapshot import ShownSnapshot, snapshot_cells, snapshot_key

# A site "fails many workflows" from this failure share on ...
WIDE_FAILURE_SHARE = 0.3
# ... when the snapshot holds at least this many failing workflows (below, shares say little).
MIN_WORKFLOWS_FOR_SHARES = 10
# "Probably the site": more than this share of a workflow's errors sit at such sites.
SITE_BLAME_SHARE = 0.5
# "Fails at every site": errors at this many sites at least, and no more than SITE_BLAME_SHARE
# of them at sites failing many workflows.
EVERY_SITE_MIN_SITES = 3
# Trend: the snapshot against the last history bucket at least TREND_HOURS old (up to
# TREND_MAX_HOURS: older history says nothing about a trend); within ±TREND_STEADY, "steady".
TREND_HOURS = 24
TREND_MAX_HOURS = 48
TREND_STEADY = 0.2

STATUSES = ("enabled", "drain", "disabled")  # what the site status source says; anything else: unknown


@dataclass(frozen=True)
class SnapshotSites:
    """The snapshot's per-site sums: `sites` (site, errors, workflows, steps) worst first,
    `per_code` {site: {exit code: errors}}, `workflows` with any error, and the errors per site
    in the history bucket `then` (None without history in the trend window)."""

    sites: tuple[tuple[str, int, int, int], ...]
    per_code: dict[str, dict[int, int]]
    workflows: int
    then: datetime | None
    errors_then: dict[str, int]


def snapshot_sites(
    snapshot: str | None = None, shown: ShownSnapshot | None = None, *, stored: bool | None = None
) -> SnapshotSites:
    """The snapshot's per-site sums: four queries, none while the snapshot's entry is cached
    (plus one to name the snapshot, unless the caller gives its `snapshot_key()`). `shown` is
    the snapshot a ticket link pinned (default: the current errors). The current snapshot's
    sums are read from the rows its ingestion stored (errors/site_totals.py) when the latest
    import stored them, else summed over the cells; `stored=False` (the caller knows they
    are not) goes straight to the cells."""
    snapshot = snapshot_key(shown) if snapshot is None else snapshot
    key = f"wwt:sites:{snapshot}" if snapshot else None
    found = cache.get(key) if key else None
    if isinstance(found, SnapshotSites):
        return found
    pinned = shown is not None and shown.pinned
    # No snapshot key: no import, so nothing stored (cells written by other means).
    sites = _stored_sites() if stored is not False and snapshot and not pinned else ()
    if sites:
        per_code = _per_code(SnapshotCellTotal.objects.values_list("site", "exit_code", "total"))
        workflows = SnapshotWorkflowTotal.objects.count()
    else:  # not stored (or an empty snapshot, whose sums cost nothing)
        cells = snapshot_cells(shown)
        sites = tuple(site_totals(cells))
        per_code = _per_code(cells.values_list("site", "exit_code").annotate(total=Sum("count")).order_by())
        workflows = cells.aggregate(n=Count("step__workflow", distinct=True))["n"]
    then, errors_then = _history_then()
    found = SnapshotSites(sites, per_code, workflows, then, errors_then)
    if key:
        cache.set(key, found, settings.WWT["cache"]["errors_minutes"] * 60)
    return found


def _stored_sites() -> tuple[tuple[str, int, int, int], ...]:
    """The per-site rows the latest import of current errors stored, as site_totals() orders
    them; none when that import did not store its totals (one query: the check is a subquery)."""
    latest_built = (
        ErrorImport.objects.filter(kind=ErrorImport.Kind.CURRENT)
        .order_by("-finished_at")
        .values("totals_built")[:1]
    )
    rows = (
        SnapshotSiteTotal.objects.alias(built=Subquery(latest_built))
        .filter(built=True)
        .values_list("site", "errors", "workflows", "steps")
    )
    return tuple(sorted(rows, key=lambda row: (-row[1], row[0])))


def _per_code(rows) -> dict[str, dict[int, int]]:
    """{site: {exit code: errors}} of (site, exit code, errors) rows."""
    per_code: dict[str, dict[int, int]] = {}
    for site, code, count in rows:
        per_code.setdefault(site, {})[code] = count
    return per_code


def _history_then() -> tuple[datetime | None, dict[str, int]]:
    """Errors per site in the newest history bucket TREND_HOURS to TREND_MAX_HOURS old: one
    query (the bucket is a subquery)."""
    now = timezone.now()
    bucket = (
        ErrorHistory.objects.filter(
            bucket__lte=now - timedelta(hours=TREND_HOURS), bucket__gte=now - timedelta(hours=TREND_MAX_HOURS)
        )
        .order_by("-bucket")
        .values("bucket")[:1]
    )
    rows = list(
        ErrorHistory.objects.filter(bucket=Subquery(bucket))
        .values_list("bucket", "site")
        .annotate(total=Sum("count"))
        .order_by()
    )
    if not rows:
        return None, {}
    return rows[0][0], {site: total for _, site, total in rows}


@dataclass(frozen=True)
class SiteContext:
    """One site as every page shows it beside its name."""

    site: str
    status: str  # one of STATUSES or "unknown"
    errors: int
    workflows: int  # failing workflows with errors at the site
    all_workflows: int  # failing workflows in the snapshot
    errors_then: int | None  # errors in the history bucket `then`; None without history
    then: datetime | None

    @property
    def share(self) -> float:
        return self.workflows / self.all_workflows if self.all_workflows else 0.0

    @property
    def share_percent(self) -> int:
        return round(100 * self.share)

    @property
    def fails_many(self) -> bool:
        """The site fails WIDE_FAILURE_SHARE of the snapshot's failing workflows (or more), in a
        snapshot big enough for shares to mean something."""
        return self.all_workflows >= MIN_WORKFLOWS_FOR_SHARES and self.share >= WIDE_FAILURE_SHARE

    @property
    def trend(self) -> str:
        """ "rising", "falling", "steady", "new" (no errors then) or "" (no history then)."""
        if self.then is None:
            return ""
        if not self.errors_then:
            return "new" if self.errors else ""
        change = (self.errors - self.errors_then) / self.errors_then
        if change > TREND_STEADY:
            return "rising"
        if change < -TREND_STEADY:
            return "falling"
        return "steady"

    @property
    def trend_arrow(self) -> str:
        return {"rising": "▲", "falling": "▼", "steady": "=", "new": "new"}.get(self.trend, "")

    @property
    def summary(self) -> str:
        """One line for tooltips: status, failure share, trend."""
        text = f"{self.site}: {self.status} · fails {self.share_percent}% of the failing workflows"
        if self.trend:
            text += f" · {self.errors_then or 0} errors {self.then:%Y-%m-%d %H:%M} UTC, {self.errors} now"
        return text


def status_of(site: str, statuses: dict[str, str]) -> str:
    status = statuses.get(site, "")
    return status if status in STATUSES else "unknown"


def site_contexts(statuses: dict[str, str], found: SnapshotSites | None = None) -> dict[str, SiteContext]:
    """{site: SiteContext} for every site of the snapshot (`found`, default snapshot_sites()),
    with its status from `statuses`."""
    found = found or snapshot_sites()
    return {
        site: SiteContext(
            site=site,
            status=status_of(site, statuses),
            errors=errors,
            workflows=workflows,
            all_workflows=found.workflows,
            errors_then=found.errors_then.get(site, 0) if found.then else None,
            then=found.then,
        )
        for site, errors, workflows, _ in found.sites
    }


def site_columns(
    columns: list, statuses: dict[str, str], found: SnapshotSites | None = None
) -> list[SiteContext]:
    """The context of each site of `columns`, in column order (a site the snapshot does not
    name gets its status and zeros)."""
    found = found or snapshot_sites()
    contexts = site_contexts(statuses, found)
    return [
        contexts.get(site) or SiteContext(site, status_of(site, statuses), 0, 0, found.workflows, None, None)
        for site in columns
    ]


@dataclass(frozen=True)
class Verdict:
    """The workflow page's badge: "site" (most errors at sites failing many workflows) or
    "workflow" (it fails at many sites, most of them failing few others)."""

    kind: str
    sites: tuple[str, ...]  # the sites that fail many workflows (kind "site"), or all its sites
    share_percent: int  # of the workflow's errors at sites failing many workflows
    wide_percent: int = round(100 * WIDE_FAILURE_SHARE)  # what "failing many workflows" means


def workflow_verdict(site_errors: dict[str, int], contexts: dict[str, SiteContext]) -> Verdict | None:
    """The badge for a workflow with `site_errors` {site: its errors there}, or None when
    neither case holds (or the workflow has no errors)."""
    total = sum(site_errors.values())
    failing = max((context.all_workflows for context in contexts.values()), default=0)
    if not total or failing < MIN_WORKFLOWS_FOR_SHARES:
        return None  # too few failing workflows to tell a bad site from a bad workflow
    wide = sorted(site for site in site_errors if site in contexts and contexts[site].fails_many)
    blamed = sum(site_errors[site] for site in wide) / total
    if blamed > SITE_BLAME_SHARE:
        return Verdict("site", tuple(wide), round(100 * blamed))
    if len(site_errors) >= EVERY_SITE_MIN_SITES:
        return Verdict("workflow", tuple(sorted(site_errors)), round(100 * blamed))
    return None
