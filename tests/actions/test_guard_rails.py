"""Guard-rails: the form offers, and the form and the API accept, only the actions the request's
ReqMgr2 status allows (config.yml actions.allowed_by_status), as the refresh job stored it from
ReqMgr2's own answer; an unknown status offers every action with a warning."""

import json

import pytest

from actions.models import Action, ActionSubmission
from tests.actions.conftest import tasks_of
from tests.workflows.fake_sources import closed_port_url, configure
from workflows.services import refresh_request_parameters
from wwt_project.config import ConfigError, validate_config

REASONS = [{"short": "mem", "long": "Jobs exceed the memory limit."}]


def _request_document(name: str, status: str) -> dict:
    """ReqMgr2's answer for one request, in the shape of SOURCES.md (a StepChain)."""
    prep = name.split("task_")[1].split("__")[0]
    return {
        "result": [
            {
                name: {
                    "RequestName": name,
                    "RequestType": "StepChain",
                    "RequestDate": [2024, 1, 15, 12, 34, 56],
                    "RequestStatus": status,
                    "RequestTransition": [
                        {"Status": "new", "UpdateTime": 1705322096, "DN": "/CN=pdmvserv"},
                        {"Status": status, "UpdateTime": 1705408496, "DN": "/CN=wmagent"},
                    ],
                    "PrepID": prep,
                    "Campaign": "RunIISummer20UL18wmLHEGEN",
                    "Requestor": "pdmvserv",
                    "Memory": 2300,
                    "Multicore": 1,
                    "SiteWhitelist": ["T1_US_FNAL", "T2_CH_CERN"],
                    "SiteBlacklist": [],
                    "StepChain": 1,
                    "Step1": {"StepName": f"{prep}_0"},
                }
            }
        ]
    }


@pytest.fixture
def reqmgr2(settings, fake_sources, empty_cache):
    """A fake ReqMgr2 answering each workflow's status; `set_status(workflow, status)` stores
    it as the refresh job does (the pages and the API never ask ReqMgr2 themselves)."""
    statuses: dict[str, str] = {}

    def answer(handler):
        name = handler.path.split("name=")[-1]
        return (200, _request_document(name, statuses[name])) if name in statuses else (200, {"result": []})

    fake_sources.routes["/reqmgr2/data/request"] = answer
    configure(settings, reqmgr2=fake_sources.url)

    def set_status(workflow, status: str) -> None:
        statuses[workflow.name] = status
        report = refresh_request_parameters([workflow.id])
        assert report.updated == 1, report
        workflow.refresh_from_db()

    return set_status


def _form(client, workflow) -> str:
    response = client.get(f"/submitaction?workflow={workflow.name}")
    assert response.status_code == 200
    return response.content.decode()


def _offered(page: str) -> set[str]:
    return {
        kind for kind in ("acdc", "recovery", "clone", "special") if f'name="action" value="{kind}"' in page
    }


