""" "Refresh this workflow now": one background task asks ReqMgr2, the ACDC server and WMStats
about one workflow, so the page that offers it never waits on them."""

import logging

from errors import log_samples
from workflows import services as workflow_services
from workflows.models import Workflow
from wwt_project.cache import soft_cache
from wwt_project.queue import send_once

logger = logging.getLogger(__name__)

# Longer than a refresh takes (three sources, each with its read timeout), short enough that a
# lost task does not show "fetching…" for long.
QUEUED_SECONDS = 10 * 60


def _queued_key(workflow_id: int) -> str:
    return f"wwt:pages:workflow-refresh-queued:{workflow_id}"


def refresh_queued(workflow: Workflow) -> bool:
    """Whether a "refresh this workflow now" is queued or running (the page says fetching…)."""
    return bool(soft_cache("get", _queued_key(workflow.id)))


def queue_workflow_refresh(workflow: Workflow) -> str:
    """Enqueue refresh_workflow_sources for `workflow` once the request commits; "" when
    queued (or already on its way), else why not (the task queue is down: nothing is left
    behind, no mark says "fetching…")."""
    from . import tasks

    workflow_id = workflow.id
    return send_once(
        _queued_key(workflow_id), QUEUED_SECONDS, lambda: tasks.refresh_workflow_sources.delay(workflow_id)
    )


def refresh_workflow_sources(workflow_id: int) -> dict:
    """What the task does: store what ReqMgr2, the ACDC server and WMStats (log samples) say
    about one workflow now. Never raises for a source problem; each one is reported."""
    workflow = Workflow.objects.filter(id=workflow_id).only("id", "name").first()
    try:
        if workflow is None:
            return {"workflow": None, "problem": "no such workflow"}
        return {
            "workflow": workflow.name,
            "reqmgr2": workflow_services.refresh_request_parameters([workflow_id], limit=1).summary(),
            "acdc": workflow_services.refresh_recovery_locations([workflow_id], limit=1).summary(),
            "log_samples": log_samples.fetch_log_samples(workflow.name),
        }
    finally:
        soft_cache("delete", _queued_key(workflow_id))
