"""Withdrawing a pending action: through the form, the JSON API (DELETE, or POST for clients
without DELETE) and a bulk action in admin. getaction stops serving it at once, the history keeps
who withdrew it and why, and an action Unified already reported cannot be withdrawn."""

import json

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from actions.models import Action, ActionSubmission
from actions.services import mark_reported, submit_action, withdraw_actions

REASONS = [{"short": "mem", "long": "Jobs exceed the memory limit."}]


@pytest.fixture
def pending(verified_operator, workflows, sources):
    """A pending clone for each of the three workflows, sent together as operators do."""
    submit_action(
        user=verified_operator,
        workflows=[wf.name for wf in workflows],
        action="clone",
        parameters={"memory": 4000},
        reasons=REASONS,
    )
    return workflows


def _served(unified, query="days=15"):
    response = unified.getaction(query)
    assert response.status_code == 200
    return response.json()


def _withdraw_form(client, workflow_name, reason="Sent to the wrong workflow."):
    return client.post("/withdrawaction", {"workflow": workflow_name, "reason": reason})


def _delete(client, workflow_name, reason="Sent to the wrong workflow.", **extra):
    body = json.dumps({"reason": reason}) if reason is not None else ""
    return client.delete(f"/api/actions/{workflow_name}/", body, content_type="application/json", **extra)


def _unchanged(workflows):
    assert Action.objects.filter(workflow__in=workflows).count() == len(workflows)
    assert not ActionSubmission.objects.filter(withdrawn_at__isnull=False).exists()


# -- getaction --------------------------------------------------------------------------------


def test_a_withdrawn_action_disappears_from_getaction_at_once(operator_client, pending, unified):
    # Served (and so possibly cached) before: the withdrawal must not leave a stale answer behind.
    assert pending[0].name in _served(unified) and pending[0].name in _served(unified, "days=0&acted=-1")
    assert _withdraw_form(operator_client, pending[0].name).status_code == 302
    for query in ("days=15", "days=0", "days=0&acted=-1", "days=0&acted=1"):
        served = _served(unified, query)
        assert pending[0].name not in served
    assert set(_served(unified)) == {pending[1].name, pending[2].name}


def test_unified_reporting_a_withdrawn_action_hears_it_does_not_exist(operator_client, pending, unified):
    _withdraw_form(operator_client, pending[0].name)
    reply = unified.report([pending[0].name]).json()
    assert reply["does_not_exist"] == [pending[0].name] and reply["success"] == []


def test_a_withdrawn_workflow_can_be_sent_an_action_again(operator_client, pending, unified):
    _withdraw_form(operator_client, pending[0].name)
    response = operator_client.post(
        "/api/actions/",
        json.dumps({"workflows": [pending[0].name], "action": "clone", "parameters": {}, "reasons": REASONS}),
        content_type="application/json",
    )
    assert response.status_code == 201 and pending[0].name in _served(unified)


# -- the form -------------------------------------------------------------------------------


def test_the_form_withdraws_and_the_history_keeps_who_and_why(operator_client, verified_operator, pending):
    response = _withdraw_form(operator_client, pending[0].name, reason="  Wrong workflow, sorry.  ")
    assert response.status_code == 302
    assert response["Location"] == f"/seeworkflow?workflow={pending[0].name}"
    assert not Action.objects.filter(workflow=pending[0]).exists()
    submission = ActionSubmission.objects.get(workflow=pending[0])
    assert (
        submission.withdrawn_by == verified_operator
        and submission.withdrawn_reason == "Wrong workflow, sorry."
    )
    assert submission.withdrawn_at is not None and submission.reported_at is None
    # Only that workflow: the others of the same batch stay pending.
    assert Action.objects.filter(workflow__in=pending[1:]).count() == 2
    page = operator_client.get(response["Location"]).content.decode()
    assert "is withdrawn: Unified is no longer served it" in page
    assert "withdrawn</span> by alice" in page and "Wrong workflow, sorry." in page


def test_the_workflow_page_offers_the_withdraw_form_for_a_pending_action_only(operator_client, pending):
    page = operator_client.get(f"/seeworkflow?workflow={pending[0].name}").content.decode()
    assert 'class="withdraw-form"' in page and 'name="reason" required' in page
    mark_reported([pending[0].name])
    page = operator_client.get(f"/seeworkflow?workflow={pending[0].name}").content.decode()
    assert 'class="withdraw-form"' not in page


def test_the_form_refuses_without_a_reason(operator_client, pending):
    response = _withdraw_form(operator_client, pending[0].name, reason="   ")
    assert response.status_code == 400
    assert "say why the action is withdrawn (a reason is required)" in response.content.decode()
    _unchanged(pending)


