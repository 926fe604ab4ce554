"""Reads of the workflow page that join workflows with their current error totals."""

from django.db.models import Q, Sum

from errors.selectors.snapshot import ShownSnapshot
from workflows.models import Workflow


def related_workflows(workflow: Workflow, snapshot: ShownSnapshot | None = None) -> list[dict]:
    """The original and the ACDCs sharing the workflow's prep ID, with their error totals in
    `snapshot` (default: the current errors; one query); [] when the name shows no prep ID."""
    if not workflow.prep_id:
        return []
    if snapshot is not None and snapshot.pinned:
        errors = Sum("steps__pinned_errors__count", filter=Q(steps__pinned_errors__snapshot_id=snapshot.id))
    else:
        errors = Sum("steps__errors__count")
    rows = (
        Workflow.objects.filter(prep_id=workflow.prep_id)
        .annotate(errors=errors)
        .values("name", "is_acdc", "errors")
        .order_by("is_acdc", "name")
    )
    return [row for row in rows[:50] if row["name"] != workflow.name]
