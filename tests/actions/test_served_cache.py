"""getaction's reply kept per version of the actions (actions/served.py): every write that
changes what Unified is served is seen by the next poll, whichever path wrote it, and a poll
with nothing changed costs one query, or none while this process's lease on the version holds
(models.ServedTokenLease), which every write waits out after its commit."""

import socket
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.db import transaction
from django.utils import timezone

from actions import served
from actions.models import Action, ServedTokenLease, ServedVersion
from actions.selectors import served_actions_json
from actions.services import submit_action
from tests.factories import WorkflowFactory

pytestmark = pytest.mark.pg_too

REASONS = [{"short": "memory", "long": "Jobs exceed the memory limit (50660)."}]


def _clone(user, workflow, memory=3000):
    """An action as the form stores it (flat parameters for a clone)."""
    submit_action(
        user=user,
        workflows=[workflow.name],
        action="clone",
        parameters={"memory": memory, "splitting": "2x"},
        reasons=REASONS,
    )


@pytest.fixture
def two_served(verified_operator):
    first, second = WorkflowFactory(), WorkflowFactory()
    _clone(verified_operator, first)
    _clone(verified_operator, second)
    return first, second


def _served(unified, query="days=15") -> dict:
    response = unified.getaction(query)
    assert response.status_code == 200
    return response.json()


def test_a_poll_after_a_new_action_serves_it(unified, verified_operator, two_served):
    assert set(_served(unified)) == {w.name for w in two_served}
    third = WorkflowFactory()
    _clone(verified_operator, third)
    assert set(_served(unified)) == {w.name for w in (*two_served, third)}


def test_a_poll_after_a_resubmission_serves_the_new_parameters(unified, verified_operator, two_served):
    first, _ = two_served
    assert _served(unified)[first.name]["Parameters"]["memory"] == 3000
    _clone(verified_operator, first, memory=8000)
    assert _served(unified)[first.name]["Parameters"]["memory"] == 8000


def test_a_poll_after_a_report_stops_serving_it(unified, two_served):
    first, second = two_served
    assert set(_served(unified)) == {first.name, second.name}
    assert set(_served(unified, "acted=1")) == set()
    assert unified.report([first.name]).json()["success"] == [first.name]
    assert set(_served(unified)) == {second.name}
    assert set(_served(unified, "acted=1")) == {first.name}


@pytest.mark.parametrize(
    "delete",
    [
        pytest.param(lambda workflow: Action.objects.get(workflow=workflow).delete(), id="one action"),
        pytest.param(lambda workflow: Action.objects.filter(workflow=workflow).delete(), id="a queryset"),
        pytest.param(lambda workflow: workflow.delete(), id="its workflow (cascade)"),
    ],
)
def test_a_poll_after_a_delete_stops_serving_it(unified, two_served, delete):
    first, second = two_served
    assert set(_served(unified)) == {first.name, second.name}
    delete(first)
    assert set(_served(unified)) == {second.name}


@pytest.mark.parametrize(
    "withdraw",
    [
        # What a new write path (a withdrawal, an admin edit) might do: none calls the cache.
        pytest.param(
            lambda workflow: Action.objects.filter(workflow=workflow).update(reported_at=timezone.now()),
            id="queryset update",
        ),
        pytest.param(lambda workflow: _save_reported(Action.objects.get(workflow=workflow)), id="save"),
        pytest.param(
            lambda workflow: Action.objects.bulk_update(
                [_reported(Action.objects.get(workflow=workflow))], ["reported_at"]
            ),
            id="bulk_update",
        ),
    ],
)
def test_any_write_path_is_seen_by_the_next_poll(unified, two_served, withdraw):
    first, second = two_served
    assert set(_served(unified)) == {first.name, second.name}
    withdraw(first)
    assert set(_served(unified)) == {second.name}


def _reported(action: Action) -> Action:
    action.reported_at = timezone.now()
    return action


def _save_reported(action: Action) -> None:
    _reported(action).save()


def test_a_warm_poll_is_one_query_and_the_database_s_bytes(
    unified, two_served, django_assert_num_queries, monkeypatch
):
    monkeypatch.setattr(ServedTokenLease, "seconds", 0)  # no lease: the version read every poll
    _served(unified)
    with django_assert_num_queries(1):
        response = unified.getaction("days=15")
    assert response.content == served_actions_json(days=15).encode()


def test_a_poll_within_the_lease_makes_no_query(unified, two_served, django_assert_num_queries, monkeypatch):
    monkeypatch.setattr(ServedTokenLease, "seconds", 3600)
    _served(unified)
    with django_assert_num_queries(0):
        response = unified.getaction("days=15")
    assert response.content == served_actions_json(days=15).encode()


