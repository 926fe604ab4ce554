"""Reads: what Unified is served, the last action of a workflow, the operators' actions page."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Aggregate, Min, Q, QuerySet, TextField
from django.utils import timezone

from .models import Action, ActionKind, ActionSubmission, Reason

# The workflow page shows this many of a workflow's past submissions.
HISTORY_SHOWN = 20

PENDING_TOO_LONG = timedelta(days=1)
# A century: a longer age limit is a typo (and past about 10**9 days timedelta overflows).
MAX_DAYS = 36_500


def days_problem(days: int) -> str | None:
    """Why `days` cannot be an age limit (it must be 0, no limit, up to MAX_DAYS), or None."""
    if not 0 <= days <= MAX_DAYS:
        return f"days must be from 0 (no age limit) to {MAX_DAYS}, got {days}"
    return None


class JoinedText(Aggregate):
    """The texts of a column joined with commas, by the database (one row comes back)."""

    function = "STRING_AGG"
    template = "%(function)s(%(expressions)s, ',')"
    output_field = TextField()

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, function="GROUP_CONCAT", **extra)


def served_actions_json(*, days: int = 0, acted: int = 0, now: datetime | None = None) -> str:
    """getaction's reply as JSON text {workflow name: served action}, in one query whatever the
    number of actions: each action's member is stored pre-rendered (`Action.served`) and the
    database joins them.

    `days` > 0 keeps actions submitted in the last `days` days (0: no age limit; see
    `days_problem`); `acted` 0 keeps pending actions, >= 1 reported ones, < 0 all.
    """
    return served_actions_with_oldest(days=days, acted=acted, now=now)[0]


def served_actions_with_oldest(
    *, days: int = 0, acted: int = 0, now: datetime | None = None
) -> tuple[str, datetime | None]:
    """`served_actions_json` and, in the same query, the oldest submission it holds (None
    when empty): with `days` > 0 the reply stays the same until that one is `days` old."""
    queryset = Action.objects.acted(acted)
    if days > 0:
        queryset = queryset.filter(submitted_at__gte=(now or timezone.now()) - timedelta(days=days))
    found = queryset.order_by().aggregate(members=JoinedText("served"), oldest=Min("submitted_at"))
    return "{" + (found["members"] or "") + "}", found["oldest"]


def served_actions(*, days: int = 0, acted: int = 0, now: datetime | None = None) -> dict[str, dict]:
    """The same as a dict (for code that wants to read it)."""
    return json.loads(served_actions_json(days=days, acted=acted, now=now))


def last_action(workflow) -> Action | None:
    """The current (pending or last reported) action of `workflow`, with its submitter."""
    return Action.objects.select_related("user").filter(workflow=workflow).first()


def action_history(workflow, limit: int = HISTORY_SHOWN) -> list[ActionSubmission]:
    """The workflow's submissions, newest first (the last one sent first), with who sent and
    who withdrew them: one query."""
    return list(
        ActionSubmission.objects.filter(workflow=workflow)
        .select_related("user", "withdrawn_by")
        .order_by("-submitted_at", "-pk")[:limit]
    )
def last_actions(workflow_ids: list[int]) -> dict[int, Action]:
    """{workflow id: its current action} for the workflows of `workflow_ids` that have one,
    with the submitter, in one query (the similar-workflows panel)."""
    actions = Action.objects.select_related("user").filter(workflow_id__in=workflow_ids)
    return {action.workflow_id: action for action in actions.defer("served", "parameters")}


def past_reasons() -> list[Reason]:
    return list(Reason.objects.only("short", "long"))


@dataclass
class ActionFilters:
    status: str = "pending"  # pending | reported | all
    action: str = ""
    user: str = ""
    days: int = 0
    campaign: str = ""
    site: str = ""  # actions that name this site in any task's sites


def actions_for_page(filters: ActionFilters, now: datetime | None = None) -> QuerySet:
    """The operators' actions list, newest first, each with `pending_too_long` computable cheaply."""
    queryset = (
        Action.objects.with_status(filters.status)
        .select_related("workflow", "user")
        .order_by("-submitted_at")
    )
    if filters.action:
        queryset = queryset.filter(action=filters.action)
    if filters.user:
        queryset = queryset.filter(user__username=filters.user)
    if filters.days > 0:
        queryset = queryset.filter(submitted_at__gte=(now or timezone.now()) - timedelta(days=filters.days))
    if filters.campaign:
        queryset = queryset.filter(workflow__campaign=filters.campaign)
    if filters.site:
        # Served text holds each site as a JSON string ("T2_CH_CERN", quotes included): a quoted
        # match is exact (no prefix matches), works on both databases and needs no JSON path per task.
        # Reasons cannot give a false match: inside them a quote is escaped (\").
        queryset = queryset.filter(served__contains=json.dumps(filters.site))
    return queryset


def is_pending_too_long(action: Action, now: datetime) -> bool:
    return action.reported_at is None and action.submitted_at < now - PENDING_TOO_LONG


EXPORT_COLUMNS = [
    "workflow",
    "campaign",
    "prep_id",
    "action",
    "parameters",
    "reasons",
    "user",
    "submitted_at",
    "reported_at",
    "pending_too_long",
    "acdcs",
]


def export_rows(filters: ActionFilters, now: datetime | None = None) -> Iterator[dict]:
    """Every action the filters select, newest first, as plain values (the CSV / JSON export):
    `parameters` as served and `reasons` as submitted, read in chunks so memory stays flat."""
    now = now or timezone.now()
    queryset = actions_for_page(filters, now=now).only(
        "action",
        "parameters",
        "reasons",
        "acdcs",
        "submitted_at",
        "reported_at",
        "recorded_user",
        "workflow__name",
        "workflow__campaign",
        "workflow__prep_id",
        "user__username",
    )
    for action in queryset.iterator(chunk_size=2000):
        yield {
            "workflow": action.workflow.name,
            "campaign": action.workflow.campaign,
            "prep_id": action.workflow.prep_id,
            "action": action.action,
            "parameters": action.parameters,
            "reasons": action.reasons,
            "user": action.submitter,
            "submitted_at": action.submitted_at.isoformat(),
            "reported_at": action.reported_at.isoformat() if action.reported_at else None,
            "pending_too_long": is_pending_too_long(action, now),
            "acdcs": action.acdcs,
        }


def action_counts(now: datetime | None = None) -> dict[str, int]:
    """Pending, pending longer than a day, and reported: the page's summary, in one query."""
    from django.db.models import Count

    late_before = (now or timezone.now()) - PENDING_TOO_LONG
    return Action.objects.aggregate(
        pending=Count("pk", filter=Q(reported_at__isnull=True)),
        late=Count("pk", filter=Q(reported_at__isnull=True, submitted_at__lt=late_before)),
        reported=Count("pk", filter=Q(reported_at__isnull=False)),
    )


def action_campaigns() -> list[str]:
    """Campaigns of the workflows that have an action (the page's campaign filter)."""
    return list(
        Action.objects.exclude(workflow__campaign="")
        .order_by("workflow__campaign")
        .values_list("workflow__campaign", flat=True)
        .distinct()
    )


def action_users() -> list[str]:
    return list(
        Action.objects.exclude(user=None)
        .order_by("user__username")
        .values_list("user__username", flat=True)
        .distinct()
    )


ACTION_CHOICES = ActionKind.choices
