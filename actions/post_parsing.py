"""Reading the action form's POST: field names translated into the API's submission shape.

Only a translation: every rule is in `actions.validation`, shared with the API, so
`submission_from_post(...)` keeps blanks (unchanged) and leaves judging to the validator.
"""

import re

from django.http import QueryDict

from workflows.models import Workflow

from .models import ActionKind
from .validation import ALL_STEPS

TASK_VALUE_FIELDS = ["memory", "cores", "splitting", "xrootd", "secondary", "group"]
_TASK_PREFIX = re.compile(r"^t(\d+)-task$")


def _task_blocks_in_post(post: QueryDict) -> list[tuple[str, str]]:
    """[(prefix, task name)] of the per-task blocks posted, in form order."""
    found = []
    for key in post:
        match = _TASK_PREFIX.match(key)
        if match and post.get(key):
            found.append((int(match.group(1)), f"t{match.group(1)}", post.get(key)))
    return [(prefix, task) for _, prefix, task in sorted(found)]


def _block(post: QueryDict, prefix: str, action: str, *, is_task: bool) -> dict:
    """One block in the API shape, blanks kept (the validator treats blank as unchanged)."""
    block = {}
    for name in TASK_VALUE_FIELDS:
        if name == "group" and action != ActionKind.RECOVERY:
            continue
        value = post.get(f"{prefix}-{name}", "").strip()
        if value:
            block[name] = value
    method = post.get(f"{prefix}-sites_method", "" if is_task else "Auto")
    if method == "Manual":
        block["sites"] = post.getlist(f"{prefix}-sites")
    elif method == "Ban":
        block["ban"] = post.getlist(f"{prefix}-ban")
    elif method == "Auto" and is_task:
        block["ban"] = []  # explicitly Auto: this task's recovery sites, whatever all steps say
    return block


def _merge_raw(everything: dict, task: dict) -> dict:
    merged = {k: v for k, v in everything.items() if k not in ("sites", "ban")}
    merged.update({k: v for k, v in task.items() if k not in ("sites", "ban")})
    sites_from = task if ("sites" in task or "ban" in task) else everything
    merged.update({k: v for k, v in sites_from.items() if k in ("sites", "ban")})
    return merged


def parameters_from_post(post: QueryDict, action: str) -> dict:
    if action in (ActionKind.ACDC, ActionKind.RECOVERY):
        everything = _block(post, "all", action, is_task=False)
        tasks = _task_blocks_in_post(post)
        only = [(prefix, task) for prefix, task in tasks if post.get(f"{prefix}-only")]
        if only:
            return {
                task: _merge_raw(everything, _block(post, prefix, action, is_task=True))
                for prefix, task in only
            }
        parameters = {ALL_STEPS: everything}
        for prefix, task in tasks:
            block = _block(post, prefix, action, is_task=True)
            if block:
                parameters[task] = block
        return parameters
    if action == ActionKind.CLONE:
        return {name: post.get(f"clone-{name}", "").strip() for name in ("memory", "splitting", "comment")}
    if action == ActionKind.SPECIAL:
        return {"action": post.get("special-action", ""), "other": post.get("special-other", "").strip()}
    return {}


def reasons_from_post(post: QueryDict) -> list[dict]:
    shorts, longs = post.getlist("reason_short"), post.getlist("reason_long")
    rows = [{"short": s.strip(), "long": lg.strip()} for s, lg in zip(shorts, longs, strict=False)]
    return [row for row in rows if row["short"] or row["long"]]


def submission_from_post(post: QueryDict, workflow: Workflow) -> dict:
    """The form's POST as keyword arguments of `services.submit_action` (less the user)."""
    action = post.get("action", "")
    similar = [name for name in post.getlist("similar") if name and name != workflow.name]
    return {
        "workflows": [workflow.name, *dict.fromkeys(similar)],
        "action": action,
        "parameters": parameters_from_post(post, action),
        "reasons": reasons_from_post(post),
        # An unticked box sends nothing: from the form, that is an explicit "no".
        "tell_requester": post.get("tell_requester") == "1",
    }
