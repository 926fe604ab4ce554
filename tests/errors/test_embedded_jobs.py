"""The embedded default runs scheduled jobs too: beat + worker on the file-system broker
and SQLite, as `make run` starts them, with no server at all."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WF = "pdmvserv_task_BPH-Run3Summer22EEGS-00077__v1_T_241101_000000_0077"
DOC = {f"/{WF}/BPH-Run3Summer22EEGS-00077_0": {"8021": {"T2_IT_Pisa": 3}}}

SCHEDULE_EVERY_SECOND = """
import json, sys
from django_celery_beat.models import IntervalSchedule, PeriodicTask
every = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.SECONDS)
PeriodicTask.objects.create(name="test refresh", task="errors.tasks.refresh_errors",
                            interval=every, args=json.dumps([sys.argv[-1]]))
"""
COUNT_IMPORTS = "from errors.models import ErrorImport; print(ErrorImport.objects.count())"


def test_beat_fires_the_ingestion_task_through_a_worker_without_servers(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "WWT_CELERY_EAGER")}
    env["WWT_VAR_DIR"] = str(tmp_path / "var")
    document = tmp_path / "all_errors.json"
    document.write_text(json.dumps(DOC))

    def manage(*args):
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert manage("migrate", "--noinput").returncode == 0
    setup = manage("shell", "-c", SCHEDULE_EVERY_SECOND.replace("sys.argv[-1]", repr(str(document))))
    assert setup.returncode == 0, setup.stderr

    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "wwt_project", "worker", "--beat", "--pool=solo",
         "--loglevel=INFO", f"--schedule={tmp_path / 'beat-schedule'}"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        imports = 0
        deadline = time.monotonic() + 90
        while imports == 0 and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(2)
            imports = int(manage("shell", "-c", COUNT_IMPORTS).stdout.split()[-1])
    finally:
        worker.terminate()
        try:
            log = worker.communicate(timeout=20)[0].decode(errors="replace")
        except subprocess.TimeoutExpired:
            worker.kill()
            log = worker.communicate()[0].decode(errors="replace")
    assert imports >= 1, f"no ingestion ran within 90 s; worker log:\n{log[-3000:]}"
    assert "Sending due task test refresh (errors.tasks.refresh_errors)" in log
    assert "filesystem://" in log
