"""Reads of the workflow page that join workflows with the errors app's counts."""

from collections import defaultdict

from django.db.models import Sum

from errors.models import ErrorCount
from workflows.models import Workflow, short_task_name


def related_workflows(workflow: Workflow) -> list[dict]:
    """The original and the ACDCs sharing the workflow's prep ID, with their current error
    totals (one query); [] when the name shows no prep ID."""
    if not workflow.prep_id:
        return []
    rows = (
        Workflow.objects.filter(prep_id=workflow.prep_id)
        .annotate(errors=Sum("steps__errors__count"))
        .values("name", "is_acdc", "errors")
        .order_by("is_acdc", "name")
    )
    return [row for row in rows[:50] if row["name"] != workflow.name]


def step_tables(workflow: Workflow, statuses: dict[str, str] | None = None) -> list[dict]:
    """Per step with errors: exit codes (rows) × sites (columns, each with its status from
    `statuses`) with row and column totals. One query, whatever the number of steps."""
    cells = (
        ErrorCount.objects.filter(step__workflow=workflow)
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
                "counts": [codes[code].get(site) for site in sites],
                "total": sum(codes[code].values()),
            }
            for code in sorted(codes, key=lambda c: (-sum(codes[c].values()), c))
        ]
        tables.append(
            {
                "name": step,
                "short_name": short_task_name(workflow.name, step),
                "sites": [{"name": site, "status": (statuses or {}).get(site, "")} for site in sites],
                "site_totals": [site_totals[site] for site in sites],
                "rows": rows,
                "total": sum(site_totals.values()),
            }
        )
    return tables
