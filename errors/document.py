"""Reading Unified's all_errors document into cells: validation only, no database.

Django-free on purpose (no ORM, no settings): what the database can store arrives as
`DocumentLimits`, and config values (keep LogCollect/Cleanup steps?) as arguments, so the
parser is tested and reused on its own. The document's shape is
`{"/<workflow>/<task>": {"<exit code>": {"<site>": count}}}`; "NotReported" is exit code -1.
"""

from collections.abc import Callable
from dataclasses import dataclass

from workflows.exit_codes import NOT_REPORTED, exit_code_label, parse_exit_code

Cell = tuple[str, int, str, int]  # (step name, exit code, site, count)
Progress = Callable[[str, int, int], None] | None  # (phase, done, total)

CHECKING = "checking entries"  # the phase a progress callback hears while entries are checked
_REPORT_EVERY = 5000
_UNSEEN = object()


def _no_problem(_: str) -> str:
    return ""


@dataclass(frozen=True)
class DocumentLimits:
    """What a stored cell may hold: column lengths and integer ranges of the database.
    `workflow_problem(name)` adds checks of the caller's own (e.g. the length of what the
    name tells); it returns "" when the name is fine."""

    max_workflow_name: int
    max_step_name: int
    max_site_name: int
    exit_code_range: tuple[int, int]
    max_count: int
    workflow_problem: Callable[[str], str] = _no_problem


def shown(value, limit: int = 80) -> str:
    """`value` as a bad-entry example shows it: repr of text, cut when long."""
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def name_problem(name: str, max_length: int) -> str:
    """Why `name` cannot be stored in a column of `max_length` characters ("" when it can)."""
    if len(name) > max_length:
        return f"longer than {max_length} characters"
    if "\x00" in name:
        return "holds a NUL character"  # PostgreSQL text cannot
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode"  # a lone surrogate such as "\ud800" in the JSON
    return ""


def is_logcollect_or_cleanup(step: str) -> bool:
    """Whether `step` (a path /<workflow>/<task>/...) is a LogCollect or Cleanup task. Only
    the task part is read: a workflow name holding "Cleanup" does not drop its steps."""
    task_path = step.split("/", 2)[2] if step.count("/") >= 2 else step
    return "LogCollect" in task_path or "Cleanup" in task_path


def _workflow_problem(workflow: str, limits: DocumentLimits) -> str:
    problem = name_problem(workflow, limits.max_workflow_name)
    if problem:
        return f"workflow name {problem}"
    return limits.workflow_problem(workflow)


def step_problem(step, parts: list[str], workflows: dict[str, str], limits: DocumentLimits) -> str:
    if len(parts) < 3 or parts[0] != "" or not parts[1] or not parts[2]:
        return "not a path /<workflow>/<task>"
    problem = name_problem(step, limits.max_step_name)
    if problem:
        return f"step name {problem}"
    if parts[1] not in workflows:
        workflows[parts[1]] = _workflow_problem(parts[1], limits)
    return workflows[parts[1]]


def count_problem(count, max_count: int) -> str:
    if isinstance(count, bool) or not isinstance(count, int):
        return f"count {shown(count)} is not an integer"
    if count < 0:
        return f"negative count {shown(count)}"
    if count > max_count:
        return f"count {shown(count)} is larger than {max_count}"
    return ""


def _exit_code_of(code) -> int:
    """The stored exit code of an all_errors key ("NotReported" is -1); ValueError if none."""
    if not isinstance(code, str):
        raise ValueError(code)
    return parse_exit_code(code)


def parse_error_document(
    document: dict, limits: DocumentLimits, *, keep_logcollect_cleanup: bool, progress: Progress = None
) -> tuple[list[Cell], list[str], int]:
    """Validate the entries of an all_errors document.

    Returns the non-zero cells, a description of each bad entry (skipped) and the number
    of LogCollect/Cleanup steps left out (unless `keep_logcollect_cleanup`). Bad entries:
    a step that is not `/<workflow>/<task>`, a name too long for its column, a non-numeric
    or out-of-range exit code, a count that is not an integer in 0..max_count, or a
    non-object where an object belongs. `NotReported` is exit code -1, and its count 0 is
    stored as 1 (the original's rule: Unified lists it with 0 for a task whose files went
    unreported).
    """
    cells: list[Cell] = []
    bad: list[str] = []
    dropped = 0
    workflow_problems: dict[str, str] = {}
    good_sites: set[str] = set()
    exit_codes: dict[str, int | None] = {}  # None: not an exit code
    add_cell, max_count = cells.append, limits.max_count  # looked up once: ~100k cells per document
    low, high = limits.exit_code_range
    total = len(document)
    for done, (step, codes) in enumerate(document.items()):
        if progress and done % _REPORT_EVERY == 0:
            progress(CHECKING, done, total)
        parts = step.split("/") if isinstance(step, str) else []
        problem = step_problem(step, parts, workflow_problems, limits)
        if problem:
            bad.append(f"step {shown(step)}: {problem}")
            continue
        if not isinstance(codes, dict):
            bad.append(f"step {shown(step)}: expected an object of exit codes, got {type(codes).__name__}")
            continue
        if not keep_logcollect_cleanup and is_logcollect_or_cleanup(step):
            dropped += 1
            continue
        for code, sites in codes.items():
            # A document repeats a few hundred exit codes over and over: parse each once.
            exit_code = exit_codes.get(code, _UNSEEN) if isinstance(code, str) else None
            if exit_code is _UNSEEN:
                try:
                    exit_code = exit_codes[code] = _exit_code_of(code)
                except ValueError:
                    exit_code = exit_codes[code] = None
            if exit_code is None:
                bad.append(f"step {shown(step)}: exit code {shown(code)} is not an integer or NotReported")
                continue
            if not low <= exit_code <= high:
                bad.append(
                    f"step {shown(step)}: exit code {shown(exit_code)} is out of range ({low}..{high})"
                )
                continue
            label = exit_code_label(exit_code)
            if not isinstance(sites, dict):
                bad.append(
                    f"step {shown(step)} code {label}: expected an object of sites, "
                    f"got {type(sites).__name__}"
                )
                continue
            for site, count in sites.items():
                if site not in good_sites:
                    if not site or name_problem(site, limits.max_site_name):
                        bad.append(f"step {shown(step)} code {label}: bad site name {shown(site)}")
                        continue
                    good_sites.add(site)
                # The usual count (a plain int in range) skips the checks' function call.
                if type(count) is int and 0 <= count <= max_count:
                    if count or exit_code == NOT_REPORTED:
                        add_cell((step, exit_code, site, count or 1))
                    continue
                problem = count_problem(count, max_count)
                if problem:
                    bad.append(f"step {shown(step)} code {label} site {site}: {problem}")
                elif count or exit_code == NOT_REPORTED:
                    add_cell((step, exit_code, site, count or 1))
    if progress:
        progress(CHECKING, total, total)
    return cells, bad, dropped
