"""Fault: Redis (cache and broker) goes down.

Before: /globalerror, /sites and the login POST answered 500 (the page cache and allauth's
rate limiter called the cache unguarded); POST /resetcache and /cluster answered 500 and
/cluster left a "queued" row that refused new requests for 10 minutes."""

import pytest
from django.test import Client

from clustering.models import ReclusteringJob
from tests.errors.conftest import SMALL_DOCUMENT, load_document

pytestmark = [pytest.mark.django_db, pytest.mark.pg_too]


@pytest.fixture
def redis_went_down(throwaway_redis, use_broker, settings):
    """The cache and the broker point at a Redis that worked and is now stopped."""
    settings.CACHES = {
        "default": {
            "BACKEND": "wwt_project.cache.FailSoftRedisCache",
            "LOCATION": throwaway_redis.url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    from django.core.cache import cache

    cache.set("alive", 1)
    assert cache.get("alive") == 1  # it really worked
    throwaway_redis.stop()

    use_broker(throwaway_redis.url)
    return throwaway_redis


def test_pages_render_uncached(redis_went_down, tmp_path, client):
    load_document(tmp_path, SMALL_DOCUMENT)
    for url in ("/globalerror", "/globalerror", "/sites", "/"):
        response = client.get(url)
        assert response.status_code == 200, url


def test_login_works_without_the_rate_limiter_s_cache(redis_went_down, verified_operator):
    verified_operator.set_password("correct horse")
    verified_operator.save()
    client = Client()
    wrong = client.post("/accounts/login/", {"login": "alice", "password": "nope"})
    assert wrong.status_code == 200 and b"not correct" in wrong.content
    right = client.post("/accounts/login/", {"login": "alice", "password": "correct horse"})
    assert right.status_code == 302
    assert client.get("/accounts/email/").status_code == 200


@pytest.mark.django_db(transaction=True)  # no test transaction: on_commit sends at once, as in a request
def test_reset_cache_says_nothing_was_queued(redis_went_down, operator_client):
    response = operator_client.post("/resetcache")
    assert response.status_code == 503
    assert b"task queue (Redis) is unreachable" in response.content


@pytest.mark.django_db(transaction=True)
def test_a_reclustering_that_could_not_be_queued_leaves_no_row(redis_went_down, operator_client):
    response = operator_client.post("/cluster")
    assert response.status_code == 503
    assert b"task queue (Redis) is unreachable" in response.content
    assert not ReclusteringJob.objects.exists()  # so the next request is not refused as "already queued"
    redis_went_down.start()  # back up: the next request is queued
    assert operator_client.post("/cluster").status_code == 302
    assert ReclusteringJob.objects.get().state == ReclusteringJob.State.QUEUED


@pytest.mark.django_db(transaction=True)
def test_refresh_this_workflow_now_says_nothing_was_queued(redis_went_down, operator_client, tmp_path):
    load_document(tmp_path, SMALL_DOCUMENT)
    from workflows.models import Workflow

    name = Workflow.objects.order_by("name").first().name
    response = operator_client.post("/seeworkflow/refresh", {"workflow": name}, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Not refreshed: The task queue (Redis) is unreachable" in html
    assert "Fetching…" not in html  # nothing queued, nothing said to be on its way


@pytest.mark.django_db(transaction=True)
def test_an_action_is_stored_when_the_requester_mail_cannot_be_queued(redis_went_down, operator_client):
    """The broker really stopped: the action is stored and served; its history says the mail
    to the requester was not sent, and why."""
    from actions.models import Action, ActionSubmission, RequesterNotice
    from tests.factories import WorkflowFactory

    workflow = WorkflowFactory(request_parameters={"requestor": "jdoe"})
    response = operator_client.post(
        "/submitaction",
        {
            "workflow": workflow.name,
            "action": "clone",
            "reason_short": "",
            "reason_long": "kill and clone with more memory",
            "tell_requester": "1",
        },
    )
    assert response.status_code == 302
    assert Action.objects.filter(workflow=workflow, reported_at=None).exists()
    history = ActionSubmission.objects.get(workflow=workflow)
    assert history.requester_notice == RequesterNotice.FAILED
    assert "task queue (Redis) was unreachable" in history.requester_problem
def test_getaction_serves_every_write_across_workers_and_an_outage(throwaway_redis, settings, verified_operator):
    """A reply kept in Redis by another worker is never served after a write, and with Redis
    down the reply comes from the database."""
    import json

    from actions import served
    from actions.services import submit_action
    from tests.factories import WorkflowFactory

    settings.CACHES = {
        "default": {
            "BACKEND": "wwt_project.cache.FailSoftRedisCache",
            "LOCATION": throwaway_redis.url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    settings.WWT_ACTIONS_KEY = "k"
    unified = Client()

    def poll_as_a_new_worker() -> set[str]:
        served._kept.clear()
        response = unified.generic("GET", "/getaction", json.dumps({"key": "k"}), content_type="application/json")
        assert response.status_code == 200
        return set(response.json())

    first, second = WorkflowFactory(), WorkflowFactory()
    for workflow in (first, second):
        submit_action(
            user=verified_operator, workflows=[workflow.name], action="special",
            parameters={"action": "by-pass", "other": ""}, reasons=[{"short": "", "long": "done"}],
        )  # fmt: skip
    assert poll_as_a_new_worker() == {first.name, second.name}
    from django.core.cache import cache

    assert cache.get(f"getaction:{served.served_version()}:0:0") is not None  # kept in Redis
    post = unified.post("/reportaction", json.dumps({"key": "k", "workflows": [first.name]}), content_type="application/json")
    assert post.json()["success"] == [first.name]
    assert poll_as_a_new_worker() == {second.name}

    throwaway_redis.stop()
    Client().get("/")  # nothing else needs Redis for this
    post = unified.post("/reportaction", json.dumps({"key": "k", "workflows": [second.name]}), content_type="application/json")
    assert post.json()["success"] == [second.name]
    assert poll_as_a_new_worker() == set()
