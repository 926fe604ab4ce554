"""The action panels: what the workflow page and /submitaction show of actions.

The form is dynamic (one block per task, site lists from outside sources), so it is plain HTML
driven by `form_context(...)` rather than a Django Form; `workflow_panel(...)` is the panel the
workflow page shows (the last action, its history, and the form for verified operators).
Reading the POST back is `actions.post_parsing`.

Pre-filling: `form_context(workflow, prefill=Prefill(...))` opens the form filled with an
action-like value (`action`, `parameters` as getaction serves them or in the API shape with an
`AllSteps` block, `reasons` [{"short", "long"}]) and shows `Prefill.note` above it. The
workflow page and /submitaction pass `opening_prefill(workflow)` (the last action sent); a
suggestion can pass its own. `prefill_post(...)` turns the value into the form's own field names, so the form
renders it exactly as if the operator had typed it.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.http import QueryDict
from django.utils import timezone

from accounts.permissions import is_verified_operator
from workflows import selectors as workflow_selectors
from workflows.models import Workflow, short_task_name

from . import requester_mail, selectors
from .display import parameter_lines
from .models import ActionKind
from .post_parsing import TASK_VALUE_FIELDS, reasons_from_post
from .status_rules import status_rule
from .validation import (
    ALL_STEPS,
    SPECIAL_ACTIONS,
    SPLITTINGS,
    TOGGLES,
    is_default_task,
)

SITE_METHODS = ["Auto", "Manual", "Ban"]
RED_STATUSES = {"drain", "disabled"}


def workflow_tasks(workflow: Workflow, recovery: dict[str, list[str]]) -> list[str]:
    """The default task list: the workflow's steps and recovery tasks, less LogCollect/Cleanup."""
    names = [short_task_name(workflow.name, name) for name in workflow.steps.values_list("name", flat=True)]
    return [task for task in dict.fromkeys(names + sorted(recovery)) if is_default_task(task)]


def _site_choices(sites, statuses, checked) -> list[dict]:
    return [
        {
            "name": site,
            "status": statuses.get(site, "unknown"),
            "red": statuses.get(site) in RED_STATUSES,
            "checked": site in checked,
        }
        for site in sites
    ]


def _block_state(prefix, task, label, post, auto_sites, all_sites, statuses, errors, error_key) -> dict:
    def value(name, default=""):
        return post.get(f"{prefix}-{name}", default) if post is not None else default

    default_method = "" if task else "Auto"
    default_ban = [site for site in auto_sites if statuses.get(site) in RED_STATUSES]
    manual = post.getlist(f"{prefix}-sites") if post is not None else list(auto_sites)
    ban = post.getlist(f"{prefix}-ban") if post is not None else default_ban
    return {
        "prefix": prefix,
        "task": task,
        "label": label,
        "values": {name: value(name) for name in TASK_VALUE_FIELDS},
        "sites_method": value("sites_method", default_method),
        "only": bool(value("only")),
        "auto_sites": _site_choices(auto_sites, statuses, set()),
        "manual_choices": _site_choices(all_sites, statuses, set(manual)),
        # A pre-filled ban may name a site that is no recovery site any more: still shown.
        "ban_choices": _site_choices(
            [*auto_sites, *(b for b in ban if b not in auto_sites)], statuses, set(ban)
        ),
        "errors": [
            m for place, ms in errors.items() if place.startswith(f"parameters.{error_key}") for m in ms
        ],
    }


@dataclass
class Prefill:
    """An action-like value the form opens with (see the module docstring), and what it is."""

    action: str
    parameters: dict
    reasons: list[dict]
    note: str


# The form's per-task fields of the served parameters ("multicore" is the form's "cores").
_FORM_FIELD_OF = {
    "memory": "memory",
    "multicore": "cores",
    "cores": "cores",
    "splitting": "splitting",
    "xrootd": "xrootd",
    "secondary": "secondary",
    "group": "group",
}


def _put_block(post: QueryDict, prefix: str, block: dict, *, is_task: bool) -> None:
    for name, field in _FORM_FIELD_OF.items():
        if block.get(name) not in (None, ""):
            post[f"{prefix}-{field}"] = str(block[name])
    if isinstance(block.get("sites"), list):
        post[f"{prefix}-sites_method"] = "Manual"
        post.setlist(f"{prefix}-sites", [str(site) for site in block["sites"]])
    elif isinstance(block.get("ban"), list):
        post[f"{prefix}-sites_method"] = "Ban"
        post.setlist(f"{prefix}-ban", [str(site) for site in block["ban"]])
    else:
        post[f"{prefix}-sites_method"] = "" if is_task else "Auto"


