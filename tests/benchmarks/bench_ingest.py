"""Ingestion benchmark: time and peak memory of loading generated all_errors documents.

Run: `make bench ARGS="-k ingest"` (SQLite) and
     `DATABASE_URL=postgresql://postgres@127.0.0.1:5432/wwt make bench ARGS="-k ingest"` (PostgreSQL).
Prints the median of a few runs for a first load (empty tables) and a repeat load
(same document again), plus the history append of the snapshot, and peak Python memory
(tracemalloc, measured in a separate run so it does not slow the timed ones).
"""

import json
import statistics
import time
import tracemalloc

import pytest
from django.db import connection

from errors import ingestion
from errors.demo import generate_error_document
from errors.models import ErrorCount, ErrorHistory, ErrorImport
from workflows.models import Step, Workflow

RUNS = 3


def _empty():
    for model in (ErrorHistory, ErrorCount, ErrorImport, Step, Workflow):
        model.objects.all().delete()


def _timed(func) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def _peak_mib(func) -> float:
    tracemalloc.start()
    func()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


@pytest.mark.parametrize("n_workflows", [1000, 5000])
def test_ingest_benchmark(transactional_db, tmp_path, n_workflows):
    document = generate_error_document(n_workflows, seed=7)
    path = tmp_path / "all_errors.json"
    path.write_text(json.dumps(document))
    load = lambda: ingestion.ingest_current_errors(str(path))  # noqa: E731
    history = lambda: history.update_history()  # noqa: E731

    first, repeat, append = [], [], []
    for _ in range(RUNS):
        _empty()
        first.append(_timed(load))
        repeat.append(_timed(load))
        append.append(_timed(history))
    report = load()

    _empty()
    first_peak = _peak_mib(load)
    repeat_peak = _peak_mib(load)

    print(
        f"\n[ingest] {connection.vendor} workflows={n_workflows} steps={report.steps} cells={report.cells}\n"
        f"  first load   median {statistics.median(first):6.2f} s  (runs {', '.join(f'{t:.2f}' for t in first)})"
        f"  peak {first_peak:6.1f} MiB\n"
        f"  repeat load  median {statistics.median(repeat):6.2f} s  (runs {', '.join(f'{t:.2f}' for t in repeat)})"
        f"  peak {repeat_peak:6.1f} MiB\n"
        f"  history append of the snapshot  median {statistics.median(append):6.2f} s\n"
        f"  cells/s first load {report.cells / statistics.median(first):,.0f}; "
        f"repeat/first ratio {statistics.median(repeat) / statistics.median(first):.2f}"
    )
    assert report.cells == ErrorCount.objects.count()
