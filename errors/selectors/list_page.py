"""The list page: given two of exit code, site and workflow, the values of the third."""

from django.db.models import Count, Sum

from workflows.exit_codes import exit_code_label
from workflows.models import Step, Workflow

from ..charts import OTHERS_CLASS
from .filters import NO_FILTERS, NoiseFilters, previous_bucket
from .pies import snapshot_palettes
from .site_context import SiteContext, site_contexts, snapshot_sites, status_of
from .snapshot import ShownSnapshot, snapshot_cells


def list_page(
    *,
    errorcode: int | None,
    sitename: str,
    workflow: Workflow | None,
    step: Step | None = None,
    sort: str = "errors",
    statuses: dict[str, str] | None = None,
    filters: NoiseFilters = NO_FILTERS,
    snapshot: ShownSnapshot | None = None,
) -> dict:
    """Given two of exit code, site and workflow, the values of the third with their
    error counts, biggest first (`sort="name"`: by value). A `step` (of `workflow`)
    narrows the workflow to that step; `filters` leave out workflows and sites (a
    workflow's minimum counts its errors on this list). Exit codes and sites get their
    colour in the snapshot's pies (`colour`), sites their SiteContext (status from
    `statuses`), the `sitename` asked about too (`site`). `snapshot` (default: the current
    errors) may be one a ticket link pinned. One query (more with filters), plus the
    snapshot's cached site sums."""
    queryset = snapshot_cells(snapshot)
    if errorcode is not None:
        queryset = queryset.filter(exit_code=errorcode)
    if sitename:
        queryset = queryset.filter(site=sitename)
    if step is not None:
        queryset = queryset.filter(step=step)
    elif workflow is not None:
        queryset = queryset.filter(step__workflow=workflow)
    queryset = filters.apply(queryset)
    if workflow is None:
        listed, label = "step__workflow__name", "workflow"
    elif sitename:
        listed, label = "exit_code", "exit code"
    else:
        listed, label = "site", "site"
    rows = list(
        queryset.values_list(listed)
        .annotate(total=Sum("count"), steps=Count("step", distinct=True))
        .order_by(*(("-total", listed) if sort == "errors" else (listed,)))
    )
    found = snapshot_sites(shown=snapshot)
    contexts = site_contexts(statuses or {}, found)
    palette = snapshot_palettes(found).get(listed)
    name_of = exit_code_label if listed == "exit_code" else str

    def row(value, total, steps) -> dict:
        found_row = {"value": value, "total": total, "steps": steps}
        if palette is not None:
            found_row["colour"] = palette.colour(name_of(value)) or OTHERS_CLASS
        if listed == "site":
            found_row["context"] = contexts.get(value)
        return found_row

    site = None
    if sitename:
        site = contexts.get(sitename) or SiteContext(
            sitename, status_of(sitename, statuses or {}), 0, 0, found.workflows, None, None
        )
    return {
        "listed": label,
        "sort": sort,
        "rows": [row(value, total, steps) for value, total, steps in rows],
        "total": sum(total for _, total, _ in rows),
        "site": site,
        "filters": filters,
        "grew_since": previous_bucket() if filters.grew else None,
    }
