"""Unified's API benchmark at each size of targets.SIZES (actions stored): getaction serving
400 pending actions against a bare Django view returning the same bytes (the floor, same
process, same run), and reportaction for 1,000 workflows.

Run: `make bench ARGS="-k actions"` (SQLite) and
     `DATABASE_URL=postgresql://postgres@127.0.0.1:5432/wwt make bench ARGS="-k actions"` (PostgreSQL).
Targets (issue #16): a warm getaction <= 1.3x the bare view; reportaction <= 100 ms. The warm
line polls as a busy server is polled, within the lease on the version token (no query); the
"version read" line is a warm poll once the lease has run out (one query: what every poll of
Unified's, 5 minutes apart, costs); the cold line is a poll just after a write (the reply built
from the database). Requests go through the Django test client, so both endpoints pay the same
middleware. Also printed, per request: database queries and Python function calls (cProfile),
which do not depend on how busy the machine is.
"""

import cProfile
import json
import pstats
import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.urls import include, path
from django.utils import timezone

from accounts.models import User
from actions import served
from actions.models import Action, ActionKind, ServedTokenLease, forget_served_actions
from workflows.models import Workflow

from .targets import SIZES, median, report

PENDING_RECENT = 400  # pending and submitted within 15 days: what Unified is served
REPORTED = 1_000
RUNS = 30
BARE_BYTES = [b"{}"]


def bare(request):
    """The floor: a Django view with nothing to do but return the same bytes."""
    return HttpResponse(BARE_BYTES[0], content_type="application/json")


urlpatterns = [path("bare", bare), path("", include("actions.urls"))]


def _acdc_parameters(name: str) -> dict:
    return {
        f"{name[:40]}_0": {
            "sites": ["T1_US_FNAL", "T2_CH_CERN"],
            "memory": 4000,
            "multicore": 4,
            "xrootd": "enabled",
        },
        f"{name[:40]}_0/{name[:40]}_0MergeRAWSIMoutput": {"sites": ["T2_CH_CERN"], "memory": 4000},
    }


def _store(n: int, *, prefix: str, pending_recent: int, user) -> list[str]:
    now = timezone.now()
    workflows = Workflow.objects.bulk_create(
        [
            Workflow(name=f"pdmvserv_task_{prefix}-{i:05d}__v1_T_240115_123456_{i}", prep_id=prefix)
            for i in range(n)
        ],
        batch_size=900,
    )
    actions = []
    for i, workflow in enumerate(workflows):
        recent = i < pending_recent
        submitted = now - (timedelta(hours=i % 300) if recent else timedelta(days=16 + i % 200))
        actions.append(
            Action(
                workflow=workflow,
                action=ActionKind.ACDC if i % 3 else ActionKind.CLONE,
                parameters=_acdc_parameters(workflow.name) if i % 3 else {"memory": 3000, "comment": "retry"},
                reasons=[{"short": "memory", "long": "Jobs exceed the memory limit (50660)."}],
                acdcs=[],
                user=user,
                submitted_at=submitted,
                reported_at=None if recent else submitted + timedelta(hours=1),
            )
        )
    for action in actions:
        action.render_served(username=user.username, workflow_name=action.workflow.name)
    Action.objects.bulk_create(actions, batch_size=900)
    with connection.cursor() as cursor:
        # Planner statistics, as autovacuum keeps them in production (the rows are uncommitted here).
        cursor.execute("ANALYZE")
    return [wf.name for wf in workflows]


def _median_ms(func, runs: int = RUNS) -> float:
    func()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return median(times) * 1000


def _interleaved_ms(first, second, runs: int = 5 * RUNS) -> tuple[float, float]:
    """Medians (ms) of `first` and `second` timed in turn, so a machine busy with other work
    slows both alike."""
    first(), second()
    times: tuple[list, list] = ([], [])
    for _ in range(runs):
        for func, kept in zip((first, second), times, strict=True):
            start = time.perf_counter()
            func()
            kept.append(time.perf_counter() - start)
    return median(times[0]) * 1000, median(times[1]) * 1000


