"""The sites page: errors per site over the current snapshot."""

from collections import defaultdict

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Sum

from workflows.exit_codes import exit_code_label

from ..models import ErrorCount, ErrorHistory
from .pies import pie_of
from .snapshot import ShownSnapshot, snapshot_cells, snapshot_key


def _site_aggregates(snapshot: ShownSnapshot | None = None) -> tuple[list, dict]:
    """Per site (errors, workflows, steps) and per site {exit code: errors}: two queries
    over the whole snapshot, cached per snapshot."""
    snapshot_name = snapshot_key(snapshot)
    key = f"wwt:sites:{snapshot_name}" if snapshot_name else None
    found = cache.get(key) if key else None
    if found is not None:
        return found
    cells = snapshot_cells(snapshot)
    totals = list(
        cells.values_list("site")
        .annotate(
            errors=Sum("count"),
            workflows=Count("step__workflow", distinct=True),
            steps=Count("step", distinct=True),
        )
        .order_by("-errors", "site")
    )
    per_code: dict = defaultdict(dict)
    rows = cells.values_list("site", "exit_code").annotate(total=Sum("count")).order_by()
    for site, code, count in rows:
        per_code[site][code] = count
    found = (totals, dict(per_code))
    if key:
        cache.set(key, found, settings.WWT["cache"]["errors_minutes"] * 60)
    return found


def sites_with_errors() -> set[str]:
    """Every site the current snapshot or the history names (two DISTINCT queries)."""
    current = ErrorCount.objects.values_list("site", flat=True).distinct().order_by()
    past = ErrorHistory.objects.values_list("site", flat=True).distinct().order_by()
    return set(current) | set(past)


def biggest_codes(split: dict[str, int], limit: int) -> list[tuple[str, int]]:
    """The `limit` biggest {label: count} entries, biggest first (ties by label)."""
    return sorted(split.items(), key=lambda item: (-item[1], item[0]))[:limit]


def errors_per_site(statuses: dict[str, str], snapshot: ShownSnapshot | None = None) -> list[dict]:
    """Per site: errors, workflows, steps, the biggest exit codes, the site status and its
    pie (split by exit code), which opens the global view narrowed to the site. `snapshot`
    (default: the current errors) may be one a ticket link pinned."""
    totals, per_code = _site_aggregates(snapshot)
    rows = []
    for site, errors, workflows, steps in totals:
        split = {exit_code_label(code): count for code, count in per_code.get(site, {}).items()}
        rows.append(
            {
                "site": site,
                "errors": errors,
                "workflows": workflows,
                "steps": steps,
                "status": statuses.get(site, ""),
                # The three biggest codes themselves (no "others" part: the pie shows the rest).
                "top_codes": biggest_codes(split, 3),
                "pie": pie_of(site, split, "errors:global", pievar="errorcode", sitename=site),
            }
        )
    return rows
