"""Actions in Django admin: an edit goes through the same validator and the same store as the
form and the API (a history row, pending again, served anew), so admin can never store
Parameters that Unified cannot act on; reported_at is not edited by hand; actions are not
added there."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from actions.models import Action, ActionSubmission
from actions.services import submit_action
from tests.actions.conftest import tasks_of

REASONS = [{"short": "mem", "long": "Jobs exceed the memory limit."}]


@pytest.fixture
def acdc(verified_operator, workflows, sources):
    """A pending acdc for the first workflow, as the form would store it."""
    submit_action(
        user=verified_operator,
        workflows=[workflows[0].name],
        action="acdc",
        parameters={"AllSteps": {"memory": 4000}},
        reasons=REASONS,
    )
    return Action.objects.get(workflow=workflows[0])


def _edit(admin_client, action, *, kind=None, parameters=None, reasons=None):
    return admin_client.post(
        f"/admin/actions/action/{action.pk}/change/",
        {
            "workflow": action.workflow_id,
            "action": kind or action.action,
            "parameters": json.dumps(action.parameters if parameters is None else parameters),
            "reasons": json.dumps(action.reasons if reasons is None else reasons),
            "acdcs": "[]",
            "user": action.user_id,
            "reported_at_0": "",
            "reported_at_1": "",
            "submission": action.submission_id,
        },
    )


def _task(action, number=0):
    return tasks_of(action.workflow.name)[number]


@pytest.mark.parametrize(
    ("kind", "parameters", "words"),
    [
        ("acdc", lambda first: {first: {"sites": []}}, "choose at least one site"),
        (
            "acdc",
            lambda first: {first: {"memory": "lots", "sites": ["T2_CH_CERN"]}},
            "must be a whole number",
        ),
        (
            "acdc",
            lambda first: {first: {"memory": ["4000"], "sites": ["T2_CH_CERN"]}},
            "must be a whole number",
        ),
        ("acdc", lambda first: {first: {"xrootd": "yes", "sites": ["T2_CH_CERN"]}}, "enabled, disabled"),
        ("acdc", lambda first: {"NoSuchTask": {"sites": ["T2_CH_CERN"]}}, "is not a task of"),
        ("acdc", lambda first: {}, "give parameters for all steps"),
        ("clone", lambda first: {"memory": "4GB"}, "must be a whole number"),
        ("special", lambda first: {"action": ["by-pass"]}, "special: choose one of"),
        ("recovery", lambda first: {"AllSteps": {}}, "recovery is off"),
    ],
)
def test_an_admin_edit_unified_cannot_act_on_is_refused_with_the_validator_message(
    admin_client, acdc, kind, parameters, words
):
    before = (acdc.parameters, acdc.served)
    response = _edit(admin_client, acdc, kind=kind, parameters=parameters(_task(acdc)))
    assert response.status_code == 200
    assert words in response.content.decode().replace("&#x27;", "'")
    acdc.refresh_from_db()
    assert (acdc.parameters, acdc.served) == before


def test_an_admin_edit_without_a_reason_is_refused(admin_client, acdc):
    response = _edit(admin_client, acdc, reasons=[])
    assert response.status_code == 200 and "give at least one reason" in response.content.decode()
    acdc.refresh_from_db()
    assert acdc.reasons == REASONS


def test_an_admin_edit_is_stored_as_unified_reads_it(admin_client, acdc, unified):
    first, merge = _task(acdc, 0), _task(acdc, 1)
    response = _edit(
        admin_client,
        acdc,
        parameters={"AllSteps": {"memory": "", "cores": "4", "splitting": "Same", "xrootd": ""}},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    expected = {
        first: {"sites": ["T1_US_FNAL", "T2_CH_CERN"], "multicore": 4},
        merge: {"sites": ["T2_CH_CERN", "T2_US_MIT"], "multicore": 4},
    }
    acdc.refresh_from_db()
    assert acdc.parameters == expected
    assert unified.getaction("").json()[acdc.workflow.name]["Parameters"] == expected


def test_actions_are_not_added_in_admin(admin_client, acdc):
    assert admin_client.get("/admin/actions/action/add/").status_code == 403
    changelist = admin_client.get("/admin/actions/action/").content.decode()
    assert "/admin/actions/action/add/" not in changelist
    assert admin_client.get(f"/admin/actions/action/{acdc.pk}/change/").status_code == 200


def test_saving_an_action_unchanged_keeps_what_is_served(admin_client, acdc):
    before = (acdc.parameters, acdc.reasons, acdc.served)
    assert _edit(admin_client, acdc).status_code == 302
    acdc.refresh_from_db()
    assert (acdc.parameters, acdc.reasons, acdc.served) == before


def test_an_admin_edit_is_a_submission_by_the_admin_pending_again_with_its_history_row(
    admin_client, admin_user, acdc, unified
):
    acdc.reported_at = timezone.now() - timedelta(days=1)
    acdc.save(update_fields=["reported_at"])
    first_batch = ActionSubmission.objects.get().batch
    response = _edit(admin_client, acdc, parameters={"AllSteps": {"memory": "8000"}})
    assert response.status_code == 302, response.content.decode()[:3000]
    acdc.refresh_from_db()
    history = ActionSubmission.objects.order_by("submitted_at", "pk")
    assert history.count() == 2
    edit = history.last()
    assert edit.batch not in (None, first_batch)
    assert (edit.user, edit.parameters, acdc.submission_id) == (admin_user, acdc.parameters, edit.pk)
    assert acdc.user == admin_user and acdc.reported_at is None  # Unified acts on the edit
    served = unified.getaction("").json()[acdc.workflow.name]
    assert served["user"] == admin_user.username
    assert {task["memory"] for task in served["Parameters"].values()} == {8000}


def test_reported_at_cannot_be_edited_by_hand(admin_client, acdc):
    page = admin_client.get(f"/admin/actions/action/{acdc.pk}/change/").content.decode()
    assert 'name="reported_at_0"' not in page and 'name="user"' not in page
    response = admin_client.post(
        f"/admin/actions/action/{acdc.pk}/change/",
        {
            "action": acdc.action,
            "parameters": json.dumps(acdc.parameters),
            "reasons": json.dumps(acdc.reasons),
            "reported_at_0": "2026-01-01",
            "reported_at_1": "00:00:00",
        },
    )
    assert response.status_code == 302
    acdc.refresh_from_db()
    assert acdc.reported_at is None and ActionSubmission.objects.count() == 1


def test_saving_a_reported_action_unchanged_leaves_it_reported(admin_client, acdc):
    reported = timezone.now() - timedelta(hours=2)
    Action.objects.filter(pk=acdc.pk).update(reported_at=reported)
    acdc.refresh_from_db()
    assert _edit(admin_client, acdc).status_code == 302
    acdc.refresh_from_db()
    assert acdc.reported_at == reported and ActionSubmission.objects.count() == 1
