"""Import the original tool's reasons (SQLite, table `reasons`) and actions (its MongoDB
collection as `mongoexport` writes it: JSON lines in relaxed Extended JSON, or a JSON array).

Reasons merge with ours: a short text we already have keeps our long text (the difference is
reported). Each action document is converted to the API shape (string values, `""` =
unchanged, `cores` → `multicore`, `bad_sites` dropped, storage names → sites we know) and run
through `validate_action` without any outside call. Every document becomes a history row
(ActionSubmission) with its time, recorded user and acted state; the latest valid one of each
workflow also becomes its Action, served by getaction exactly like one made here. Documents
that cannot be made valid stay in the history only. Idempotent: a (workflow, time) already in
the history is not imported again.
"""

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.db import transaction

from workflows.bulk import in_clause_chunk
from workflows.models import Step, Workflow
from workflows.services import ensure_steps, ensure_workflows
from workflows.sites import sites_of_locations
from wwt_project.legacy import ImportSummary, LegacyStoreError, decoded, read_sqlite_table

from .models import Action, ActionKind, ActionSubmission, Reason
from .validation import ALL_STEPS, MAX_LONG_REASON, MAX_SHORT_REASON, ActionRejected, validate_action

Progress = Callable[[str, int, int], None] | None
READING = "reading actions"
VALIDATING = "validating actions"
WRITING = "writing actions"

_LINE_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
MAX_WORKFLOW_NAME = Workflow._meta.get_field("name").max_length
MAX_STEP_NAME = Step._meta.get_field("name").max_length
MAX_ACTION = ActionSubmission._meta.get_field("action").max_length
MAX_USER = ActionSubmission._meta.get_field("recorded_user").max_length
NAMED_PER_REASON = 50  # actions kept in the history only are named, up to this many per reason


def long_text(text: str) -> str:
    """A long reason as the original stored it (newlines as `<br>`) turned back into text."""
    return _LINE_BREAK.sub("\n", text).strip()


# -- reasons ----------------------------------------------------------------------------------


def import_reasons(path: str, *, dry_run: bool = False) -> ImportSummary:
    """Add the store's reasons whose short text we do not have. Raises LegacyStoreError
    (nothing imported) when the file is not the original's reasons database."""
    summary = ImportSummary(store="reasons", source=path, dry_run=dry_run)
    rows = read_sqlite_table(path, "reasons", ["shortreason", "longreason"])
    with transaction.atomic():
        ours = dict(Reason.objects.values_list("short", "long"))
        new: dict[str, str] = {}
        for raw_short, raw_long in rows:
            short = decoded(raw_short)
            if short is None or not short.strip():
                summary.skip("short text empty or not UTF-8", repr(raw_short)[:80])
                continue
            short = short.strip()
            long = decoded(raw_long) if raw_long is not None else ""
            if long is None:
                summary.skip("long text not UTF-8", repr(short))
                continue
            long = long_text(long) or short  # the original stored a blank long text as the short one
            if len(short) > MAX_SHORT_REASON:
                summary.skip(f"short text longer than {MAX_SHORT_REASON} characters", repr(short[:60]))
                continue
            if len(long) > MAX_LONG_REASON:
                summary.skip(f"long text longer than {MAX_LONG_REASON} characters", repr(short))
                continue
            known = ours.get(short, new.get(short))
            if known is None:
                new[short] = long
            elif known == long:
                summary.already_there += 1
            else:
                summary.skip(
                    "the same short text has another long text here: ours was kept",
                    f"{short!r}: theirs {long[:60]!r}, ours {known[:60]!r}",
                )
        Reason.objects.bulk_create(
            [Reason(short=short, long=long) for short, long in new.items()], ignore_conflicts=True
        )
        summary.imported = len(new)
        if dry_run:
            transaction.set_rollback(True)
    return summary


# -- reading the actions store -----------------------------------------------------------------


def _plain(value):
    """A relaxed Extended JSON value as plain JSON: {"$oid": x} → x, {"$numberLong": "5"} → 5,
    {"$date": ...} → unix seconds."""
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, inner),) = value.items()
        if key == "$oid":
            return inner
        if key in ("$numberLong", "$numberInt"):
            return int(inner)
        if key in ("$numberDouble", "$numberDecimal"):
            return float(inner)
        if key == "$date":
            inner = _plain(inner)
            if isinstance(inner, str):
                return datetime.fromisoformat(inner.replace("Z", "+00:00")).timestamp()
            return inner / 1000  # milliseconds since the epoch
    return {key: _plain(item) for key, item in value.items()}


