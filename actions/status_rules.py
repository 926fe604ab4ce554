"""Which actions are offered: those config.yml enables (`actions.enabled`) and, of them, the ones
the request's ReqMgr2 status allows (the guard-rails, `actions.allowed_by_status`).

The status is the one the refresh job stored (`Workflow.request_parameters`), never a live call.
An unknown status (ReqMgr2 not asked yet or not configured, or a status the table does not list)
allows every enabled action, with a warning saying so: a missing answer must not block operators.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings

from workflows.models import Workflow

from .models import ActionKind


def enabled_actions() -> list[str]:
    """Actions offered at all, in form order; recovery only when config.yml enables it."""
    enabled = set(settings.WWT["actions"]["enabled"])
    return [kind.value for kind in ActionKind if kind.value in enabled]


@dataclass
class StatusRule:
    """What the request's status allows. `missing` maps each enabled action it does not allow
    to why; `warning` says why every action is offered (status unknown), else ""."""

    status: str
    fetched_at: datetime | None
    allowed: list[str]
    missing: dict[str, str] = field(default_factory=dict)
    warning: str = ""


def stored_status(workflow: Workflow) -> tuple[str, datetime | None]:
    """(ReqMgr2's RequestStatus as the refresh job stored it, when it was fetched); ("", None)
    when ReqMgr2 was not asked yet."""
    if workflow.request_fetched_at and isinstance(workflow.request_parameters, dict):
        status = workflow.request_parameters.get("request_status")
        return (status if isinstance(status, str) else ""), workflow.request_fetched_at
    return "", None


def _statuses_allowing(table: dict[str, list[str]], action: str) -> list[str]:
    return [status for status, actions in table.items() if action in actions]


def status_rule(workflow: Workflow) -> StatusRule:
    """The actions `workflow`'s stored ReqMgr2 status allows, and why the others are missing."""
    enabled = enabled_actions()
    table = settings.WWT["actions"]["allowed_by_status"]
    status, fetched_at = stored_status(workflow)
    if not status:
        why = "ReqMgr2 was not asked about this workflow yet" if fetched_at is None else "ReqMgr2 gave none"
        return StatusRule(
            status="",
            fetched_at=fetched_at,
            allowed=enabled,
            warning=f"The request's status is unknown ({why}): every action is offered; "
            "check the request's status in ReqMgr2 before submitting.",
        )
    if status not in table:
        return StatusRule(
            status=status,
            fetched_at=fetched_at,
            allowed=enabled,
            warning=f"The request's status {status} is not in the table of actions by status "
            "(actions.allowed_by_status): every action is offered.",
        )
    allowed = [action for action in enabled if action in table[status]]
    missing = {}
    for action in enabled:
        if action in allowed:
            continue
        elsewhere = _statuses_allowing(table, action)
        missing[action] = f"{ActionKind(action).label} is not offered for a request in status {status}" + (
            f" (only in: {', '.join(elsewhere)})" if elsewhere else " (in no status)"
        )
    return StatusRule(status=status, fetched_at=fetched_at, allowed=allowed, missing=missing)
