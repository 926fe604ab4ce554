"""Reads of the workflow page that join workflows with their current error totals."""

from django.conf import settings
from django.db.models import Q, Sum

from errors.selectors.snapshot import ShownSnapshot, digest
from errors.selectors.workflow import workflow_error_tables
from workflows.models import Workflow
from workflows.selectors import SourceAnswer
from wwt_project.cache import soft_cache


def error_tables_seconds() -> int:
    """How long the error tables (and their rendered section) are kept: as long as the
    snapshot's site sums they show (errors.selectors.site_context), so both age together."""
    return settings.WWT["cache"]["errors_minutes"] * 60


def error_tables_key(workflow: Workflow, snapshot_name: str, statuses: SourceAnswer) -> str:
    """What the workflow's error tables depend on besides the clock: the snapshot
    (errors.selectors.snapshot_key; "" names none, and nothing is cached), the workflow and the
    stored site status. "" when they are not to be cached."""
    if not snapshot_name:
        return ""
    stored = sorted((statuses.value or {}).items())
    status = (statuses.configured, statuses.problem, statuses.extra.get("fetched_at"), stored)
    return f"{snapshot_name}:{workflow.pk}:{digest(*status)}"


def error_tables(workflow: Workflow, statuses: SourceAnswer, snapshot: ShownSnapshot, key: str) -> list[dict]:
    """errors.selectors.workflow_error_tables of `workflow` in `snapshot`, cached under `key`
    (error_tables_key; "" computes them every time)."""
    cache_key = f"wwt:pages:error-tables:{key}" if key else None
    tables = soft_cache("get", cache_key) if cache_key else None
    if tables is None:
        tables = workflow_error_tables(workflow, statuses.value or {}, snapshot)
        if cache_key:
            soft_cache("set", cache_key, tables, error_tables_seconds())
    return tables


def related_workflows(
    workflow: Workflow, snapshot: ShownSnapshot | None = None, snapshot_name: str = ""
) -> list[dict]:
    """The original and the ACDCs sharing the workflow's prep ID, with their error totals in
    `snapshot` (default: the current errors; one query); [] when the name shows no prep ID.
    Cached per `snapshot_name` (errors.selectors.snapshot_key, which changes with the prep IDs
    ReqMgr2 gives too) when one is given."""
    if not workflow.prep_id:
        return []
    key = None
    if snapshot_name:
        key = f"wwt:pages:related:{snapshot_name}:{workflow.pk}:{digest(workflow.prep_id)}"
    related = soft_cache("get", key) if key else None
    if related is None:
        related = _related_workflows(workflow, snapshot)
        if key:
            soft_cache("set", key, related, error_tables_seconds())
    return related


def _related_workflows(workflow: Workflow, snapshot: ShownSnapshot | None) -> list[dict]:
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