def read_action_documents(path: str) -> list[dict]:
    """The documents of a mongoexport file (JSON lines, or one JSON array), as plain JSON.
    Raises LegacyStoreError naming the file (and line) when it is not such a file."""
    file = Path(path)
    if not file.is_file():
        raise LegacyStoreError(f"{path}: no such file")
    try:
        text = file.read_text(encoding="utf-8-sig")  # a BOM, if an editor added one
    except UnicodeDecodeError as exc:
        raise LegacyStoreError(f"{path}: not UTF-8 text, so not a mongoexport file") from exc
    except OSError as exc:
        raise LegacyStoreError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if text.lstrip().startswith("["):
        documents = _loaded(text, path, "")
        if not isinstance(documents, list):
            raise LegacyStoreError(f"{path}: expected a JSON array of documents")
        places = [f" (document {number})" for number in range(1, len(documents) + 1)]
    else:
        documents, places = [], []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                documents.append(_loaded(line, path, f" line {number}"))
                places.append(f" line {number}")
    plain = []
    for document, place in zip(documents, places, strict=True):
        if not isinstance(document, dict):
            raise LegacyStoreError(f"{path}{place}: expected a JSON object, got {type(document).__name__}")
        try:
            plain.append(_plain(document))
        except (ValueError, TypeError, OverflowError) as exc:
            raise LegacyStoreError(f"{path}{place}: bad Extended JSON value: {exc}") from exc
    if plain and not any("workflow" in doc and "parameters" in doc for doc in plain):
        raise LegacyStoreError(
            f"{path}: no document has the fields workflow and parameters: not the original tool's actions"
        )
    return plain


