"""Issue 3's "Done when", end to end: a newcomer signs up, verifies, acts, and logs out."""

import pytest
from allauth.account.models import EmailAddress

from accounts.models import User
from accounts.permissions import is_verified_operator
from actions.models import Action
from tests.accounts.steps import link_in, sign_up
from tests.factories import WorkflowFactory

pytestmark = pytest.mark.django_db


def _clone(workflow) -> dict:
    """A clone request as the API documents it (no outside source is asked for a clone)."""
    return {
        "workflows": [workflow.name],
        "action": "clone",
        "parameters": {"memory": 2500},
        "reasons": [{"short": "mem", "long": "Jobs exceed the memory limit."}],
    }


def test_a_newcomer_signs_up_verifies_and_submits_an_action(client, mailoutbox):
    workflow = WorkflowFactory()

    signed_up = sign_up(client, username="dana", email="dana@cern.ch")
    assert signed_up["Location"] == "/accounts/confirm-email/"
    assert "_auth_user_id" not in client.session
    # Not yet verified: the API refuses.
    refused = client.post("/api/actions/", _clone(workflow), content_type="application/json")
    assert refused.status_code in (401, 403)

    (message,) = mailoutbox
    assert message.to == ["dana@cern.ch"]
    link = link_in(message)
    assert "Confirm" in client.get(link).content.decode()
    confirmed = client.post(link)
    assert confirmed.status_code == 302

    dana = User.objects.get(username="dana")
    assert EmailAddress.objects.get(user=dana).verified
    assert is_verified_operator(dana)
    assert int(client.session["_auth_user_id"]) == dana.pk

    response = client.post("/api/actions/", _clone(workflow), content_type="application/json")
    assert response.status_code == 201, response.content
    (stored,) = response.json()
    assert stored["workflow"] == workflow.name and stored["user"] == "dana"
    action = Action.objects.get()
    assert (action.workflow, action.user, action.parameters) == (workflow, dana, {"memory": 2500})


def test_logging_out_ends_the_session(operator_client):
    assert operator_client.get("/accounts/email/").status_code == 200
    response = operator_client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert "_auth_user_id" not in operator_client.session
    after = operator_client.get("/accounts/email/")
    assert after.status_code == 302
    assert after["Location"].startswith("/accounts/login/")