def _api(client, workflows, action, parameters=None):
    body = {
        "workflows": [wf.name for wf in workflows],
        "action": action,
        "parameters": parameters if parameters is not None else {"AllSteps": {"memory": 4000}},
        "reasons": REASONS,
    }
    return client.post("/api/actions/", json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(
    ("status", "offered"),
    [
        ("completed", {"acdc", "clone", "special"}),
        ("running-closed", {"acdc", "clone", "special"}),
        ("running-open", {"clone", "special"}),
        ("assigned", {"clone", "special"}),
        ("closed-out", set()),
        ("announced", set()),
        ("normal-archived", set()),
        ("aborted", set()),
        ("rejected-archived", set()),
    ],
)
def test_the_form_offers_only_what_the_status_allows(
    operator_client, workflows, sources, reqmgr2, status, offered
):
    reqmgr2(workflows[0], status)
    page = _form(operator_client, workflows[0])
    assert _offered(page) == offered
    assert f"ReqMgr2 status: <strong>{status}</strong>" in page
    if "acdc" not in offered:
        assert (
            f"ACDC is not offered for a request in status {status} (only in: running-closed, completed)"
            in page
        )
    if not offered:
        assert f"No action can be submitted for a request in status {status}" in page


def test_an_unknown_status_offers_every_action_with_a_warning(operator_client, workflows, sources):
    page = _form(operator_client, workflows[0])  # ReqMgr2 was never asked about it
    assert _offered(page) == {"acdc", "clone", "special"}
    assert "The request&#x27;s status is unknown (ReqMgr2 was not asked about this workflow yet)" in page
    assert "every action is offered" in page


def test_reqmgr2_down_keeps_the_status_unknown_and_every_action_offered(
    operator_client, settings, workflows, sources, empty_cache
):
    configure(settings, reqmgr2=closed_port_url())
    assert refresh_request_parameters([workflows[0].id]).problem  # the refresh failed, nothing stored
    page = _form(operator_client, workflows[0])
    assert _offered(page) == {"acdc", "clone", "special"} and "status is unknown" in page
    assert _api(operator_client, workflows[:1], "acdc").status_code == 201


def test_a_status_the_table_does_not_list_offers_every_action_with_a_warning(
    operator_client, workflows, sources, reqmgr2
):
    reqmgr2(workflows[0], "some-new-status")
    page = _form(operator_client, workflows[0])
    assert _offered(page) == {"acdc", "clone", "special"}
    assert "status some-new-status is not in the table of actions by status" in page


def test_the_form_refuses_an_acdc_for_an_announced_request_with_400(
    operator_client, workflows, sources, reqmgr2
):
    reqmgr2(workflows[0], "announced")
    data = {
        "workflow": workflows[0].name,
        "action": "acdc",
        "all-sites_method": "Auto",
        "reason_short": ["mem"],
        "reason_long": ["Jobs exceed the memory limit."],
        "t0-task": tasks_of(workflows[0].name)[0],
    }
    response = operator_client.post(f"/submitaction?workflow={workflows[0].name}", data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "The action was not submitted" in page
    assert "ACDC is not offered for a request in status announced" in page
    assert not Action.objects.exists() and not ActionSubmission.objects.exists()


def test_the_api_refuses_the_same_with_400_and_stores_nothing(operator_client, workflows, sources, reqmgr2):
    reqmgr2(workflows[0], "completed")
    reqmgr2(workflows[1], "closed-out")
    response = _api(operator_client, workflows[:2], "acdc")
    assert response.status_code == 400
    (message,) = response.json()["action"]
    assert message.startswith(f"{workflows[1].name}: ACDC is not offered for a request in status closed-out")
    assert "as ReqMgr2 said on" in message
    assert not Action.objects.exists()  # not even the completed one: one submission, all or nothing
    clone = _api(operator_client, workflows[:1], "clone", parameters={})
    assert clone.status_code == 201


def test_running_open_refuses_acdc_but_takes_a_clone(operator_client, workflows, sources, reqmgr2):
    reqmgr2(workflows[0], "running-open")
    assert _api(operator_client, workflows[:1], "acdc").status_code == 400
    assert _api(operator_client, workflows[:1], "clone", parameters={"memory": 3000}).status_code == 201
    assert Action.objects.get().action == "clone"


def test_the_table_comes_from_config(operator_client, workflows, sources, reqmgr2, actions_config):
    actions_config(allowed_by_status={"closed-out": ["special"], "completed": ["clone"]})
    reqmgr2(workflows[0], "closed-out")
    assert _offered(_form(operator_client, workflows[0])) == {"special"}
    reqmgr2(workflows[0], "completed")
    page = _form(operator_client, workflows[0])
    assert _offered(page) == {"clone"}
    assert "ACDC is not offered for a request in status completed (in no status)" in page
    special = {"action": "by-pass"}
    assert _api(operator_client, workflows[:1], "special", parameters=special).status_code == 400


def test_recovery_follows_acdc_when_enabled(operator_client, workflows, sources, reqmgr2, actions_config):
    actions_config(enabled=["acdc", "recovery", "clone", "special"])
    reqmgr2(workflows[0], "running-open")
    assert _offered(_form(operator_client, workflows[0])) == {"clone", "special"}
    reqmgr2(workflows[0], "completed")
    assert _offered(_form(operator_client, workflows[0])) == {"acdc", "recovery", "clone", "special"}


def test_an_admin_edit_the_status_refuses_is_refused(
    admin_client, verified_operator, workflows, sources, reqmgr2
):
    from actions.services import submit_action

    reqmgr2(workflows[0], "completed")
    submit_action(
        user=verified_operator, workflows=[workflows[0].name], action="clone", parameters={}, reasons=REASONS
    )
    action = Action.objects.get()
    reqmgr2(workflows[0], "announced")
    response = admin_client.post(
        f"/admin/actions/action/{action.pk}/change/",
        {"action": "acdc", "parameters": json.dumps({"AllSteps": {}}), "reasons": json.dumps(REASONS)},
    )
    assert response.status_code == 200
    assert "ACDC is not offered for a request in status announced" in response.content.decode()
    assert Action.objects.get().action == "clone"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"completed": ["acdc", "resubmit"]}, "holds unknown action(s) ['resubmit']"),
        ({"completed": "acdc"}, "must map each ReqMgr2 status to a list of actions"),
        (["completed"], "must map each ReqMgr2 status to a list of actions"),
    ],
)
def test_a_bad_table_stops_the_start_with_a_message_naming_the_key(table, message):
    with pytest.raises(ConfigError, match="actions.allowed_by_status") as raised:
        validate_config({"actions": {"allowed_by_status": table}})
    assert message in str(raised.value)


def test_the_default_table_is_the_documented_one():
    table = validate_config({})["actions"]["allowed_by_status"]
    for status in ("closed-out", "announced", "normal-archived", "aborted", "aborted-archived", "rejected"):
        assert "acdc" not in table[status] and "clone" not in table[status]
    assert {status for status, actions in table.items() if "acdc" in actions} == {
        "completed",
        "running-closed",
    }


def test_config_example_documents_the_default_table():
    from django.conf import settings

    from wwt_project.config import load_config

    example = load_config(settings.BASE_DIR / "config.example.yml")["actions"]["allowed_by_status"]
    assert example == validate_config({})["actions"]["allowed_by_status"]