def test_the_form_refuses_a_reported_action_with_409(operator_client, pending, unified):
    mark_reported([pending[0].name])
    response = _withdraw_form(operator_client, pending[0].name)
    assert response.status_code == 409
    page = response.content.decode()
    assert "Nothing was withdrawn" in page and "was reported done by Unified on" in page
    assert "it cannot be withdrawn" in page
    assert pending[0].name in _served(unified, "days=0&acted=1")
    _unchanged(pending)


def test_the_form_says_when_there_is_nothing_to_withdraw(operator_client, pending):
    assert _withdraw_form(operator_client, pending[0].name).status_code == 302
    again = _withdraw_form(operator_client, pending[0].name)
    assert again.status_code == 404 and "has no pending action to withdraw" in again.content.decode()
    assert ActionSubmission.objects.filter(withdrawn_at__isnull=False).count() == 1


def test_the_form_for_an_unknown_workflow_is_a_404(operator_client, db):
    assert _withdraw_form(operator_client, "no_such_workflow").status_code == 404
    assert operator_client.post("/withdrawaction", {"reason": "x"}).status_code == 400


def test_the_form_needs_a_csrf_token(verified_operator, pending):
    client = Client(enforce_csrf_checks=True)
    client.force_login(verified_operator)
    assert _withdraw_form(client, pending[0].name).status_code == 403
    _unchanged(pending)


def test_only_verified_operators_withdraw(client, unverified_user, pending):
    response = _withdraw_form(client, pending[0].name)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(unverified_user)
    assert _withdraw_form(client, pending[0].name).status_code == 403
    _unchanged(pending)


def test_the_withdraw_page_shows_the_action_and_asks_why(operator_client, pending):
    page = operator_client.get(f"/withdrawaction?workflow={pending[0].name}").content.decode()
    assert "kill and clone sent by alice" in page and "pending." in page and 'name="reason"' in page


# -- the JSON API ---------------------------------------------------------------------------


def test_delete_withdraws_and_answers_what_was_withdrawn(operator_client, pending, unified):
    response = _delete(operator_client, pending[0].name)
    assert response.status_code == 200
    body = response.json()
    assert body["workflow"] == pending[0].name and body["action"] == "clone"
    assert body["withdrawn_by"] == "alice" and body["reason"] == "Sent to the wrong workflow."
    assert pending[0].name not in _served(unified)
    assert ActionSubmission.objects.get(workflow=pending[0]).withdrawn_reason == "Sent to the wrong workflow."


def test_delete_takes_the_reason_in_the_query_too(operator_client, pending):
    response = operator_client.delete(f"/api/actions/{pending[0].name}/?reason=not+needed")
    assert response.status_code == 200 and response.json()["reason"] == "not needed"


