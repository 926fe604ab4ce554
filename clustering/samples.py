"""Samples: the error cells read from the database as arrays, one sample per workflow
(current errors) or per workflow and history bucket, for fitting and predicting.

The tables hold hundreds of thousands of cells, so the rows are read as the driver returns
them (no Django conversions), with the garbage collector paused, and text and times are
numbered through a dict: the distinct sites and buckets are few, only they are converted.
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC

import numpy as np
from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import CharField
from django.db.models.functions import Cast
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


@contextmanager
def _collector_paused() -> Iterator[None]:
    # Each fetched row is a tuple of Python objects; hundreds of thousands of them set off
    # full collections that walk them all again and again (most of the time of a load).
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _raw_columns(queryset, *fields) -> list[tuple] | None:
    """The columns of `queryset.values_list(*fields)` as the driver returns them: the SQL
    Django builds, run without Django's per-row conversions. None when no row matches."""
    try:
        query, params = queryset.values_list(*fields).query.sql_with_params()
    except EmptyResultSet:  # a filter no row can match (no workflow ids): no query at all
        return None
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        rows = cursor.fetchall()
    return list(zip(*rows, strict=True)) if rows else None


def _integers(column: tuple) -> np.ndarray:
    return np.fromiter(column, dtype=np.int64, count=len(column))


def _numbered(column: tuple, key=None) -> tuple[np.ndarray, list]:
    """Each value's position among the column's distinct values, and those values sorted
    (by `key(value)` when given)."""
    distinct = sorted(dict.fromkeys(column), key=key)
    position = {value: i for i, value in enumerate(distinct)}
    return np.fromiter(map(position.__getitem__, column), dtype=np.int64, count=len(column)), distinct


def _site_names(column: tuple) -> np.ndarray:
    """The sites as a numpy str array: converted once per distinct site, not per cell."""
    position, names = _numbered(column)
    return np.array(names, dtype=str)[position]


def _as_datetime(value) -> object:
    """A bucket as an aware datetime, from the text either database returns for it."""
    moment = parse_datetime(value) if isinstance(value, str) else value
    return timezone.make_aware(moment, UTC) if timezone.is_naive(moment) else moment


def _empty_cells() -> Cells:
    return Cells(np.array([], int), np.array([], int), np.array([], str), np.array([], int))


def current_samples(workflow_ids: list[int] | None = None) -> Samples:
    """The current errors summed per workflow: one sample per workflow with errors."""
    queryset = ErrorCount.objects.all()
    if workflow_ids is not None:
        queryset = queryset.filter(step__workflow_id__in=workflow_ids)
    with _collector_paused():
        columns = _raw_columns(queryset, "step__workflow_id", "exit_code", "site", "count")
        if columns is None:
            return Samples(cells=_empty_cells(), workflow_ids=np.array([], np.int64))
        workflow, code, site, count = columns
        ids, sample = np.unique(_integers(workflow), return_inverse=True)
        cells = Cells(sample, _integers(code), _site_names(site), _integers(count))
    return Samples(cells=cells, workflow_ids=ids)


def history_samples(workflow_ids: list[int] | None = None) -> Samples:
    """The history summed per (workflow, bucket): each bucket is a snapshot of a workflow,
    the same kind of thing as a current workflow, so it is one more sample of it."""
    queryset = ErrorHistory.objects.all()
    if workflow_ids is not None:
        queryset = queryset.filter(step__workflow_id__in=workflow_ids)
    # The bucket as text: the driver turns text into str far faster than into an aware
    # datetime, and only the few distinct buckets are parsed.
    queryset = queryset.annotate(bucket_text=Cast("bucket", CharField()))
    with _collector_paused():
        columns = _raw_columns(queryset, "step__workflow_id", "bucket_text", "exit_code", "site", "count")
        if columns is None:
            return Samples(cells=_empty_cells(), workflow_ids=np.array([], int), buckets=np.array([], object))
        workflow, bucket, code, site, count = columns
        bucket_index, bucket_texts = _numbered(bucket, key=_as_datetime)
        bucket_values = np.empty(len(bucket_texts), dtype=object)
        bucket_values[:] = [_as_datetime(text) for text in bucket_texts]
        key = _integers(workflow) * len(bucket_values) + bucket_index
        keys, sample = np.unique(key, return_inverse=True)
        cells = Cells(sample, _integers(code), _site_names(site), _integers(count))
    return Samples(
        cells=cells, workflow_ids=keys // len(bucket_values), buckets=bucket_values[keys % len(bucket_values)]
    )


def shells_from_config() -> tuple[Shell, Shell]:
    config = settings.WWT["clustering"]
    return Shell.from_config(config["errorcode"]), Shell.from_config(config["sitename"])
