"""/seeworkflow with every outside source answering after 5 s, against instant sources.

    make bench ARGS="-k slow_sources"
Prints the warm median of 10 server times (ms, through the Django test client) of the workflow
page with instant sources and with every source (WMStats, ReqMgr2, the ACDC server, the site
status, the log server) a local server answering after 5 s, their ratio, and how many requests
the slow server got from the page views (0: pages read what the refresh stored). Before issue
14 the page asked them one after another: up to ~20 s with 5 s sources.
"""

import json
import statistics
import time

import pytest
from django.core.cache import cache
from django.test import Client

from errors import demo
from errors.ingestion import ingest_current_errors
from errors.log_samples import refresh_log_samples
from tests.workflows.fake_sources import (
    ACDC_VIEW,
    FakeSources,
    acdc_answer,
    configure,
    jobdetail_answer,
    logs_answer,
    reqmgr2_answer,
)
from workflows import services
from workflows.models import Workflow

RUNS = 10
SLOW_SECONDS = 5.0


def _answer_everything(server: FakeSources, name: str, task: str) -> None:
    """Every source in the shapes of SOURCES.md, about the measured workflow."""
    server.routes["/reqmgr2/data/request"] = (200, reqmgr2_answer(name))
    server.routes[f"/wmstatsserver/data/jobdetail/{name}"] = (200, jobdetail_answer())
    server.routes[ACDC_VIEW] = (200, acdc_answer(name, {task: {"/store/a.root": ["T2_CH_CERN"]}}))
    server.routes["/status.json"] = (200, {"T2_CH_CERN": "drain", "T1_US_FNAL": "enabled"})
    server.routes["/wmarchive-*/_search"] = (200, logs_answer())


def _point_sources_at(settings, server: FakeSources) -> None:
    url = server.url
    configure(
        settings,
        wmstats=url,
        reqmgr2=url,
        acdc=url,
        logs=url,
        site_status=url + "/status.json",
        timeout_seconds=SLOW_SECONDS * 2,
    )


def _median_ms(client: Client, url: str) -> float:
    assert client.get(url).status_code == 200, url  # warm
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    return statistics.median(times)


@pytest.mark.django_db
def test_the_workflow_page_does_not_wait_on_slow_sources(tmp_path, settings, verified_operator):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    path = tmp_path / "all_errors.json"
    path.write_text(json.dumps(demo.generate_error_document(200, seed=7)))
    ingest_current_errors(str(path))
    workflow = Workflow.objects.order_by("id").first()
    task = workflow.steps.order_by("name").first().name.split("/", 2)[2]
    client = Client()
    client.force_login(verified_operator)
    url = f"/seeworkflow?workflow={workflow.name}"

    with FakeSources() as instant, FakeSources() as slow:
        for server in (instant, slow):
            _answer_everything(server, workflow.name, task)
        slow.delay_seconds = SLOW_SECONDS
        # What the refresh job stores, from the instant sources.
        _point_sources_at(settings, instant)
        services.refresh_site_statuses()
        services.refresh_request_parameters([workflow.id])
        services.refresh_recovery_locations([workflow.id])
        refresh_log_samples(workflow)
        fast_ms = _median_ms(client, url)
        _point_sources_at(settings, slow)
        slow_ms = _median_ms(client, url)
        asked = len(slow.requests)

    print(
        f"\n== /seeworkflow, median of {RUNS}: instant sources {fast_ms:.1f} ms, "
        f"sources answering after {SLOW_SECONDS:.0f} s {slow_ms:.1f} ms, ratio {slow_ms / fast_ms:.2f}; "
        f"requests to the slow sources: {asked}"
    )
    assert asked == 0
