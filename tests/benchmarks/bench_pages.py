"""Operator pages at 1,000 and 5,000 generated workflows (5,000 ≈ 34k steps, 157k cells).

Run on PostgreSQL (the target figures are for it):
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/wwt make bench ARGS="-k pages"
Prints, per page, the warm median of 10 server times (ms, through the Django test client:
middleware, queries and rendering) and the HTML size. Targets at 5,000 workflows:
/globalerror <= 300 ms, /seeworkflow <= 50 ms.
"""

import json
import statistics
import time

import pytest
from django.core.cache import cache
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext

from errors import demo
from errors.ingestion import ingest_current_errors
from workflows.models import Workflow

from .targets import SIZES, report

RUNS = 10


def measure(client: Client, url: str) -> tuple[float, float, int, int]:
    """(first-run ms, median ms of RUNS warm runs, HTML bytes, queries of one warm run).
    The first run builds what is cached per snapshot; later ones are served from it."""
    start = time.perf_counter()
    response = client.get(url)
    cold = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, url
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return cold, statistics.median(times), len(response.content), len(queries.captured_queries)


@pytest.mark.django_db
@pytest.mark.parametrize("n_workflows", [1000, 5000])
def test_page_times(n_workflows, tmp_path, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    # Outside sources are not configured here: the figures are our own work only.
    settings.WWT = {**settings.WWT, "sources": {**settings.WWT["sources"], "site_status": None}}
    path = tmp_path / "all_errors.json"
    path.write_text(json.dumps(demo.generate_error_document(n_workflows, seed=7)))
    start = time.perf_counter()
    report = ingest_current_errors(str(path))
    print(
        f"\n== {connection.vendor}, {report.workflows} workflows, {report.steps} steps, {report.cells} cells "
        f"(ingested in {time.perf_counter() - start:.1f} s)"
    )
    biggest = Workflow.objects.annotate(cells=Count("steps__errors")).order_by("-cells").first()
    client = Client()
    pages = {
        "/globalerror?pievar=errorcode": 300,
        "/globalerror?pievar=sitename": 300,
        "/globalerror?pievar=stepname": 300,
        "/globalerror?pievar=errorcode&page=50": 300,
        f"/seeworkflow?workflow={biggest.name}": 50,
        "/listpage?errorcode=50660&sitename=T2_CH_CERN": None,
        "/sites": None,
        "/procedures": None,
    }
    print(
        f"{'page':58} {'first ms':>9} {'warm median ms':>15} {'HTML kB':>8} {'queries':>8} {'target ms':>10}"
    )
    for url, target in pages.items():
        cold, median, size, queries = measure(client, url)
        label = url if len(url) <= 58 else url[:55] + "..."
        verdict = "" if target is None else f"{target:>6} {'ok' if median <= target else 'OVER'}"
        print(f"{label:58} {cold:9.1f} {median:15.1f} {size / 1024:8.1f} {queries:8d} {verdict:>10}")


@pytest.mark.django_db
@pytest.mark.parametrize("size", SIZES)
def test_workflow_view_warm(size, tmp_path, settings):
    """The workflow page of the workflow with the most cells, warm (issue #16: <= 10 ms at
    20k, flat in N: compare the sizes' lines)."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    settings.WWT = {**settings.WWT, "sources": {**settings.WWT["sources"], "site_status": None}}
    path = tmp_path / "all_errors.json"
    path.write_text(json.dumps(demo.generate_error_document(size, seed=7)))
    ingest_current_errors(str(path))
    biggest = Workflow.objects.annotate(cells=Count("steps__errors")).order_by("-cells").first()
    _, warm_ms, html_bytes, queries = measure(Client(), f"/seeworkflow?workflow={biggest.name}")
    report("workflow view, warm (biggest workflow)", size, warm_ms, "ms", target=10)
    print(f"[bench] {html_bytes / 1024:.0f} kB of HTML, {queries} queries; {connection.vendor}")