def test_a_write_ends_this_process_s_lease_at_once(unified, verified_operator, two_served, monkeypatch):
    monkeypatch.setattr(ServedTokenLease, "seconds", 3600)
    assert set(_served(unified)) == {w.name for w in two_served}
    with transaction.atomic():
        third = WorkflowFactory()
        _clone(verified_operator, third)
        # Before the commit too: this process's polls read the writer's own transaction.
        assert set(_served(unified)) == {w.name for w in (*two_served, third)}


def test_a_lease_runs_from_before_its_read():
    ServedTokenLease.take("token", read_started=100.0)
    assert ServedTokenLease.trusted_token(100.0 + ServedTokenLease.seconds / 2) == (True, "token")
    assert ServedTokenLease.trusted_token(100.0 + ServedTokenLease.seconds)[0] is False
    ServedTokenLease.end()
    assert ServedTokenLease.trusted_token(100.0)[0] is False


def test_another_process_s_write_is_read_once_the_lease_ran_out(unified, two_served, monkeypatch):
    """What a worker sees of a write made in another process, which cannot end its lease."""
    monkeypatch.setattr(ServedTokenLease, "seconds", 3600)
    first, second = two_served
    assert set(_served(unified)) == {first.name, second.name}
    # Another process's write: the rows and the version, none of this process's code run.
    Action._base_manager.filter(workflow=first).update(reported_at=timezone.now())
    ServedVersion.objects.update(token="written-elsewhere")
    assert set(_served(unified)) == {first.name, second.name}  # within the lease the writer waits out
    token, _ = ServedTokenLease.held
    ServedTokenLease.held = (token, 0.0)  # the lease ran out
    assert set(_served(unified)) == {second.name}


@pytest.fixture
def waits(monkeypatch):
    """The waits writers make after their commit (seconds each), instead of sleeping."""
    waited = []
    monkeypatch.setattr("actions.models.time.sleep", waited.append)
    return waited


@pytest.mark.django_db(transaction=True)
def test_a_write_returns_only_after_waiting_out_the_lease(verified_operator, two_served, waits):
    first, second = two_served
    waits.clear()
    with transaction.atomic():
        Action.objects.filter(workflow=first).update(reported_at=timezone.now())
        Action.objects.get(workflow=second).save()
        _clone(verified_operator, WorkflowFactory())
        assert waits == []  # nothing waits before the commit
    assert waits == [ServedTokenLease.seconds]  # once for the transaction, however many writes


@pytest.mark.django_db(transaction=True)
def test_a_write_in_a_rolled_back_savepoint_leaves_the_wait_to_the_next_write(two_served, waits):
    first, second = two_served
    waits.clear()
    with transaction.atomic():
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            Action.objects.filter(workflow=first).update(reported_at=timezone.now())
            1 / 0  # noqa: B018 -- the savepoint and its callbacks are rolled back
        Action.objects.filter(workflow=second).update(reported_at=timezone.now())
    assert waits == [ServedTokenLease.seconds]


@pytest.mark.django_db(transaction=True)
def test_every_committed_write_waits(verified_operator, waits):
    workflow = WorkflowFactory()
    _clone(verified_operator, workflow)  # one transaction
    waits.clear()
    Action.objects.filter(workflow=workflow).update(reported_at=timezone.now())  # autocommit
    Action.objects.get(workflow=workflow).delete()
    assert waits == [ServedTokenLease.seconds] * 2


def test_an_action_ageing_out_of_days_leaves_without_a_write(verified_operator):
    now = timezone.now()
    workflow = WorkflowFactory()
    _clone(verified_operator, workflow)
    Action.objects.filter(workflow=workflow).update(submitted_at=now - timedelta(days=15, hours=-1))
    assert workflow.name in served.served_actions_bytes(days=15, now=now).decode()
    assert workflow.name not in served.served_actions_bytes(days=15, now=now + timedelta(hours=2)).decode()
    assert workflow.name in served.served_actions_bytes(days=16, now=now + timedelta(hours=2)).decode()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_with_redis_unreachable_polls_serve_the_database(unified, verified_operator, two_served, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "wwt_project.cache.FailSoftRedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    caches.close_all()
    served._kept.clear()  # a worker that has not served this version yet
    assert _served(unified).keys() == {w.name for w in two_served}
    first, second = two_served
    assert unified.report([first.name]).json()["success"] == [first.name]
    served._kept.clear()
    response = unified.getaction("days=15")
    assert response.content == served_actions_json(days=15).encode()
    assert set(response.json()) == {second.name}


def test_without_the_version_row_polls_still_serve_the_database(unified, verified_operator, two_served):
    ServedVersion.objects.all().delete()  # a flushed database
    assert set(_served(unified)) == {w.name for w in two_served}
    third = WorkflowFactory()
    _clone(verified_operator, third)
    assert ServedVersion.objects.count() == 1  # the write made it again
    assert set(_served(unified)) == {w.name for w in (*two_served, third)}
