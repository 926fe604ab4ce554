"""Reading the error cells as samples (clustering.samples): every workflow at once (no join,
buckets as keys) reads the same as the workflows by id, on both databases."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clustering import samples
from clustering.samples import current_samples, history_samples
from errors.models import ErrorHistory
from tests.clustering.conftest import add_errors
from workflows.models import Step

pytestmark = [pytest.mark.django_db, pytest.mark.pg_too]

# Microseconds apart: read as keys, buckets must still come back exact and in order.
EARLIER = datetime(2026, 3, 1, 10, 0, 0, 123456, tzinfo=UTC)
LATER = EARLIER + timedelta(hours=1, microseconds=1)


def two_workflows_with_history():
    alpha = add_errors("wf_alpha", [(50660, "T2_CH_CERN", 10), (50660, "T2_US_MIT", 1)])
    add_errors("wf_alpha", [(84, "T2_CH_CERN", 2)], task="Task2")
    beta = add_errors("wf_beta", [(8028, "T1_US_FNAL", 30)])
    cells = [
        (alpha.steps.get(name__endswith="Task1"), 50660, "T2_US_MIT", 4, LATER),
        (alpha.steps.get(name__endswith="Task2"), 84, "T2_CH_CERN", 1, LATER),
        (alpha.steps.get(name__endswith="Task1"), 50660, "T2_CH_CERN", 3, EARLIER),
        (beta.steps.get(), 8028, "T1_US_FNAL", 5, EARLIER),
    ]
    ErrorHistory.objects.bulk_create(
        [ErrorHistory(step=step, exit_code=c, site=s, count=n, bucket=b) for step, c, s, n, b in cells]
    )
    return alpha, beta


def as_rows(samples) -> list[tuple]:
    """(workflow, bucket, exit code, site, count) of every cell, sorted."""
    cells = samples.cells
    buckets = samples.buckets if samples.buckets is not None else [None] * samples.n
    return sorted(
        (int(samples.workflow_ids[s]), buckets[s], int(code), str(site), int(count))
        for s, code, site, count in zip(cells.sample, cells.exit_code, cells.site, cells.count, strict=True)
    )


def test_history_of_every_workflow_reads_as_the_history_by_workflow_ids():
    alpha, beta = two_workflows_with_history()
    every = history_samples()
    assert as_rows(every) == as_rows(history_samples([alpha.pk, beta.pk]))
    assert as_rows(every) == [
        (alpha.pk, EARLIER, 50660, "T2_CH_CERN", 3),
        (alpha.pk, LATER, 84, "T2_CH_CERN", 1),
        (alpha.pk, LATER, 50660, "T2_US_MIT", 4),
        (beta.pk, EARLIER, 8028, "T1_US_FNAL", 5),
    ]
    # One sample per (workflow, bucket), by workflow then bucket.
    assert every.workflow_ids.tolist() == [alpha.pk, alpha.pk, beta.pk]
    assert every.buckets.tolist() == [EARLIER, LATER, EARLIER]


def test_current_errors_of_every_workflow_read_as_the_errors_by_workflow_ids():
    alpha, beta = two_workflows_with_history()
    every = current_samples()
    assert as_rows(every) == as_rows(current_samples([alpha.pk, beta.pk]))
    assert every.workflow_ids.tolist() == sorted([alpha.pk, beta.pk])
    assert sorted(as_rows(current_samples([beta.pk]))) == [(beta.pk, None, 8028, "T1_US_FNAL", 30)]


def test_sites_are_numbered_once_for_all_cells():
    two_workflows_with_history()
    cells = history_samples().cells
    assert cells.site_names.tolist() == ["T1_US_FNAL", "T2_CH_CERN", "T2_US_MIT"]
    assert cells.site_names[cells.site_index].tolist() == cells.site.tolist()


def test_every_workflow_is_read_without_joining_each_cell_to_its_step():
    two_workflows_with_history()
    with CaptureQueriesContext(connection) as queries:
        history_samples()
        current_samples()
    cell_reads = [q["sql"] for q in queries if "errors_error" in q["sql"]]
    assert len(cell_reads) == 2 and not any("JOIN" in sql for sql in cell_reads)


def test_nothing_to_read_gives_no_samples():
    assert history_samples().n == current_samples().n == 0
    add_errors("wf_alpha", [(50660, "T2_CH_CERN", 10)])
    assert history_samples().n == current_samples([]).n == 0
    assert np.array_equal(current_samples().cells.count, [10])


def test_cells_of_a_step_gone_between_the_two_reads_are_left_out(monkeypatch):
    alpha, beta = two_workflows_with_history()
    read = samples._raw_columns

    def steps_without_beta(queryset, *fields):  # beta deleted after its cells were read
        return read(queryset.exclude(workflow=beta) if queryset.model is Step else queryset, *fields)

    monkeypatch.setattr(samples, "_raw_columns", steps_without_beta)
    assert current_samples().workflow_ids.tolist() == [alpha.pk]
    assert history_samples().workflow_ids.tolist() == [alpha.pk, alpha.pk]
