"""Reads of the workflow page that join workflows with their current error totals."""

from django.db.models import Sum

from workflows.models import Workflow


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
