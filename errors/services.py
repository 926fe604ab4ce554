"""Ingestion of Unified's all_errors document into the current snapshot and the history.

`ingest_current_errors(source)` replaces the current snapshot in one transaction;
`update_history(...)` appends to the history without duplicates. Both raise
`IngestError` (database unchanged) when the document cannot be read at all, and skip
and report bad entries otherwise.
"""

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from workflows.bulk import bulk_insert, in_clause_chunk
from workflows.services import ensure_steps
from workflows.sources import SourceError, get_json

from .models import ErrorCount, ErrorHistory, ErrorImport

BAD_EXAMPLES_KEPT = 10

Cell = tuple[str, int, str, int]  # (step name, exit code, site, count)
Progress = Callable[[int, int], None] | None  # (done, total)


class IngestError(Exception):
    """The error document could not be used at all; nothing was changed."""


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
    bad_examples: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        return dict(self.__dict__)

    def summary_line(self) -> str:
        line = (
            f"{self.kind}: {self.cells} cells in {self.steps} steps of {self.workflows} workflows "
            f"({self.created} new, {self.updated} changed, {self.deleted} removed)"
        )
        if self.bad_entries:
            line += f"; skipped {self.bad_entries} bad entries, e.g. " + "; ".join(self.bad_examples[:3])
        return line


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def read_error_document(source: str) -> dict:
    """Load the all_errors JSON from a file path or an http(s) URL."""
    if _is_url(source):
        try:
            document = get_json(source, what="the error document")
        except SourceError as exc:
            raise IngestError(str(exc)) from exc
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
    if not isinstance(document, dict):
        raise IngestError(
            f"error document {source} must be a JSON object {{step: {{exit code: {{site: count}}}}}}, "
            f"got {type(document).__name__}"
        )
    return document


def parse_error_document(document: dict) -> tuple[list[Cell], list[str]]:
    """Validate the entries of an all_errors document.

    Returns the non-zero cells and a description of each bad entry (skipped): a step
    that is not `/<workflow>/<task>`, a non-numeric exit code, a count that is not a
    non-negative integer, or a non-object where an object belongs.
    """
    cells: list[Cell] = []
    bad: list[str] = []
    for step, codes in document.items():
        parts = step.split("/") if isinstance(step, str) else []
        if len(parts) < 3 or parts[0] != "" or not parts[1] or not parts[2]:
            bad.append(f"step {step!r}: not a path /<workflow>/<task>")
            continue
        if not isinstance(codes, dict):
            bad.append(f"step {step!r}: expected an object of exit codes, got {type(codes).__name__}")
            continue
        for code, sites in codes.items():
            try:
                exit_code = int(code)
            except (TypeError, ValueError):
                bad.append(f"step {step!r}: exit code {code!r} is not an integer")
                continue
            if not isinstance(sites, dict):
                bad.append(
                    f"step {step!r} code {code}: expected an object of sites, got {type(sites).__name__}"
                )
                continue
            for site, count in sites.items():
                if not site or len(site) > 100:
                    bad.append(f"step {step!r} code {code}: bad site name {site!r}")
                elif isinstance(count, bool) or not isinstance(count, int):
                    bad.append(f"step {step!r} code {code} site {site}: count {count!r} is not an integer")
                elif count < 0:
                    bad.append(f"step {step!r} code {code} site {site}: negative count {count}")
                elif count:
                    cells.append((step, exit_code, site, count))
    return cells, bad


def history_bucket(moment: datetime | None = None) -> datetime:
    """The start of the history time bucket holding `moment` (default: now)."""
    moment = moment or timezone.now()
    minutes = settings.WWT["history"]["bucket_minutes"] or 60
    since_midnight = moment.hour * 60 + moment.minute
    start = since_midnight - since_midnight % minutes
    return moment.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(minutes=start)


def _keyed_cells(cells: list[Cell], step_ids: dict[str, int]) -> dict[tuple[int, int, str], int]:
    # Later duplicates of the same key win, as a dict update would in the document.
    return {(step_ids[step], code, site): count for step, code, site, count in cells}


def _sync(
    model,
    existing: Iterable[tuple[int, int, int, str, int]],
    wanted: dict[tuple[int, int, str], int],
    extra: dict,
    *,
    delete_missing: bool,
    progress: Progress,
) -> tuple[int, int, int]:
    """Bring `model`'s rows to `wanted`: insert new keys, rewrite changed counts and,
    when `delete_missing`, remove rows whose key is gone. Returns (created, updated, deleted)."""
    stale_ids: list[int] = []
    unchanged: set[tuple[int, int, str]] = set()
    updated = deleted = 0
    for pk, step_id, code, site, count in existing:
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
    columns = ("step_id", "exit_code", "site", "count", *extra)
    new_rows = [(*key, count, *extra.values()) for key, count in wanted.items() if key not in unchanged]
    size = in_clause_chunk()
    for start in range(0, len(stale_ids), size):
        model.objects.filter(pk__in=stale_ids[start : start + size]).delete()
    total = len(new_rows)
    batch_size = 20000
    for start in range(0, total, batch_size):
        bulk_insert(model, columns, new_rows[start : start + batch_size])
        if progress:
            progress(min(start + batch_size, total), total)
    return total - updated, updated, deleted


