"""The global view cold and warm, with and without noise filters, and its page weight (issue 16
rows "cold global view" and "page weight"; issue 17 item 5's benchmark).

Run on PostgreSQL (the targets are for it):
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/wwt make bench ARGS="-k global_view"
At each size of targets.SIZES: the cost the stored totals add to an ingestion
(errors/snapshot_totals.py), then through the Django test client (middleware, queries,
rendering) per pievar: cold (cache emptied before each run: what the first reader after a
new snapshot would wait for if nothing pre-warmed) and warm medians, the cold page summing
the cells as before the stored totals, the worst cold median of the other choices of the form
(sort by name, a far page, compact headers, one campaign, one site: the same target), the
queries of a cold page, the same with every noise filter on, and the HTML size of page 1,
compact or not (target 300 kB).
"""

import json
import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from actions.models import Action
from errors import demo
from errors.history import update_history
from errors.ingestion import ingest_current_errors
from errors.models import ErrorCount, ErrorImport
from errors.selectors.global_view import PIEVARS
from errors.snapshot_totals import rebuild_snapshot_totals
from workflows.models import Workflow

from .targets import SIZES, median, report

COLD_RUNS, WARM_RUNS = 5, 10
COLD_TARGET_S = 0.5  # at 20k; printed at every size
PAGE_TARGET_KB = 300


def _get(client: Client, url: str):
    start = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, (url, response.content[:300])
    return elapsed, response


def _cold_and_warm(client: Client, url: str) -> tuple[float, float, int]:
    cold = []
    for _ in range(COLD_RUNS):
        cache.clear()
        cold.append(_get(client, url)[0])
    warm, size = [], 0
    for _ in range(WARM_RUNS):
        elapsed, response = _get(client, url)
        warm.append(elapsed)
        size = len(response.content)
    return median(cold), median(warm), size


@pytest.mark.django_db
@pytest.mark.parametrize("n_workflows", SIZES)
def test_global_view_benchmark(n_workflows, tmp_path, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.WWT = {**settings.WWT, "sources": {**settings.WWT["sources"], "site_status": None}}
    cache.clear()
    document = demo.generate_error_document(n_workflows, seed=7)
    path, earlier = tmp_path / "all_errors.json", tmp_path / "earlier.json"
    path.write_text(json.dumps(document))
    # A previous snapshot three hours back (for "grew"): every other step failed twice as
    # often then, so about half the workflows grew since.
    earlier.write_text(
        json.dumps(
            {
                step: {
                    code: {site: count * (2 if i % 2 else 1) for site, count in sites.items()}
                    for code, sites in codes.items()
                }
                for i, (step, codes) in enumerate(document.items())
            }
        )
    )
    update_history([str(earlier)], at=timezone.now() - timedelta(hours=3))
    ingest_current_errors(str(path))
    rebuilds = []
    for _ in range(3):
        start = time.perf_counter()
        with transaction.atomic():
            rebuild_snapshot_totals()  # summed by the database: an ingestion sums in memory
        rebuilds.append(time.perf_counter() - start)
    cells = ErrorCount.objects.count()
    print(f"\n== {n_workflows} workflows, {cells} cells")
    report("snapshot totals summed by the database and stored", n_workflows, median(rebuilds))

    # Every tenth workflow has a pending action, as after a busy shift.
    now = timezone.now()
    Action.objects.bulk_create(
        [
            Action(workflow_id=workflow_id, action="acdc", submitted_at=now, served="")
            for workflow_id in Workflow.objects.values_list("id", flat=True)[::10]
        ]
    )
    site = ErrorCount.objects.values_list("site", flat=True).order_by("site").first()
    campaign = Workflow.objects.values_list("campaign", flat=True).order_by("campaign").first()
    filters = f"min_errors=10&no_pending=1&grew=1&hide_campaign={campaign}&hide_site={site}"
    other_choices = ("sort=name", "page=50", "compact=1", f"campaign={campaign}", f"sitename={site}")

    client = Client()
    for pievar in PIEVARS:
        cold, warm, _ = _cold_and_warm(client, f"/globalerror?pievar={pievar}")
        report(f"global view {pievar}, cold", n_workflows, cold, target=COLD_TARGET_S)
        report(f"global view {pievar}, warm", n_workflows, warm)
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            _get(client, f"/globalerror?pievar={pievar}")
        print(f"[bench] global view {pievar}, cold: {len(queries.captured_queries)} queries")
        worst, worst_choice = max(
            (_cold_and_warm(client, f"/globalerror?pievar={pievar}&{choice}")[0], choice)
            for choice in other_choices
        )
        report(f"global view {pievar}, cold, worst other choice", n_workflows, worst, target=COLD_TARGET_S)
        print(f"[bench] (the worst: {worst_choice})")
        # The same page as before this change: every sum over the cells (same run, same load).
        ErrorImport.objects.update(totals_built=False)
        before, _, _ = _cold_and_warm(client, f"/globalerror?pievar={pievar}")
        ErrorImport.objects.update(totals_built=True)
        report(f"global view {pievar}, cold, summing cells (before)", n_workflows, before)
        cold, warm, _ = _cold_and_warm(client, f"/globalerror?pievar={pievar}&{filters}")
        report(f"global view {pievar} + filters, cold", n_workflows, cold)
        report(f"global view {pievar} + filters, warm", n_workflows, warm)
        for compact in ("", "&compact=1"):
            size = len(client.get(f"/globalerror?pievar={pievar}{compact}").content) / 1024
            label = f"global view {pievar}{' compact' if compact else ''}, page 1"
            report(label, n_workflows, size, unit="kB", target=PAGE_TARGET_KB)
