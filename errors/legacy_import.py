"""Import the original tool's history database (SQLite, table `workflows`) as one history bucket.

The original kept, per (step, exit code, site), the first count it ever saw, with no time: the
whole table becomes one snapshot at the time the operator gives (default: the file's
modification time), recorded as an ErrorImport of kind `imported` naming the file. It goes
through the ingestion's own checks, lock and bucket sync, so running it twice adds nothing.
"""

from datetime import UTC, datetime
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from workflows.bulk import refresh_planner_statistics
from workflows.models import Step, Workflow
from wwt_project.legacy import ImportSummary, decoded, read_sqlite_table

from . import caches, document, history, ingestion
from .models import ErrorHistory, ErrorImport

TABLE = "workflows"
COLUMNS = ["stepname", "errorcode", "sitename", "numbererrors"]
# sitereadiness is not read: see README, "Moving from the original tool".


def _integer(value) -> int | None:
    """SQLite keeps what was inserted: an int, or the same number as text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = decoded(value) if isinstance(value, bytes) else None
    try:
        return int(text.strip()) if text is not None else None
    except ValueError:
        return None


def read_history_cells(path: str, summary: ImportSummary) -> list[document.Cell]:
    """The usable non-zero cells of the store; each unusable row is skipped into `summary`.
    Raises LegacyStoreError when the file is not the original's history database."""
    cells: list[document.Cell] = []
    workflow_problems: dict[str, str] = {}
    seen: set[tuple[str, int, str]] = set()
    low, high = ingestion.STORED_LIMITS.exit_code_range
    for raw_step, raw_code, raw_site, raw_count in read_sqlite_table(path, TABLE, COLUMNS):
        step, site = decoded(raw_step), decoded(raw_site)
        example = f"{step!r} code {raw_code!r} site {site!r}"
        if step is None or site is None:
            summary.skip("step or site name missing or not UTF-8 text", example)
            continue
        problem = document.step_problem(step, step.split("/"), workflow_problems, ingestion.STORED_LIMITS)
        if problem:
            summary.skip(f"step: {problem}", document.shown(step))
            continue
        if not site or document.name_problem(site, ingestion.STORED_LIMITS.max_site_name):
            summary.skip("bad site name (empty, too long or not text)", example)
            continue
        code, count = _integer(raw_code), _integer(raw_count)
        if code is None or not low <= code <= high:
            summary.skip(f"exit code not an integer in {low}..{high}", example)
            continue
        if count is None or document.count_problem(count, ingestion.STORED_LIMITS.max_count):
            summary.skip(
                f"count not an integer in 0..{ingestion.STORED_LIMITS.max_count}", f"{example}: {raw_count!r}"
            )
            continue
        if count == 0:
            summary.skip("zero count (zero is stored as nothing)", example)
            continue
        if (step, code, site) in seen:
            summary.skip("the same step, exit code and site as an earlier row", example)
            continue
        seen.add((step, code, site))
        # -1 is the original's NotReported and is kept as the exit code -1, as ingestion does.
        cells.append((step, code, site, count))
    return cells


def file_time(path: str) -> datetime:
    return datetime.fromtimestamp(Path(path).stat().st_mtime, tz=UTC)


def import_history(
    path: str, *, at: datetime | None = None, dry_run: bool = False, progress: document.Progress = None
) -> ImportSummary:
    """Import the history store at `path` into the bucket of `at` (default: the file's time).

    One transaction (rolled back with `dry_run`) under the ingestion lock. Raises
    LegacyStoreError (nothing imported) for a file that is not the store, IngestBusy when
    another ingestion runs. Ends, as every ingestion path does, by building the heavy pages
    of the current snapshot (caches.warm_page_caches) unless `dry_run`."""
    summary = ImportSummary(store="history", source=path, dry_run=dry_run)
    cells = read_history_cells(path, summary)
    at = at or file_time(path)
    bucket = history.history_bucket(at)
    summary.notes.append(f"one snapshot in the history bucket of {bucket:%Y-%m-%d %H:%M} UTC")
    with ingestion.ingestion_lock():
        started_at = timezone.now()
        with transaction.atomic():
            wanted = ingestion.keyed_cells(cells, ingestion.ensure_cell_steps(cells, progress))
            created, updated, _ = history.sync_history_bucket(wanted, bucket, progress)
            summary.imported = created + updated
            summary.already_there = len(wanted) - created - updated
            if updated:
                summary.notes.append(
                    f"{updated} of the imported counts replaced a different count in that bucket"
                )
            if summary.imported:  # a repeat records nothing, so running twice adds nothing
                ErrorImport.objects.create(
                    kind=ErrorImport.Kind.IMPORTED,
                    source=f"original tool's history {path}"[
                        : ErrorImport._meta.get_field("source").max_length
                    ],
                    started_at=started_at,
                    finished_at=timezone.now(),
                    workflows=len({cell[0].split("/")[1] for cell in cells}),
                    steps=len({cell[0] for cell in cells}),
                    cells=len(cells),
                    created=created,
                    updated=updated,
                    bad_entries=summary.skipped_count,
                    bad_examples=[
                        f"{reason}: {examples[0]}"
                        for reason, (_, examples) in list(summary.skipped.items())[:10]
                    ],
                )
            if dry_run:
                transaction.set_rollback(True)
    if not dry_run:
        if summary.imported:
            refresh_planner_statistics(ErrorHistory, Step, Workflow)
        caches.warm_page_caches()  # as every ingestion path ends (a no-op when already warm)
    return summary
