"""Issue 16, cold global view: the per-site sums every site column needs (errors, failing
workflows, steps) are stored by the ingestion (errors/site_totals.py), so a cold page reads a
few dozen rows instead of counting the distinct workflows of every cell (1.5 s at 20k)."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from errors.models import ErrorCount, ErrorImport, SnapshotSiteTotal
from errors.selectors.cells import site_totals
from errors.selectors.global_view import PIEVARS
from errors.selectors.site_context import snapshot_sites
from errors.selectors.snapshot import snapshot_key
from tests.errors.conftest import generated_document, load_document

pytestmark = [pytest.mark.pg_too, pytest.mark.django_db]


def summed_sites(snapshot: str):
    cache.clear()
    return snapshot_sites(snapshot, stored=False)


def test_the_ingestion_stores_each_sites_errors_workflows_and_steps(tmp_path):
    load_document(tmp_path, generated_document(30, seed=4), "first.json")
    load_document(tmp_path, {"/wf_gone_soon/Task": {"50660": {"T3_ONLY_BEFORE": 4}}}, "between.json")
    assert list(SnapshotSiteTotal.objects.values_list("site", "errors", "workflows", "steps")) == [
        ("T3_ONLY_BEFORE", 4, 1, 1)
    ]
    load_document(tmp_path, generated_document(30, seed=4), "again.json")
    stored = {
        row[0]: row[1:]
        for row in SnapshotSiteTotal.objects.values_list("site", "errors", "workflows", "steps")
    }
    by_site = {}
    for site, step, workflow, count in ErrorCount.objects.values_list(
        "site", "step_id", "step__workflow_id", "count"
    ):
        errors, workflows, steps = by_site.setdefault(site, [0, set(), set()])
        by_site[site][0] = errors + count
        workflows.add(workflow)
        steps.add(step)
    assert stored == {site: (errors, len(wfs), len(steps)) for site, (errors, wfs, steps) in by_site.items()}
    assert len(stored) > 3


def test_stored_site_sums_are_the_sums_over_the_cells(tmp_path, empty_cache):
    load_document(tmp_path, generated_document(40, seed=6))
    snapshot = snapshot_key()
    with CaptureQueriesContext(connection) as captured:
        stored = snapshot_sites(snapshot)
    sql = " ".join(query["sql"] for query in captured).lower()
    assert "snapshotsitetotal" in sql and "errors_errorcount" not in sql
    assert stored == summed_sites(snapshot)
    # Worst first, ties by name, as site_totals() orders the live sums.
    assert list(stored.sites) == site_totals(ErrorCount.objects.all())


def test_sums_left_by_an_older_import_are_never_read(tmp_path, empty_cache):
    load_document(tmp_path, generated_document(12, seed=2))
    ErrorCount.objects.filter(site=ErrorCount.objects.values("site")[:1]).delete()
    ErrorImport.objects.update(totals_built=False)  # as another writer of the cells leaves it
    found = snapshot_sites(snapshot_key())
    assert found == summed_sites(snapshot_key())
    assert len(found.sites) == SnapshotSiteTotal.objects.count() - 1


@pytest.mark.parametrize("pievar", PIEVARS)
def test_a_cold_global_view_never_sums_every_cell(client, tmp_path, pievar, empty_cache):
    load_document(tmp_path, generated_document(60, seed=8))
    cache.clear()  # nothing pre-warmed: what the first reader after an ingestion would cost
    with CaptureQueriesContext(connection) as captured:
        assert client.get(f"/globalerror?pievar={pievar}").status_code == 200
    over_cells = [q["sql"] for q in captured if '"errors_errorcount"' in q["sql"]]
    # Only the cells of the page's ten prep IDs are read (none for the step pies), never a
    # sum or a distinct count over the whole snapshot.
    assert len(over_cells) == (0 if pievar == "stepname" else 1)
    assert all(" IN (" in sql for sql in over_cells)
    assert not any("COUNT(DISTINCT" in q["sql"] for q in captured)
    assert len(captured) <= 10
