"""Samples: the error cells read from the database as arrays, one sample per workflow
(current errors) or per workflow and history bucket, for fitting and predicting.

The tables hold hundreds of thousands of cells, so they are read for speed: the rows come
as the driver returns them (no Django conversions) with the garbage collector paused, the
cells of every workflow are read without a join, and sites and buckets are numbered through
a dict, so only the few distinct ones are converted.
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import compress

import numpy as np
from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import FloatField, Func
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from errors.models import ErrorCount, ErrorHistory
from workflows.models import Step

from .vectors import Cells, Shell

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class Samples:
    """Error cells grouped into samples, with the workflow of each sample."""

    cells: Cells
    workflow_ids: np.ndarray  # per sample
    buckets: np.ndarray | None = None  # per sample (history only)

    @property
    def n(self) -> int:
        return len(self.workflow_ids)


class BucketKey(Func):
    """A history bucket as the cheapest value to read that still tells buckets apart: on
    PostgreSQL its seconds since 1970 as a float (the driver makes an aware datetime of a
    timestamp far more slowly; EXTRACT's exact numeric costs the server twice as much),
    elsewhere the column as stored (text on SQLite)."""

    template = "%(expressions)s"
    output_field = FloatField()

    def as_postgresql(self, compiler, connection, **extra_context):
        template = "date_part('epoch', %(expressions)s)"
        return self.as_sql(compiler, connection, template=template, **extra_context)


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


def _raw_columns(queryset, *fields: str) -> list[tuple] | None:
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


def _integers(column) -> np.ndarray:
    return np.fromiter(column, dtype=np.int64, count=len(column))


def _cell_columns(
    queryset, workflow_ids: list[int] | None, *fields: str
) -> tuple[np.ndarray, list[tuple]] | None:
    """The workflow of each cell of `queryset` (of `workflow_ids`, or every workflow) and
    the columns `fields`; None when there is no cell. Reading every cell, the workflow comes
    from a map of the steps rather than a join: on PostgreSQL the join of each cell to its
    step costs more than reading the cells."""
    if workflow_ids is not None:
        columns = _raw_columns(
            queryset.filter(step__workflow_id__in=workflow_ids), "step__workflow_id", *fields
        )
        return None if columns is None else (_integers(columns[0]), columns[1:])
    columns = _raw_columns(queryset, "step_id", *fields)
    if columns is None:
        return None
    steps = _raw_columns(Step.objects.order_by("pk"), "pk", "workflow_id") or [(), ()]
    step_ids, workflow_of_step = map(_integers, steps)
    cell_steps = _integers(columns[0])
    position = np.minimum(np.searchsorted(step_ids, cell_steps), max(len(step_ids) - 1, 0))
    mapped = step_ids[position] == cell_steps if len(step_ids) else np.zeros(len(cell_steps), bool)
    if not mapped.all():
        # A step added or deleted between the two reads: its cells wait for the next read.
        columns = [tuple(compress(column, mapped)) for column in columns]
        position = position[mapped]
        if not len(position):
            return None
    return workflow_of_step[position], columns[1:]


def _numbered(column: tuple, key=None) -> tuple[np.ndarray, list]:
    """Each value's position among the column's distinct values, and those values sorted
    (by `key(value)` when given)."""
    distinct = sorted(dict.fromkeys(column), key=key)
    position = {value: i for i, value in enumerate(distinct)}
    return np.fromiter(map(position.__getitem__, column), dtype=np.int64, count=len(column)), distinct


def _cells(sample: np.ndarray, code: tuple, site: tuple, count: tuple) -> Cells:
    site_index, names = _numbered(site)
    site_names = np.array(names, dtype=str)
    # Each cell's site as a reference to its name (an object array): copying the text into a
    # str array costs ~0.1 s per million cells, and fitting reads `site_index` anyway.
    site_of_cell = np.array(names, dtype=object)[site_index]
    return Cells(
        sample, _integers(code), site_of_cell, _integers(count), site_names=site_names, site_index=site_index
    )


def _empty_cells() -> Cells:
    return Cells(np.array([], int), np.array([], int), np.array([], str), np.array([], int))


def _as_datetime(value) -> datetime:
    """A bucket as an aware datetime, from the key `BucketKey` read."""
    if isinstance(value, float):
        # The float nearest the exact seconds: as a Decimal (exact), rounded to the
        # microsecond, it is the stored time again (floats are that fine until ~2100).
        return EPOCH + timedelta(microseconds=int((Decimal(value) * 1_000_000).to_integral_value()))
    moment = parse_datetime(value) if isinstance(value, str) else value
    return timezone.make_aware(moment, UTC) if timezone.is_naive(moment) else moment


def current_samples(workflow_ids: list[int] | None = None) -> Samples:
    """The current errors summed per workflow: one sample per workflow with errors."""
    with _collector_paused():
        found = _cell_columns(ErrorCount.objects.all(), workflow_ids, "exit_code", "site", "count")
        if found is None:
            return Samples(cells=_empty_cells(), workflow_ids=np.array([], np.int64))
        workflow, (code, site, count) = found
        ids, sample = np.unique(workflow, return_inverse=True)
        return Samples(cells=_cells(sample, code, site, count), workflow_ids=ids)


def history_samples(workflow_ids: list[int] | None = None) -> Samples:
    """The history summed per (workflow, bucket): each bucket is a snapshot of a workflow,
    the same kind of thing as a current workflow, so it is one more sample of it."""
    queryset = ErrorHistory.objects.annotate(bucket_key=BucketKey("bucket"))
    with _collector_paused():
        found = _cell_columns(queryset, workflow_ids, "bucket_key", "exit_code", "site", "count")
        if found is None:
            return Samples(cells=_empty_cells(), workflow_ids=np.array([], int), buckets=np.array([], object))
        workflow, (bucket, code, site, count) = found
        bucket_index, bucket_keys = _numbered(bucket, key=_as_datetime)
        bucket_values = np.empty(len(bucket_keys), dtype=object)
        bucket_values[:] = [_as_datetime(key) for key in bucket_keys]
        keys, sample = np.unique(workflow * len(bucket_values) + bucket_index, return_inverse=True)
        return Samples(
            cells=_cells(sample, code, site, count),
            workflow_ids=keys // len(bucket_values),
            buckets=bucket_values[keys % len(bucket_values)],
        )


def shells_from_config() -> tuple[Shell, Shell]:
    config = settings.WWT["clustering"]
    return Shell.from_config(config["errorcode"]), Shell.from_config(config["sitename"])
