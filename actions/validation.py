"""The one validator for submitted actions: the form, the JSON API and the importer all call
`validate_action(...)`.

Input is the API shape: `workflows` (names), `action`, `parameters` (as served, before the
omission rules; acdc/recovery may carry an `AllSteps` block and per-block `ban` lists) and
`reasons` ([{"short", "long"}]). Output is a `ValidatedAction` holding, per workflow, exactly
the Parameters Unified is served. Any problem raises `ActionRejected` with every error found,
keyed by where it is (`action`, `workflows`, `reasons`, `parameters.<task>.<field>`).
"""

import re
from dataclasses import dataclass, field

from workflows import selectors as workflow_selectors
from workflows.models import Step, Workflow, short_task_name
from wwt_project.api_errors import FieldErrors

from .models import ActionKind, Reason
from .status_rules import enabled_actions, status_rule

ALL_STEPS = "AllSteps"
SPLITTINGS = ["2x", "3x", "10x", "20x", "50x", "100x", "200x", "max"]
TOGGLES = ["enabled", "disabled"]
SPECIAL_ACTIONS = {"by-pass": "force-complete (by-pass)", "on-hold": "on hold"}
# Words Unified and the original form used for "leave as it is".
UNCHANGED = {None, "", "same", "Same", "unchanged"}
# Only ASCII digits: str.isdigit() also accepts "²" and "١٢", which int() refuses or misreads.
ASCII_DIGITS = re.compile(r"[0-9]+")
MAX_MEMORY_MB = 100_000
MAX_CORES = 64
MAX_SHORT_REASON = 100
MAX_LONG_REASON = 5000
SITE_NAME = re.compile(r"^T[0-3]_[A-Z]{2}_[A-Za-z0-9_-]+$")
# Tasks that recovery usually leaves out (the default task list skips them).
SKIPPED_TASK_WORDS = ("LogCollect", "Cleanup")

TASK_FIELDS = {"memory", "multicore", "cores", "splitting", "xrootd", "secondary", "sites", "ban", "group"}
CLONE_FIELDS = {"memory", "splitting", "comment"}
SPECIAL_FIELDS = {"action", "other"}


class ActionRejected(FieldErrors):
    """The submission is invalid; `errors` maps where ("parameters.Task1.memory") to messages.
    The API's exception handler answers it 400 with `errors` as the body."""


@dataclass
class ValidatedAction:
    action: str
    workflows: list[Workflow]
    parameters: dict[str, dict]  # workflow name -> served Parameters
    reasons: list[dict]  # [{"short", "long"}], long always filled
    new_reasons: list[dict] = field(default_factory=list)  # short reasons to store for reuse
    acdcs: dict[str, list[str]] = field(default_factory=dict)  # workflow name -> ACDC names


def is_default_task(task: str) -> bool:
    return not any(word in task for word in SKIPPED_TASK_WORDS)


