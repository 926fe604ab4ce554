"""A task for the worker fault test only (the worker imports it with --include)."""

import os
import signal
from pathlib import Path

from wwt_project.celery import app


@app.task(name="tests.faults.die_on_first_run", ignore_result=True)
def die_on_first_run(directory: str) -> None:
    """Record a run; on the first one, die the way the OOM killer kills a pool child."""
    runs = Path(directory) / "runs"
    with runs.open("a") as out:
        out.write(f"{os.getpid()}\n")
    if len(runs.read_text().split()) == 1:
        os.kill(os.getpid(), signal.SIGKILL)
