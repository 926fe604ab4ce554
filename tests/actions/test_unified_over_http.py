"""Unified's client over a real socket: a GET carrying a JSON body, a POST, no cookie, no redirect."""

import http.client
import json
from urllib.parse import urlparse

import pytest

from actions.models import Action
from actions.services import submit_action
from tests.factories import UserFactory, WorkflowFactory


def _request(live_server, method, path, body):
    url = urlparse(live_server.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    connection.request(method, path, body=json.dumps(body), headers={"Content-type": "application/json"})
    response = connection.getresponse()
    return response.status, response.getheader("Content-Type"), response.read()


@pytest.mark.django_db(transaction=True)
def test_unified_client_over_http(live_server, settings):
    settings.WWT_ACTIONS_KEY = "over-the-wire"
    workflow = WorkflowFactory()
    submit_action(
        user=UserFactory(username="dave"),
        workflows=[workflow.name],
        action="special",
        parameters={"action": "by-pass"},
        reasons=[{"short": "", "long": "Enough statistics."}],
    )
    status, kind, body = _request(live_server, "GET", "/getaction?days=15", {"key": "over-the-wire"})
    assert status == 200 and kind.startswith("application/json")
    assert json.loads(body)[workflow.name]["Parameters"] == {"action": "by-pass", "other": ""}

    status, kind, body = _request(
        live_server, "POST", "/reportaction", {"key": "over-the-wire", "workflows": [workflow.name]}
    )
    assert status == 200 and json.loads(body)["success"] == [workflow.name]
    assert Action.objects.get(workflow=workflow).reported_at is not None