def prefill_tasks(tasks: list[str], prefill: Prefill | None) -> list[str]:
    """The form's task list, plus the tasks the pre-filled action names that it lacks."""
    parameters = prefill.parameters if prefill is not None else None
    if not isinstance(parameters, dict) or prefill.action not in (ActionKind.ACDC, ActionKind.RECOVERY):
        return tasks
    named = [t for t in parameters if t != ALL_STEPS and isinstance(parameters[t], dict)]
    return tasks + [task for task in named if task not in tasks]


def prefill_post(prefill: Prefill, tasks: list[str]) -> QueryDict:
    """`prefill` in the form's field names, the task blocks numbered as `tasks` (the form's list,
    from prefill_tasks). Served parameters name every task's sites: each becomes a Manual block,
    and the blocks are ticked "only this task" unless they cover every task of the list."""
    post = QueryDict(mutable=True)
    post["action"] = prefill.action
    parameters = prefill.parameters if isinstance(prefill.parameters, dict) else {}
    if prefill.action in (ActionKind.ACDC, ActionKind.RECOVERY):
        _put_block(post, "all", parameters.get(ALL_STEPS) or {}, is_task=False)
        named = {t for t in parameters if t != ALL_STEPS and isinstance(parameters[t], dict)}
        only = ALL_STEPS not in parameters and named != set(tasks)
        for number, task in enumerate(tasks):
            post[f"t{number}-task"] = task
            if task in named:
                _put_block(post, f"t{number}", parameters[task], is_task=True)
                if only:
                    post[f"t{number}-only"] = "1"
    elif prefill.action == ActionKind.CLONE:
        for name in ("memory", "splitting", "comment"):
            post[f"clone-{name}"] = str(parameters.get(name) or "")
    elif prefill.action == ActionKind.SPECIAL:
        post["special-action"] = str(parameters.get("action") or "")
        post["special-other"] = str(parameters.get("other") or "")
    reasons = [r for r in prefill.reasons if isinstance(r, dict)] if isinstance(prefill.reasons, list) else []
    post.setlist("reason_short", [str(r.get("short") or "") for r in reasons])
    post.setlist("reason_long", [str(r.get("long") or "") for r in reasons])
    return post


def last_submission_prefill(submission) -> Prefill | None:
    """The form's starting point: the action last sent for the workflow (an ActionSubmission)."""
    if submission is None:
        return None
    when = f"{submission.submitted_at:%Y-%m-%d %H:%M} UTC"
    state = (
        f", withdrawn by {submission.withdrawn_by.username if submission.withdrawn_by_id else 'someone'}"
        if submission.withdrawn_at
        else ""
    )
    return Prefill(
        action=submission.action,
        parameters=submission.parameters,
        reasons=submission.reasons,
        note=f"Pre-filled from the action {submission.get_action_display()} sent on {when}"
        f" by {submission.submitter or 'someone'}{state}: change what should differ.",
    )


def opening_prefill(workflow: Workflow, history: list | None = None) -> Prefill | None:
    """What the form opens with: the last action sent for `workflow` (`history`, newest first,
    when the caller already has it), or None (the defaults)."""
    if history is None:
        history = selectors.action_history(workflow, limit=1)
    return last_submission_prefill(history[0] if history else None)


def history_rows(submissions) -> list[dict]:
    """The action history table's rows, newest first."""
    return [
        {
            "submission": s,
            "lines": parameter_lines(s.action, s.parameters),
            "withdrawn_by": (s.withdrawn_by.username if s.withdrawn_by_id else "someone")
            if s.withdrawn_at
            else "",
        }
        for s in submissions
    ]


def workflow_panel(workflow: Workflow, user, *, prefill: Prefill | None = None) -> dict:
    """The action panel of the workflow page: the last action submitted for `workflow` (who,
    when, what), its history and, when `user` is a verified operator, the submit form's context
    opened with `prefill` (e.g. the suggestion, "use this suggestion"), else with the last
    action sent."""
    can_submit = is_verified_operator(user)
    history = selectors.action_history(workflow)
    if can_submit:
        panel = form_context(workflow, prefill=prefill or opening_prefill(workflow, history))
    else:
        panel = {"last_action": selectors.last_action(workflow)}
    last = panel["last_action"]
    submithistory = settings.WWT["actions"]["submithistory"]
    return {
        **panel,
        "can_submit": can_submit,
        "submithistory": submithistory,
        "recent": bool(last and last.submitted_at >= timezone.now() - timedelta(days=submithistory)),
        "last_lines": parameter_lines(last.action, last.parameters) if last else [],
        "history": history_rows(history),
    }


