"""Unified's whole round trip, with the exact requests its client sends."""

import json

import pytest

from actions.models import Action, ActionSubmission
from tests.actions.conftest import tasks_of


def _form(workflows, **extra):
    main, *similar = workflows
    tasks = tasks_of(main.name)
    data = {
        "workflow": main.name,
        "action": "acdc",
        "all-memory": "4000",
        "all-cores": "4",
        "all-splitting": "",
        "all-xrootd": "enabled",
        "all-secondary": "",
        "all-sites_method": "Auto",
        "t0-task": tasks[0],
        "t0-splitting": "2x",
        "t1-task": tasks[1],
        "reason_short": ["memory"],
        "reason_long": ["Jobs exceed the memory limit (exit code 50660)."],
        "similar": [wf.name for wf in similar],
    }
    data.update(extra)
    return data


@pytest.mark.pg_too
def test_the_unified_round_trip(operator_client, workflows, sources, unified, unified_key):
    response = operator_client.post(f"/submitaction?workflow={workflows[0].name}", _form(workflows))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Action.objects.count() == 3

    # getaction: a GET with a JSON body and no session
    response = unified.getaction("days=15")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    served = response.json()
    assert sorted(served) == sorted(wf.name for wf in workflows)
    main = served[workflows[0].name]
    first, merge = tasks_of(workflows[0].name)[:2]
    assert main["Action"] == "acdc"
    assert main["user"] == "alice"
    assert main["Reasons"] == ["Jobs exceed the memory limit (exit code 50660)."]
    assert main["Reason"] == "Jobs exceed the memory limit (exit code 50660)."
    assert main["ACDCs"] == []
    # AllSteps expanded into every task, LogCollect left out; blanks omitted; integers; multicore
    assert main["Parameters"] == {
        first: {
            "sites": ["T1_US_FNAL", "T2_CH_CERN"],
            "memory": 4000,
            "multicore": 4,
            "splitting": "2x",
            "xrootd": "enabled",
        },
        merge: {"sites": ["T2_CH_CERN", "T2_US_MIT"], "memory": 4000, "multicore": 4, "xrootd": "enabled"},
    }
    for entry in served.values():
        assert "AllSteps" not in entry["Parameters"]
        for task in entry["Parameters"].values():
            assert task["sites"] and isinstance(task["memory"], int) and "cores" not in task
            assert all(value not in ("", None, []) for value in task.values())
    similar_entry = served[workflows[1].name]["Parameters"]
    assert "splitting" not in similar_entry[tasks_of(workflows[1].name)[0]]  # the per-task 2x was main's own

    # report one
    done = workflows[0].name
    reply = unified.report([done]).json()
    assert reply == {
        "valid_key": True,
        "valid_format": True,
        "success": [done],
        "already_reported": [],
        "does_not_exist": [],
    }
    assert done not in unified.getaction("days=15").json()
    assert Action.objects.get(workflow=workflows[0]).reported_at is not None
    assert ActionSubmission.objects.get(workflow=workflows[0]).reported_at is not None

    # again: already reported
    reply = unified.report([done]).json()
    assert reply["success"] == [] and reply["already_reported"] == [done]

    # unknown
    reply = unified.report(["no_such_workflow"]).json()
    assert reply["does_not_exist"] == ["no_such_workflow"] and reply["success"] == []

    # wrong key: all five keys, nothing changed
    pending = workflows[1].name
    reply = unified.report([pending], key="wrong").json()
    assert reply == {
        "valid_key": False,
        "valid_format": True,
        "success": [],
        "already_reported": [],
        "does_not_exist": [],
    }
    assert Action.objects.get(workflow=workflows[1]).reported_at is None

    # workflows not a list
    response = unified.report_raw(json.dumps({"key": unified_key, "workflows": pending}))
    assert response.json()["valid_format"] is False
    assert Action.objects.get(workflow=workflows[1]).reported_at is None

    # not JSON at all
    response = unified.report_raw(b"workflows=" + pending.encode())
    assert response.status_code == 400
    assert set(response.json()) == {
        "valid_key",
        "valid_format",
        "success",
        "already_reported",
        "does_not_exist",
    }
    assert Action.objects.filter(reported_at__isnull=True).count() == 2

    # errors from getaction are never a JSON object
    for response in (unified.getaction(path="/getaction/"), unified.getaction("days=fifteen")):
        assert response.status_code in (400, 404)
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
        assert not isinstance(body, dict)
