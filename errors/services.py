"""Ingestion of Unified's all_errors document into the current snapshot and the history.

`ingest_current_errors(source)` replaces the current snapshot in one transaction;
`update_history(...)` appends to the history without duplicates. Both raise
`IngestError` (database unchanged) when the document cannot be read at all, and skip
and report bad entries otherwise. One ingestion runs at a time (a database lock
shared by every process); a second one raises `IngestBusy` at once.
"""

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import requests
from django.conf import settings
from django.db import transaction
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import QuerySet
from django.utils import timezone

from workflows.bulk import bulk_insert, in_clause_chunk, refresh_planner_statistics
from workflows.exit_codes import NOT_REPORTED, exit_code_label, parse_exit_code
from workflows.models import Step, Workflow
from workflows.services import (
    describe_workflow_name,
    ensure_sites,
    ensure_steps,
    refresh_recovery_locations,
    refresh_request_parameters,
    refresh_site_statuses,
)
from workflows.sources import SourceError, get_json
from wwt_project.locks import Busy, job_lock

from .models import ErrorCount, ErrorHistory, ErrorImport

logger = logging.getLogger(__name__)

BAD_EXAMPLES_KEPT = 10
LOCK_NAME = "error-ingestion"

Cell = tuple[str, int, str, int]  # (step name, exit code, site, count)
Progress = Callable[[str, int, int], None] | None  # (phase, done, total)

# The phases a progress callback hears about, in order (a phase may be skipped).
CHECKING = "checking entries"
STEPS = "finding workflows and steps"
READING_SNAPSHOT = "reading the current snapshot"
COMPARING = "comparing with stored rows"
WRITING = "writing rows"
_REPORT_EVERY = 5000


class IngestError(Exception):
    """The error document could not be used at all; nothing was changed. Trying again
    will not help (no source, not JSON, not the expected shape) unless it is an IngestBusy."""


class IngestBusy(IngestError):
    """Worth trying again later: the source did not answer (network, timeout, HTTP 5xx)
    or another ingestion holds the lock. Nothing was changed."""


def _range_of(model, name: str) -> tuple[int, int]:
    # The 32-bit ranges of PostgreSQL's integer columns, applied on every database so a
    # document loads the same on SQLite (whose integers overflow only past 2**63) too.
    return BaseDatabaseOperations.integer_field_ranges[model._meta.get_field(name).get_internal_type()]


EXIT_CODE_RANGE = _range_of(ErrorCount, "exit_code")
MAX_COUNT = _range_of(ErrorCount, "count")[1]
MAX_WORKFLOW_NAME = Workflow._meta.get_field("name").max_length
MAX_STEP_NAME = Step._meta.get_field("name").max_length
MAX_SITE_NAME = ErrorCount._meta.get_field("site").max_length


@dataclass
class IngestReport:
    kind: str
    source: str
    workflows: int = 0
    steps: int = 0
    cells: int = 0
    created: int = 0
    updated: int = 0
    deleted: int = 0
    bad_entries: int = 0
    dropped_steps: int = 0  # LogCollect/Cleanup steps left out on purpose, not bad entries
    bad_examples: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        return dict(self.__dict__)

    def summary_line(self) -> str:
        line = (
            f"{self.kind}: {self.cells} cells in {self.steps} steps of {self.workflows} workflows "
            f"({self.created} new, {self.updated} changed, {self.deleted} removed)"
        )
        if self.dropped_steps:
            line += f"; left out {self.dropped_steps} LogCollect/Cleanup steps"
        if self.bad_entries:
            line += f"; skipped {self.bad_entries} bad entries, e.g. " + "; ".join(self.bad_examples[:3])
        return line


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def _source_failure(exc: SourceError) -> IngestError:
    """The IngestError for a URL that failed: IngestBusy when asking again later may work."""
    cause = exc.__cause__
    network = (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError)
    transient = isinstance(cause, network) and not isinstance(cause, requests.exceptions.SSLError)
    if exc.status is not None and (exc.status == 429 or exc.status >= 500):
        transient = True
    return (IngestBusy if transient else IngestError)(str(exc))


