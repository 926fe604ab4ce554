"""Reclustering through a real Celery worker on Redis and PostgreSQL (PostgreSQL pass only)."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml
from celery import Celery
from django.conf import settings
from django.db import connection

from clustering.models import ClusterMembership, ReclusteringJob
from tests.clustering.conftest import add_errors
from tests.conftest import REQUIRE_SERVICES

pytestmark = pytest.mark.needs_services

ROOT = Path(__file__).resolve().parents[2]


def require_postgresql():
    # The worker is another process: it must reach the test database, which SQLite's
    # per-test transaction and file do not give it. Only the PostgreSQL pass runs this.
    if connection.vendor != "postgresql":
        message = "needs PostgreSQL (run with DATABASE_URL, as the PostgreSQL pass of `make test` does)"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)


def test_a_real_worker_reclusters_and_stores_the_clusters(transactional_db, tmp_path, redis_url):
    require_postgresql()
    add_errors("wf_alpha", [(50660, "T2_CH_CERN", 10)])
    add_errors("wf_beta", [(50660, "T2_CH_CERN", 12)])
    add_errors("wf_gamma", [(8028, "T1_US_FNAL", 30)])
    job = ReclusteringJob.objects.create()

    db = settings.DATABASES["default"]
    user = db["USER"] or "postgres"
    database_url = f"postgresql://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    config = tmp_path / "config.yml"
    models = tmp_path / "models"
    config.write_text(
        yaml.safe_dump({"clustering": {"n_clusters": 2, "n_init": 4, "model_dir": str(models)}})
    )
    queue = f"wwt-test-{uuid.uuid4().hex[:8]}"  # never steal (or get stolen) other tests' tasks
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "WWT_CONFIG": str(config),
        "WWT_VAR_DIR": str(tmp_path / "var"),
    }
    env.pop("WWT_CELERY_EAGER", None)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "wwt_project", "worker", "--pool=solo", "-Q", queue,
         "--loglevel=WARNING", "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        sender = Celery(broker=redis_url)
        sender.signature("clustering.tasks.recluster", args=[job.pk]).apply_async(queue=queue)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and worker.poll() is None:
            job.refresh_from_db()
            if job.state in (ReclusteringJob.State.DONE, ReclusteringJob.State.FAILED):
                break
            time.sleep(0.5)
    finally:
        worker.terminate()
        try:
            output = worker.communicate(timeout=20)[0].decode(errors="replace")
        except subprocess.TimeoutExpired:
            worker.kill()
            output = worker.communicate()[0].decode(errors="replace")
    assert job.state == ReclusteringJob.State.DONE, f"job {job.state}: {job.message}\n{output}"
    clusters = dict(ClusterMembership.objects.filter(clustering=job).values_list("workflow__name", "cluster"))
    assert clusters["wf_alpha"] == clusters["wf_beta"] != clusters["wf_gamma"]
    assert Path(job.model_file).parent == models and Path(job.model_file).exists()
    assert "Traceback" not in output, output
