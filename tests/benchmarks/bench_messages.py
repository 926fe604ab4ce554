"""Errors by message at 1,000 / 5,000 / 20,000 generated workflows (targets.SIZES), every
workflow with its log samples stored as a fetch stores them (demo job details, WMStats' shape).

Run on PostgreSQL (the targets are for it):
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/wwt BENCH_SIZES=1000,5000 \
        .venv/bin/python -m pytest -q -s -p no:randomly tests/benchmarks/bench_messages.py
Prints, per size:
- storing one fetched sample set (the biggest workflow's): the grouping alone
  (`store_message_groups`) cold (first call) and warm, and the whole `refresh_log_samples`
  against its floor, the same store without grouping;
- the top-messages page and a message's workflow list through the test client: cold (cache
  empty: built from the database) and warm (served from the per-snapshot cache). Target: the
  global view's, 300 ms; floor: /globalerror's warm time in the same run.
"""

import json
import random
import statistics
import time
from collections import defaultdict

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client

from errors import demo, log_samples
from errors.ingestion import ingest_current_errors
from errors.models import LogSample, MessageGroup
from workflows import sources
from workflows.models import Workflow

from .targets import SIZES, report

RUNS = 10
PAGE_TARGET_MS = 300


def _ms(func) -> float:
    start = time.perf_counter()
    func()
    return (time.perf_counter() - start) * 1000


def _fill_samples(document: dict, monkeypatch, settings) -> dict[str, dict]:
    """Store every workflow's log samples through refresh_log_samples, WMStats answering
    from demo job details. Returns the answers by workflow."""
    steps: dict[str, dict] = defaultdict(dict)
    for step, codes in document.items():
        steps[step.split("/")[1]][step] = codes
    rng = random.Random(7)
    statuses = demo.generate_site_status(seed=7)
    answers = {
        name: demo._job_detail(rng, name, workflow_steps, statuses) for name, workflow_steps in steps.items()
    }
    settings.WWT = {
        **settings.WWT,
        "sources": {**settings.WWT["sources"], "wmstats": "http://wmstats.invalid"},
    }
    monkeypatch.setattr(sources, "get_json", lambda url, **kwargs: answers[url.rsplit("/", 1)[1]])
    for workflow in Workflow.objects.all():
        log_samples.refresh_log_samples(workflow)
    return answers


@pytest.mark.django_db
@pytest.mark.parametrize("n_workflows", SIZES)
def test_messages_benchmark(n_workflows, tmp_path, settings, monkeypatch):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    path = tmp_path / "all_errors.json"
    document = demo.generate_error_document(n_workflows, seed=7)
    path.write_text(json.dumps(document))
    ingest_current_errors(str(path))
    start = time.perf_counter()
    _fill_samples(document, monkeypatch, settings)
    print(
        f"\n== {connection.vendor}, {n_workflows} workflows: {LogSample.objects.count()} samples in "
        f"{MessageGroup.objects.count()} workflow message groups "
        f"({MessageGroup.objects.values('message_key').distinct().count()} messages), "
        f"stored in {time.perf_counter() - start:.1f} s"
    )

    # Storing one fetched set: the biggest workflow's.
    biggest = max(Workflow.objects.all(), key=lambda w: w.steps.filter(log_samples__isnull=False).count())
    stored = list(LogSample.objects.filter(step__workflow=biggest).order_by("id"))
    cold = _ms(lambda: log_samples.store_message_groups(biggest, stored))
    grouping = [_ms(lambda: log_samples.store_message_groups(biggest, stored)) for _ in range(RUNS)]
    report(f"messages: group one fetched set ({len(stored)} samples) cold", n_workflows, cold, "ms")
    report(
        f"messages: group one fetched set ({len(stored)} samples) warm",
        n_workflows,
        statistics.median(grouping),
        "ms",
    )
    with_grouping = [_ms(lambda: log_samples.refresh_log_samples(biggest)) for _ in range(RUNS)]
    monkeypatch.setattr(log_samples, "store_message_groups", lambda workflow, samples: 0)
    without = [_ms(lambda: log_samples.refresh_log_samples(biggest)) for _ in range(RUNS)]
    monkeypatch.undo()
    report(
        "messages: store one fetched set",
        n_workflows,
        statistics.median(with_grouping),
        "ms",
        floor=statistics.median(without),
        floor_name="the same store without grouping",
    )

    client = Client()
    # The global view's warm time in the same run: a floor that shows what the machine's
    # load does to every page (the 2-core test machine is shared).
    assert client.get("/globalerror?pievar=errorcode").status_code == 200
    floor = statistics.median([_ms(lambda: client.get("/globalerror?pievar=errorcode")) for _ in range(RUNS)])
    top_key = MessageGroup.objects.values("message_key").order_by("-samples").first()["message_key"]
    pages = {
        "/messages": "top messages page",
        "/messages?sort=workflows&page=2": "top messages page 2 by workflows",
    }
    pages[f"/messages/{top_key}"] = "a message's workflows"
    for url, name in pages.items():
        colds = []
        for _ in range(5):
            cache.clear()
            colds.append(_ms(lambda url=url: client.get(url)))
        assert client.get(url).status_code == 200
        warms = [_ms(lambda url=url: client.get(url)) for _ in range(RUNS)]
        extra = {"target": PAGE_TARGET_MS, "floor": floor, "floor_name": "/globalerror warm"}
        report(f"messages: {name} cold", n_workflows, statistics.median(colds), "ms", **extra)
        report(f"messages: {name} warm", n_workflows, statistics.median(warms), "ms", **extra)
