"""Samples: the error cells read from the database as arrays, one sample per workflow
(current errors) or per workflow and history bucket, for fitting and predicting."""

from dataclasses import dataclass
from datetime import UTC

import numpy as np
from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from errors.models import ErrorCount, ErrorHistory

from .vectors import Cells, Shell


@dataclass
class Samples:
    """Error cells grouped into samples, with the workflow of each sample."""

    cells: Cells
    workflow_ids: np.ndarray  # per sample
    buckets: np.ndarray | None = None  # per sample (history only)

    @property
    def n(self) -> int:
        return len(self.workflow_ids)


def _columns(rows: list[tuple], n_columns: int) -> list[np.ndarray]:
    if not rows:
        return [np.array([]) for _ in range(n_columns)]
    return [np.asarray(column) for column in zip(*rows, strict=True)]


def _raw_rows(queryset, *fields: str) -> list[tuple]:
    """`queryset.values_list(*fields)` as the driver returns it: the SQL Django builds, run
    without Django's per-row conversions (on SQLite a datetime stays text), which cost more
    than the query on hundreds of thousands of cells."""
    try:
        query, params = queryset.values_list(*fields).query.sql_with_params()
    except EmptyResultSet:  # a filter no row can match (no workflow ids): no query at all
        return []
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def _as_datetimes(values: np.ndarray) -> np.ndarray:
    """Bucket values as aware datetimes (SQLite returns the text it stores)."""
    converted = [parse_datetime(value) if isinstance(value, str) else value for value in values]
    converted = [timezone.make_aware(v, UTC) if timezone.is_naive(v) else v for v in converted]
    out = np.empty(len(converted), dtype=object)
    out[:] = converted
    return out


def current_samples(workflow_ids: list[int] | None = None) -> Samples:
    """The current errors summed per workflow: one sample per workflow with errors."""
    queryset = ErrorCount.objects.all()
    if workflow_ids is not None:
        queryset = queryset.filter(step__workflow_id__in=workflow_ids)
    rows = _raw_rows(queryset, "step__workflow_id", "exit_code", "site", "count")
    workflow, code, site, count = _columns(rows, 4)
    ids, sample = np.unique(workflow.astype(np.int64), return_inverse=True)
    cells = Cells(sample, code.astype(np.int64), site.astype(str), count.astype(np.int64))
    return Samples(cells=cells, workflow_ids=ids)


def history_samples(workflow_ids: list[int] | None = None) -> Samples:
    """The history summed per (workflow, bucket): each bucket is a snapshot of a workflow,
    the same kind of thing as a current workflow, so it is one more sample of it."""
    queryset = ErrorHistory.objects.all()
    if workflow_ids is not None:
        queryset = queryset.filter(step__workflow_id__in=workflow_ids)
    rows = _raw_rows(queryset, "step__workflow_id", "bucket", "exit_code", "site", "count")
    if not rows:
        empty = Cells(np.array([], int), np.array([], int), np.array([], str), np.array([], int))
        return Samples(cells=empty, workflow_ids=np.array([], int), buckets=np.array([], object))
    workflow, bucket, code, site, count = _columns(rows, 5)
    bucket_values, bucket_index = np.unique(bucket, return_inverse=True)
    bucket_values = _as_datetimes(bucket_values)
    workflow = workflow.astype(np.int64)
    key = workflow * len(bucket_values) + bucket_index
    keys, sample = np.unique(key, return_inverse=True)
    cells = Cells(sample, code.astype(np.int64), site.astype(str), count.astype(np.int64))
    return Samples(
        cells=cells, workflow_ids=keys // len(bucket_values), buckets=bucket_values[keys % len(bucket_values)]
    )


def shells_from_config() -> tuple[Shell, Shell]:
    config = settings.WWT["clustering"]
    return Shell.from_config(config["errorcode"]), Shell.from_config(config["sitename"])
