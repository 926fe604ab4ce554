"""Ingestion of Unified's all_errors document into the current snapshot.

`ingest_current_errors(source)` replaces the current snapshot in one transaction;
`refresh_current_errors(source)` is the whole scheduled refresh (site status, snapshot,
ReqMgr2 parameters, log samples, page warm-up) that the beat job and `manage.py
ingest_errors` both run. Both raise `IngestError` (database unchanged) when the document
cannot be read at all, and skip and report bad entries otherwise. One ingestion runs at a
time (a database lock shared by every process); a second one raises `IngestBusy` at once.
"""

import json
import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import requests
from django.conf import settings
from django.db import connection, transaction
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import QuerySet
from django.utils import timezone

from workflows.bulk import (
    bulk_insert,
    constraints_built_at_end,
    in_clause_chunk,
    refresh_planner_statistics,
)
from workflows.models import Step, Workflow
from workflows.services import describe_workflow_name, ensure_sites, ensure_steps_of_workflows
from workflows.sources import SourceError, get_json
from wwt_project.locks import Busy, job_lock

from . import document as error_document
from .document import Cell, DocumentLimits, Progress
from .models import ErrorCount, ErrorImport
from .snapshot_totals import rebuild_snapshot_totals, sums_of_cells

logger = logging.getLogger(__name__)

BAD_EXAMPLES_KEPT = 10
LOCK_NAME = "error-ingestion"

# The phases a progress callback hears about, in order (a phase may be skipped).
STEPS = "finding workflows and steps"
READING_SNAPSHOT = "reading the current snapshot"
COMPARING = "comparing with stored rows"
WRITING = "writing rows"
REPORT_EVERY = 5000


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


def _described_name_problem(workflow: str) -> str:
    # What the name tells (prep ID, campaign) is stored in columns of its own.
    for key, value in describe_workflow_name(workflow).items():
        limit = Workflow._meta.get_field(key).max_length
        if isinstance(value, str) and len(value) > limit:
            return f"its {key.replace('_', ' ')} is longer than {limit} characters"
    return ""


STORED_LIMITS = DocumentLimits(
    max_workflow_name=Workflow._meta.get_field("name").max_length,
    max_step_name=Step._meta.get_field("name").max_length,
    max_site_name=ErrorCount._meta.get_field("site").max_length,
    exit_code_range=_range_of(ErrorCount, "exit_code"),
    max_count=_range_of(ErrorCount, "count")[1],
    workflow_problem=_described_name_problem,
)


def keeps_logcollect_cleanup() -> bool:
    """config.yml's errors.keep_logcollect_cleanup: are those steps stored (default no)?"""
    return bool(settings.WWT.get("errors", {}).get("keep_logcollect_cleanup", False))


def parse_error_document(
    document: dict, *, keep_logcollect_cleanup: bool | None = None, progress: Progress = None
) -> tuple[list[Cell], list[str], int]:
    """errors.document.parse_error_document with this database's limits and, unless
    given, config.yml's errors.keep_logcollect_cleanup."""
    if keep_logcollect_cleanup is None:
        keep_logcollect_cleanup = keeps_logcollect_cleanup()
    return error_document.parse_error_document(
        document, STORED_LIMITS, keep_logcollect_cleanup=keep_logcollect_cleanup, progress=progress
    )


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
    if exc.status is not None and (exc.status == 429 or 500 <= exc.status <= 599):
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


def ensure_cell_steps(cells: list[Cell], progress: Progress = None) -> dict[str, int]:
    """{step name: id} for the steps of `cells`, creating the missing ones (and workflows)."""
    return {name: step_id for name, (step_id, _) in ensure_cell_steps_of_workflows(cells, progress).items()}


def ensure_cell_steps_of_workflows(
    cells: list[Cell], progress: Progress = None
) -> dict[str, tuple[int, int]]:
    """{step name: (step id, workflow id)} for the steps of `cells`, as ensure_cell_steps."""
    names = {cell[0] for cell in cells}
    if progress:
        progress(STEPS, 0, len(names))
    step_ids = ensure_steps_of_workflows(names)
    # A site seen in errors is a known site: Auto site lists may name it.
    ensure_sites({cell[2] for cell in cells})
    if progress:
        progress(STEPS, len(names), len(names))
    return step_ids


def keyed_cells(cells: list[Cell], step_ids: dict[str, int]) -> dict[tuple[int, int, str], int]:
    # Later duplicates of the same key win, as a dict update would in the document.
    return {(step_ids[step], code, site): count for step, code, site, count in cells}