def read_error_document(source: str) -> dict:
    """Load the all_errors JSON from a file path or an http(s) URL. Raises IngestBusy when
    the URL did not answer (try again later), IngestError for anything else."""
    if _is_url(source):
        try:
            document = get_json(source, what="the error document")
        except SourceError as exc:
            raise _source_failure(exc) from exc
        except RecursionError as exc:
            raise IngestError(f"error document {source} is nested too deeply") from exc
    else:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise IngestError(f"cannot read error document {source}: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise IngestError(f"error document {source} is not UTF-8 text") from exc
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise IngestError(
                f"error document {source} is not valid JSON: {exc.msg} "
                f"at line {exc.lineno} column {exc.colno}"
            ) from exc
        except (ValueError, RecursionError) as exc:  # a 5,000-digit number; [[[[... 100,000 deep
            raise IngestError(f"error document {source} is not usable JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise IngestError(
            f"error document {source} must be a JSON object {{step: {{exit code: {{site: count}}}}}}, "
            f"got {type(document).__name__}"
        )
    return document


def _shown(value, limit: int = 80) -> str:
    """`value` as a bad-entry example shows it: repr of text, cut when long."""
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _name_problem(name: str, max_length: int) -> str:
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


def _workflow_problem(workflow: str) -> str:
    problem = _name_problem(workflow, MAX_WORKFLOW_NAME)
    if problem:
        return f"workflow name {problem}"
    # What the name tells (prep ID, campaign) is stored in columns of its own.
    for key, value in describe_workflow_name(workflow).items():
        limit = Workflow._meta.get_field(key).max_length
        if isinstance(value, str) and len(value) > limit:
            return f"its {key.replace('_', ' ')} is longer than {limit} characters"
    return ""


def _step_problem(step, parts: list[str], workflows: dict[str, str]) -> str:
    if len(parts) < 3 or parts[0] != "" or not parts[1] or not parts[2]:
        return "not a path /<workflow>/<task>"
    problem = _name_problem(step, MAX_STEP_NAME)
    if problem:
        return f"step name {problem}"
    if parts[1] not in workflows:
        workflows[parts[1]] = _workflow_problem(parts[1])
    return workflows[parts[1]]


def _count_problem(count) -> str:
    if isinstance(count, bool) or not isinstance(count, int):
        return f"count {_shown(count)} is not an integer"
    if count < 0:
        return f"negative count {_shown(count)}"
    if count > MAX_COUNT:
        return f"count {_shown(count)} is larger than {MAX_COUNT}"
    return ""


def is_logcollect_or_cleanup(step: str) -> bool:
    """Whether `step` (a path /<workflow>/<task>/...) is a LogCollect or Cleanup task. Only
    the task part is read: a workflow name holding "Cleanup" does not drop its steps."""
    task_path = step.split("/", 2)[2] if step.count("/") >= 2 else step
    return "LogCollect" in task_path or "Cleanup" in task_path


def _keep_logcollect_cleanup() -> bool:
    return bool(settings.WWT.get("errors", {}).get("keep_logcollect_cleanup", False))


def _exit_code_of(code) -> int:
    """The stored exit code of an all_errors key ("NotReported" is -1); ValueError if none."""
    if not isinstance(code, str):
        raise ValueError(code)
    return parse_exit_code(code)


def parse_error_document(
    document: dict, *, keep_logcollect_cleanup: bool | None = None, progress: Progress = None
) -> tuple[list[Cell], list[str], int]:
    """Validate the entries of an all_errors document.

    Returns the non-zero cells, a description of each bad entry (skipped) and the number
    of LogCollect/Cleanup steps left out (unless `keep_logcollect_cleanup`, default from
    config.yml's errors.keep_logcollect_cleanup). Bad entries: a step that is not
    `/<workflow>/<task>`, a name too long for its column, a non-numeric or out-of-range
    exit code, a count that is not an integer in 0..2**31-1, or a non-object where an
    object belongs. `NotReported` is exit code -1, and its count 0 is stored as 1 (the
    original's rule: Unified lists it with 0 for a task whose files went unreported).
    """
    if keep_logcollect_cleanup is None:
        keep_logcollect_cleanup = _keep_logcollect_cleanup()
    cells: list[Cell] = []
    bad: list[str] = []
    dropped = 0
    workflow_problems: dict[str, str] = {}
    good_sites: set[str] = set()
    low, high = EXIT_CODE_RANGE
    total = len(document)
    for done, (step, codes) in enumerate(document.items()):
        if progress and done % _REPORT_EVERY == 0:
            progress(CHECKING, done, total)
        parts = step.split("/") if isinstance(step, str) else []
        problem = _step_problem(step, parts, workflow_problems)
        if problem:
            bad.append(f"step {_shown(step)}: {problem}")
            continue
        if not isinstance(codes, dict):
            bad.append(f"step {_shown(step)}: expected an object of exit codes, got {type(codes).__name__}")
            continue
        if not keep_logcollect_cleanup and is_logcollect_or_cleanup(step):
            dropped += 1
            continue
        for code, sites in codes.items():
            try:
                exit_code = _exit_code_of(code)
            except ValueError:
                bad.append(f"step {_shown(step)}: exit code {_shown(code)} is not an integer or NotReported")
                continue
            if not low <= exit_code <= high:
                bad.append(
                    f"step {_shown(step)}: exit code {_shown(exit_code)} is out of range ({low}..{high})"
                )
                continue
            label = exit_code_label(exit_code)
            if not isinstance(sites, dict):
                bad.append(
                    f"step {_shown(step)} code {label}: expected an object of sites, "
                    f"got {type(sites).__name__}"
                )
                continue
            for site, count in sites.items():
                if site not in good_sites:
                    if not site or _name_problem(site, MAX_SITE_NAME):
                        bad.append(f"step {_shown(step)} code {label}: bad site name {_shown(site)}")
                        continue
                    good_sites.add(site)
                problem = _count_problem(count)
                if problem:
                    bad.append(f"step {_shown(step)} code {label} site {site}: {problem}")
                elif count or exit_code == NOT_REPORTED:
                    cells.append((step, exit_code, site, count or 1))
    if progress:
        progress(CHECKING, total, total)
    return cells, bad, dropped


def history_bucket(moment: datetime | None = None) -> datetime:
    """The start of the history time bucket holding `moment` (default: now)."""
    moment = moment or timezone.now()
    minutes = settings.WWT["history"]["bucket_minutes"] or 60
    since_midnight = moment.hour * 60 + moment.minute
    start = since_midnight - since_midnight % minutes
    return moment.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(minutes=start)


@contextmanager
def ingestion_lock() -> Iterator[None]:
    """Hold the one lock every ingestion (current errors, history, demo) takes, so two never
    write at once; raises IngestBusy when another process holds it. The lock dies with its
    holder, so a killed ingestion blocks nothing."""
    try:
        with job_lock(LOCK_NAME):
            yield
    except Busy as exc:
        raise IngestBusy(
            f"another ingestion is running{exc.detail}; nothing was changed, try again later. "
            + exc.how_to_clear
        ) from None


def _ensure_steps(cells: list[Cell], progress: Progress) -> dict[str, int]:
    """{step name: id} for the steps of `cells`, creating the missing ones (and workflows)."""
    names = {cell[0] for cell in cells}
    if progress:
        progress(STEPS, 0, len(names))
    step_ids = ensure_steps(names)
    # A site seen in errors is a known site: Auto site lists may name it.
    ensure_sites({cell[2] for cell in cells})
    if progress:
        progress(STEPS, len(names), len(names))
    return step_ids


def _keyed_cells(cells: list[Cell], step_ids: dict[str, int]) -> dict[tuple[int, int, str], int]:
    # Later duplicates of the same key win, as a dict update would in the document.
    return {(step_ids[step], code, site): count for step, code, site, count in cells}


def _sync(
    model,
    existing: QuerySet,
    wanted: dict[tuple[int, int, str], int],
    extra: dict,
    *,
    delete_missing: bool,
    progress: Progress,
) -> tuple[int, int, int]:
    """Bring `model`'s rows in the queryset `existing` to `wanted`: insert new keys, rewrite
    changed counts and, when `delete_missing`, remove rows whose key is gone.
    Returns (created, updated, deleted)."""
    stale_ids: list[int] = []
    unchanged: set[tuple[int, int, str]] = set()
    updated = deleted = 0
    stored = existing.count() if progress else 0
    rows = existing.values_list("pk", "step_id", "exit_code", "site", "count").iterator(chunk_size=10000)
    for done, (pk, step_id, code, site, count) in enumerate(rows):
        if progress and done % _REPORT_EVERY == 0:
            progress(COMPARING, done, stored)
        key = (step_id, code, site)
        if key not in wanted:
            if delete_missing:
                stale_ids.append(pk)
                deleted += 1
        elif wanted[key] == count:
            unchanged.add(key)
        else:
            # Delete + insert beats a 157k-row bulk_update (one CASE per row).
            stale_ids.append(pk)
            updated += 1
    if progress and stored:
        progress(COMPARING, stored, stored)
    columns = ("step_id", "exit_code", "site", "count", *extra)
    new_rows = [(*key, count, *extra.values()) for key, count in wanted.items() if key not in unchanged]
    writes, written = len(stale_ids) + len(new_rows), 0
    if progress and writes:
        progress(WRITING, 0, writes)
    size = in_clause_chunk()
    for start in range(0, len(stale_ids), size):
        chunk = stale_ids[start : start + size]
        model.objects.filter(pk__in=chunk).delete()
        written += len(chunk)
        if progress:
            progress(WRITING, written, writes)
    batch_size = 20000
    for start in range(0, len(new_rows), batch_size):
        batch = new_rows[start : start + batch_size]
        bulk_insert(model, columns, batch)
        written += len(batch)
        if progress:
            progress(WRITING, written, writes)
    return len(new_rows) - updated, updated, deleted


def _prepare(source: str, kind: str, progress: Progress) -> tuple[list[Cell], IngestReport]:
    cells, bad, dropped = parse_error_document(read_error_document(source), progress=progress)
    report = IngestReport(
        kind=kind,
        source=source,
        bad_entries=len(bad),
        bad_examples=bad[:BAD_EXAMPLES_KEPT],
        dropped_steps=dropped,
    )
    report.cells = len(cells)
    report.steps = len({cell[0] for cell in cells})
    report.workflows = len({cell[0].split("/")[1] for cell in cells})
    return cells, report


def _record(report: IngestReport, started_at: datetime) -> None:
    fields = report.summary()
    fields["source"] = fields["source"][: ErrorImport._meta.get_field("source").max_length]
    ErrorImport.objects.create(started_at=started_at, finished_at=timezone.now(), **fields)


def ingest_current_errors(source: str | None = None, *, progress: Progress = None) -> IngestReport:
    """Replace the current snapshot with the document at `source` (default: config.yml's
    `sources.all_errors`). Readers see the old or the new snapshot, never a mix.
    Raises IngestBusy (try again later) or IngestError; nothing is changed then."""
    source = source or settings.WWT["sources"]["all_errors"]
    if not source:
        raise IngestError("no error source given and sources.all_errors is not set in config.yml")
    with ingestion_lock():
        started_at = timezone.now()
        cells, report = _prepare(source, ErrorImport.Kind.CURRENT, progress)
        with transaction.atomic():
            wanted = _keyed_cells(cells, _ensure_steps(cells, progress))
            report.created, report.updated, report.deleted = _sync(
                ErrorCount, ErrorCount.objects.all(), wanted, {}, delete_missing=True, progress=progress
            )
            _record(report, started_at)
        refresh_planner_statistics(ErrorCount, Step, Workflow)
    return report


def update_history(
    sources: list[str] | None = None, *, at: datetime | None = None, progress: Progress = None
) -> list[IngestReport]:
    """Append counts to the history in the bucket of `at` (default now).

    With no sources, the current snapshot is appended; otherwise each document in
    turn. A (step, exit code, site, bucket) is stored once: a repeat with the same
    count changes nothing, a new count in the same bucket replaces the old one.
    Raises IngestBusy or IngestError like ingest_current_errors.
    """
    bucket = history_bucket(at)
    reports = []
    if not sources:
        with ingestion_lock():
            reports.append(_append_snapshot_to_history(bucket, progress))
    for source in sources or []:
        with ingestion_lock():
            started_at = timezone.now()
            cells, report = _prepare(source, ErrorImport.Kind.HISTORY, progress)
            with transaction.atomic():
                report.created, report.updated, report.deleted = _sync_history_bucket(
                    _keyed_cells(cells, _ensure_steps(cells, progress)), bucket, progress
                )
                _record(report, started_at)
        reports.append(report)
    return reports


def _sync_history_bucket(wanted: dict, bucket: datetime, progress: Progress) -> tuple[int, int, int]:
    existing = ErrorHistory.objects.filter(bucket=bucket)
    return _sync(ErrorHistory, existing, wanted, {"bucket": bucket}, delete_missing=False, progress=progress)


def _append_snapshot_to_history(bucket: datetime, progress: Progress) -> IngestReport:
    started_at = timezone.now()
    report = IngestReport(kind=ErrorImport.Kind.HISTORY, source="current snapshot")
    with transaction.atomic():
        total = ErrorCount.objects.count() if progress else 0
        rows = ErrorCount.objects.values_list("step_id", "exit_code", "site", "count", "step__workflow_id")
        wanted, workflows = {}, set()
        for done, (step_id, code, site, count, workflow_id) in enumerate(rows.iterator(chunk_size=10000)):
            if progress and done % _REPORT_EVERY == 0:
                progress(READING_SNAPSHOT, done, total)
            wanted[(step_id, code, site)] = count
            workflows.add(workflow_id)
        if progress and total:
            progress(READING_SNAPSHOT, total, total)
        report.cells = len(wanted)
        report.steps = len({key[0] for key in wanted})
        report.workflows = len(workflows)
        report.created, report.updated, report.deleted = _sync_history_bucket(wanted, bucket, progress)
        _record(report, started_at)
    return report


DEMO_SOURCE_FILES = ("job_detail", "requests", "acdc", "site_status", "logs")


def load_demo_data(*, n_workflows: int = 300, seed: int = 1, days: int = 7, directory: Path) -> IngestReport:
    """Write the generated demo documents under `directory` (all_errors.json, and in
    `sources/` what the fake sources of workflows/demo_sources.py serve), make all_errors
    the current snapshot, and fill `days` of daily history with varied counts."""
    import random

    from . import demo

    generated = demo.generate_demo(n_workflows, seed=seed)
    document = generated["all_errors"]
    (directory / "sources").mkdir(parents=True, exist_ok=True)
    path = directory / "all_errors.json"
    path.write_text(json.dumps(document))
    for name in DEMO_SOURCE_FILES:
        (directory / "sources" / f"{name}.json").write_text(json.dumps(generated[name]))
    report = ingest_current_errors(str(path))
    rng = random.Random(seed)
    cells, _, _ = parse_error_document(document)
    with ingestion_lock(), transaction.atomic():
        step_ids = ensure_steps({cell[0] for cell in cells})
        current = _keyed_cells(cells, step_ids)
        for day in range(days, 0, -1):
            # Errors pile up over the days: older buckets hold a varying fraction of today's.
            share = (days - day + 1) / (days + 1)
            wanted = {
                key: max(1, int(count * share * rng.uniform(0.5, 1.2)))
                for key, count in current.items()
                if rng.random() < 0.4 + 0.6 * share
            }
            _sync_history_bucket(wanted, history_bucket(timezone.now() - timedelta(days=day)), None)
    update_history()
    return report


# Log samples (explanations) ---------------------------------------------------------------

SAMPLES_PER_CELL = 5
DETAILS_KEPT = 20_000


def refresh_explanations(workflow) -> int:
    """Replace the stored log samples of `workflow` (a workflows.models.Workflow) with what
    WMStats job detail says now (job and submit failures): at most SAMPLES_PER_CELL per
    (step, exit code, site), each with its own exit code and error type, long texts cut.
    Raises workflows.sources.SourceError (nothing changed) when WMStats
    cannot answer. Returns the number of samples stored."""
    from workflows.sources import fetch_job_detail

    from .models import Explanation

    samples = fetch_job_detail(workflow.name)
    prefix = f"/{workflow.name}/"
    keep_all_steps = _keep_logcollect_cleanup()
    kept: dict[tuple, list] = {}
    for sample in samples:
        # A step ingestion leaves out gets no samples either (and no Step row for them).
        if sample.step.startswith(prefix) and (keep_all_steps or not is_logcollect_or_cleanup(sample.step)):
            cell = kept.setdefault((sample.step, sample.exit_code, sample.site[:100]), [])
            if len(cell) < SAMPLES_PER_CELL:
                cell.append(sample)
    with transaction.atomic():
        step_ids = ensure_steps({step for step, _, _ in kept})
        Explanation.objects.filter(step__workflow=workflow).delete()
        Explanation.objects.bulk_create(
            [
                Explanation(
                    step_id=step_ids[step],
                    exit_code=code,
                    site=site,
                    sample_exit_code=sample.sample_exit_code,
                    error_type=sample.error_type,
                    details=sample.details[:DETAILS_KEPT],
                )
                for (step, code, site), cell in kept.items()
                for sample in cell
            ],
            batch_size=1000,
        )
    return sum(len(cell) for cell in kept.values())


def ensure_explanations(workflow) -> str:
    """Fetch the workflow's log samples when the stored ones are older than the cache
    period. Returns "" or the reason none could be fetched (for a note on the page); a
    failure is remembered for a minute so a down WMStats costs one timeout, not one per page."""
    from django.core.cache import cache

    from workflows.selectors import source_cache_key
    from workflows.sources import SourceError, is_configured

    from .selectors import explanations_fresh

    if not is_configured("wmstats"):
        return "sources.wmstats is not configured in config.yml, so no new log samples are fetched"
    fetched_key = source_cache_key("jobdetail-fetched", workflow.name)
    failure_key = source_cache_key("jobdetail-failed", workflow.name)
    # The marker covers workflows WMStats has no samples for (nothing stored to date).
    if cache.get(fetched_key) or explanations_fresh(workflow):
        return ""
    failure = cache.get(failure_key)
    if failure:
        return failure
    try:
        refresh_explanations(workflow)
    except SourceError as exc:
        cache.set(failure_key, str(exc), 60)
        return str(exc)
    cache.set(fetched_key, 1, settings.WWT["cache"]["explanations_minutes"] * 60)
    return ""


def refresh_source_caches() -> None:
    """Make every cached answer of the outside sources stale (ReqMgr2, ACDC, WMStats log
    samples) and fetch the site status again."""
    from workflows import selectors as workflow_selectors

    from .models import Explanation

    workflow_selectors.forget_source_answers()
    # update() leaves auto_now alone: the stored samples now count as old.
    Explanation.objects.update(fetched_at=timezone.now() - timedelta(days=365))
    refresh_site_statuses()


def refresh_snapshot_requests() -> dict:
    """Store what ReqMgr2 says (prep ID, campaign, type, status, parameters) about the
    workflows with current errors, bounded by sources.reqmgr2_refresh_limit. Never raises for
    a source problem: the refresh job goes on and reports it."""
    workflow_ids = ErrorCount.objects.values_list("step__workflow_id", flat=True).order_by().distinct()
    report = refresh_request_parameters(list(workflow_ids))
    refresh_recovery_locations(list(workflow_ids))  # ACDC locations for the action form, stored
    if report.problem:
        logger.warning("ReqMgr2 parameters not refreshed: %s", report.problem)
    if report.updated:
        from . import selectors

        selectors.forget_grouped_pages()
    return report.summary()


def warm_page_caches() -> None:
    """Build the first page of each global view and the site totals for the new snapshot,
    so the first operator after a refresh does not wait for the sums over all errors."""
    from . import selectors

    for pievar in selectors.PIEVARS:
        selectors.global_view(pievar)
    selectors.errors_per_site({})
