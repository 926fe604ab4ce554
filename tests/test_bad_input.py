"""Bad input that answered 500: NUL characters (PostgreSQL cannot hold them in text) and a
10 MB body on the JSON API (answered with Django's HTML 400 page)."""

import json

import pytest
from django.test import Client

pytestmark = [pytest.mark.django_db, pytest.mark.pg_too]

KEY = "test-passphrase"
FIVE_KEYS = {"valid_key", "valid_format", "success", "already_reported", "does_not_exist"}


@pytest.fixture
def strict_operator(operator_client):
    operator_client.raise_request_exception = False  # a 500 must show as a 500, not an exception
    return operator_client


def test_a_nul_in_a_reported_workflow_name_is_a_malformed_report(settings):
    # The contract's answer to a malformed list: 200 with the five keys, valid_format false.
    settings.WWT_ACTIONS_KEY = KEY
    body = json.dumps({"key": KEY, "workflows": ["wf\x00a"]})
    response = Client(raise_request_exception=False).post(
        "/reportaction", body, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json() == {**dict.fromkeys(FIVE_KEYS, []), "valid_key": True, "valid_format": False}


@pytest.mark.parametrize(
    ("method", "url", "data"),
    [
        ("get", "/actions/?user=a%00b", None),
        ("get", "/submitaction?workflow=a%00b", None),
        ("post", "/submitaction?workflow=a%00b", {"action": "acdc"}),
        ("post", "/submitaction", {"workflow": "a\x00b", "action": "acdc"}),
        ("get", "/globalerror?pievar=a%00", None),
        ("get", "/seeworkflow?workflow=%00", None),
    ],
)
def test_a_nul_in_a_page_parameter_is_a_clear_400(strict_operator, method, url, data):
    response = getattr(strict_operator, method)(url, data) if data else getattr(strict_operator, method)(url)
    assert response.status_code == 400
    assert b"NUL character" in response.content


def test_a_nul_in_getaction_s_query_is_a_plain_text_400():
    response = Client(raise_request_exception=False).get("/getaction?days=1%00")
    assert response.status_code == 400 and response["Content-Type"].startswith("text/plain")


def test_a_10_mb_body_on_the_json_api_is_a_json_400(strict_operator):
    response = strict_operator.post(
        "/api/actions/", "x" * (10 * 1024 * 1024), content_type="application/json"
    )
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert "request body refused" in response.json()["detail"]


def test_the_json_api_takes_and_gives_json_only(strict_operator):
    form = strict_operator.post("/api/actions/", {"workflows": "wf", "action": "acdc"})
    assert form.status_code == 415 and form["Content-Type"] == "application/json"
    browsable = strict_operator.post(
        "/api/actions/", "{}", content_type="application/json", HTTP_ACCEPT="text/html"
    )
    assert browsable["Content-Type"] == "application/json"
