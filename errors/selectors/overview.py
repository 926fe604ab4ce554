"""The home page's counts at a glance."""

from django.db.models import Count, Sum

from workflows.models import Workflow

from ..models import ErrorCount


def overview() -> dict:
    """Counts at a glance for the home page, in two queries."""
    totals = ErrorCount.objects.aggregate(
        errors=Sum("count"),
        cells=Count("id"),
        sites=Count("site", distinct=True),
        exit_codes=Count("exit_code", distinct=True),
        steps=Count("step", distinct=True),
    )
    totals["workflows"] = Workflow.objects.filter(steps__errors__isnull=False).distinct().count()
    totals["errors"] = totals["errors"] or 0
    return totals
