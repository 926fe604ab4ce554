"""reportaction: always the five-key object, one atomic update, never a 500."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from actions.models import Action, ActionSubmission
from actions.services import mark_reported, submit_action
from tests.factories import WorkflowFactory

FIVE_KEYS = {"valid_key", "valid_format", "success", "already_reported", "does_not_exist"}


@pytest.fixture
def pending(verified_operator):
    workflows = [WorkflowFactory() for _ in range(3)]
    submit_action(
        user=verified_operator,
        workflows=[wf.name for wf in workflows],
        action="clone",
        parameters={"memory": 3000},
        reasons=[{"short": "", "long": "Too much memory."}],
    )
    return [wf.name for wf in workflows]


def _unchanged():
    return Action.objects.filter(reported_at__isnull=True).count()


@pytest.mark.pg_too
def test_it_marks_several_workflows_at_once(unified, unified_key, pending):
    reply = unified.report([*pending[:2], "ghost", pending[0]]).json()
    assert reply["success"] == pending[:2]
    assert reply["does_not_exist"] == ["ghost"]
    assert reply["already_reported"] == []
    assert list(Action.objects.filter(reported_at__isnull=True).values_list("workflow__name", flat=True)) == [
        pending[2]
    ]


def test_the_api_path_does_the_same(unified, unified_key, pending):
    assert unified.report([pending[0]], path="/api/reportaction").json()["success"] == [pending[0]]


@pytest.mark.parametrize(
    "body",
    [
        {"key": "WRONG", "workflows": []},
        {"workflows": ["x"]},
        {"key": None, "workflows": ["x"]},
        {"key": 12345, "workflows": ["x"]},
        {"key": ["unified-passphrase-0f3c"], "workflows": ["x"]},
    ],
)
def test_a_wrong_or_missing_key_changes_nothing(unified, unified_key, pending, body):
    if body.get("workflows") == ["x"]:
        body["workflows"] = pending
    response = unified.report_raw(json.dumps(body))
    assert response.status_code == 200
    reply = response.json()
    assert set(reply) == FIVE_KEYS and reply["valid_key"] is False and reply["success"] == []
    assert _unchanged() == 3


def test_without_a_configured_key_nothing_is_accepted(unified, settings, pending):
    settings.WWT_ACTIONS_KEY = None
    reply = unified.report(pending, key="").json()
    assert reply["valid_key"] is False and _unchanged() == 3


@pytest.mark.parametrize("workflows", ["one", [1, 2], [None], {"a": 1}, None])
def test_workflows_must_be_a_list_of_names(unified, unified_key, pending, workflows):
    response = unified.report_raw(json.dumps({"key": unified_key, "workflows": workflows}))
    reply = response.json()
    assert set(reply) == FIVE_KEYS and reply["valid_format"] is False and reply["valid_key"] is True
    assert _unchanged() == 3


@pytest.mark.parametrize("body", [b"", b"{", b"not json", b"\xff\xfe", b"[1, 2]", b'"text"', b"null"])
def test_an_unparsable_body_gets_400_with_the_five_keys(unified, unified_key, pending, body):
    response = unified.report_raw(body)
    assert response.status_code == 400
    assert response.json() == {
        "valid_key": False,
        "valid_format": False,
        "success": [],
        "already_reported": [],
        "does_not_exist": [],
    }
    assert _unchanged() == 3


def test_a_form_encoded_body_and_a_get_still_answer_the_object(unified, unified_key, pending, client):
    form = client.post("/reportaction", {"key": unified_key, "workflows": pending[0]})
    assert form.status_code == 400 and set(form.json()) == FIVE_KEYS
    get = client.get("/reportaction")
    assert get.status_code == 405 and set(get.json()) == FIVE_KEYS
    assert _unchanged() == 3


def test_a_repeat_is_already_reported_unless_within_the_retry_window(
    unified, unified_key, pending, actions_config
):
    assert unified.report([pending[0]]).json()["success"] == [pending[0]]
    assert unified.report([pending[0]]).json()["already_reported"] == [pending[0]]
    actions_config(report_retry_window_seconds=300)
    assert unified.report([pending[0]]).json()["success"] == [pending[0]]
    first = Action.objects.get(workflow__name=pending[0]).reported_at
    later = first + timedelta(seconds=301)
    assert mark_reported([pending[0]], now=later).already_reported == [pending[0]]
    assert Action.objects.get(workflow__name=pending[0]).reported_at == first  # a repeat never moves it


def test_a_resubmission_is_pending_again_and_keeps_its_history(
    unified, unified_key, pending, verified_operator
):
    unified.report([pending[0]])
    submit_action(
        user=verified_operator,
        workflows=[pending[0]],
        action="special",
        parameters={"action": "on-hold", "other": "waiting for the site"},
        reasons=[{"short": "", "long": "Hold it."}],
    )
    served = unified.getaction("").json()
    assert served[pending[0]]["Action"] == "special"
    assert unified.report([pending[0]]).json()["success"] == [pending[0]]
    history = ActionSubmission.objects.filter(workflow__name=pending[0]).order_by("submitted_at", "pk")
    assert [s.action for s in history] == ["clone", "special"]
    assert all(s.reported_at for s in history)


def test_reporting_1000_workflows_takes_a_fixed_number_of_queries(
    unified_key, verified_operator, django_assert_max_num_queries
):
    names = [WorkflowFactory().name for _ in range(30)]
    submit_action(
        user=verified_operator,
        workflows=names,
        action="clone",
        parameters={},
        reasons=[{"short": "", "long": "clone"}],
    )
    with django_assert_max_num_queries(6):
        result = mark_reported(names + [f"ghost{i}" for i in range(970)], now=timezone.now())
    assert len(result.success) == 30 and len(result.does_not_exist) == 970


EMPTY_REPLY = {
    "valid_key": False,
    "valid_format": False,
    "success": [],
    "already_reported": [],
    "does_not_exist": [],
}


def test_a_deeply_nested_body_gets_400_with_the_five_keys(unified, unified_key, pending):
    for body in ("[" * 100_000 + "]" * 100_000, '{"key": ' + "[" * 100_000 + "]" * 100_000 + "}"):
        response = unified.report_raw(body)
        assert response.status_code == 400 and response.json() == EMPTY_REPLY
    assert _unchanged() == 3


def test_a_body_over_the_upload_limit_gets_400_with_the_five_keys(unified, unified_key, pending, settings):
    body = json.dumps({"key": unified_key, "workflows": pending, "padding": "x" * 3_000_000})
    assert len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = unified.report_raw(body)
    assert response.status_code == 400 and response.json() == EMPTY_REPLY
    assert _unchanged() == 3


def test_a_key_that_is_not_valid_text_is_a_wrong_key(unified, unified_key, pending):
    # json.dumps writes the lone surrogate as the escape \ud800, which json.loads accepts.
    response = unified.report_raw(json.dumps({"key": "\ud800", "workflows": pending}))
    assert response.status_code == 200
    reply = response.json()
    assert set(reply) == FIVE_KEYS and reply["valid_key"] is False and reply["success"] == []
    assert _unchanged() == 3


def test_a_workflow_name_that_is_not_valid_text_is_a_format_error(unified, unified_key, pending):
    response = unified.report_raw(json.dumps({"key": unified_key, "workflows": [pending[0], "wf_\udcff"]}))
    assert response.status_code == 200
    reply = response.json()
    assert set(reply) == FIVE_KEYS
    assert reply["valid_key"] is True and reply["valid_format"] is False and reply["success"] == []
    assert _unchanged() == 3


@pytest.mark.pg_too
def test_reporting_locks_the_action_rows_and_not_the_workflows(unified_key, pending, monkeypatch):
    """Whatever the database of the run, the locking query is also compiled for PostgreSQL
    (SQLite has no row locks and leaves FOR UPDATE out)."""
    from django.db import connection
    from django.db.backends.postgresql.base import DatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler

    postgres = DatabaseWrapper({**connection.settings_dict, "ENGINE": "django.db.backends.postgresql"})
    monkeypatch.setattr(postgres, "get_autocommit", lambda: False)  # as inside mark_reported's transaction
    locking = []
    execute_sql = SQLCompiler.execute_sql

    def record(compiler, *args, **kwargs):
        if compiler.query.select_for_update:
            locking.append(compiler.query.get_compiler(connection=postgres).as_sql()[0])
        return execute_sql(compiler, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "execute_sql", record)
    assert mark_reported(pending[:1]).success == pending[:1]
    assert len(locking) == 1
    assert 'JOIN "workflows_workflow"' in locking[0]
    assert locking[0].endswith('FOR UPDATE OF "actions_action"')
