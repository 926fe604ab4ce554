"""Ingestion benchmark: loading generated all_errors documents at each size of targets.SIZES.

Run: `make bench ARGS="-k ingest"` (SQLite) and
     `DATABASE_URL=postgresql://postgres@127.0.0.1:5432/wwt make bench ARGS="-k ingest"` (PostgreSQL).
Prints, as medians of RUNS runs: the first load (empty tables) against the issue's target and
against its floor, a bare COPY (PostgreSQL) or executemany (SQLite) of the same workflow, step
and cell rows into plain unindexed tables made in the same run; the repeat load (the same
document again); the page warm-up every ingestion path ends with (errors.caches.warm_page_caches,
timed on its own); and the history append of the snapshot. Beside the wall-clock runs it
prints the CPU seconds each load cost this process and, on a PostgreSQL server on this machine,
its backend: steadier than wall-clock times on a busy machine.
"""

import json
import os
import time
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection, transaction

from errors import caches, history, ingestion
from errors.demo import generate_error_document
from errors.models import ErrorCount, ErrorHistory, ErrorImport
from workflows.models import Step, Workflow
from workflows.services import describe_workflow_name

from . import targets

RUNS = 3
# Issue #16's targets (seconds) per database and size; no target where the issue names none.
FIRST_LOAD_TARGETS = {"postgresql": {5000: 1.5, 20000: 6.0}, "sqlite": {5000: 2.5}}
REPEAT_LOAD_TARGETS = {5000: 0.6}
FLOOR_TARGET_RATIO = {"postgresql": 5}


def _empty():
    for model in (ErrorHistory, ErrorCount, ErrorImport, Step, Workflow):
        model.objects.all().delete()


def _timed(func) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def _backend_cpu() -> float | None:
    """CPU seconds the PostgreSQL backend of this connection has used, when it runs here."""
    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _cpu_timed(func, cpu: list) -> float:
    """`func`'s wall-clock time; appends (this process's, backend's) CPU seconds to `cpu`."""
    backend, own = _backend_cpu(), time.process_time()
    wall = _timed(func)
    own = time.process_time() - own
    after = _backend_cpu()
    cpu.append((own, None if backend is None or after is None else after - backend))
    return wall


def _cpu_text(cpu: list) -> str:
    return ", ".join(f"{own:.2f}+{'?' if backend is None else f'{backend:.2f}'}" for own, backend in cpu)


def floor_rows(path) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """The rows an ingestion of the document at `path` stores: workflows, steps, cells."""
    cells, _, _ = ingestion.parse_error_document(ingestion.read_error_document(str(path)))
    step_ids = {name: number for number, name in enumerate(dict.fromkeys(cell[0] for cell in cells), 1)}
    workflow_ids = {
        name: number for number, name in enumerate(dict.fromkeys(step.split("/")[1] for step in step_ids), 1)
    }
    workflows = [
        (number, name, *describe_workflow_name(name).values()) for name, number in workflow_ids.items()
    ]
    steps = [(number, name, workflow_ids[name.split("/")[1]]) for name, number in step_ids.items()]
    cell_rows = [(step_ids[step], code, site, count) for step, code, site, count in cells]
    return workflows, steps, cell_rows


FLOOR_TABLES = {
    "bench_floor_workflow": "id integer, name varchar(400), prep_id varchar(200), campaign varchar(200), "
    "is_acdc boolean",
    "bench_floor_step": "id integer, name varchar(1000), workflow_id integer",
    "bench_floor_cell": "step_id integer, exit_code integer, site varchar(100), count integer",
}


def bare_load(rows: tuple[list[tuple], ...]) -> None:
    """The floor: the same rows into plain tables (no index, no key, no constraint), made and
    dropped in the same transaction; COPY on PostgreSQL, executemany on SQLite."""
    with transaction.atomic(), connection.cursor() as cursor:
        for (table, columns), table_rows in zip(FLOOR_TABLES.items(), rows, strict=True):
            cursor.execute(f"CREATE TABLE {table} ({columns})")
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} FROM STDIN") as copy:
                    for row in table_rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("%s" for _ in table_rows[0])
                cursor.executemany(f"INSERT INTO {table} VALUES ({marks})", table_rows)  # noqa: S608
    with transaction.atomic(), connection.cursor() as cursor:
        for table in FLOOR_TABLES:
            cursor.execute(f"DROP TABLE {table}")


def _warm() -> None:
    cache.clear()
    caches.warm_page_caches()


@pytest.mark.parametrize("n_workflows", targets.SIZES)
def test_ingest_benchmark(transactional_db, tmp_path, n_workflows):
    path = tmp_path / "all_errors.json"
    path.write_text(json.dumps(generate_error_document(n_workflows, seed=7)))
    load = lambda: ingestion.ingest_current_errors(str(path))  # noqa: E731
    rows = floor_rows(path)

    first, repeat, warm, append, floor = [], [], [], [], []
    first_cpu, repeat_cpu, floor_cpu = [], [], []
    for _ in range(RUNS):
        _empty()
        floor.append(_cpu_timed(lambda: bare_load(rows), floor_cpu))
        first.append(_cpu_timed(load, first_cpu))
        warm.append(_timed(_warm))
        repeat.append(_cpu_timed(load, repeat_cpu))
        append.append(_timed(history.update_history))
    report = load()
    assert report.cells == ErrorCount.objects.count() == len(rows[2])

    vendor = connection.vendor
    print(
        f"\n[ingest] {vendor} workflows={report.workflows} steps={report.steps} cells={report.cells}; "
        f"runs: first {', '.join(f'{t:.2f}' for t in first)}, repeat {', '.join(f'{t:.2f}' for t in repeat)}"
        f"\n[ingest] CPU s (this process + database backend): floor {_cpu_text(floor_cpu)}; "
        f"first {_cpu_text(first_cpu)}; repeat {_cpu_text(repeat_cpu)}"
    )
    floor_name = "bare COPY" if vendor == "postgresql" else "bare executemany"
    targets.report(
        f"ingest: first load ({vendor})",
        n_workflows,
        targets.median(first),
        target=FIRST_LOAD_TARGETS.get(vendor, {}).get(n_workflows),
        floor=targets.median(floor),
        floor_name=f"{floor_name} of the same rows into plain tables",
        floor_target_ratio=FLOOR_TARGET_RATIO.get(vendor),
    )
    targets.report(
        f"ingest: repeat load ({vendor})",
        n_workflows,
        targets.median(repeat),
        target=REPEAT_LOAD_TARGETS.get(n_workflows),
    )
    targets.report(f"ingest: page warm-up after a load ({vendor})", n_workflows, targets.median(warm))
    targets.report(f"ingest: history append of the snapshot ({vendor})", n_workflows, targets.median(append))
