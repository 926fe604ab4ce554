"""Telling the requester: the form's box and the API's flag mail each workflow's ReqMgr2
Requestor the action and the long reasons, signed by the operator, once the submission commits,
from a Celery task that retries; the history records that it was sent."""

import json
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from actions import requester_mail, tasks
from actions.models import ActionSubmission, RequesterNotice, ServedTokenLease
from actions.services import submit_action
from workflows.models import Workflow
from workflows.services import _apply_request
from workflows.sources import parse_request

REASON = {"short": "more memory", "long": "Jobs run out of memory at 2 GB; cloned with 4 GB."}


def _reqmgr2_document(name: str, requestor: str) -> dict:
    """One request as ReqMgr2 answers /reqmgr2/data/request?name= (SOURCES.md)."""
    return {
        "result": [
            {
                name: {
                    "RequestName": name,
                    "RequestType": "StepChain",
                    "RequestDate": [2024, 1, 15, 12, 34, 56],
                    "RequestStatus": "running-closed",
                    "PrepID": "HIG-RunIISummer20UL18wmLHEGEN-00120",
                    "Campaign": "RunIISummer20UL18wmLHEGEN",
                    "Requestor": requestor,
                    "Memory": 2000,
                    "Multicore": 1,
                    "SiteWhitelist": ["T2_CH_CERN", "T1_US_FNAL"],
                    "SiteBlacklist": [],
                    "StepChain": 1,
                    "Step1": {"StepName": "HIG-RunIISummer20UL18wmLHEGEN-00120_0"},
                }
            }
        ]
    }


def _read_from_reqmgr2(workflow: Workflow, requestor: str) -> None:
    """Store the answer as the ReqMgr2 refresh does."""
    document = _reqmgr2_document(workflow.name, requestor)
    _apply_request(workflow, parse_request(workflow.name, document["result"][0][workflow.name]), timezone.now())
    workflow.save()


@pytest.fixture
def requested(workflows):
    """The first two workflows requested by jdoe, the third by amaltaro; ReqMgr2 read."""
    for workflow, requestor in zip(workflows, ["jdoe", "jdoe", "amaltaro"], strict=True):
        _read_from_reqmgr2(workflow, requestor)
    return workflows


@pytest.fixture
def tell_config(settings):
    def change(**values):
        actions = settings.WWT["actions"]
        settings.WWT = {
            **settings.WWT,
            "actions": {**actions, "tell_requester": {**actions["tell_requester"], **values}},
        }

    return change


def _clone_post(workflow, **extra):
    return {
        "workflow": workflow.name,
        "action": "clone",
        "clone-memory": "4000",
        "reason_short": REASON["short"],
        "reason_long": REASON["long"],
        **extra,
    }


def test_the_form_tells_the_requester_once_after_commit(
    operator_client, requested, sources, django_capture_on_commit_callbacks
):
    workflow = requested[0]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = operator_client.post("/submitaction", _clone_post(workflow, tell_requester="1"))
    # The one callback besides getaction's wait after a write (ServedTokenLease).
    assert response.status_code == 302 and len([c for c in callbacks if c != ServedTokenLease.wait_out]) == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["jdoe@cern.ch"] and message.reply_to == ["alice@cern.ch"]
    assert workflow.name in message.subject and "kill and clone" in message.subject
    assert REASON["long"] in message.body and "memory 4000 MB" in message.body
    assert "alice (alice@cern.ch)" in message.body  # signed by the operator
    history = ActionSubmission.objects.get(workflow=workflow)
    assert history.requester_notice == RequesterNotice.SENT
    assert history.requester_address == "jdoe@cern.ch" and history.requester_notified_at is not None
    # A redelivered task sends nothing again.
    tasks.tell_requesters.apply(args=[str(history.batch)])
    assert len(mail.outbox) == 1


