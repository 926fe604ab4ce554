"""Every view and API that acts lets only verified operators through (SPEC "Accounts", issue 3).

This checks the gate only: a verified operator gets past it (whatever the view then
says about the empty input), anonymous and unverified users never reach the view.
"""

import pytest
from django.test import Client

from actions.models import Action

pytestmark = pytest.mark.django_db

ACTING = [
    ("get", "/resetcache", {}),
    ("post", "/resetcache", {}),
    ("get", "/cluster", {}),
    ("post", "/cluster", {}),
    ("get", "/submitaction", {"workflow": "no-such-workflow"}),
    ("post", "/submitaction", {"workflow": "no-such-workflow", "action": "acdc"}),
]


def _call(client, method, path, payload):
    return getattr(client, method)(path, payload)


@pytest.mark.parametrize(("method", "path", "payload"), ACTING)
def test_anonymous_visitors_are_sent_to_log_in(method, path, payload):
    response = _call(Client(), method, path, payload)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize(("method", "path", "payload"), ACTING)
def test_unverified_users_are_told_to_verify(unverified_client, method, path, payload):
    response = _call(unverified_client, method, path, payload)
    assert response.status_code == 403
    assert "Verify your e-mail address first" in response.content.decode()


@pytest.mark.parametrize(("method", "path", "payload"), ACTING)
def test_verified_operators_get_past_the_gate(operator_client, method, path, payload):
    response = _call(operator_client, method, path, payload)
    assert response.status_code != 403
    assert not response.get("Location", "").startswith("/accounts/login/")


API_SUBMISSION = {"workflows": ["no-such-workflow"], "action": "special", "parameters": {}, "reasons": []}


@pytest.mark.parametrize("client_name", ["anonymous", "unverified_client"])
def test_the_submit_api_refuses_anonymous_and_unverified_callers(request, client_name):
    client = Client() if client_name == "anonymous" else request.getfixturevalue(client_name)
    response = client.post("/api/actions/", API_SUBMISSION, content_type="application/json")
    assert response.status_code in (401, 403)
    assert not Action.objects.exists()


def test_the_submit_api_lets_a_verified_operator_through(operator_client):
    response = operator_client.post("/api/actions/", API_SUBMISSION, content_type="application/json")
    # Past the permission check: the unknown workflow is now a validation error.
    assert response.status_code == 400
