"""Reads: what Unified is served, the last action of a workflow, the operators' actions page."""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Aggregate, Q, QuerySet, TextField
from django.utils import timezone

from .models import Action, ActionKind, Reason

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
    queryset = Action.objects.acted(acted)
    if days > 0:
        queryset = queryset.filter(submitted_at__gte=(now or timezone.now()) - timedelta(days=days))
    joined = queryset.order_by().aggregate(members=JoinedText("served"))["members"]
    return "{" + (joined or "") + "}"


def served_actions(*, days: int = 0, acted: int = 0, now: datetime | None = None) -> dict[str, dict]:
    """The same as a dict (for code that wants to read it)."""
    return json.loads(served_actions_json(days=days, acted=acted, now=now))


def last_action(workflow) -> Action | None:
    """The current (pending or last reported) action of `workflow`, with its submitter."""
    return Action.objects.select_related("user").filter(workflow=workflow).first()


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
    return queryset


def action_counts(now: datetime | None = None) -> dict[str, int]:
    """Pending, pending longer than a day, and reported: the page's summary, in one query."""
    from django.db.models import Count

    late_before = (now or timezone.now()) - PENDING_TOO_LONG
    return Action.objects.aggregate(
        pending=Count("pk", filter=Q(reported_at__isnull=True)),
        late=Count("pk", filter=Q(reported_at__isnull=True, submitted_at__lt=late_before)),
        reported=Count("pk", filter=Q(reported_at__isnull=False)),
    )


def action_users() -> list[str]:
    return list(
        Action.objects.exclude(user=None)
        .order_by("user__username")
        .values_list("user__username", flat=True)
        .distinct()
    )


ACTION_CHOICES = ActionKind.choices