def requester_state(workflow: Workflow, chosen_action: str, post: QueryDict | None) -> dict:
    """The "tell the requester" box: to whom, whether it starts ticked, or why it cannot be."""
    requestor = requester_mail.requestor_of(workflow)
    address = requester_mail.address_of(requestor)
    why_not = ""
    if not requestor:
        why_not = "the requester is not known yet (ReqMgr2 has not been read for this workflow)"
    elif not address:
        why_not = (
            f"no mail address is known for the requester {requestor} (actions.tell_requester in config.yml)"
        )
    return {
        "requestor": requestor,
        "address": address,
        "why_not": why_not,
        "default_for": settings.WWT["actions"]["tell_requester"]["default_for"],
        "ticked": post.get("tell_requester") == "1"
        if post is not None
        else requester_mail.ticked_by_default(chosen_action),
    }


def form_context(
    workflow: Workflow,
    post: QueryDict | None = None,
    errors: dict | None = None,
    prefill: Prefill | None = None,
) -> dict:
    """Everything the form template needs: defaults (or `prefill`) on first show, the operator's
    input after an error. Only the actions the request's ReqMgr2 status allows are offered."""
    errors = errors or {}
    choices = workflow_selectors.recovery_site_choices(workflow)
    recovery, statuses = choices.by_task, choices.statuses
    tasks = workflow_tasks(workflow, recovery)
    typed = post  # what the operator sent (None on first show, even when pre-filled)
    if post is None and prefill is not None:
        tasks = prefill_tasks(tasks, prefill)
        post = prefill_post(prefill, tasks)
    every_auto = sorted({site for task in tasks for site in recovery.get(task, [])})
    # Sites typed or pre-filled that no list holds any more stay visible (and ticked).
    named = {site for key in (post or {}) if key.endswith("-sites") for site in post.getlist(key)}
    all_sites = sorted(set(statuses) | set(every_auto) | named)
    blocks = [
        _block_state("all", None, "All steps", post, every_auto, all_sites, statuses, errors, ALL_STEPS)
    ] + [
        _block_state(f"t{i}", task, task, post, recovery.get(task, []), all_sites, statuses, errors, task)
        for i, task in enumerate(tasks)
    ]
    rule = status_rule(workflow)
    actions = rule.allowed
    chosen = post.get("action", "") if post is not None else ""
    if post is None or (prefill is not None and chosen not in actions):
        chosen = actions[0] if actions else ""  # a pre-filled action the status no longer allows
    reasons = reasons_from_post(post) if post is not None else []
    past = selectors.past_reasons()
    return {
        "workflow": workflow,
        "actions": [(kind, ActionKind(kind).label) for kind in actions],
        "chosen_action": chosen,
        "status_rule": rule,
        "missing_actions": list(rule.missing.values()),
        "prefill_note": prefill.note if prefill is not None else "",
        "prefilled_action_missing": (
            rule.missing.get(prefill.action) or f"{prefill.action} is not offered here"
            if prefill is not None and prefill.action not in actions
            else ""
        ),
        "recovery_enabled": ActionKind.RECOVERY in actions,
        "blocks": blocks,
        "tasks_missing_sites": [task for task in tasks if not recovery.get(task)],
        # Auto serves enabled sites only: say up front where it has none left.
        "auto_problem": choices.problem,
        "tasks_without_enabled_sites": [
            task for task in tasks if recovery.get(task) and not choices.auto(task) and not choices.problem
        ],
        "recovery_known": bool(recovery),
        "splittings": SPLITTINGS,
        "toggles": TOGGLES,
        "site_methods": SITE_METHODS,
        "special_actions": list(SPECIAL_ACTIONS.items()),
        "clone": {
            n: post.get(f"clone-{n}", "") if post is not None else ""
            for n in ("memory", "splitting", "comment")
        },
        "special": {n: post.get(f"special-{n}", "") if post is not None else "" for n in ("action", "other")},
        "reasons": reasons or [{"short": "", "long": ""}],
        "past_reasons": past,
        "past_reasons_map": {r.short: r.long for r in past},
        "similar": post.getlist("similar") if post is not None else [],
        "errors": errors,
        "error_messages": [m for ms in errors.values() for m in ms],
        "last_action": selectors.last_action(workflow),
        "requester": requester_state(workflow, chosen, typed),
    }
