"""Fault: the OOM killer kills the worker's pool child during a task.

Before: tasks were acknowledged when they started, so the killed one was lost (and a killed
worker's task stayed invisible for an hour). Now it is acknowledged when it ends and given back
to the queue when its child dies, so it runs again."""

import os
import subprocess
import sys
import time

import pytest
from django.conf import settings

from wwt_project.celery import app

pytestmark = pytest.mark.pg_too


@pytest.fixture
def worker(throwaway_redis, tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "wwt_project.settings",
        "REDIS_URL": throwaway_redis.url,
        "DATABASE_URL": "",  # the task touches no database: the worker's own SQLite file
        "WWT_VAR_DIR": str(tmp_path / "var"),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "wwt_project",
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "--include=tests.faults.celery_tasks",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
        ],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_a_task_whose_pool_child_is_killed_runs_again(throwaway_redis, use_broker, worker, tmp_path):
    use_broker(throwaway_redis.url)
    app.send_task("tests.faults.die_on_first_run", args=[str(tmp_path)])

    runs = tmp_path / "runs"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(runs.read_text().split() if runs.exists() else []) < 2:
        time.sleep(0.2)
    pids = runs.read_text().split() if runs.exists() else []
    assert len(pids) == 2, (
        f"ran {len(pids)} time(s); worker said: {worker.stderr.read() if worker.poll() else ''}"
    )
    assert pids[0] != pids[1]  # the second run is in a new pool child
