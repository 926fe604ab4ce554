"""Every ingestion path ends by building the heavy pages of the current snapshot
(errors.caches.warm_page_caches): the command line, the beat job, the demo loader and the
original tool's history import. A page built ahead costs its reader one query (which
snapshot is current); a cold one adds the sums over all errors."""

import io
import json
import sqlite3

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from errors import tasks
from errors.demo_loader import load_demo_errors
from errors.legacy_import import import_history
from errors.selectors.global_view import PIEVARS, global_view
from errors.selectors.sites import errors_per_site
from tests.errors.conftest import SMALL_DOCUMENT, A, load_document

pytestmark = pytest.mark.django_db

FIRST_PAGES = len(PIEVARS) + 1  # the global view per pievar and the sites' totals


def queries_to_read_first_pages() -> int:
    with CaptureQueriesContext(connection) as queries:
        for pievar in PIEVARS:
            global_view(pievar)
        errors_per_site({})
    return len(queries.captured_queries)


def write_document(tmp_path) -> str:
    path = tmp_path / "all_errors.json"
    path.write_text(json.dumps(SMALL_DOCUMENT))
    return str(path)


def test_pages_are_cold_after_a_bare_ingestion(tmp_path):
    # The yardstick the other tests rely on: ingest_current_errors alone builds nothing.
    cache.clear()
    load_document(tmp_path, SMALL_DOCUMENT)
    assert queries_to_read_first_pages() > FIRST_PAGES


def test_the_command_line_refresh_ends_warm(tmp_path):
    cache.clear()
    call_command("ingest_errors", write_document(tmp_path), "--no-progress", stdout=io.StringIO())
    assert queries_to_read_first_pages() == FIRST_PAGES


def test_the_beat_job_ends_warm(tmp_path):
    cache.clear()
    result = tasks.refresh_errors.apply(args=[write_document(tmp_path)])
    assert result.successful(), result.result
    assert queries_to_read_first_pages() == FIRST_PAGES


def test_the_demo_loader_ends_warm(tmp_path):
    cache.clear()
    load_demo_errors(n_workflows=6, days=1, directory=tmp_path)
    assert queries_to_read_first_pages() == FIRST_PAGES


def _original_history_store(path) -> str:
    store = sqlite3.connect(path)
    store.execute(
        "CREATE TABLE workflows (fullkey varchar(1023) UNIQUE, stepname varchar(255), errorcode int, "
        "sitename varchar(255), numbererrors int, sitereadiness varchar(15))"
    )
    store.execute(
        "INSERT INTO workflows VALUES (?, ?, ?, ?, ?, ?)",
        (f"/{A}/HIG_0_50660_T2_CH_CERN", f"/{A}/HIG_0", 50660, "T2_CH_CERN", 12, "green"),
    )
    store.commit()
    store.close()
    return str(path)


def test_the_original_tools_history_import_ends_warm(tmp_path):
    load_document(tmp_path, SMALL_DOCUMENT)
    cache.clear()
    summary = import_history(_original_history_store(tmp_path / "workflow_history.db"))
    assert summary.imported == 1
    assert queries_to_read_first_pages() == FIRST_PAGES


def test_a_dry_run_of_the_history_import_builds_nothing(tmp_path):
    load_document(tmp_path, SMALL_DOCUMENT)
    cache.clear()
    import_history(_original_history_store(tmp_path / "workflow_history.db"), dry_run=True)
    assert queries_to_read_first_pages() > FIRST_PAGES
