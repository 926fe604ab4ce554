"""The ingestion's fast paths store what the plain ways would (SQLite and PostgreSQL): the
stored totals summed from the cells in memory equal the database's sums of the stored cells."""

import json

import pytest
from django.db import IntegrityError, connection, transaction

from errors import ingestion
from errors.demo import generate_error_document
from errors.models import ErrorCount, SnapshotCellTotal, SnapshotWorkflowTotal
from errors.snapshot_totals import rebuild_snapshot_totals, sums_in_database, sums_of_cells

pytestmark = [pytest.mark.django_db, pytest.mark.pg_too]

WORKFLOW = "pdmvserv_task_HIG-RunIISummer20UL18wmLHEGEN-00123__v1_T_240115_123456_1234"
OTHER = "pdmvserv_task_TOP-Run3Summer22EEGS-00042__v1_T_240201_000000_1111"
# Four steps with the same count in one cell: the top three are chosen by step id.
TIES = {f"/{WORKFLOW}/Task_{n}": {"8001": {"T2_CH_CERN": 5, "T1_US_FNAL": n + 1}} for n in range(4)} | {
    f"/{OTHER}/Task_0": {"8001": {"T2_CH_CERN": 9}, "NotReported": {"T2_CH_CERN": 0}},
}


def write(tmp_path, document, name="all_errors.json"):
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)


def stored_totals():
    cells = sorted(SnapshotCellTotal.objects.values_list("exit_code", "site", "total", "steps", "top_steps"))
    return cells, sorted(SnapshotWorkflowTotal.objects.values_list("workflow_id", "total"))


def sorted_sums(sums):
    return sorted(sums.cells), sorted(sums.top_steps.items()), sorted(sums.workflows), sorted(sums.sites)


@pytest.mark.parametrize("document", [TIES, generate_error_document(60, seed=3)], ids=["ties", "demo"])
def test_totals_from_the_cells_in_memory_equal_the_databases_sums(tmp_path, document):
    ingestion.ingest_current_errors(write(tmp_path, document))
    from_memory = stored_totals()
    cells = ErrorCount.objects.values_list("step_id", "exit_code", "site", "count", "step__workflow_id")
    counts = {(step, code, site): count for step, code, site, count, _ in cells}
    workflow_of_step = {step: workflow for step, _, _, _, workflow in cells}

    assert sorted_sums(sums_of_cells(counts, workflow_of_step)) == sorted_sums(sums_in_database())
    rebuild_snapshot_totals()  # the database's way
    assert stored_totals() == from_memory
    assert from_memory[0] and from_memory[1]


def test_ties_keep_the_three_biggest_steps_by_step_id(tmp_path):
    ingestion.ingest_current_errors(write(tmp_path, TIES))
    ids = dict(ErrorCount.objects.filter(step__workflow__name=WORKFLOW).values_list("step__name", "step_id"))
    cern = SnapshotCellTotal.objects.get(exit_code=8001, site="T2_CH_CERN")

    first_three = sorted(ids[f"/{WORKFLOW}/Task_{n}"] for n in range(4))[:3]
    assert cern.top_steps[0][1] == 9 and [step for step, _ in cern.top_steps[1:]] == first_three[:2]
    assert (cern.total, cern.steps) == (5 * 4 + 9, 5)


def test_an_empty_snapshot_stores_no_totals(tmp_path):
    ingestion.ingest_current_errors(write(tmp_path, TIES))
    ingestion.ingest_current_errors(write(tmp_path, {}, "empty.json"))

    assert stored_totals() == ([], [])
    assert sums_of_cells({}, {}).cells == []


def stored_cells():
    return sorted(ErrorCount.objects.values_list("step__name", "exit_code", "site", "count"))


def test_a_first_load_into_empty_tables_stores_what_a_load_over_old_cells_does(tmp_path):
    document = generate_error_document(30, seed=5)
    report = ingestion.ingest_current_errors(write(tmp_path, document))  # first: ErrorCount was empty
    first = stored_cells(), stored_totals()[0]
    ingestion.ingest_current_errors(write(tmp_path, TIES, "other.json"))
    ingestion.ingest_current_errors(write(tmp_path, document))  # over another snapshot's cells

    assert (stored_cells(), stored_totals()[0]) == first
    assert len(first[0]) == report.cells > 0


def schema(table: str) -> tuple[list, list]:
    """The constraints and indexes of `table` as the database describes them."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = %s ORDER BY 2", [table]
            )
            return [], cursor.fetchall()
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid), condeferred FROM pg_constraint "
            "WHERE conrelid = %s::regclass ORDER BY conname",
            [table],
        )
        constraints = cursor.fetchall()
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s ORDER BY 1", [table])
        return constraints, cursor.fetchall()


def test_a_first_load_leaves_the_keys_and_indexes_as_they_were(tmp_path):
    before, steps_before = schema("errors_errorcount"), schema("workflows_step")
    ingestion.ingest_current_errors(write(tmp_path, TIES))  # into empty cells and steps

    assert schema("errors_errorcount") == before and schema("workflows_step") == steps_before
    if connection.vendor == "postgresql":
        kinds = {definition.split(" (")[0] for _, definition, _ in before[0]}
        assert kinds >= {"FOREIGN KEY", "UNIQUE", "CHECK"}
        assert len(before[1]) == 4  # primary key, unique cell, (site, exit code), exit code
        assert len(steps_before[1]) == 3  # primary key, unique name, workflow
    else:  # unique cell, (site, exit code), exit code
        assert [row[0] for row in before[1]].count("index") == 3
    if connection.vendor == "postgresql":  # SQLite's key is in the table's unchanged schema
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            ErrorCount.objects.create(step_id=10**9, exit_code=1, site="T2_CH_CERN", count=1)
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cell = ErrorCount.objects.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        ErrorCount.objects.create(step_id=cell.step_id, exit_code=cell.exit_code, site=cell.site, count=1)