def _loaded(text: str, path: str, place: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise LegacyStoreError(
            f"{path}{place}: not JSON ({exc.msg} at column {exc.colno}); expected mongoexport's JSON lines"
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise LegacyStoreError(f"{path}{place}: not usable JSON: {exc}") from exc


# -- converting one document ---------------------------------------------------------------------


@dataclass
class LegacyAction:
    """One document, read and converted to the API shape (before validation)."""

    workflow: str
    action: str
    parameters: object
    reasons: list[str]  # long texts
    user: str
    submitted_at: datetime
    reported: bool
    served: dict | None = None  # filled by validation: parameters as served
    acdcs: list[str] = field(default_factory=list)
    cleaned_reasons: list[dict] = field(default_factory=list)
    problem: str = ""  # why it cannot be made valid (kept in the history only)
    problem_example: str = ""


def _timestamp(value) -> datetime | None:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _task_block(block, known_sites: set[str]):
    if not isinstance(block, dict):
        return block  # the validator says what is wrong with it
    converted = {}
    for name, value in block.items():
        if name == "bad_sites":
            continue  # a ban on top of an explicit site list changes nothing
        if name == "sites":
            locations = [value] if isinstance(value, str) else value if isinstance(value, list) else []
            sites = sites_of_locations(locations, known_sites=known_sites)
            if sites:
                converted["sites"] = sites
            # else left out: with no Auto sites on import, the validator finds no site
            continue
        if value is None or value == "":
            continue  # "" is the original's "unchanged"
        converted["multicore" if name == "cores" else name] = value
    return converted


def _converted_parameters(action: str, workflow: str, parameters, known_sites: set[str]):
    if action in (ActionKind.ACDC, ActionKind.RECOVERY) and isinstance(parameters, dict):
        prefix = f"/{workflow}/"
        return {
            (task[len(prefix) :] if task.startswith(prefix) else task): _task_block(block, known_sites)
            for task, block in parameters.items()
        }
    if action == ActionKind.CLONE and isinstance(parameters, dict):
        return {name: value for name, value in parameters.items() if value not in (None, "")}
    return parameters


def _name_problem(name: str, limit: int) -> str:
    if len(name) > limit:
        return f"longer than {limit} characters"
    if "\x00" in name or "/" in name:
        return "holds a NUL or a slash"
    return ""


def convert_document(document: dict, known_sites: set[str]) -> tuple[LegacyAction | None, str, str]:
    """(the action, "", "") or (None, why it cannot be imported at all, an example)."""
    workflow = document.get("workflow")
    shown = repr(workflow)[:120]
    if not isinstance(workflow, str) or not workflow.strip():
        return None, "no workflow name", repr(document.get("_id"))
    workflow = workflow.strip()
    if problem := _name_problem(workflow, MAX_WORKFLOW_NAME):
        return None, f"workflow name {problem}", shown
    submitted_at = _timestamp(document.get("timestamp"))
    if submitted_at is None:
        return None, "no usable timestamp (unix seconds)", shown
    parameters = document.get("parameters")
    if not isinstance(parameters, dict):
        return None, "parameters is not an object", shown
    action = parameters.get("Action", parameters.get("Actions"))  # "Actions" in 2016 documents
    action = action.strip() if isinstance(action, str) else ""
    reasons = parameters.get("Reasons")
    reasons = [reasons] if isinstance(reasons, str) else reasons if isinstance(reasons, list) else []
    longs = [long_text(reason) for reason in reasons if isinstance(reason, str) and long_text(reason)]
    user = parameters.get("user")
    acted = document.get("acted", 0)
    try:
        reported = int(acted) >= 1
    except (TypeError, ValueError):
        reported = False
    return (
        LegacyAction(
            workflow=workflow,
            action=action,
            parameters=_converted_parameters(action, workflow, parameters.get("Parameters"), known_sites),
            reasons=longs,
            user=user.strip()[:MAX_USER] if isinstance(user, str) else "",
            submitted_at=submitted_at,
            reported=reported,
        ),
        "",
        "",
    )


# -- validating -------------------------------------------------------------------------------


def _problem(errors: dict[str, list[str]], action: str) -> str:
    """One reason per kind of rejection, so the summary groups them."""
    if "action" in errors:
        return f"action {action!r} is not one Unified acts on here"
    if any(place.endswith(".sites") for place in errors):
        return "no site (none of its sites is a site known here)"
    if "workflows" in errors:
        return "no task to act on (none named, and none known here for AllSteps)"
    if any(place.startswith("reasons") for place in errors):
        return "no usable reason"
    return "parameters the validator refuses"


def _validate(group: list[LegacyAction], short_of: dict[str, str]) -> None:
    first = group[0]
    try:
        validated = validate_action(
            workflows=[item.workflow for item in group],
            action=first.action,
            parameters=first.parameters,
            reasons=[{"short": short_of.get(long, ""), "long": long} for long in first.reasons],
            ask_acdc=False,
            check_status=False,  # the history as it was, whatever the request's status is now
        )
    except ActionRejected as exc:
        if len(group) > 1:  # one workflow's problem must not sink the others
            for item in group:
                _validate([item], short_of)
            return
        first.problem = _problem(exc.errors, first.action)
        first.problem_example = f"{first.workflow} ({exc.messages[0]})"
        return
    for item in group:
        item.served = validated.parameters[item.workflow]
        item.acdcs = validated.acdcs.get(item.workflow, [])
        item.cleaned_reasons = validated.reasons
        item.action = validated.action


def validate_all(items: list[LegacyAction], progress: Progress = None) -> None:
    """Run every action through the form's validator, documents with the same action,
    parameters and reasons together (one call for many workflows)."""
    short_of: dict[str, str] = {}
    for short, long in Reason.objects.values_list("short", "long"):
        short_of.setdefault(long, short)
    groups: dict[str, list[LegacyAction]] = {}
    for item in items:
        key = json.dumps([item.action, item.parameters, item.reasons], sort_keys=True, default=str)
        groups.setdefault(key, []).append(item)
    done = 0
    for group in groups.values():
        # validate_action takes each workflow once; repeats of one are validated apart.
        unique, repeats, seen = [], [], set()
        for item in group:
            (repeats if item.workflow in seen else unique).append(item)
            seen.add(item.workflow)
        _validate(unique, short_of)
        for item in repeats:
            _validate([item], short_of)
        done += len(group)
        if progress:
            progress(VALIDATING, done, len(items))


# -- importing ----------------------------------------------------------------------------------


def _explicit_steps(items: Iterable[LegacyAction]) -> set[str]:
    """The steps acdc/recovery documents name: the original only offered tasks it had seen
    errors for, so a named task is a real step even when our errors never showed it."""
    steps = set()
    for item in items:
        if item.action in (ActionKind.ACDC, ActionKind.RECOVERY) and isinstance(item.parameters, dict):
            for task in item.parameters:
                step = f"/{item.workflow}/{task}"
                if task and task != ALL_STEPS and isinstance(task, str) and len(step) <= MAX_STEP_NAME:
                    steps.add(step)
    return steps


def _existing_submissions(workflow_ids: list[int]) -> set[tuple[int, datetime]]:
    found, size = set(), in_clause_chunk()
    for start in range(0, len(workflow_ids), size):
        found.update(
            ActionSubmission.objects.filter(workflow_id__in=workflow_ids[start : start + size]).values_list(
                "workflow_id", "submitted_at"
            )
        )
    return found


def import_actions(
    path: str, *, known_sites: Iterable[str], dry_run: bool = False, progress: Progress = None
) -> ImportSummary:
    """Import the actions store at `path` in one transaction (rolled back with `dry_run`).

    `known_sites` are the sites the tool knows (errors' sites and site statuses): storage names
    map to these only. Raises LegacyStoreError (nothing imported) for a file that is not the
    store."""
    summary = ImportSummary(store="actions", source=path, dry_run=dry_run, examples_kept=NAMED_PER_REASON)
    documents = read_action_documents(path)
    known = set(known_sites)
    items: list[LegacyAction] = []
    for done, document in enumerate(documents):
        item, reason, example = convert_document(document, known)
        if item:
            items.append(item)
        else:
            summary.skip(f"not imported: {reason}", example)
        if progress and done % 1000 == 0:
            progress(READING, done, len(documents))
    with transaction.atomic():
        workflow_ids = ensure_workflows({item.workflow for item in items})
        existing = _existing_submissions(sorted(set(workflow_ids.values())))
        fresh: dict[tuple[int, datetime], LegacyAction] = {}
        for item in items:
            key = (workflow_ids[item.workflow], item.submitted_at)
            if key in existing:
                summary.already_there += 1
            elif key in fresh:
                summary.skip("not imported: a second document of the same workflow and time", item.workflow)
            else:
                fresh[key] = item
        ensure_steps(_explicit_steps(fresh.values()))
        validate_all(list(fresh.values()), progress)
        _write(fresh, summary, progress)
        if dry_run:
            transaction.set_rollback(True)
    return summary


def _write(
    fresh: dict[tuple[int, datetime], LegacyAction], summary: ImportSummary, progress: Progress
) -> None:
    submissions = []
    for (workflow_id, submitted_at), item in fresh.items():
        valid = item.served is not None
        if not valid:
            summary.skip(f"kept in the history only: {item.problem}", item.problem_example)
        submissions.append(
            ActionSubmission(
                workflow_id=workflow_id,
                action=item.action[:MAX_ACTION],
                parameters=item.served if valid else item.parameters,
                reasons=item.cleaned_reasons
                if valid
                else [{"short": "", "long": long} for long in item.reasons],
                acdcs=item.acdcs,
                recorded_user=item.user,
                submitted_at=submitted_at,
                reported_at=submitted_at if item.reported else None,
            )
        )
    if progress:
        progress(WRITING, 0, len(submissions))
    created = ActionSubmission.objects.bulk_create(submissions, batch_size=2000)
    # The latest new document of each workflow becomes its action, when valid and newer than ours.
    latest: dict[int, tuple[LegacyAction, ActionSubmission]] = {}
    for ((workflow_id, _), item), submission in zip(fresh.items(), created, strict=True):
        if workflow_id not in latest or item.submitted_at > latest[workflow_id][0].submitted_at:
            latest[workflow_id] = (item, submission)
    current = {
        action.workflow_id: action
        for action in Action.objects.select_for_update().filter(workflow_id__in=list(latest))
    }
    to_create, to_update, kept_ours = [], [], 0
    for workflow_id, (item, submission) in latest.items():
        if item.served is None:
            continue
        action = current.get(workflow_id) or Action(workflow_id=workflow_id)
        if action.pk and action.submitted_at >= item.submitted_at:
            kept_ours += 1
            continue
        action.action = item.action
        action.parameters = item.served
        action.reasons = item.cleaned_reasons
        action.acdcs = item.acdcs
        action.user = None
        action.recorded_user = item.user
        action.submitted_at = item.submitted_at
        action.reported_at = submission.reported_at
        action.submission = submission
        action.render_served(username=item.user, workflow_name=item.workflow)
        (to_update if action.pk else to_create).append(action)
    fields = ["action", "parameters", "reasons", "acdcs", "user", "recorded_user", "submitted_at"]
    fields += ["reported_at", "submission", "served"]
    Action.objects.bulk_update(to_update, fields, batch_size=1000)
    Action.objects.bulk_create(to_create, batch_size=2000)
    summary.imported = sum(1 for item in fresh.values() if item.served is not None)
    if kept_ours:
        summary.notes.append(f"{kept_ours} workflow(s) kept the newer action made here")
    pending = sum(1 for action in to_create + to_update if action.reported_at is None)
    summary.notes.append(
        f"{len(to_create) + len(to_update)} action(s) served by getaction, {pending} pending"
    )
    if progress:
        progress(WRITING, len(submissions), len(submissions))
