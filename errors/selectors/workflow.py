"""The errors of one workflow (its page's tables) and each workflow's main error."""

from collections import defaultdict

from django.db.models import Sum

from workflows.exit_codes import exit_code_label
from workflows.models import Workflow, short_task_name

from ..charts import OTHERS_CLASS
from ..models import ErrorCount
from .pies import snapshot_palettes
from .site_context import SiteContext, Verdict, site_contexts, snapshot_sites, status_of, workflow_verdict
from .snapshot import ShownSnapshot, snapshot_cells


def workflow_error_tables(
    workflow: Workflow, statuses: dict[str, str] | None = None, snapshot: ShownSnapshot | None = None
) -> list[dict]:
    """Per step with errors: exit codes (rows, each with its `colour` in the snapshot's pies)
    × sites (columns, each with its status from `statuses` and its SiteContext) with row and
    column totals, in `snapshot` (default: the current errors, or one a ticket link pinned).
    One query, whatever the number of steps, plus the snapshot's cached site sums."""
    found = snapshot_sites(shown=snapshot)
    contexts = site_contexts(statuses or {}, found)
    palette = snapshot_palettes(found)["exit_code"]

    def context_of(site: str) -> SiteContext:
        return contexts.get(site) or SiteContext(
            site, status_of(site, statuses or {}), 0, 0, found.workflows, None, None
        )

    cells = (
        snapshot_cells(snapshot)
        .filter(step__workflow=workflow)
        .values_list("step__name", "exit_code", "site", "count")
        .order_by()
    )
    per_step: dict = defaultdict(lambda: defaultdict(dict))
    for step, code, site, count in cells:
        per_step[step][code][site] = count
    tables = []
    for step in sorted(per_step):
        codes = per_step[step]
        sites = sorted({site for by_site in codes.values() for site in by_site})
        site_totals = {site: sum(by_site.get(site, 0) for by_site in codes.values()) for site in sites}
        rows = [
            {
                "exit_code": code,
                "colour": palette.colour(exit_code_label(code)) or OTHERS_CLASS,
                "counts": [codes[code].get(site) for site in sites],
                "total": sum(codes[code].values()),
            }
            for code in sorted(codes, key=lambda c: (-sum(codes[c].values()), c))
        ]
        tables.append(
            {
                "name": step,
                "short_name": short_task_name(workflow.name, step),
                "sites": [
                    {"name": site, "status": (statuses or {}).get(site, ""), "context": context_of(site)}
                    for site in sites
                ],
                "site_totals": [site_totals[site] for site in sites],
                "rows": rows,
                "total": sum(site_totals.values()),
            }
        )
    return tables


def site_verdict(tables: list[dict]) -> Verdict | None:
    """The workflow page's badge from its error tables (workflow_error_tables): is it the
    site or the workflow? No query."""
    site_errors: dict[str, int] = defaultdict(int)
    contexts: dict[str, SiteContext] = {}
    for table in tables:
        for site, total in zip(table["sites"], table["site_totals"], strict=True):
            site_errors[site["name"]] += total
            contexts[site["name"]] = site["context"]
    return workflow_verdict(dict(site_errors), contexts)


def main_errors(exclude_workflows=()) -> dict[int, tuple[int, str]]:
    """{workflow id: (exit code, task path)} of each workflow's biggest current (step,
    exit code) cell, in one query; workflows named in `exclude_workflows` are left out."""
    rows = (
        ErrorCount.objects.exclude(step__workflow__name__in=list(exclude_workflows))
        .values("step__workflow_id", "step__workflow__name", "step__name", "exit_code")
        .annotate(total=Sum("count"))
        .order_by("step__workflow_id", "-total", "exit_code", "step__name")
    )
    found: dict[int, tuple[int, str]] = {}
    for row in rows:
        if row["step__workflow_id"] not in found:
            task = row["step__name"][len(row["step__workflow__name"]) + 2 :]
            found[row["step__workflow_id"]] = (row["exit_code"], task)
    return found
