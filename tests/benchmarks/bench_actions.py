"""Unified's API benchmark: getaction with 10,000 stored actions against a bare DRF endpoint that
returns the same JSON as a constant (same process, same run), and reportaction for 1,000 workflows.

Run: `make bench ARGS="-k actions"` (SQLite) and
     `DATABASE_URL=postgresql://postgres@127.0.0.1:5432/wwt make bench ARGS="-k actions"` (PostgreSQL).
Prints medians in milliseconds and the getaction / bare ratio (target <= 1.5), and the
reportaction median (target <= 100 ms). Requests go through the Django test client, so both
endpoints pay the same middleware and rendering; the difference is the query and building.
"""

import json
import statistics
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import include, path
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from actions.models import Action, ActionKind
from workflows.models import Workflow

STORED = 10_000
PENDING_RECENT = 400  # pending and submitted within 15 days: what Unified is served
REPORTED = 1_000
RUNS = 30
BARE_PAYLOAD: dict = {}


class BareView(APIView):
    """The floor: DRF with nothing to do but render a constant."""

    authentication_classes: list = []
    permission_classes: list = []
    renderer_classes = [JSONRenderer]

    def get(self, request):
        return Response(BARE_PAYLOAD)


urlpatterns = [path("bare", BareView.as_view()), path("", include("actions.urls"))]


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
    return statistics.median(times) * 1000


@pytest.mark.urls("tests.benchmarks.bench_actions")
def test_getaction_against_a_bare_endpoint(db, settings):
    user = User.objects.create(username="alice")
    _store(STORED, prefix="BENCH", pending_recent=PENDING_RECENT, user=user)
    client = Client()
    settings.WWT_ACTIONS_KEY = "k"  # getaction checks the passphrase, as in production
    body = json.dumps({"key": "k"})

    def getaction(query):
        return lambda: client.generic("GET", f"/getaction?{query}", body, content_type="application/json")

    served = getaction("days=15")().json()
    assert len(served) == PENDING_RECENT
    assert all(entry["Action"] in ("acdc", "clone") and entry["Parameters"] for entry in served.values())
    BARE_PAYLOAD.clear()
    BARE_PAYLOAD.update(served)
    bare = lambda: client.get("/bare")  # noqa: E731
    assert bare().json() == served

    bare_ms = _median_ms(bare)
    unified_ms = _median_ms(getaction("days=15"))
    print(
        f"\ngetaction?days=15 ({STORED} stored, {PENDING_RECENT} served): median {unified_ms:.2f} ms; "
        f"bare DRF constant of the same JSON: {bare_ms:.2f} ms; ratio {unified_ms / bare_ms:.2f} (target <= 1.5)"
    )
    BARE_PAYLOAD.clear()
    BARE_PAYLOAD["ok"] = True
    tiny_ms = _median_ms(bare)
    print(f"bare DRF constant {{'ok': true}} (request overhead alone): {tiny_ms:.2f} ms")

    everything = getaction("acted=-1")().json()
    assert len(everything) == STORED
    BARE_PAYLOAD.clear()
    BARE_PAYLOAD.update(everything)
    all_bare_ms = _median_ms(bare, runs=7)
    all_ms = _median_ms(getaction("acted=-1"), runs=7)
    print(
        f"getaction?acted=-1 (all {STORED} served): median {all_ms:.1f} ms; "
        f"bare: {all_bare_ms:.1f} ms; ratio {all_ms / all_bare_ms:.2f}"
    )


@pytest.mark.urls("tests.benchmarks.bench_actions")
def test_reportaction_for_1000_workflows(transactional_db, settings):
    settings.WWT_ACTIONS_KEY = "bench-key"
    user = User.objects.create(username="alice")
    names = _store(REPORTED, prefix="REPORT", pending_recent=REPORTED, user=user)
    _store(STORED - REPORTED, prefix="OTHER", pending_recent=0, user=user)
    client = Client()
    body = json.dumps({"key": "bench-key", "workflows": names})
    times = []
    for _ in range(15):
        # Every run marks 1,000 pending actions; committed rows and a vacuum between runs, as
        # in production, rather than 15 versions of each row piling up in one transaction.
        Action.objects.filter(workflow__name__in=names).update(reported_at=None)
        with connection.cursor() as cursor:
            cursor.execute(
                "VACUUM ANALYZE actions_action" if connection.vendor == "postgresql" else "ANALYZE"
            )
        start = time.perf_counter()
        reply = client.post("/reportaction", body, content_type="application/json").json()
        times.append(time.perf_counter() - start)
        assert len(reply["success"]) == REPORTED
    print(
        f"\nreportaction of {REPORTED} workflows ({STORED} stored): median {statistics.median(times) * 1000:.1f} ms "
        "(target <= 100 ms)"
    )