def test_post_is_the_alternative_for_clients_without_delete(verified_operator, pending, unified):
    token = Token.objects.create(user=verified_operator)
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        f"/api/actions/{pending[1].name}/withdraw/",
        json.dumps({"reason": "duplicate"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )
    assert response.status_code == 200 and response.json()["workflow"] == pending[1].name
    assert pending[1].name not in _served(unified)


@pytest.mark.parametrize("reason", [None, "", "   ", 42])
def test_the_api_refuses_without_a_reason_and_changes_nothing(operator_client, pending, reason):
    body = "" if reason is None else json.dumps({"reason": reason})
    response = operator_client.delete(
        f"/api/actions/{pending[0].name}/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {"reason": ["say why the action is withdrawn (a reason is required)"]}
    _unchanged(pending)


def test_the_api_refuses_a_reported_action_with_409(operator_client, pending):
    mark_reported([pending[0].name])
    response = _delete(operator_client, pending[0].name)
    assert response.status_code == 409
    assert "it cannot be withdrawn" in response.json()["detail"]
    _unchanged(pending)


def test_the_api_answers_404_for_an_unknown_workflow_or_nothing_pending(operator_client, pending, workflows):
    unknown = _delete(operator_client, "no_such_workflow")
    assert unknown.status_code == 404 and unknown.json() == {
        "detail": "No workflow is named no_such_workflow."
    }
    assert _delete(operator_client, pending[0].name).status_code == 200
    nothing = _delete(operator_client, pending[0].name)
    assert nothing.status_code == 404 and "has no pending action to withdraw" in nothing.json()["detail"]


def test_the_api_is_for_verified_operators_only(client, unverified_user, pending):
    assert _delete(client, pending[0].name).status_code == 401
    client.force_login(unverified_user)
    assert _delete(client, pending[0].name).status_code == 403
    _unchanged(pending)


def test_a_session_needs_csrf_for_delete(verified_operator, pending):
    client = Client(enforce_csrf_checks=True)
    client.force_login(verified_operator)
    assert _delete(client, pending[0].name).status_code == 403
    _unchanged(pending)


# -- the service ----------------------------------------------------------------------------


def test_a_bulk_withdrawal_says_what_happened_to_each(verified_operator, pending):
    mark_reported([pending[1].name])
    result = withdraw_actions(
        [pending[0].name, pending[1].name, "ghost", pending[0].name], user=verified_operator, reason="tidy"
    )
    assert result.withdrawn == {pending[0].name: "clone"}
    assert list(result.already_reported) == [pending[1].name] and result.unknown == ["ghost"]
    assert set(Action.objects.values_list("workflow__name", flat=True)) == {pending[1].name, pending[2].name}


@pytest.mark.pg_too
def test_an_action_stored_without_its_history_row_gets_one_when_withdrawn(
    verified_operator, pending, unified
):
    # Actions stored before submissions were linked to them carry no history row of their own.
    Action.objects.filter(workflow=pending[2]).update(submission=None)
    ActionSubmission.objects.filter(workflow=pending[2]).delete()
    withdraw_actions([pending[2].name], user=verified_operator, reason="old one")
    row = ActionSubmission.objects.get(workflow=pending[2])
    assert (
        row.action == "clone" and row.withdrawn_reason == "old one" and row.withdrawn_by == verified_operator
    )
    assert pending[2].name not in _served(unified)


@pytest.mark.pg_too
def test_withdrawal_and_its_history_are_one_transaction(verified_operator, pending, monkeypatch):
    def broken_delete(*args, **kwargs):
        raise RuntimeError("database gone mid-way")

    monkeypatch.setattr("django.db.models.query.QuerySet.delete", broken_delete)
    with pytest.raises(RuntimeError):
        withdraw_actions([pending[0].name], user=verified_operator, reason="x")
    monkeypatch.undo()
    _unchanged(pending)


# -- admin ------------------------------------------------------------------------------------


def _admin_withdraw(admin_client, actions, **extra):
    return admin_client.post(
        "/admin/actions/action/",
        {"action": "withdraw_selected", "_selected_action": [a.pk for a in actions], **extra},
    )


def test_admin_asks_for_a_reason_first(admin_client, pending):
    actions = list(Action.objects.filter(workflow__in=pending[:2]))
    response = _admin_withdraw(admin_client, actions)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Why are they withdrawn?" in page and pending[0].name in page and pending[1].name in page
    _unchanged(pending)


def test_admin_refuses_an_empty_reason(admin_client, pending):
    response = _admin_withdraw(admin_client, list(Action.objects.all()), apply="Withdraw", reason=" ")
    assert response.status_code == 400 and "a reason is required" in response.content.decode()
    _unchanged(pending)


def test_admin_withdraws_the_pending_ones_and_names_the_reported(admin_client, admin_user, pending, unified):
    mark_reported([pending[1].name])
    actions = list(Action.objects.filter(workflow__in=pending[:2]))
    response = _admin_withdraw(admin_client, actions, apply="Withdraw", reason="campaign stopped")
    assert response.status_code == 302
    page = admin_client.get(response["Location"]).content.decode()
    assert "Withdrawn: 1 pending action(s)." in page and "it cannot be withdrawn" in page
    assert set(Action.objects.values_list("workflow__name", flat=True)) == {pending[1].name, pending[2].name}
    row = ActionSubmission.objects.get(workflow=pending[0])
    assert row.withdrawn_by == admin_user and row.withdrawn_reason == "campaign stopped"
    assert set(_served(unified)) == {pending[2].name}


def test_the_history_admin_lists_withdrawals(admin_client, verified_operator, pending):
    withdraw_actions([pending[0].name], user=verified_operator, reason="x")
    page = admin_client.get("/admin/actions/actionsubmission/")
    assert page.status_code == 200 and "Withdrawn by" in page.content.decode()


def test_withdrawn_submissions_do_not_train_the_predictor(verified_operator, db):
    from clustering import prediction
    from tests.clustering.conftest import add_errors

    kept, taken_back = (
        add_errors("wf_kept", [(84, "T2_CH_CERN", 3)]),
        add_errors("wf_back", [(50660, "T1_US_FNAL", 5)]),
    )
    ActionSubmission.objects.create(workflow=kept, action="acdc", submitted_at=timezone.now())
    ActionSubmission.objects.create(
        workflow=taken_back,
        action="clone",
        submitted_at=timezone.now(),
        withdrawn_at=timezone.now(),
        withdrawn_reason="x",
    )
    assert prediction.training_set().targets["action"].tolist() == ["acdc"]