def _counted(func, runs: int = 1000) -> tuple[float, float]:
    """Database queries and Python function calls per call of `func`, over `runs` calls."""
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    # An execute wrapper, not CaptureQueriesContext: each request starts a new query log.
    with connection.execute_wrapper(count):
        for _ in range(runs):
            func()
    profile = cProfile.Profile()
    profile.runcall(lambda: [func() for _ in range(runs)])
    return len(queries) / runs, pstats.Stats(profile).total_calls / runs


@pytest.mark.urls("tests.benchmarks.bench_actions")
@pytest.mark.parametrize("stored", SIZES)
def test_getaction_against_a_bare_view(stored, db, settings, monkeypatch):
    user = User.objects.create(username="alice")
    _store(stored, prefix="BENCH", pending_recent=min(PENDING_RECENT, stored), user=user)
    client = Client()
    settings.WWT_ACTIONS_KEY = "k"  # getaction checks the passphrase, as in production
    body = json.dumps({"key": "k"})

    def getaction(query):
        return lambda: client.generic("GET", f"/getaction?{query}", body, content_type="application/json")

    reply = getaction("days=15")()
    served_now = reply.json()
    assert len(served_now) == min(PENDING_RECENT, stored)
    assert all(entry["Action"] in ("acdc", "clone") and entry["Parameters"] for entry in served_now.values())
    BARE_BYTES[0] = reply.content
    assert client.get("/bare").content == reply.content
    # The bare view gets the same query string and body, so both pay the same request parsing.
    def bare():
        return client.generic("GET", "/bare?days=15", body, content_type="application/json")

    bare_ms, warm_ms = _interleaved_ms(bare, getaction("days=15"))
    counts = {"bare view": _counted(bare), "getaction, warm": _counted(getaction("days=15"))}
    with monkeypatch.context() as lease:
        lease.setattr(ServedTokenLease, "seconds", 0)  # every poll reads the version
        read_bare_ms, read_ms = _interleaved_ms(bare, getaction("days=15"))
        counts["getaction, version read"] = _counted(getaction("days=15"))

    cold = []
    for _ in range(RUNS // 3):
        forget_served_actions()
        served._kept.clear()
        cache.clear()
        start = time.perf_counter()
        getaction("days=15")()
        cold.append(time.perf_counter() - start)
    measure = f"getaction days=15, {min(PENDING_RECENT, stored)} served"
    report(f"{measure}, warm", stored, warm_ms, "ms", floor=bare_ms, floor_name="bare view, same bytes",
           floor_target_ratio=1.3)  # fmt: skip
    report(f"{measure}, version read", stored, read_ms, "ms", floor=read_bare_ms,
           floor_name="bare view, same bytes", floor_target_ratio=1.3)  # fmt: skip
    report(f"{measure}, after a write", stored, median(cold) * 1000, "ms", floor=bare_ms,
           floor_name="bare view, same bytes")  # fmt: skip
    for name, (queries, calls) in counts.items():
        print(f"[bench] {name}: {queries:.3f} queries, {calls:,.0f} Python calls per request")
    print(f"[bench] reply {len(reply.content) / 1024:.0f} kB; {connection.vendor}")


@pytest.mark.urls("tests.benchmarks.bench_actions")
@pytest.mark.parametrize("stored", SIZES)
def test_reportaction_for_1000_workflows(stored, transactional_db, settings):
    settings.WWT_ACTIONS_KEY = "bench-key"
    user = User.objects.create(username="alice")
    reported = min(REPORTED, stored)
    names = _store(reported, prefix="REPORT", pending_recent=reported, user=user)
    _store(stored - reported, prefix="OTHER", pending_recent=0, user=user)
    client = Client()
    body = json.dumps({"key": "bench-key", "workflows": names})
    times = []
    for _ in range(15):
        # Every run marks the pending actions; committed rows and a vacuum between runs, as
        # in production, rather than 15 versions of each row piling up in one transaction.
        Action.objects.filter(workflow__name__in=names).update(reported_at=None)
        with connection.cursor() as cursor:
            cursor.execute(
                "VACUUM ANALYZE actions_action" if connection.vendor == "postgresql" else "ANALYZE"
            )
        start = time.perf_counter()
        reply = client.post("/reportaction", body, content_type="application/json").json()
        times.append(time.perf_counter() - start)
        assert len(reply["success"]) == reported
    report(f"reportaction of {reported} workflows", stored, median(times) * 1000, "ms", target=100)
