""" "Refresh this workflow now": a POST for verified operators that enqueues one task (ReqMgr2,
the ACDC server, WMStats log samples for that workflow) and returns at once."""

import json

import pytest
from django.test import TestCase
from kombu.exceptions import OperationalError as BrokerError

from errors.ingestion import ingest_current_errors
from errors.models import LogSample
from tests.workflows.fake_sources import (
    ACDC_VIEW,
    STEP,
    WORKFLOW,
    acdc_answer,
    configure,
    jobdetail_answer,
    reqmgr2_answer,
)
from workflows.models import Workflow
from wwt_project.pages import services, tasks

pytestmark = [pytest.mark.usefixtures("empty_cache"), pytest.mark.pg_too]

REFRESH = "/seeworkflow/refresh"


@pytest.fixture
def workflow(db, tmp_path):
    path = tmp_path / "all_errors.json"
    path.write_text(json.dumps({STEP: {"84": {"T2_CH_CERN": 3}}}))
    ingest_current_errors(str(path))
    return Workflow.objects.get(name=WORKFLOW)


@pytest.fixture
def sources(settings, fake_sources):
    task = STEP.split("/", 2)[2]
    fake_sources.routes["/reqmgr2/data/request"] = (200, reqmgr2_answer())
    fake_sources.routes[f"/wmstatsserver/data/jobdetail/{WORKFLOW}"] = (200, jobdetail_answer())
    fake_sources.routes[ACDC_VIEW] = (200, acdc_answer(WORKFLOW, {task: {"/store/a.root": ["T2_CH_CERN"]}}))
    configure(settings, reqmgr2=fake_sources.url, wmstats=fake_sources.url, acdc=fake_sources.url)
    return fake_sources


def test_the_button_enqueues_and_the_task_stores_every_source(operator_client, workflow, sources):
    html = operator_client.get("/seeworkflow", {"workflow": WORKFLOW}).content.decode()
    assert "Refresh this workflow now" in html and sources.requests == []
    with TestCase.captureOnCommitCallbacks(execute=True) as sent:
        response = operator_client.post(REFRESH, {"workflow": WORKFLOW})
    assert len(sent) == 1  # one task, sent once the request committed
    assert response.status_code == 302 and response["Location"] == f"/seeworkflow?workflow={WORKFLOW}"
    workflow.refresh_from_db()
    assert workflow.request_parameters["memory"] == 2300 and workflow.request_fetched_at
    assert workflow.recovery_locations == {STEP.split("/", 2)[2]: ["T2_CH_CERN"]}
    assert LogSample.objects.filter(step__workflow=workflow).exists()
    html = operator_client.get("/seeworkflow", {"workflow": WORKFLOW}).content.decode()
    assert "ReqMgr2 as of" in html and "ACDC server as of" in html and "log samples as of" in html
    assert "Asking ReqMgr2, the ACDC server and WMStats again" in html  # the message


def test_while_queued_the_page_says_fetching_and_a_second_press_sends_nothing(
    operator_client, workflow, sources, monkeypatch
):
    sent = []
    monkeypatch.setattr(tasks.refresh_workflow_sources, "delay", lambda workflow_id: sent.append(workflow_id))
    for _ in range(2):
        with TestCase.captureOnCommitCallbacks(execute=True):
            assert operator_client.post(REFRESH, {"workflow": WORKFLOW}).status_code == 302
    assert sent == [workflow.id]
    html = operator_client.get("/seeworkflow", {"workflow": WORKFLOW}).content.decode()
    assert "Fetching… ReqMgr2, the ACDC server and WMStats are being asked" in html
    assert "Refresh this workflow now" not in html
    # The task clears the mark, whatever the sources answered.
    tasks.refresh_workflow_sources(workflow.id)
    assert not services.refresh_queued(workflow)


@pytest.mark.django_db(transaction=True)  # no test transaction: on_commit sends at once, as in a request
def test_with_the_broker_down_nothing_is_left_and_the_operator_is_told(
    operator_client, workflow, sources, monkeypatch
):
    def broker_down(workflow_id):
        raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.refresh_workflow_sources, "delay", broker_down)
    response = operator_client.post(REFRESH, {"workflow": WORKFLOW}, follow=True)
    html = response.content.decode()
    assert "Not refreshed: The task queue (Redis) is unreachable, so nothing was queued" in html
    assert not services.refresh_queued(workflow)  # no "fetching…" that would never end
    assert "Refresh this workflow now" in html and sources.requests == []


def test_only_verified_operators_may_refresh(client, unverified_client, workflow, sources):
    response = client.post(REFRESH, {"workflow": WORKFLOW})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert unverified_client.post(REFRESH, {"workflow": WORKFLOW}).status_code == 403
    assert (
        "Refresh this workflow now" not in client.get("/seeworkflow", {"workflow": WORKFLOW}).content.decode()
    )
    assert sources.requests == []


def test_the_refresh_is_a_post_with_a_known_workflow(operator_client, workflow):
    assert operator_client.get(REFRESH, {"workflow": WORKFLOW}).status_code == 405
    assert operator_client.post(REFRESH, {"workflow": "no-such-workflow"}).status_code == 404
    assert operator_client.post(REFRESH, {}).status_code == 400


def test_the_refresh_needs_the_csrf_token(verified_operator, workflow):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(verified_operator)
    assert strict.post(REFRESH, {"workflow": WORKFLOW}).status_code == 403