def _prepare(source: str, kind: str) -> tuple[list[Cell], IngestReport]:
    cells, bad = parse_error_document(read_error_document(source))
    report = IngestReport(
        kind=kind, source=source, bad_entries=len(bad), bad_examples=bad[:BAD_EXAMPLES_KEPT]
    )
    report.cells = len(cells)
    report.steps = len({cell[0] for cell in cells})
    report.workflows = len({cell[0].split("/")[1] for cell in cells})
    return cells, report


def _record(report: IngestReport, started_at: datetime) -> None:
    ErrorImport.objects.create(started_at=started_at, finished_at=timezone.now(), **report.summary())


def ingest_current_errors(source: str | None = None, *, progress: Progress = None) -> IngestReport:
    """Replace the current snapshot with the document at `source` (default: config.yml's
    `sources.all_errors`). Readers see the old or the new snapshot, never a mix."""
    source = source or settings.WWT["sources"]["all_errors"]
    if not source:
        raise IngestError("no error source given and sources.all_errors is not set in config.yml")
    started_at = timezone.now()
    cells, report = _prepare(source, ErrorImport.Kind.CURRENT)
    with transaction.atomic():
        step_ids = ensure_steps({cell[0] for cell in cells})
        wanted = _keyed_cells(cells, step_ids)
        existing = ErrorCount.objects.values_list("pk", "step_id", "exit_code", "site", "count").iterator(
            chunk_size=10000
        )
        report.created, report.updated, report.deleted = _sync(
            ErrorCount, existing, wanted, {}, delete_missing=True, progress=progress
        )
        _record(report, started_at)
    return report


def update_history(
    sources: list[str] | None = None, *, at: datetime | None = None, progress: Progress = None
) -> list[IngestReport]:
    """Append counts to the history in the bucket of `at` (default now).

    With no sources, the current snapshot is appended; otherwise each document in
    turn. A (step, exit code, site, bucket) is stored once: a repeat with the same
    count changes nothing, a new count in the same bucket replaces the old one.
    """
    bucket = history_bucket(at)
    reports = []
    if not sources:
        reports.append(_append_snapshot_to_history(bucket, progress))
    for source in sources or []:
        started_at = timezone.now()
        cells, report = _prepare(source, ErrorImport.Kind.HISTORY)
        with transaction.atomic():
            step_ids = ensure_steps({cell[0] for cell in cells})
            report.created, report.updated, report.deleted = _sync_history_bucket(
                _keyed_cells(cells, step_ids), bucket, progress
            )
            _record(report, started_at)
        reports.append(report)
    return reports


def _sync_history_bucket(wanted: dict, bucket: datetime, progress: Progress) -> tuple[int, int, int]:
    existing = (
        ErrorHistory.objects.filter(bucket=bucket)
        .values_list("pk", "step_id", "exit_code", "site", "count")
        .iterator(chunk_size=10000)
    )
    return _sync(ErrorHistory, existing, wanted, {"bucket": bucket}, delete_missing=False, progress=progress)


def _append_snapshot_to_history(bucket: datetime, progress: Progress) -> IngestReport:
    started_at = timezone.now()
    report = IngestReport(kind=ErrorImport.Kind.HISTORY, source="current snapshot")
    with transaction.atomic():
        rows = ErrorCount.objects.values_list("step_id", "exit_code", "site", "count", "step__workflow_id")
        wanted, workflows = {}, set()
        for step_id, code, site, count, workflow_id in rows.iterator(chunk_size=10000):
            wanted[(step_id, code, site)] = count
            workflows.add(workflow_id)
        report.cells = len(wanted)
        report.steps = len({key[0] for key in wanted})
        report.workflows = len(workflows)
        report.created, report.updated, report.deleted = _sync_history_bucket(wanted, bucket, progress)
        _record(report, started_at)
    return report


def load_demo_data(*, n_workflows: int = 300, seed: int = 1, days: int = 7, directory: Path) -> IngestReport:
    """Write a generated all_errors document (and site status) under `directory`, make it
    the current snapshot, and fill `days` of daily history with varied counts."""
    import random

    from . import demo

    directory.mkdir(parents=True, exist_ok=True)
    document = demo.generate_error_document(n_workflows, seed=seed)
    path = directory / "all_errors.json"
    path.write_text(json.dumps(document))
    (directory / "site_status.json").write_text(json.dumps(demo.generate_site_status(seed=seed)))
    report = ingest_current_errors(str(path))
    rng = random.Random(seed)
    cells, _ = parse_error_document(document)
    with transaction.atomic():
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
    WMStats job detail says now: at most SAMPLES_PER_CELL per (step, exit code, site),
    long texts cut. Raises workflows.sources.SourceError (nothing changed) when WMStats
    cannot answer. Returns the number of samples stored."""
    from workflows.sources import fetch_job_detail

    from .models import Explanation

    samples = fetch_job_detail(workflow.name)
    prefix = f"/{workflow.name}/"
    kept: dict[tuple, list] = {}
    for sample in samples:
        if sample.step.startswith(prefix):
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
    workflow_selectors.site_statuses()


def warm_page_caches() -> None:
    """Build the first page of each global view and the site totals for the new snapshot,
    so the first operator after a refresh does not wait for the sums over all errors."""
    from . import selectors

    for pievar in selectors.PIEVARS:
        selectors.global_view(pievar)
    selectors.errors_per_site({})
