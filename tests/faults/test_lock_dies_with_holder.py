"""Fault: the process holding the ingestion lock is SIGKILLed while it writes.

Before: the lock was a row with a 40-minute expiry, so every later ingestion failed
"another ingestion is running since …" until it expired. Now it dies with its holder."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest
from django.conf import settings
from django.db import connection

from errors import ingestion
from errors.models import ErrorCount

HOLDER = textwrap.dedent(
    """
    import sys, time, django
    django.setup()
    from errors.ingestion import ingestion_lock
    with ingestion_lock():
        print("holding", flush=True)  # from here on it "writes" until it is killed
        time.sleep(120)
    """
)


def _database_url() -> str:
    # The subprocess joins the test database (PostgreSQL pass) or needs none (SQLite: a file lock).
    if connection.vendor != "postgresql":
        return ""
    db = connection.settings_dict
    return f"postgresql://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def holder_process():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "wwt_project.settings",
        "DATABASE_URL": _database_url(),
        "WWT_LOCK_DIR": str(settings.WWT_LOCK_DIR),
    }
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER], env=env, stdout=subprocess.PIPE, cwd=settings.BASE_DIR, text=True
    )
    try:
        assert process.stdout.readline().strip() == "holding"
        yield process
    finally:
        process.kill()
        process.wait(timeout=10)


@pytest.mark.pg_too
@pytest.mark.django_db(transaction=True)
def test_an_ingestion_killed_mid_write_blocks_the_next_one_not_at_all(holder_process, tmp_path):
    document = tmp_path / "all_errors.json"
    document.write_text('{"/wf_a/TOP-Step_0": {"8001": {"T2_CH_CERN": 3}}}')

    with pytest.raises(ingestion.IngestBusy, match=rf"since .* by process {holder_process.pid} on .*kill"):
        ingestion.ingest_current_errors(str(document))  # the holder is alive: refused at once, named

    holder_process.send_signal(signal.SIGKILL)
    holder_process.wait(timeout=10)

    assert ingestion.ingest_current_errors(str(document)).cells == 1  # at once: no expiry to wait for
    assert ErrorCount.objects.get().count == 3
