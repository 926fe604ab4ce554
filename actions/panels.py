"""The action panels: what the workflow page and /submitaction show of actions.

The form is dynamic (one block per task, site lists from outside sources), so it is plain HTML
driven by `form_context(...)` rather than a Django Form; `workflow_panel(...)` is the panel the
workflow page shows (the last action, and the form for verified operators). Reading the POST
back is `actions.post_parsing`.
"""

import json
from datetime import timedelta

from django.conf import settings
from django.http import QueryDict
from django.utils import timezone

from accounts.permissions import is_verified_operator
from workflows import selectors as workflow_selectors
from workflows.models import Workflow, short_task_name

from . import selectors
from .models import ActionKind
from .post_parsing import TASK_VALUE_FIELDS, reasons_from_post
from .validation import (
    ALL_STEPS,
    SPECIAL_ACTIONS,
    SPLITTINGS,
    TOGGLES,
    enabled_actions,
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
        "ban_choices": _site_choices(auto_sites, statuses, set(ban)),
        "errors": [
            m for place, ms in errors.items() if place.startswith(f"parameters.{error_key}") for m in ms
        ],
    }


def workflow_panel(
    workflow: Workflow, user, *, prefill: dict[str, str] | None = None, prefill_note: str = ""
) -> dict:
    """The action panel of the workflow page: the last action submitted for `workflow` (who,
    when, what) and, when `user` is a verified operator, the submit form's context, started
    from `prefill` (see `prefill_form`) when given."""
    can_submit = is_verified_operator(user)
    panel = form_context(workflow) if can_submit else {"last_action": selectors.last_action(workflow)}
    if can_submit and prefill:
        prefill_form(panel, prefill, prefill_note)
    last = panel["last_action"]
    submithistory = settings.WWT["actions"]["submithistory"]
    return {
        **panel,
        "can_submit": can_submit,
        "submithistory": submithistory,
        "recent": bool(last and last.submitted_at >= timezone.now() - timedelta(days=submithistory)),
        "last_parameters": json.dumps(last.parameters, indent=2, sort_keys=True) if last else "",
    }


def prefill_form(context: dict, fields: dict[str, str], note: str) -> None:
    """Start the form of `context` (from `form_context`, first show) from `fields`, keyed by
    the form's own field names ("action", "all-memory", "all-splitting", "all-xrootd",
    "clone-memory", "clone-splitting", ...), and say where they come from with `note`. An
    action not enabled here or a field the form lacks is left out; the validator judges the
    values on submit, as for typed ones."""
    if fields.get("action") in dict(context["actions"]):
        context["chosen_action"] = fields["action"]
    for block in context["blocks"]:
        for name in block["values"]:
            block["values"][name] = fields.get(f"{block['prefix']}-{name}", block["values"][name])
    for name in context["clone"]:
        context["clone"][name] = fields.get(f"clone-{name}", context["clone"][name])
    context["prefill_note"] = note


def form_context(workflow: Workflow, post: QueryDict | None = None, errors: dict | None = None) -> dict:
    """Everything the form template needs: defaults on first show, the operator's input after an error."""
    errors = errors or {}
    choices = workflow_selectors.recovery_site_choices(workflow)
    recovery, statuses = choices.by_task, choices.statuses
    tasks = workflow_tasks(workflow, recovery)
    every_auto = sorted({site for task in tasks for site in recovery.get(task, [])})
    all_sites = sorted(set(statuses) | set(every_auto))
    blocks = [
        _block_state("all", None, "All steps", post, every_auto, all_sites, statuses, errors, ALL_STEPS)
    ] + [
        _block_state(f"t{i}", task, task, post, recovery.get(task, []), all_sites, statuses, errors, task)
        for i, task in enumerate(tasks)
    ]
    actions = enabled_actions()
    chosen = post.get("action", "") if post is not None else actions[0]
    reasons = reasons_from_post(post) if post is not None else []
    past = selectors.past_reasons()
    return {
        "workflow": workflow,
        "actions": [(kind, ActionKind(kind).label) for kind in actions],
        "chosen_action": chosen,
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
    }
