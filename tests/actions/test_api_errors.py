"""The JSON API's one exception handler: every error of /api/actions/ is a JSON object, a
rejected action is a 400 with its field errors, and Unified's fixed-contract endpoints keep
their own replies."""

import json

import pytest
from django.db import OperationalError

from actions import services
from actions.models import Action, ActionSubmission
from actions.validation import ActionRejected
from wwt_project.api_errors import FieldErrors

GOOD = {
    "action": "acdc",
    "parameters": {"AllSteps": {"memory": 4000}},
    "reasons": [{"short": "mem", "long": "Jobs exceed the memory limit."}],
}


def _post(client, body, **extra):
    return client.post("/api/actions/", json.dumps(body), content_type="application/json", **extra)


def test_a_rejected_action_is_a_400_with_its_field_errors_and_nothing_stored(
    operator_client, workflows, sources
):
    body = {**GOOD, "workflows": [workflows[0].name], "parameters": {"AllSteps": {"memory": "4GB"}}}
    response = _post(operator_client, body)
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    errors = response.json()
    assert (
        list(errors) == ["parameters.AllSteps.memory"]
        and "whole number" in errors["parameters.AllSteps.memory"][0]
    )
    assert not Action.objects.exists() and not ActionSubmission.objects.exists()


def test_the_apps_rejection_is_the_handlers_field_errors():
    assert issubclass(ActionRejected, FieldErrors)
    assert ActionRejected({"a": ["one"], "b": ["two"]}).messages == ["one", "two"]


def test_an_unexpected_error_is_a_json_500_without_the_traceback(operator_client, workflows, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(services, "submit_action", broken)
    response = _post(operator_client, {**GOOD, "workflows": [workflows[0].name]})
    assert response.status_code == 500 and response.json() == {"detail": "server error"}
    assert "secret" not in response.content.decode()


def test_a_database_that_is_down_is_still_the_middlewares_json_503(operator_client, workflows, monkeypatch):
    def down(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(services, "submit_action", down)
    response = _post(operator_client, {**GOOD, "workflows": [workflows[0].name]})
    assert response.status_code == 503 and "detail" in response.json()


@pytest.mark.parametrize(
    ("method", "kwargs", "status"),
    [
        ("get", {}, 405),
        ("post", {"data": "workflows=x", "content_type": "application/x-www-form-urlencoded"}, 415),
        ("post", {"data": "{not json", "content_type": "application/json"}, 400),
    ],
)
def test_drfs_own_errors_are_json_objects(operator_client, method, kwargs, status):
    response = getattr(operator_client, method)("/api/actions/", **kwargs)
    assert response.status_code == status
    assert isinstance(response.json()["detail"], str)


def test_an_anonymous_caller_is_told_in_json(client):
    response = _post(client, {**GOOD, "workflows": ["wf"]})
    assert response.status_code == 401 and "detail" in response.json()


def test_unified_endpoints_keep_their_own_replies(client):
    getaction = client.get("/getaction", {"days": "soon"})
    assert getaction.status_code == 400 and getaction["Content-Type"].startswith("text/plain")
    report = client.post("/reportaction", "{not json", content_type="application/json")
    assert report.status_code == 400
    assert set(report.json()) == {
        "valid_key",
        "valid_format",
        "success",
        "already_reported",
        "does_not_exist",
    }
