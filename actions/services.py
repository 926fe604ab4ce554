"""Writes: submitting actions and marking them reported by Unified.

`submit_action(...)` validates (raising `ActionRejected`, nothing stored) then, in one
transaction, replaces each workflow's pending action, appends the history and stores new
short reasons. `mark_reported(...)` is what /reportaction does: one atomic conditional update.
`withdraw_actions(...)` takes pending actions back: getaction stops serving them, the history
keeps who withdrew them and why.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from workflows.models import Workflow

from . import requester_mail
from .models import Action, ActionSubmission, Reason
from .validation import MAX_LONG_REASON, ActionRejected, ValidatedAction, is_text, validate_action

__all__ = [
    "ActionRejected",
    "ReportResult",
    "WithdrawResult",
    "mark_reported",
    "store_action",
    "submit_action",
    "withdraw_actions",
]


def submit_action(
    *,
    user,
    workflows,
    action,
    parameters,
    reasons,
    tell_requester: bool | None = None,
    now: datetime | None = None,
) -> list[Action]:
    """Validate and store an action for `workflows` (names); return the stored actions.
    `tell_requester` mails each workflow's requester once stored (None: the action's default,
    `actions.tell_requester.default_for`)."""
    validated = validate_action(workflows=workflows, action=action, parameters=parameters, reasons=reasons)
    if tell_requester is None:
        tell_requester = requester_mail.ticked_by_default(validated.action)
    return store_action(validated, user=user, now=now, tell_requester=tell_requester)


@transaction.atomic
def store_action(
    validated: ValidatedAction, *, user, now: datetime | None = None, tell_requester: bool = False
) -> list[Action]:
    """Store an already validated action (the importer passes its own `now`)."""
    now = now or timezone.now()
    batch = uuid.uuid4()
    if validated.new_reasons:
        Reason.objects.bulk_create(
            [Reason(short=r["short"], long=r["long"], created_by=user) for r in validated.new_reasons],
            ignore_conflicts=True,  # another operator may have stored the same label meanwhile
        )
    submissions = [
        ActionSubmission(
            workflow=workflow,
            action=validated.action,
            parameters=validated.parameters[workflow.name],
            reasons=validated.reasons,
            acdcs=validated.acdcs.get(workflow.name, []),
            user=user,
            submitted_at=now,
            batch=batch,
        )
        for workflow in validated.workflows
    ]
    if tell_requester:
        requester_mail.mark_requested(submissions, validated.workflows)
        requester_mail.queue_batch(batch)  # runs once this transaction commits, never on rollback
    submissions = ActionSubmission.objects.bulk_create(submissions)
    existing = {
        a.workflow_id: a for a in Action.objects.select_for_update().filter(workflow__in=validated.workflows)
    }
    to_create, to_update = [], []
    for workflow, submission in zip(validated.workflows, submissions, strict=True):
        action = existing.get(workflow.id) or Action(workflow=workflow)
        action.workflow = workflow
        action.action = validated.action
        action.parameters = submission.parameters
        action.reasons = validated.reasons
        action.acdcs = submission.acdcs
        action.user = user
        action.submitted_at = now
        action.reported_at = None  # a resubmission is pending again
        action.submission = submission
        action.render_served(username=user.username if user else "", workflow_name=workflow.name)
        (to_update if action.pk else to_create).append(action)
    Action.objects.bulk_update(
        to_update,
        [
            "action",
            "parameters",
            "reasons",
            "acdcs",
            "user",
            "submitted_at",
            "reported_at",
            "submission",
            "served",
        ],
    )
    Action.objects.bulk_create(to_create)
    return to_update + to_create


@dataclass
class ReportResult:
    success: list[str] = field(default_factory=list)
    already_reported: list[str] = field(default_factory=list)
    does_not_exist: list[str] = field(default_factory=list)


@transaction.atomic
def mark_reported(workflows: list[str], *, now: datetime | None = None) -> ReportResult:
    """Mark the actions of `workflows` as done by Unified.

    Rows are locked, sorted into pending / already reported / unknown, and the pending ones
    are marked with one conditional UPDATE, so two concurrent reports never both succeed.
    A repeat within `actions.report_retry_window_seconds` counts as success (a lost reply).
    """
    now = now or timezone.now()
    names = list(dict.fromkeys(workflows))
    # The join finds actions by workflow name; of=("self",) locks the action rows only, so
    # PostgreSQL does not also lock the workflows that ingestion keeps updating.
    rows = {
        name: (pk, submission_id, reported_at)
        for pk, name, submission_id, reported_at in Action.objects.select_for_update(of=("self",))
        .filter(workflow__name__in=names)
        .values_list("pk", "workflow__name", "submission_id", "reported_at")
    }
    window = timedelta(seconds=settings.WWT["actions"]["report_retry_window_seconds"])
    result = ReportResult()
    pending_ids, submission_ids = [], []
    for name in names:
        if name not in rows:
            result.does_not_exist.append(name)
            continue
        pk, submission_id, reported_at = rows[name]
        if reported_at is None:
            pending_ids.append(pk)
            if submission_id:
                submission_ids.append(submission_id)
            result.success.append(name)
        elif window and now - reported_at <= window:
            result.success.append(name)
        else:
            result.already_reported.append(name)
    if pending_ids:
        Action.objects.filter(pk__in=pending_ids, reported_at__isnull=True).update(reported_at=now)
        ActionSubmission.objects.filter(pk__in=submission_ids).update(reported_at=now)
    return result


@dataclass
class WithdrawResult:
    """What withdraw_actions did with each workflow name: `withdrawn` ones ({name: action}) are
    no longer served; `already_reported` ones (Unified acted on them) and those with
    `no_pending_action` (none, or already withdrawn) were left as they were; `unknown` names no
    workflow."""

    reason: str
    withdrawn_at: datetime
    withdrawn: dict[str, str] = field(default_factory=dict)
    already_reported: dict[str, datetime] = field(default_factory=dict)
    no_pending_action: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    def refusal(self, name: str) -> tuple[int, str] | None:
        """(HTTP status, message) when `name` was not withdrawn, else None (form and API alike)."""
        if name in self.unknown:
            return 404, f"No workflow is named {name}."
        if name in self.no_pending_action:
            return 404, f"{name} has no pending action to withdraw (none was submitted, or it was withdrawn)."
        if name in self.already_reported:
            return 409, (
                f"The action of {name} was reported done by Unified on "
                f"{self.already_reported[name]:%Y-%m-%d %H:%M} UTC: it cannot be withdrawn."
            )
        return None


def _withdraw_reason(reason) -> str:
    """The reason cleaned, or ActionRejected (nothing is withdrawn without one)."""
    if not isinstance(reason, str) or not is_text(reason) or not reason.strip():
        raise ActionRejected({"reason": ["say why the action is withdrawn (a reason is required)"]})
    if len(reason.strip()) > MAX_LONG_REASON:
        raise ActionRejected({"reason": [f"the reason is longer than {MAX_LONG_REASON} characters"]})
    return reason.strip()


@transaction.atomic
def withdraw_actions(workflows: list[str], *, user, reason, now: datetime | None = None) -> WithdrawResult:
    """Withdraw the pending actions of `workflows` (names), in one transaction.

    Each pending action's history row records who withdrew it, when and why, and its Action row
    is deleted, so getaction stops serving it at once. A reported action is refused (Unified
    already acted on it). Raises ActionRejected, nothing changed, when the reason is missing."""
    reason = _withdraw_reason(reason)
    now = now or timezone.now()
    names = list(dict.fromkeys(workflows))
    known = set(Workflow.objects.filter(name__in=names).values_list("name", flat=True))
    # Locked as mark_reported locks them: a report and a withdrawal of one action never both win.
    actions = {
        action.workflow.name: action
        for action in Action.objects.select_for_update(of=("self",))
        .select_related("workflow")
        .filter(workflow__name__in=names)
    }
    result = WithdrawResult(reason=reason, withdrawn_at=now)
    pending: list[Action] = []
    for name in names:
        action = actions.get(name)
        if name not in known:
            result.unknown.append(name)
        elif action is None:
            result.no_pending_action.append(name)
        elif action.reported_at is not None:
            result.already_reported[name] = action.reported_at
        else:
            pending.append(action)
            result.withdrawn[name] = action.action
    if not pending:
        return result
    withdrawal = {"withdrawn_at": now, "withdrawn_by": user, "withdrawn_reason": reason}
    ActionSubmission.objects.filter(pk__in=[a.submission_id for a in pending if a.submission_id]).update(
        **withdrawal
    )
    # An action stored before submissions were linked to it gets its history row now.
    ActionSubmission.objects.bulk_create(
        [
            ActionSubmission(
                workflow=action.workflow,
                action=action.action,
                parameters=action.parameters,
                reasons=action.reasons,
                user=action.user,
                recorded_user=action.recorded_user,
                submitted_at=action.submitted_at,
                acdcs=action.acdcs,
                **withdrawal,
            )
            for action in pending
            if not action.submission_id
        ]
    )
    Action.objects.filter(pk__in=[a.pk for a in pending], reported_at__isnull=True).delete()
    return result
