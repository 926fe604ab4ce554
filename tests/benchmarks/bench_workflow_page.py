"""The workflow page (/seeworkflow) at each size of targets.SIZES, clustered and with a trained
predictor, as a verified operator sees it (the action form included).

Run: `DATABASE_URL=postgresql://postgres@127.0.0.1:5432/wwt make bench ARGS="-k workflow_page"`
(with WWT_TEST_REDIS_URL=redis://... the page caches live in Redis, as in production; else in
local memory). Per size: the warm median of RUNS server times through the Django test client
(middleware, queries, rendering), and the HTML size. The page shown is the one of the workflow
with the most error cells in the biggest cluster: the longest similar list.
Targets (issue #16): warm <= 10 ms at 20k, flat in N; <= 100 kB at 5k.
"""

import copy
import json
import os
import time
from contextlib import contextmanager

import pytest
from django.core.cache import cache
from django.db import connection
from django.db.models import Count
from django.template.base import Template
from django.test import Client
from django.test.utils import CaptureQueriesContext, _TestState

from clustering import jobs, prediction
from clustering.models import ClusterMembership
from errors.demo import generate_error_document
from errors.ingestion import ingest_current_errors
from tests.clustering.synthetic import make_action_history
from workflows.models import Workflow

from .targets import SIZES, median, report

RUNS = 15
ACTION_HISTORY = 200


@pytest.fixture
def page_settings(settings, tmp_path):
    redis_url = os.environ.get("WWT_TEST_REDIS_URL")
    if redis_url:
        settings.CACHES = {"default": {"BACKEND": "wwt_project.cache.FailSoftRedisCache", "LOCATION": redis_url}}
    cache.clear()
    config = copy.deepcopy(settings.WWT)
    config["clustering"]["model_dir"] = str(tmp_path / "models")
    # Outside sources are not configured here: the figures are our own work only.
    config["sources"] = {**config["sources"], "site_status": None}
    settings.WWT = config


def biggest_clusters_workflow() -> Workflow:
    cluster = (
        ClusterMembership.objects.values("cluster").annotate(size=Count("id")).order_by("-size").first()
    )["cluster"]
    return (
        Workflow.objects.filter(cluster_membership__cluster=cluster)
        .annotate(cells=Count("steps__errors"))
        .order_by("-cells", "name")
        .first()
    )


@contextmanager
def production_templates():
    """Templates rendered as in production: the test environment wraps every render to copy
    its context for `response.context`, which costs more than the page's own work."""
    instrumented = Template._render
    Template._render = _TestState.saved_data.template_render
    try:
        yield
    finally:
        Template._render = instrumented


def warm_median(client: Client, url: str) -> tuple[float, float]:
    """Median wall-clock and CPU (this process: Python and the driver, not the database
    server) milliseconds of a request; CPU is the steadier one on a busy machine."""
    times, cpu = [], []
    for _ in range(RUNS):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        assert response.status_code == 200
    return median(times), median(cpu)


@pytest.mark.django_db
@pytest.mark.parametrize("size", SIZES)
def test_workflow_page(size, page_settings, verified_operator, tmp_path):
    path = tmp_path / "all_errors.json"
    path.write_text(json.dumps(generate_error_document(size, seed=7)))
    ingest_current_errors(str(path))
    make_action_history(ACTION_HISTORY)
    prediction.train_predictor()
    jobs.recluster_workflows()
    workflow = biggest_clusters_workflow()
    url = f"/seeworkflow?workflow={workflow.name}"
    anonymous, operator = Client(), Client()
    operator.force_login(verified_operator)
    with production_templates():
        start = time.perf_counter()
        assert anonymous.get(url).status_code == 200
        cold = (time.perf_counter() - start) * 1000
    response = operator.get(url)  # instrumented: its context says what the page held
    panel = response.context["similar_panel"]
    with CaptureQueriesContext(connection) as queries:
        operator.get(url)
    warm_queries = len(queries.captured_queries)  # the next request clears the log
    with CaptureQueriesContext(connection) as queries:
        anonymous.get(url)
    anonymous_queries = len(queries.captured_queries)
    with production_templates():
        floor, _ = warm_median(anonymous, "/favicon.ico")
        anonymous_ms, anonymous_cpu = warm_median(anonymous, url)
        operator_ms, operator_cpu = warm_median(operator, url)
    print(
        f"\n== {connection.vendor}, {size} workflows: {workflow.name}, cold {cold:.1f} ms, "
        f"warm: {anonymous_queries} queries and {anonymous_cpu:.1f} ms CPU (anonymous), "
        f"{warm_queries} queries and {operator_cpu:.1f} ms CPU (operator), {panel.total} similar "
        f"({len(panel.similar)} shown)"
    )
    floor_name = "/favicon.ico through the same middleware"
    report("workflow page, warm, anonymous", size, anonymous_ms, "ms", target=10, floor=floor, floor_name=floor_name)
    report("workflow page, warm, operator (form)", size, operator_ms, "ms", target=10, floor=floor,
           floor_name=floor_name)  # fmt: skip
    report("workflow page, HTML size (operator)", size, len(operator.get(url).content) / 1024, "kB", target=100)