def test_nothing_is_sent_when_the_submission_rolls_back(
    verified_operator, requested, sources, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        submit_action(
            user=verified_operator,
            workflows=[requested[0].name],
            action="clone",
            parameters={"memory": "4000"},
            reasons=[REASON],
            tell_requester=True,
        )
        raise RuntimeError("a later write of the same transaction failed")
    assert callbacks == [] and mail.outbox == []
    assert not ActionSubmission.objects.exists()


def test_an_unticked_box_sends_nothing(operator_client, requested, sources, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post("/submitaction", _clone_post(requested[0]))
    assert mail.outbox == []
    assert ActionSubmission.objects.get().requester_notice == RequesterNotice.NOT_ASKED


@pytest.mark.parametrize(
    ("action", "parameters", "told"),
    [
        ("clone", {"memory": "4000"}, True),  # clone: on by default
        ("special", {"action": "on-hold"}, False),
    ],
)
def test_the_api_default_follows_the_action(
    operator_client, requested, sources, django_capture_on_commit_callbacks, action, parameters, told
):
    body = {"workflows": [requested[2].name], "action": action, "parameters": parameters, "reasons": [REASON]}
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post("/api/actions/", json.dumps(body), content_type="application/json")
    assert response.status_code == 201
    assert [m.to for m in mail.outbox] == ([["amaltaro@cern.ch"]] if told else [])


def test_the_api_flag_overrides_the_default(operator_client, requested, sources, django_capture_on_commit_callbacks):
    body = {
        "workflows": [requested[2].name],
        "action": "clone",
        "parameters": {},
        "reasons": [REASON],
        "tell_requester": False,
    }
    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post("/api/actions/", json.dumps(body), content_type="application/json")
    assert mail.outbox == []


def test_one_mail_per_requester_for_a_batch_of_similar_workflows(
    operator_client, requested, sources, django_capture_on_commit_callbacks
):
    first, second, third = requested
    post = _clone_post(first, tell_requester="1")
    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post("/submitaction", {**post, "similar": [second.name, third.name]})
    by_address = {tuple(m.to): m for m in mail.outbox}
    assert set(by_address) == {("jdoe@cern.ch",), ("amaltaro@cern.ch",)}
    jdoe = by_address[("jdoe@cern.ch",)]
    assert first.name in jdoe.body and second.name in jdoe.body and third.name not in jdoe.body
    assert "2 of your workflows" in jdoe.subject
    assert set(ActionSubmission.objects.values_list("requester_notice", flat=True)) == {RequesterNotice.SENT}


def test_an_unknown_requestor_is_recorded_and_the_box_says_why(
    operator_client, workflows, sources, django_capture_on_commit_callbacks
):
    workflow = workflows[0]  # ReqMgr2 never read
    page = operator_client.get(f"/submitaction?workflow={workflow.name}").content.decode()
    assert 'name="tell_requester" value="1" disabled' in page and "ReqMgr2 has not been read" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post("/submitaction", _clone_post(workflow, tell_requester="1"))
    assert response.status_code == 302 and mail.outbox == []  # the action itself is stored
    history = ActionSubmission.objects.get()
    assert history.requester_notice == RequesterNotice.NO_ADDRESS and "Requestor" in history.requester_problem


def test_the_box_starts_ticked_for_the_configured_actions(operator_client, requested, sources, tell_config):
    workflow = requested[0]
    page = operator_client.get(f"/submitaction?workflow={workflow.name}").content.decode()
    # The form opens on ACDC, which is not ticked by default; the script follows the action.
    assert 'data-default-for="clone"' in page and "jdoe &lt;jdoe@cern.ch&gt;" in page
    assert 'data-default-for="clone" checked' not in page
    tell_config(default_for=["acdc", "clone"])
    page = operator_client.get(f"/submitaction?workflow={workflow.name}").content.decode()
    assert 'data-default-for="acdc clone" checked' in page


def test_addresses_come_from_the_table_then_the_domain(tell_config):
    tell_config(addresses={"jdoe": "john.doe@fnal.gov"}, domain="cern.ch")
    assert requester_mail.address_of("JDoe") == "john.doe@fnal.gov"
    assert requester_mail.address_of("amaltaro") == "amaltaro@cern.ch"
    assert requester_mail.address_of("someone@desy.de") == "someone@desy.de"
    # Nothing that could smuggle a header or a second recipient becomes an address.
    assert requester_mail.address_of("x\nBcc: all@cern.ch") == ""
    assert requester_mail.address_of("a,b") == ""
    tell_config(domain="")
    assert requester_mail.address_of("amaltaro") == ""


class FlakyBackend(EmailBackend):
    """The locmem backend, refusing the first `failures` sends as a mail server would."""

    failures = 0

    def send_messages(self, messages):
        if FlakyBackend.failures > 0:
            FlakyBackend.failures -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


@pytest.fixture
def flaky_mail(settings):
    from wwt_project.celery import app

    settings.EMAIL_BACKEND = "tests.actions.test_tell_requester.FlakyBackend"
    app.conf.task_eager_propagates = False  # let eager retries run, as a worker would
    yield FlakyBackend
    FlakyBackend.failures = 0


def _queued_clone(user, workflow) -> str:
    submit_action(
        user=user,
        workflows=[workflow.name],
        action="clone",
        parameters={"memory": "4000"},
        reasons=[REASON],
        tell_requester=True,
    )
    return str(ActionSubmission.objects.get(workflow=workflow).batch)


def test_a_failing_mail_server_is_retried_and_sends_once(verified_operator, requested, sources, flaky_mail):
    batch = _queued_clone(verified_operator, requested[0])
    flaky_mail.failures = 2
    tasks.tell_requesters.apply(args=[batch])
    assert len(mail.outbox) == 1
    assert ActionSubmission.objects.get(batch=batch).requester_notice == RequesterNotice.SENT


def test_after_the_last_retry_the_history_says_it_was_not_sent(verified_operator, requested, sources, flaky_mail):
    batch = _queued_clone(verified_operator, requested[0])
    flaky_mail.failures = tasks.MAIL_RETRIES + 1
    result = tasks.tell_requesters.apply(args=[batch])
    assert result.failed() and mail.outbox == []
    history = ActionSubmission.objects.get(batch=batch)
    assert history.requester_notice == RequesterNotice.FAILED
    assert "mail server failed 6 times" in history.requester_problem


def test_a_broker_that_is_down_keeps_the_action_and_records_the_mail_not_sent(
    operator_client, requested, sources, monkeypatch, django_capture_on_commit_callbacks
):
    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.tell_requesters, "delay", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post("/submitaction", _clone_post(requested[0], tell_requester="1"))
    assert response.status_code == 302
    history = ActionSubmission.objects.get()
    assert history.requester_notice == RequesterNotice.FAILED and "task queue" in history.requester_problem
    assert mail.outbox == []


def test_the_workflow_page_history_says_the_requester_was_told(
    operator_client, requested, sources, django_capture_on_commit_callbacks
):
    workflow = requested[0]
    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post("/submitaction", _clone_post(workflow, tell_requester="1"))
    page = operator_client.get(f"/seeworkflow?workflow={workflow.name}").content.decode()
    assert "requester mail: sent to jdoe@cern.ch on " in page
