"""The sites page: errors per site over the current snapshot, with each site's context."""

from workflows.exit_codes import exit_code_label

from ..models import ErrorCount, ErrorHistory
from .pies import legend_of, pie_of, snapshot_palettes
from .site_context import SnapshotSites, site_contexts, snapshot_sites
from .snapshot import ShownSnapshot


def sites_with_errors() -> set[str]:
    """Every site the current snapshot or the history names (two DISTINCT queries)."""
    current = ErrorCount.objects.values_list("site", flat=True).distinct().order_by()
    past = ErrorHistory.objects.values_list("site", flat=True).distinct().order_by()
    return set(current) | set(past)


def biggest_codes(split: dict[str, int], limit: int) -> list[tuple[str, int]]:
    """The `limit` biggest {label: count} entries, biggest first (ties by label)."""
    return sorted(split.items(), key=lambda item: (-item[1], item[0]))[:limit]


def errors_per_site(
    statuses: dict[str, str], found: SnapshotSites | None = None, snapshot: ShownSnapshot | None = None
) -> list[dict]:
    """Per site: errors, workflows, steps, the biggest exit codes, its SiteContext (status,
    failure share, trend) and its pie (split by exit code, in the snapshot's colours), which
    opens the global view narrowed to the site. From the snapshot's per-site sums (`found`,
    default snapshot_sites() of `snapshot`, the current errors or one a ticket link pinned)."""
    found = found or snapshot_sites(shown=snapshot)
    contexts = site_contexts(statuses, found)
    palette = snapshot_palettes(found)["exit_code"]
    rows = []
    for site, errors, workflows, steps in found.sites:
        split = {exit_code_label(code): count for code, count in found.per_code.get(site, {}).items()}
        rows.append(
            {
                "site": site,
                "errors": errors,
                "workflows": workflows,
                "steps": steps,
                "status": statuses.get(site, ""),
                "context": contexts[site],
                # The three biggest codes themselves (no "others" part: the pie shows the rest).
                "top_codes": biggest_codes(split, 3),
                "pie": pie_of(
                    site, split, "errors:global", palette=palette, pievar="errorcode", sitename=site
                ),
            }
        )
    return rows


def sites_page(statuses: dict[str, str], snapshot: ShownSnapshot | None = None) -> dict:
    """The sites page: `rows` (errors_per_site), the pies' `palette` and `legend`, and the
    snapshot's number of failing `workflows` (what the failure shares divide by), in
    `snapshot` (default: the current errors, or one a ticket link pinned)."""
    found = snapshot_sites(shown=snapshot)
    rows = errors_per_site(statuses, found)
    palette = snapshot_palettes(found)["exit_code"]
    return {
        "rows": rows,
        "palette": palette,
        "legend": legend_of(palette, (row["pie"] for row in rows)),
        "workflows": found.workflows,
    }