def is_text(value) -> bool:
    """A str that is valid Unicode: JSON's "\\ud800" escape decodes to a lone surrogate, which can
    neither be encoded as UTF-8 (for a reply or the database) nor name anything. Nor can a NUL
    character, which PostgreSQL cannot store in text."""
    if not isinstance(value, str) or "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _holds_invalid_text(value) -> bool:
    """Whether any string in `value`, a decoded JSON value, dict keys included, is not valid text.
    A loop rather than recursion: the value may be nested as deeply as the JSON decoder allows."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not is_text(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return False


class _Errors:
    def __init__(self):
        self.by_place: dict[str, list[str]] = {}

    def add(self, place: str, message: str) -> None:
        self.by_place.setdefault(place, []).append(message)

    def __bool__(self):
        return bool(self.by_place)


# -- single values ------------------------------------------------------------------------


def _is_unchanged(value) -> bool:
    # A list or dict is never "unchanged" (and cannot be looked up in a set).
    return (value is None or isinstance(value, str)) and value in UNCHANGED


def _whole_number(value, what: str, low: int, high: int, errors: _Errors, place: str):
    if _is_unchanged(value):
        return None
    if isinstance(value, bool | float):
        errors.add(place, f"{what} must be a whole number, got {value!r}")
        return None
    if isinstance(value, str):
        digits = value.strip()
        if not ASCII_DIGITS.fullmatch(digits):
            errors.add(place, f"{what} must be a whole number, got {value!r}")
            return None
        # More digits than the bound has is out of range; int() would refuse thousands of them.
        significant = digits.lstrip("0") or "0"
        value = int(significant) if len(significant) <= len(str(high)) else high + 1
    if not isinstance(value, int):
        errors.add(place, f"{what} must be a whole number, got {value!r}")
        return None
    if not low <= value <= high:
        errors.add(place, f"{what} must be between {low} and {high}, got {value}")
        return None
    return value


def _choice(value, what: str, choices: list[str], errors: _Errors, place: str):
    if _is_unchanged(value):
        return None
    if not isinstance(value, str) or value not in choices:
        errors.add(place, f"{what} must be one of {', '.join(choices)}, got {value!r}")
        return None
    return value


def _text(value, what: str, errors: _Errors, place: str, max_length: int = 2000) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        errors.add(place, f"{what} must be text, got {value!r}")
        return None
    if len(value) > max_length:
        errors.add(place, f"{what} is too long ({len(value)} characters, at most {max_length})")
        return None
    return value


def _site_list(value, what: str, errors: _Errors, place: str, *, allow_empty: bool) -> list[str] | None:
    if value is None or value == "Auto":
        return None
    if not isinstance(value, list) or not all(isinstance(site, str) for site in value):
        errors.add(place, f"{what} must be a list of site names, got {value!r}")
        return None
    sites = list(dict.fromkeys(site.strip() for site in value if site.strip()))
    bad = [site for site in sites if not SITE_NAME.match(site)]
    if bad:
        errors.add(place, f"{what}: not site names: {', '.join(bad)}")
        return None
    if not sites and not allow_empty:
        errors.add(place, f"{what}: choose at least one site")
        return None
    return sites


# -- blocks -------------------------------------------------------------------------------


def _task_block(key: str, block, action: str, errors: _Errors) -> dict:
    """One acdc/recovery block with its values checked; None marks "unchanged"."""
    place = f"parameters.{key}"
    label = "all steps" if key == ALL_STEPS else key
    if not isinstance(block, dict):
        errors.add(place, f"{label}: parameters must be an object, got {block!r}")
        return {}
    for unknown in sorted(set(block) - TASK_FIELDS):
        errors.add(f"{place}.{unknown}", f"{label}: unknown parameter {unknown!r}")
    if "group" in block and action != ActionKind.RECOVERY:
        errors.add(f"{place}.group", f"{label}: group is for recovery only")
    if "cores" in block and "multicore" in block:
        errors.add(f"{place}.multicore", f"{label}: give cores or multicore, not both")
    cores = block.get("multicore", block.get("cores"))
    return {
        "memory": _whole_number(
            block.get("memory"), f"{label}: memory (MB)", 1, MAX_MEMORY_MB, errors, f"{place}.memory"
        ),
        "multicore": _whole_number(cores, f"{label}: cores", 1, MAX_CORES, errors, f"{place}.multicore"),
        "splitting": _choice(
            block.get("splitting"), f"{label}: splitting", SPLITTINGS, errors, f"{place}.splitting"
        ),
        "xrootd": _choice(block.get("xrootd"), f"{label}: xrootd", TOGGLES, errors, f"{place}.xrootd"),
        "secondary": _choice(
            block.get("secondary"), f"{label}: secondary", TOGGLES, errors, f"{place}.secondary"
        ),
        "group": _text(block.get("group"), f"{label}: group", errors, f"{place}.group", 100),
        "sites": _site_list(
            block.get("sites"), f"{label}: sites", errors, f"{place}.sites", allow_empty=False
        ),
        "ban": _site_list(
            block.get("ban"), f"{label}: banned sites", errors, f"{place}.ban", allow_empty=True
        ),
    }


def _merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for name, value in override.items():
        if name in ("sites", "ban"):
            continue
        if value is not None:
            merged[name] = value
    # A block that chooses its own sites replaces the way all steps choose them.
    if override.get("sites") is not None or override.get("ban") is not None:
        merged["sites"], merged["ban"] = override.get("sites"), override.get("ban")
    return merged


def _task_parameters(
    action: str, workflows: list[Workflow], parameters, errors: _Errors, *, ask_acdc: bool = True
) -> dict[str, dict]:
    if not isinstance(parameters, dict) or not parameters:
        errors.add("parameters", "give parameters for all steps or for at least one task")
        return {}
    blocks = {key: _task_block(key, block, action, errors) for key, block in parameters.items()}
    if errors:
        return {}
    everything = blocks.pop(ALL_STEPS, None)

    tasks_of: dict[int, list[str]] = {wf.id: [] for wf in workflows}
    names = {wf.id: wf.name for wf in workflows}
    for workflow_id, step_name in Step.objects.filter(workflow__in=workflows).values_list(
        "workflow_id", "name"
    ):
        tasks_of[workflow_id].append(short_task_name(names[workflow_id], step_name))

    served: dict[str, dict] = {}
    matched: set[str] = set()
    for workflow in workflows:
        # The importer asks no outside source: its actions name their sites or have none.
        choices = (
            workflow_selectors.recovery_site_choices(workflow)
            if ask_acdc
            else workflow_selectors.RecoverySites(by_task={}, statuses={}, problem="no recovery information")
        )
        recovery = choices.by_task
        known = list(dict.fromkeys(tasks_of[workflow.id] + sorted(recovery)))
        targets = [task for task in known if is_default_task(task)] if everything is not None else []
        explicit = [task for task in blocks if task in known]
        matched.update(explicit)
        targets += [task for task in explicit if task not in targets]
        if not targets:
            errors.add(
                "workflows",
                f"{workflow.name}: no task to act on (none of the given tasks is known for it)"
                if blocks
                else f"{workflow.name}: no tasks are known for it; name the tasks",
            )
            continue
        served[workflow.name] = {}
        for task in targets:
            values = _merge(everything or {}, blocks.get(task, {}))
            sites = values.get("sites")
            if sites is None:
                banned = set(values.get("ban") or [])
                sites = [site for site in choices.auto(task) if site not in banned]
                if not sites:
                    errors.add(
                        f"parameters.{task}.sites",
                        f"{workflow.name}: no sites can be determined for task {task} "
                        f"({_why_no_auto_sites(choices, task, banned)}); choose the sites by hand (Manual)",
                    )
                    continue
            served_task = {"sites": sites}
            for name in ("memory", "multicore", "splitting", "xrootd", "secondary", "group"):
                if values.get(name) is not None:
                    served_task[name] = values[name]
            served[workflow.name][task] = served_task
    for task in blocks:
        if task not in matched:
            errors.add(f"parameters.{task}", f"{task} is not a task of {', '.join(names.values())}")
    return served


def _why_no_auto_sites(choices, task: str, banned: set[str]) -> str:
    if choices.problem:
        return choices.problem.split(";")[0]
    if not choices.by_task.get(task):
        return "no recovery information: the ACDC server lists no known site for it"
    not_enabled = choices.not_enabled(task)
    if not choices.auto(task):
        listed = ", ".join(
            f"{site} ({choices.statuses.get(site) or 'status unknown'})" for site in not_enabled
        )
        return f"no enabled site is left: {listed}"
    return "every enabled recovery site is banned"


def _clone_parameters(parameters, errors: _Errors) -> dict:
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, dict):
        errors.add("parameters", f"clone parameters must be an object, got {parameters!r}")
        return {}
    for unknown in sorted(set(parameters) - CLONE_FIELDS):
        errors.add(f"parameters.{unknown}", f"clone: unknown parameter {unknown!r}")
    values = {
        "memory": _whole_number(
            parameters.get("memory"), "clone: memory (MB)", 1, MAX_MEMORY_MB, errors, "parameters.memory"
        ),
        "splitting": _choice(
            parameters.get("splitting"), "clone: splitting", SPLITTINGS, errors, "parameters.splitting"
        ),
        "comment": _text(parameters.get("comment"), "clone: comment", errors, "parameters.comment"),
    }
    return {name: value for name, value in values.items() if value is not None}


def _special_parameters(parameters, errors: _Errors) -> dict:
    if not isinstance(parameters, dict):
        errors.add("parameters", f"special parameters must be an object, got {parameters!r}")
        return {}
    for unknown in sorted(set(parameters) - SPECIAL_FIELDS):
        errors.add(f"parameters.{unknown}", f"special: unknown parameter {unknown!r}")
    which = parameters.get("action")
    if which == "force-complete":
        which = "by-pass"
    if not isinstance(which, str) or which not in SPECIAL_ACTIONS:
        choices = ", ".join(f"{key} ({label})" for key, label in SPECIAL_ACTIONS.items())
        errors.add("parameters.action", f"special: choose one of {choices}, got {which!r}")
    other = _text(parameters.get("other"), "special: other", errors, "parameters.other") or ""
    return {"action": which, "other": other}


# -- reasons and workflows ------------------------------------------------------------------


def _reasons(reasons, errors: _Errors) -> tuple[list[dict], list[dict]]:
    if not isinstance(reasons, list) or not reasons:
        errors.add("reasons", "give at least one reason")
        return [], []
    stored = {}
    shorts = [r.get("short") for r in reasons if isinstance(r, dict) and isinstance(r.get("short"), str)]
    if shorts:
        stored = dict(
            Reason.objects.filter(short__in=[s.strip() for s in shorts]).values_list("short", "long")
        )
    cleaned, new = [], []
    for number, reason in enumerate(reasons, start=1):
        place = f"reasons.{number}"
        if not isinstance(reason, dict) or set(reason) - {"short", "long"}:
            errors.add(place, f"reason {number} must be an object with short and long, got {reason!r}")
            continue
        short, long = reason.get("short") or "", reason.get("long") or ""
        if not isinstance(short, str) or not isinstance(long, str):
            errors.add(place, f"reason {number}: short and long must be text")
            continue
        short, long = short.strip(), long.strip()
        if not long and short in stored:
            long = stored[short]  # picking a past short reason means its long text
        if not long:
            errors.add(place, f"reason {number}: the long reason is empty (it is what Unified receives)")
            continue
        if len(short) > MAX_SHORT_REASON:
            errors.add(
                place, f"reason {number}: the short reason is longer than {MAX_SHORT_REASON} characters"
            )
            continue
        if len(long) > MAX_LONG_REASON:
            errors.add(place, f"reason {number}: the long reason is longer than {MAX_LONG_REASON} characters")
            continue
        cleaned.append({"short": short, "long": long})
        if short and short not in stored and short not in {r["short"] for r in new}:
            new.append({"short": short, "long": long})
    return cleaned, new


def _workflows(names, errors: _Errors) -> list[Workflow]:
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
        errors.add("workflows", "give a list of one or more workflow names")
        return []
    names = list(dict.fromkeys(names))
    found = {wf.name: wf for wf in Workflow.objects.filter(name__in=names)}
    missing = [name for name in names if name not in found]
    if missing:
        errors.add("workflows", f"unknown workflow(s): {', '.join(missing)}")
    return [found[name] for name in names if name in found]


def later_acdcs(workflows: list[Workflow]) -> dict[str, list[str]]:
    """{workflow name: ACDC workflows of its prep ID requested after it} in one query."""
    prep_ids = {wf.prep_id for wf in workflows if wf.prep_id}
    by_prep: dict[str, list[Workflow]] = {}
    if prep_ids:
        for acdc in Workflow.objects.filter(is_acdc=True, prep_id__in=prep_ids).order_by("name"):
            by_prep.setdefault(acdc.prep_id, []).append(acdc)
    result = {}
    for workflow in workflows:
        result[workflow.name] = [
            acdc.name
            for acdc in by_prep.get(workflow.prep_id, [])
            if acdc.name != workflow.name and _requested_after(acdc, workflow)
        ]
    return result


def _requested_after(acdc: Workflow, original: Workflow) -> bool:
    if acdc.original_id == original.id:
        return True
    if acdc.requested_at and original.requested_at:
        return acdc.requested_at > original.requested_at
    return acdc.first_seen > original.first_seen if acdc.first_seen and original.first_seen else False


def _status_allows(action: str, workflows: list[Workflow], errors: _Errors) -> None:
    """The guard-rails: each workflow's stored ReqMgr2 status must allow `action`."""
    for workflow in workflows:
        rule = status_rule(workflow)
        if action in rule.missing:
            errors.add(
                "action",
                f"{workflow.name}: {rule.missing[action]}, as ReqMgr2 said on "
                f"{rule.fetched_at:%Y-%m-%d %H:%M} UTC",
            )


