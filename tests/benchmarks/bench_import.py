"""Import benchmark: the original tool's stores at the size of a busy installation.

Run: `make bench ARGS="-k import"` (SQLite) and
     `DATABASE_URL=postgresql://postgres@127.0.0.1:5432/wwt make bench ARGS="-k import"` (PostgreSQL).
A history database of 100,000 rows and 10,000 action documents (mongoexport JSON lines: acdc
with named tasks and sites, AllSteps, clone, special and never-valid ones), imported into empty
tables and then again (nothing to add). Prints the medians of a few runs per store.
"""

import json
import random
import sqlite3
import statistics
import time
from datetime import UTC, datetime

import pytest
from django.db import connection

from actions import legacy_import as actions_import
from actions.models import Action, ActionSubmission, Reason
from errors import legacy_import as history_import
from errors.models import ErrorHistory, ErrorImport
from workflows.models import Step, Workflow

RUNS = 3
HISTORY_ROWS = 100_000
ACTIONS = 10_000
SITES = ["T1_US_FNAL", "T2_CH_CERN", "T2_US_MIT", "T2_DE_DESY", "T2_IT_Pisa", "T1_DE_KIT", "T2_UK_London_IC"]
CODES = [-1, 134, 8001, 8004, 50660, 50664, 61202, 71104, 99303]
TASKS = ["StepOne", "StepOne/StepOneMergeAODSIMoutput", "StepTwo", "StepOne/LogCollect"]
AT = datetime(2021, 6, 30, 12, 0, tzinfo=UTC)


def _workflow(number: int) -> str:
    return f"pdmvserv_task_HIG-RunIISummer20UL18wmLHEGEN-{number:05d}__v1_T_210601_120000_{number:04d}"


def _history_store(path) -> str:
    rng = random.Random(3)
    rows, seen = [], set()
    while len(rows) < HISTORY_ROWS:
        step = f"/{_workflow(rng.randrange(ACTIONS))}/{rng.choice(TASKS)}"
        code, site = rng.choice(CODES), rng.choice(SITES)
        if (step, code, site) not in seen:
            seen.add((step, code, site))
            readiness = rng.choice(["green", "yellow", "red", "none"])
            rows.append((f"{step}_{site}_{code}", step, code, site, rng.randint(1, 500), readiness))
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE workflows (fullkey varchar(1023) UNIQUE, stepname varchar(255), errorcode int, "
        "sitename varchar(255), numbererrors int, sitereadiness varchar(15))"
    )
    db.executemany("INSERT INTO workflows VALUES (?, ?, ?, ?, ?, ?)", rows)
    db.commit()
    db.close()
    return str(path)


def _document(number: int, rng: random.Random) -> dict:
    workflow = _workflow(number)
    kind = rng.random()
    sites = sorted(rng.sample(SITES, 2))
    if kind < 0.6:
        action = "acdc"
        parameters = {
            task: {
                "memory": str(rng.choice([2000, 3000, 4000, 8000])),
                "cores": rng.choice(["", "4", "8"]),
                "xrootd": rng.choice(["", "enabled"]),
                "secondary": "",
                "splitting": rng.choice(["", "2x"]),
                "group": "",
                "sites": [f"{site}_Disk" for site in sites],
                "bad_sites": [],
            }
            for task in TASKS[:2]
        }
    elif kind < 0.8:
        action = "acdc"
        parameters = {
            "AllSteps": {"memory": "", "cores": "", "xrootd": "enabled", "sites": sites, "bad_sites": []}
        }
    elif kind < 0.9:
        action, parameters = "clone", {"memory": str(rng.choice([3000, 4000])), "cores": "", "splitting": ""}
    elif kind < 0.95:
        action, parameters = "special", {"action": "force-complete", "other": ""}
    else:
        action, parameters = "automatic-wait", {}
    return {
        "_id": {"$oid": f"{number:024x}"},
        "workflow": workflow,
        "workflowid": workflow.replace("-", "_"),
        "timestamp": 1625000000 + number,
        "acted": rng.choice([0, 1]),
        "parameters": {
            "Action": action,
            "Parameters": parameters,
            "Reasons": [rng.choice(["Jobs ran out of memory.<br>Raise it.", "Site trouble."])],
            "user": rng.choice(["dabercro", "jdoe", "ops1"]),
            "ACDCs": [],
        },
    }


def _actions_store(path) -> str:
    rng = random.Random(5)
    path.write_text("\n".join(json.dumps(_document(n, rng)) for n in range(ACTIONS)) + "\n")
    return str(path)


def _empty():
    for model in (Action, ActionSubmission, Reason, ErrorHistory, ErrorImport, Step, Workflow):
        model.objects.all().delete()


def _timed(func):
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def _line(name: str, times: list[float]) -> str:
    return f"  {name:<22} median {statistics.median(times):6.2f} s  (runs {', '.join(f'{t:.2f}' for t in times)})"


@pytest.mark.django_db(transaction=True)
def test_import_benchmark(tmp_path):
    history = _history_store(tmp_path / "history.db")
    actions = _actions_store(tmp_path / "actions.json")
    known_sites = set(SITES)
    run_history = lambda: history_import.import_history(history, at=AT)  # noqa: E731
    run_actions = lambda: actions_import.import_actions(actions, known_sites=known_sites)  # noqa: E731

    timings: dict[str, list[float]] = {"history first": [], "history again": [], "actions first": []}
    timings["actions again"] = []
    for _ in range(RUNS):
        _empty()
        elapsed, history_summary = _timed(run_history)
        timings["history first"].append(elapsed)
        timings["history again"].append(_timed(run_history)[0])
        elapsed, actions_summary = _timed(run_actions)
        timings["actions first"].append(elapsed)
        elapsed, again = _timed(run_actions)
        timings["actions again"].append(elapsed)
        assert again.imported == 0 and again.already_there == ACTIONS

    print(
        f"\n[import] {connection.vendor}: {HISTORY_ROWS:,} history rows, {ACTIONS:,} action documents\n"
        + "\n".join(_line(name, times) for name, times in timings.items())
        + f"\n  history: imported {history_summary.imported:,}; actions: imported {actions_summary.imported:,}, "
        f"history only {actions_summary.skipped_count:,}, served {Action.objects.count():,}"
    )
    assert ErrorHistory.objects.count() == HISTORY_ROWS
