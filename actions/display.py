"""Served parameters as people read them: per task for ACDC / recovery, flat otherwise.

The actions page, its CSV export and the requester's mail show the same words, so they all
come from here. Input is exactly what Unified is served (`Action.parameters`).
"""

from dataclasses import dataclass, field

from .models import ActionKind

# Served key -> (label, unit), in the order a reader expects.
_TASK_KEYS = {
    "sites": ("sites", ""),
    "memory": ("memory", " MB"),
    "multicore": ("cores", ""),
    "splitting": ("splitting", ""),
    "xrootd": ("xrootd", ""),
    "secondary": ("secondary", ""),
    "group": ("group", ""),
}
_CLONE_KEYS = {"memory": ("memory", " MB"), "splitting": ("splitting", ""), "comment": ("comment", "")}
_SPECIAL_NAMES = {"by-pass": "force-complete (by-pass)", "on-hold": "on hold"}


@dataclass
class ParameterGroup:
    """One task's changed values (`task` is "" for clone and special, which are not per task)."""

    task: str
    values: list[tuple[str, str]] = field(default_factory=list)


def _text(value, unit: str = "") -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return f"{value}{unit}"


def _ordered(block: dict, keys: dict) -> list[tuple[str, str]]:
    known = [(label, _text(block[key], unit)) for key, (label, unit) in keys.items() if key in block]
    # A key we do not know (an imported document, a newer Unified) is shown, not dropped.
    unknown = [(key, _text(value)) for key, value in sorted(block.items()) if key not in keys]
    return known + unknown


def _task_values(block) -> list[tuple[str, str]]:
    return _ordered(block, _TASK_KEYS) if isinstance(block, dict) else [("", _text(block))]


def readable_parameters(action: str, parameters: dict) -> list[ParameterGroup]:
    """The served `parameters` of an `action` as groups of (label, text); [] when nothing changes."""
    if not isinstance(parameters, dict) or not parameters:
        return []
    if action in (ActionKind.ACDC, ActionKind.RECOVERY):
        return [ParameterGroup(task, _task_values(block)) for task, block in sorted(parameters.items())]
    if action == ActionKind.SPECIAL:
        values = []
        if parameters.get("action"):
            values.append(("action", _SPECIAL_NAMES.get(parameters["action"], str(parameters["action"]))))
        if parameters.get("other"):
            values.append(("other", str(parameters["other"])))
        rest = {key: value for key, value in parameters.items() if key not in ("action", "other")}
        values += [(key, _text(value)) for key, value in sorted(rest.items())]
        return [ParameterGroup("", values)]
    return [ParameterGroup("", _ordered(parameters, _CLONE_KEYS))]


def parameter_lines(action: str, parameters: dict) -> list[str]:
    """One line per group: "Task: memory 4000 MB; sites A, B" (the history table, the mail)."""
    lines = []
    for group in readable_parameters(action, parameters):
        values = "; ".join(f"{label} {text}" if label else text for label, text in group.values)
        lines.append(f"{group.task}: {values}" if group.task else values)
    return lines


def parameters_in_one_line(action: str, parameters: dict) -> str:
    """The same as one line of text (CSV cells): "Task: memory 4000 MB; sites A, B | …"."""
    return " | ".join(parameter_lines(action, parameters)) or "all unchanged"