def validate_action(
    *, workflows, action, parameters, reasons, ask_acdc: bool = True, check_status: bool = True
) -> ValidatedAction:
    """Check a submission in the API shape; return what to store and serve, or raise ActionRejected.

    `ask_acdc=False` (the importer) makes no outside call: tasks are only those stored here and
    Auto sites are none, so each task must name its sites. `check_status=False` (the importer
    again: history as it was) skips the guard-rails of the request's ReqMgr2 status."""
    errors = _Errors()
    given = {"workflows": workflows, "action": action, "parameters": parameters, "reasons": reasons}
    for place, value in given.items():
        if _holds_invalid_text(value):
            errors.add(place, f"{place}: holds text that is not valid Unicode (a lone surrogate escape)")
    if errors:
        raise ActionRejected(errors.by_place)  # such text cannot even be shown back in a message
    if action not in enabled_actions():
        hint = " (recovery is off: Unified does not act on it)" if action == ActionKind.RECOVERY else ""
        errors.add("action", f"choose one of {', '.join(enabled_actions())}, got {action!r}{hint}")
    found = _workflows(workflows, errors)
    if check_status and action in enabled_actions():
        _status_allows(action, found, errors)
    cleaned_reasons, new_reasons = _reasons(reasons, errors)
    served: dict[str, dict] = {}
    # Parameters are checked even when reasons are missing, so the operator sees every error at once.
    if action in enabled_actions() and found:
        parameter_errors = _Errors()
        if action in (ActionKind.ACDC, ActionKind.RECOVERY):
            served = _task_parameters(action, found, parameters, parameter_errors, ask_acdc=ask_acdc)
        elif action == ActionKind.CLONE:
            one = _clone_parameters(parameters, parameter_errors)
            served = {wf.name: dict(one) for wf in found}
        else:
            one = _special_parameters(parameters, parameter_errors)
            served = {wf.name: dict(one) for wf in found}
        for place, messages in parameter_errors.by_place.items():
            for message in messages:
                errors.add(place, message)
    if errors:
        raise ActionRejected(errors.by_place)
    return ValidatedAction(
        action=action,
        workflows=found,
        parameters=served,
        reasons=cleaned_reasons,
        new_reasons=new_reasons,
        acdcs=later_acdcs(found),
    )