def _stored_rows(existing: QuerySet) -> Iterator[tuple]:
    """(pk, step id, exit code, site, count) of `existing`, read in one plain query through a
    server-side cursor on PostgreSQL: these columns need no conversion, and Django's per-row
    machinery was most of a repeat load."""
    columns = existing.values_list("pk", "step_id", "exit_code", "site", "count")
    query, params = columns.query.sql_with_params()
    with connection.chunked_cursor() as cursor:
        cursor.execute(query, params)
        while rows := cursor.fetchmany(10000):
            yield from rows


def sync_rows(
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
    # What is left to write: an unchanged stored row takes its key out (one dict operation
    # per stored row, no set of unchanged keys to build and filter by).
    unwritten = dict(wanted)
    updated = deleted = 0
    stored = existing.count() if progress else 0
    for done, (pk, step_id, code, site, count) in enumerate(_stored_rows(existing)):
        if progress and done % REPORT_EVERY == 0:
            progress(COMPARING, done, stored)
        wanted_count = unwritten.pop((step_id, code, site), None)
        if wanted_count is None:
            if delete_missing:
                stale_ids.append(pk)
                deleted += 1
        elif wanted_count != count:
            # Delete + insert beats a 157k-row bulk_update (one CASE per row).
            unwritten[(step_id, code, site)] = wanted_count
            stale_ids.append(pk)
            updated += 1
    if progress and stored:
        progress(COMPARING, stored, stored)
    columns = ("step_id", "exit_code", "site", "count", *extra)
    new_rows = [(*key, count, *extra.values()) for key, count in unwritten.items()]
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


def prepare(source: str, kind: str, progress: Progress) -> tuple[list[Cell], IngestReport]:
    """Read and check the document at `source`: its cells and a report of what it holds."""
    cells, bad, dropped = parse_error_document(read_error_document(source), progress=progress)
    report = IngestReport(
        kind=kind,
        source=source,
        bad_entries=len(bad),
        bad_examples=bad[:BAD_EXAMPLES_KEPT],
        dropped_steps=dropped,
    )
    steps = {cell[0] for cell in cells}
    report.cells = len(cells)
    report.steps = len(steps)
    report.workflows = len({step.split("/")[1] for step in steps})
    return cells, report


def record_import(report: IngestReport, started_at: datetime) -> None:
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
        cells, report = prepare(source, ErrorImport.Kind.CURRENT, progress)
        with transaction.atomic():
            with ExitStack() as first_load:
                # Into empty tables, keys and indexes are built once after the load.
                if not ErrorCount.objects.exists():
                    first_load.enter_context(constraints_built_at_end(ErrorCount))
                    if not Step.objects.exists():
                        first_load.enter_context(constraints_built_at_end(Step))
                steps = ensure_cell_steps_of_workflows(cells, progress)
                wanted = keyed_cells(cells, {name: step_id for name, (step_id, _) in steps.items()})
                report.created, report.updated, report.deleted = sync_rows(
                    ErrorCount, ErrorCount.objects.all(), wanted, {}, delete_missing=True, progress=progress
                )
            record_import(report, started_at)
            # Every stored cell is in `wanted`: summing it beats summing the table again.
            rebuild_snapshot_totals(sums_of_cells(wanted, dict(steps.values())))
        if reshaped(report):
            refresh_planner_statistics(ErrorCount, Step, Workflow)
    return report


def reshaped(report: IngestReport) -> bool:
    """Whether an ingestion changed enough rows that the planner's statistics are worth
    renewing now: more than autovacuum's own threshold (10% of the rows) would wait for."""
    changed = report.created + report.updated + report.deleted
    return changed > 0.1 * max(report.cells, 1)


def refresh_current_errors(source: str | None = None, *, progress: Progress = None) -> dict:
    """The whole refresh, as the scheduled job and `manage.py ingest_errors` run it: retire
    the outside sources' cached answers and record the site status, replace the current
    errors, store ReqMgr2's parameters of the snapshot's workflows, fetch the log samples of
    the biggest cells, build the heavy pages for the new snapshot and prune the ticket links'
    old snapshots. Returns the summary (the ingestion's, with "reqmgr2", "log_samples" and
    "pruned_snapshots" added). Raises like
    ingest_current_errors; the steps after the ingestion never raise for a source problem."""
    from . import caches, log_samples, pinning

    # First, so the source caches are renewed even when the error source is down.
    caches.refresh_source_caches()
    report = ingest_current_errors(source, progress=progress)
    summary = report.summary()
    summary["summary_line"] = report.summary_line()
    # Before the pages are built: ReqMgr2's campaign and prep ID decide the global view's groups.
    summary["reqmgr2"] = caches.refresh_snapshot_requests()
    summary["log_samples"] = log_samples.fetch_top_cells_samples()
    caches.warm_page_caches()
    summary["pruned_snapshots"] = pinning.prune_pinned_snapshots()
    return summary
