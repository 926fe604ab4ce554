"""Ingestion against the real services: a concurrent reader on PostgreSQL, and a real
Celery worker on Redis running the ingestion task. Only in the PostgreSQL pass."""

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection, transaction

from errors import ingestion
from errors.models import ErrorCount, ErrorImport
from tests.conftest import REQUIRE_SERVICES
from workflows import bulk

pytestmark = pytest.mark.needs_services

ROOT = Path(__file__).resolve().parents[2]
WF = "pdmvserv_task_EXO-RunIII2024Summer24GS-00310__v1_T_241001_000000_0310"
OLD = {f"/{WF}/EXO-RunIII2024Summer24GS-00310_0": {"8001": {"T2_US_MIT": 7}, "50660": {"T1_DE_KIT": 2}}}
NEW = {f"/{WF}/EXO-RunIII2024Summer24GS-00310_0": {"134": {"T2_CH_CERN": 40}}}


def require_postgresql():
    if connection.vendor != "postgresql":
        message = "needs PostgreSQL (run with DATABASE_URL, as the PostgreSQL pass of `make test` does)"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)


def write(tmp_path, document, name):
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)


def snapshot():
    return sorted(ErrorCount.objects.values_list("exit_code", "site", "count"))


def read_in_another_connection():
    seen = []

    def read():
        try:
            seen.append(snapshot())
        finally:
            connection.close()

    reader = threading.Thread(target=read)
    reader.start()
    reader.join(timeout=30)
    return seen


def test_a_reader_during_a_failing_ingestion_sees_the_previous_snapshot(transactional_db, tmp_path):
    require_postgresql()
    ingestion.ingest_current_errors(write(tmp_path, OLD, "old.json"))
    before = snapshot()
    seen_midway = []

    def progress(phase, done, total):
        # The new rows are written inside the open transaction; look from outside, then fail.
        if phase == ingestion.WRITING and done:
            seen_midway.extend(read_in_another_connection())
            raise RuntimeError("worker killed midway")

    with pytest.raises(RuntimeError):
        ingestion.ingest_current_errors(write(tmp_path, NEW, "new.json"), progress=progress)

    assert seen_midway == [before]
    assert snapshot() == before


def unique_cell_key_exists() -> bool:
    with connection.cursor() as cursor:
        return "unique_current_cell" in connection.introspection.get_constraints(cursor, "errors_errorcount")


def test_a_first_load_takes_the_empty_table_for_itself(transactional_db, tmp_path, monkeypatch):
    require_postgresql()
    taken = []
    lock = bulk._locked_at_once
    monkeypatch.setattr(bulk, "_locked_at_once", lambda table: taken.append(lock(table)) or taken[-1])

    ingestion.ingest_current_errors(write(tmp_path, OLD, "old.json"))

    assert taken[0] is True and unique_cell_key_exists()


def test_a_first_load_does_not_queue_pages_behind_a_long_reader(transactional_db, tmp_path, monkeypatch):
    """A reader holding the empty cells table (a slow page, a report) must not make the first
    load wait, nor every later page wait behind the load's exclusive lock: after a short wait
    the load keeps the table's keys and indexes and writes the plain way."""
    require_postgresql()
    monkeypatch.setattr(bulk, "FIRST_LOAD_LOCK_WAIT", "200ms")
    holding, release, released = threading.Event(), threading.Event(), threading.Event()

    def long_reader():
        try:
            with transaction.atomic():
                list(ErrorCount.objects.all()[:1])  # holds the table's shared lock until commit
                holding.set()
                release.wait(15)
        finally:
            released.set()
            connection.close()

    reader = threading.Thread(target=long_reader)
    reader.start()
    assert holding.wait(10)
    try:
        ingestion.ingest_current_errors(write(tmp_path, OLD, "old.json"))
        finished_while_read = not released.is_set()
    finally:
        release.set()
        reader.join(30)

    assert finished_while_read
    assert snapshot() == [(8001, "T2_US_MIT", 7), (50660, "T1_DE_KIT", 2)]
    assert unique_cell_key_exists()


def test_a_reader_sees_the_new_snapshot_only_after_commit(transactional_db, tmp_path):
    require_postgresql()
    ingestion.ingest_current_errors(write(tmp_path, OLD, "old.json"))
    before = snapshot()
    seen_midway = []

    def progress(phase, done, total):
        if phase == ingestion.WRITING and done == total:
            seen_midway.extend(read_in_another_connection())

    ingestion.ingest_current_errors(write(tmp_path, NEW, "new.json"), progress=progress)

    assert seen_midway == [before]
    assert read_in_another_connection() == [[(134, "T2_CH_CERN", 40)]]


def test_a_real_worker_runs_the_ingestion_task(transactional_db, tmp_path, redis_url):
    require_postgresql()
    db = settings.DATABASES["default"]
    database_url = f"postgresql://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    queue = f"wwt-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
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
        sender.send_task("errors.tasks.refresh_errors", args=[write(tmp_path, OLD, "old.json")], queue=queue)
        deadline = time.monotonic() + 60
        while not ErrorImport.objects.exists() and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.5)
        assert ErrorImport.objects.exists(), "the worker did not ingest within 60 s"
        assert snapshot() == [(8001, "T2_US_MIT", 7), (50660, "T1_DE_KIT", 2)]
    finally:
        worker.terminate()
        try:
            output = worker.communicate(timeout=20)[0].decode(errors="replace")
        except subprocess.TimeoutExpired:
            worker.kill()
            output = worker.communicate()[0].decode(errors="replace")
    assert "Traceback" not in output, output


@pytest.mark.django_db
def test_postgresql_plans_with_the_new_snapshot_size_right_after_a_load(tmp_path):
    require_postgresql()
    steps = {f"/wf_{i}/Task": {"84": {"T2_CH_CERN": 1, "T1_US_FNAL": 2}} for i in range(300)}
    ingestion.ingest_current_errors(write(tmp_path, steps, "all_errors.json"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [ErrorCount._meta.db_table])
        assert cursor.fetchone()[0] == 600
