"""Every view and API that acts lets only verified operators through (SPEC "Accounts", issue 3).

Refused callers change nothing: no action stored, no reclustering or refresh queued. A
verified operator gets the real thing: the page, the stored action, the queued job.
"""

import json
from urllib.parse import urlencode

import pytest
from django.test import Client

from actions.models import Action
from clustering.models import ReclusteringJob
from tests.factories import StepFactory, WorkflowFactory

pytestmark = pytest.mark.django_db

WORKFLOW = "pdmvserv_task_HIG-RunIISummer20UL18wmLHEGEN-00042__v1_T_240115_123456_7"
CLONE_FORM = {
    "workflow": WORKFLOW,
    "action": "clone",
    "clone-memory": "2500",
    "reason_short": ["memory"],
    "reason_long": ["Jobs exceed the memory limit."],
}
CLONE_API = {
    "workflows": [WORKFLOW],
    "action": "clone",
    "parameters": {"memory": 2500},
    "reasons": [{"short": "memory", "long": "Jobs exceed the memory limit."}],
}
SUBMIT_PAGE = "/submitaction?" + urlencode({"workflow": WORKFLOW})

ACTING = [
    ("get", "/resetcache", {}),
    ("post", "/resetcache", {}),
    ("get", "/cluster", {}),
    ("post", "/cluster", {}),
    ("get", SUBMIT_PAGE, {}),
    ("post", SUBMIT_PAGE, CLONE_FORM),
]


class _Queue:
    """Stands in for the Celery tasks the acting views enqueue, recording each call."""

    def __init__(self):
        self.calls: list[tuple[str, tuple, dict]] = []

    def recorder(self, name):
        def record(*args, **kwargs):
            self.calls.append((name, args, kwargs))

        return record


@pytest.fixture
def queue(monkeypatch) -> _Queue:
    queue = _Queue()
    refresh = type("RefreshErrors", (), {"apply_async": staticmethod(queue.recorder("refresh_errors"))})
    recluster = type("Recluster", (), {"delay": staticmethod(queue.recorder("recluster"))})
    monkeypatch.setattr("errors.tasks.refresh_errors", refresh)
    monkeypatch.setattr("clustering.tasks.recluster", recluster)
    return queue


@pytest.fixture
def workflow(monkeypatch):
    """A workflow with one task; the outside sources the action form asks answer 'nothing known'."""
    made = WorkflowFactory(name=WORKFLOW)
    StepFactory(workflow=made, name=f"/{WORKFLOW}/HIG-RunIISummer20UL18wmLHEGEN-00042_0")
    monkeypatch.setattr("workflows.selectors.recovery_sites", lambda workflow: {})
    monkeypatch.setattr("workflows.selectors.site_statuses", lambda: {"T2_CH_CERN": "enabled"})
    return made


def _call(client, method, path, payload, capture):
    # Commit callbacks run, so a job enqueued after commit would reach the queue.
    with capture(execute=True):
        return getattr(client, method)(path, payload)


def _assert_nothing_happened(queue):
    assert not Action.objects.exists()
    assert not ReclusteringJob.objects.exists()
    assert queue.calls == []


@pytest.mark.parametrize(("method", "path", "payload"), ACTING)
def test_anonymous_visitors_are_sent_to_log_in_and_nothing_happens(
    workflow, queue, django_capture_on_commit_callbacks, method, path, payload
):
    response = _call(Client(), method, path, payload, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    _assert_nothing_happened(queue)


@pytest.mark.parametrize(("method", "path", "payload"), ACTING)
def test_unverified_users_are_told_to_verify_and_nothing_happens(
    unverified_client, workflow, queue, django_capture_on_commit_callbacks, method, path, payload
):
    response = _call(unverified_client, method, path, payload, django_capture_on_commit_callbacks)
    assert response.status_code == 403
    assert "Verify your e-mail address first" in response.content.decode()
    _assert_nothing_happened(queue)


def test_a_verified_operator_sees_the_reset_cache_page(operator_client, queue):
    response = operator_client.get("/resetcache")
    assert response.status_code == 200
    assert "Refresh now" in response.content.decode()
    assert queue.calls == []


def test_a_verified_operator_queues_a_cache_refresh(
    operator_client, queue, django_capture_on_commit_callbacks
):
    response = _call(operator_client, "post", "/resetcache", {}, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    job_id = response["Location"].removeprefix("/resetcache?job=")
    assert response["Location"] == f"/resetcache?job={job_id}"
    assert queue.calls == [("refresh_errors", (), {"task_id": job_id})]


def test_a_verified_operator_sees_the_cluster_page(operator_client, queue):
    response = operator_client.get("/cluster")
    assert response.status_code == 200
    assert "Recluster now" in response.content.decode()
    assert queue.calls == []


def test_a_verified_operator_queues_a_reclustering(
    operator_client, verified_operator, queue, django_capture_on_commit_callbacks
):
    response = _call(operator_client, "post", "/cluster", {}, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert response["Location"] == "/cluster"
    job = ReclusteringJob.objects.get()
    assert job.requested_by == verified_operator
    assert queue.calls == [("recluster", (job.pk,), {})]


def test_a_verified_operator_gets_the_action_form(operator_client, workflow):
    response = operator_client.get(SUBMIT_PAGE)
    assert response.status_code == 200
    assert 'id="action-form"' in response.content.decode()
    assert not Action.objects.exists()


def test_a_verified_operator_submits_an_action_from_the_form(operator_client, verified_operator, workflow):
    response = operator_client.post(SUBMIT_PAGE, CLONE_FORM)
    assert response.status_code == 302
    assert response["Location"] == "/seeworkflow?" + urlencode({"workflow": WORKFLOW})
    action = Action.objects.get()
    assert (action.workflow, action.user) == (workflow, verified_operator)
    assert action.parameters == {"memory": 2500}


@pytest.mark.parametrize("client_name", ["anonymous", "unverified_client"])
def test_the_submit_api_refuses_anonymous_and_unverified_callers(request, workflow, client_name):
    client = Client() if client_name == "anonymous" else request.getfixturevalue(client_name)
    response = client.post("/api/actions/", json.dumps(CLONE_API), content_type="application/json")
    assert response.status_code in (401, 403)
    assert not Action.objects.exists()


def test_the_submit_api_stores_a_verified_operators_action(operator_client, verified_operator, workflow):
    response = operator_client.post("/api/actions/", json.dumps(CLONE_API), content_type="application/json")
    assert response.status_code == 201
    assert [entry["workflow"] for entry in response.json()] == [WORKFLOW]
    action = Action.objects.get()
    assert (action.workflow, action.user) == (workflow, verified_operator)
