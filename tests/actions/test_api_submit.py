"""POST /api/actions/: the same validator as the form, for verified operators with a session or a token."""

import json

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from actions.models import Action, Reason
from tests.actions.conftest import tasks_of


def _body(chosen, **changes):
    body = {
        "workflows": [wf.name for wf in chosen],
        "action": "acdc",
        "parameters": {"AllSteps": {"memory": 4000, "cores": "", "xrootd": "enabled"}},
        "reasons": [{"short": "mem", "long": "Jobs exceed the memory limit."}],
    }
    body.update(changes)
    return body


def _post(client, body, **extra):
    return client.post("/api/actions/", json.dumps(body), content_type="application/json", **extra)


def test_it_stores_and_returns_the_actions(operator_client, workflows, sources):
    response = _post(operator_client, _body(workflows[:2]))
    assert response.status_code == 201
    stored = response.json()
    assert [entry["workflow"] for entry in stored] == [workflows[0].name, workflows[1].name]
    first, merge = tasks_of(workflows[0].name)[:2]
    assert stored[0]["Parameters"] == {
        first: {"sites": ["T1_US_FNAL", "T2_CH_CERN"], "memory": 4000, "xrootd": "enabled"},
        merge: {"sites": ["T2_CH_CERN", "T2_US_MIT"], "memory": 4000, "xrootd": "enabled"},
    }
    assert stored[0]["Reason"] == "Jobs exceed the memory limit." and stored[0]["user"] == "alice"
    assert Action.objects.count() == 2 and Reason.objects.filter(short="mem").exists()


def test_a_token_works_without_a_session_or_csrf(verified_operator, workflows, sources):
    token = Token.objects.create(user=verified_operator)
    client = Client(enforce_csrf_checks=True)
    response = _post(client, _body(workflows[:1]), HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 201
    assert _post(client, _body(workflows[:1]), HTTP_AUTHORIZATION="Token nope").status_code == 401


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"workflows": []}, "workflows"),
        ({"workflows": "one"}, "workflows"),
        ({"action": "resubmit"}, "action"),
        ({"reasons": []}, "reasons"),
        ({"reasons": [{"short": "x", "long": ""}]}, "reasons.1"),
        ({"parameters": {"AllSteps": {"memory": "4GB"}}}, "parameters.AllSteps.memory"),
        ({"parameters": {"AllSteps": {"splitting": "7x"}}}, "parameters.AllSteps.splitting"),
        ({"parameters": {"AllSteps": {"sites": []}}}, "parameters.AllSteps.sites"),
        ({"parameters": {"Nope": {}}}, "parameters.Nope"),
        ({"action": "clone", "parameters": {"memory": 1.5}}, "parameters.memory"),
        ({"action": "special", "parameters": {"action": "kill"}}, "parameters.action"),
    ],
)
def test_bad_input_gets_400_with_field_errors_and_changes_nothing(
    operator_client, workflows, sources, changes, field
):
    response = _post(operator_client, _body(workflows[:1], **changes))
    assert response.status_code == 400
    assert field in response.json()
    assert Action.objects.count() == 0 and Reason.objects.count() == 0


def test_a_non_json_body_is_400(operator_client, workflows):
    response = operator_client.post("/api/actions/", "{oops", content_type="application/json")
    assert response.status_code == 400 and Action.objects.count() == 0


def test_anonymous_and_unverified_users_cannot_submit(
    client, unverified_client, unverified_user, workflows, sources
):
    anonymous = _post(client, _body(workflows[:1]))
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"] == "Token"
    assert _post(unverified_client, _body(workflows[:1])).status_code == 403
    token = Token.objects.create(user=unverified_user)
    assert _post(Client(), _body(workflows[:1]), HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 403
    assert Action.objects.count() == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"parameters": {"AllSteps": {"memory": [4000]}}}, "parameters.AllSteps.memory"),
        ({"parameters": {"AllSteps": {"cores": {"n": 4}}}}, "parameters.AllSteps.multicore"),
        ({"parameters": {"AllSteps": {"splitting": ["2x"]}}}, "parameters.AllSteps.splitting"),
        ({"parameters": {"AllSteps": {"xrootd": {}}}}, "parameters.AllSteps.xrootd"),
        ({"parameters": {"AllSteps": {"memory": "²"}}}, "parameters.AllSteps.memory"),
        ({"parameters": {"AllSteps": {"cores": "1²"}}}, "parameters.AllSteps.multicore"),
        ({"action": "clone", "parameters": {"memory": ["2000"]}}, "parameters.memory"),
        ({"action": "clone", "parameters": {"memory": "²"}}, "parameters.memory"),
        ({"action": "special", "parameters": {"action": ["by-pass"]}}, "parameters.action"),
    ],
)
def test_lists_objects_and_odd_digits_are_field_errors_not_500(
    operator_client, workflows, sources, changes, field
):
    response = _post(operator_client, _body(workflows[:1], **changes))
    assert response.status_code == 400
    assert field in response.json()
    assert Action.objects.count() == 0 and Reason.objects.count() == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"parameters": {"AllSteps": {"memory": 4000}, "Task\ud800": {"memory": 1}}}, "parameters"),
        ({"parameters": {"AllSteps": {"sites": ["T2_CH_CERN\udcff"]}}}, "parameters"),
        ({"action": "clone", "parameters": {"comment": "retry \ud800"}}, "parameters"),
        ({"action": "special", "parameters": {"action": "on-hold", "other": "\ud800"}}, "parameters"),
    ],
)
def test_text_that_is_not_valid_unicode_is_a_field_error_not_500(
    operator_client, workflows, sources, changes, field
):
    # json.dumps writes lone surrogates as \ud800 escapes, which the JSON decoder accepts.
    response = _post(operator_client, _body(workflows[:1], **changes))
    assert response.status_code == 400
    assert "not valid Unicode" in response.json()[field][0]
    assert Action.objects.count() == 0 and Reason.objects.count() == 0


def test_a_deeply_nested_body_is_400(operator_client, workflows):
    response = operator_client.post(
        "/api/actions/", "[" * 100_000 + "]" * 100_000, content_type="application/json"
    )
    assert response.status_code == 400 and "nested too deeply" in response.json()["detail"]
    assert Action.objects.count() == 0
