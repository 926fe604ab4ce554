"""The error history: counts appended per time bucket, from the snapshot or documents."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .ingestion import (
    READING_SNAPSHOT,
    REPORT_EVERY,
    IngestReport,
    Progress,
    ensure_cell_steps,
    ingestion_lock,
    keyed_cells,
    prepare,
    record_import,
    sync_rows,
)
from .models import ErrorCount, ErrorHistory, ErrorImport


def history_bucket(moment: datetime | None = None) -> datetime:
    """The start of the history time bucket holding `moment` (default: now)."""
    moment = moment or timezone.now()
    minutes = settings.WWT["history"]["bucket_minutes"] or 60
    since_midnight = moment.hour * 60 + moment.minute
    start = since_midnight - since_midnight % minutes
    return moment.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(minutes=start)


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
            cells, report = prepare(source, ErrorImport.Kind.HISTORY, progress)
            with transaction.atomic():
                report.created, report.updated, report.deleted = sync_history_bucket(
                    keyed_cells(cells, ensure_cell_steps(cells, progress)), bucket, progress
                )
                record_import(report, started_at)
        reports.append(report)
    return reports


def sync_history_bucket(wanted: dict, bucket: datetime, progress: Progress = None) -> tuple[int, int, int]:
    """Make the history bucket `bucket` hold `wanted` {(step id, exit code, site): count},
    keeping its other rows. Returns (created, updated, deleted)."""
    existing = ErrorHistory.objects.filter(bucket=bucket)
    return sync_rows(
        ErrorHistory, existing, wanted, {"bucket": bucket}, delete_missing=False, progress=progress
    )


def _append_snapshot_to_history(bucket: datetime, progress: Progress) -> IngestReport:
    started_at = timezone.now()
    report = IngestReport(kind=ErrorImport.Kind.HISTORY, source="current snapshot")
    with transaction.atomic():
        total = ErrorCount.objects.count() if progress else 0
        rows = ErrorCount.objects.values_list("step_id", "exit_code", "site", "count", "step__workflow_id")
        wanted, workflows = {}, set()
        for done, (step_id, code, site, count, workflow_id) in enumerate(rows.iterator(chunk_size=10000)):
            if progress and done % REPORT_EVERY == 0:
                progress(READING_SNAPSHOT, done, total)
            wanted[(step_id, code, site)] = count
            workflows.add(workflow_id)
        if progress and total:
            progress(READING_SNAPSHOT, total, total)
        report.cells = len(wanted)
        report.steps = len({key[0] for key in wanted})
        report.workflows = len(workflows)
        report.created, report.updated, report.deleted = sync_history_bucket(wanted, bucket, progress)
        record_import(report, started_at)
    return report
