"""The list page: given two of exit code, site and workflow, the values of the third."""

from django.db.models import Count, Sum

from workflows.models import Step, Workflow

from .snapshot import ShownSnapshot, snapshot_cells


def list_page(
    *,
    errorcode: int | None,
    sitename: str,
    workflow: Workflow | None,
    step: Step | None = None,
    sort: str = "errors",
    snapshot: ShownSnapshot | None = None,
) -> dict:
    """Given two of exit code, site and workflow, the values of the third with their
    error counts, biggest first (`sort="name"`: by value). A `step` (of `workflow`)
    narrows the workflow to that step; `snapshot` (default: the current errors) may be one a
    ticket link pinned. One query."""
    queryset = snapshot_cells(snapshot)
    if errorcode is not None:
        queryset = queryset.filter(exit_code=errorcode)
    if sitename:
        queryset = queryset.filter(site=sitename)
    if step is not None:
        queryset = queryset.filter(step=step)
    elif workflow is not None:
        queryset = queryset.filter(step__workflow=workflow)
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
    return {
        "listed": label,
        "sort": sort,
        "rows": [{"value": value, "total": total, "steps": steps} for value, total, steps in rows],
        "total": sum(total for _, total, _ in rows),
    }
