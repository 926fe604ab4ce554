"""getaction: what Unified is served, its filters, and that its errors are never a JSON object."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from actions.models import Action, ServedTokenLease
from actions.services import submit_action
from tests.factories import WorkflowFactory

REASON = [{"short": "", "long": "Force-complete: enough events."}]


def _special(user, workflow, *, days_ago=0, reported=False):
    submit_action(
        user=user,
        workflows=[workflow.name],
        action="special",
        parameters={"action": "by-pass", "other": ""},
        reasons=REASON,
    )
    when = timezone.now() - timedelta(days=days_ago)
    Action.objects.filter(workflow=workflow).update(
        submitted_at=when, reported_at=when + timedelta(minutes=5) if reported else None
    )


def _not_a_json_object(response) -> bool:
    try:
        return not isinstance(json.loads(response.content), dict)
    except ValueError:
        return True


@pytest.fixture
def aged(verified_operator):
    """pending today, pending 20 days ago, reported 2 days ago."""
    names = {}
    for label, days_ago, reported in (("fresh", 0, False), ("old", 20, False), ("done", 2, True)):
        workflow = WorkflowFactory()
        _special(verified_operator, workflow, days_ago=days_ago, reported=reported)
        names[label] = workflow.name
    return names


@pytest.mark.pg_too
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"fresh", "old"}),
        ("days=0", {"fresh", "old"}),
        ("days=15", {"fresh"}),
        ("days=30", {"fresh", "old"}),
        ("acted=1", {"done"}),
        ("acted=1&days=1", set()),
        ("acted=-1", {"fresh", "old", "done"}),
        ("acted=-1&days=15", {"fresh", "done"}),
    ],
)
def test_it_filters_by_days_and_acted(unified, aged, query, expected):
    served = unified.getaction(query).json()
    assert set(served) == {aged[label] for label in expected}


def test_a_special_action_is_served_as_unified_reads_it(unified, aged):
    entry = unified.getaction("").json()[aged["fresh"]]
    assert entry == {
        "Action": "special",
        "Parameters": {"action": "by-pass", "other": ""},
        "Reasons": ["Force-complete: enough events."],
        "Reason": "Force-complete: enough events.",
        "user": "alice",
        "ACDCs": [],
    }


def test_it_answers_the_same_under_api(unified, aged):
    plain = unified.getaction("")
    assert plain.status_code == 200 and set(plain.json()) == {aged["fresh"], aged["old"]}
    assert unified.getaction("", path="/api/getaction").json() == plain.json()


def test_an_open_getaction_answers_without_a_body(unified, aged, actions_config):
    actions_config(getaction_open=True)
    plain = Client().get("/getaction")
    assert plain.status_code == 200 and set(plain.json()) == {aged["fresh"], aged["old"]}
    assert unified.getaction("", key="wrong").status_code == 200


def test_it_answers_json_whatever_the_client_accepts(unified, aged):
    response = unified.getaction("", HTTP_ACCEPT="text/html")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")


@pytest.mark.pg_too
def test_it_serves_a_fixed_number_of_queries(
    unified, verified_operator, django_assert_num_queries, monkeypatch
):
    """The first poll after a write reads the version and builds the reply; the next ones
    read the version only (actions/served.py), or nothing while the process's lease on it
    holds (models.ServedTokenLease)."""
    monkeypatch.setattr(ServedTokenLease, "seconds", 3600)  # this test's polls all inside it
    for _ in range(3):
        _special(verified_operator, WorkflowFactory())
    with django_assert_num_queries(2):
        assert len(unified.getaction("").json()) == 3
    with django_assert_num_queries(0):
        assert len(unified.getaction("").json()) == 3
    for _ in range(20):
        _special(verified_operator, WorkflowFactory())
    with django_assert_num_queries(2):
        assert len(unified.getaction("").json()) == 23
    with django_assert_num_queries(0):
        assert len(unified.getaction("").json()) == 23
    monkeypatch.setattr(ServedTokenLease, "seconds", 0)  # every lease has run out
    ServedTokenLease.end()
    for _ in range(2):
        with django_assert_num_queries(1):
            assert len(unified.getaction("").json()) == 23


@pytest.mark.parametrize("query", ["days=fifteen", "acted=x", "days=-3", "days=1.5"])
def test_bad_parameters_get_plain_text_400(unified, aged, query):
    response = unified.getaction(query)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert _not_a_json_object(response)


def test_wrong_method_and_trailing_slash_are_not_json_objects(unified, aged):
    post = Client().post("/getaction", "{}", content_type="application/json")
    assert post.status_code == 405 and _not_a_json_object(post)
    slash = unified.getaction("", path="/getaction/")
    assert slash.status_code == 404 and _not_a_json_object(slash)


def test_the_exact_path_is_never_redirected(unified, aged, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = [
        r"^getaction$",
        r"^reportaction$",
        r"^api/getaction$",
        r"^api/reportaction$",
    ]
    assert unified.getaction("").status_code == 200
    assert unified.report(["x"]).status_code == 200
    assert Client().get("/actions/").status_code == 301  # the rest of the site is redirected to HTTPS


@pytest.mark.parametrize("path", ["/getaction", "/api/getaction"])
def test_the_key_is_required_by_default(unified, aged, path):
    assert unified.getaction("", path=path).status_code == 200
    wrong = unified.getaction("", key="wrong", path=path)
    assert wrong.status_code == 403 and wrong["Content-Type"].startswith("text/plain")
    assert _not_a_json_object(wrong)
    for missing in (
        Client().get(path),
        Client().generic("GET", path, "{}", content_type="application/json"),
        Client().generic("GET", path, '{"key": null}', content_type="application/json"),
        Client().generic("GET", path, '["unified-passphrase-0f3c"]', content_type="application/json"),
    ):
        assert missing.status_code == 403 and missing["Content-Type"].startswith("text/plain")
        assert _not_a_json_object(missing)
    bad_body = Client().generic("GET", path, "{not json", content_type="application/json")
    assert bad_body.status_code == 400 and _not_a_json_object(bad_body)


def test_the_old_require_key_setting_changes_nothing(unified, aged, actions_config):
    actions_config(require_key_for_getaction=False)
    assert unified.getaction("", key="wrong").status_code == 403
    actions_config(require_key_for_getaction=True)
    assert unified.getaction("", key="wrong").status_code == 403
    assert unified.getaction("").status_code == 200


def test_no_key_configured_refuses_everyone(unified, aged, settings):
    settings.WWT_ACTIONS_KEY = None
    assert unified.getaction("", key="").status_code == 403
    assert Client().get("/getaction").status_code == 403


@pytest.mark.pg_too
def test_odd_workflow_names_are_served_as_valid_json(unified, verified_operator):
    odd = WorkflowFactory(name='wf_"quoted"\\back_\u00e9t\u00e9_</script>', prep_id="x", campaign="y")
    _special(verified_operator, odd)
    served = json.loads(unified.getaction("").content)
    assert list(served) == [odd.name]


def test_an_edit_in_admin_changes_what_is_served(unified, aged, admin_client):
    action = Action.objects.get(workflow__name=aged["fresh"])
    response = admin_client.post(
        f"/admin/actions/action/{action.pk}/change/",
        {
            "workflow": action.workflow_id,
            "action": "special",
            "parameters": '{"action": "on-hold", "other": "edited"}',
            "reasons": '[{"short": "", "long": "Edited by an admin."}]',
            "acdcs": "[]",
            "user": action.user_id,
            "reported_at_0": "",
            "reported_at_1": "",
            "submission": action.submission_id,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = unified.getaction("").json()[aged["fresh"]]
    assert entry["Parameters"] == {"action": "on-hold", "other": "edited"}
    assert entry["Reason"] == "Edited by an admin."


def test_options_is_not_answered_with_a_json_object(unified, aged):
    response = Client().options("/getaction")
    assert response.status_code == 405 and _not_a_json_object(response)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("[" * 100_000 + "]" * 100_000, 400),
        ('{"key": ' + "[" * 100_000 + "]" * 100_000 + "}", 400),
        (json.dumps({"key": "\ud800"}), 403),
        (json.dumps({"key": ["\ud800"]}), 403),
    ],
)
def test_a_required_key_refuses_odd_bodies_in_plain_text(unified, aged, body, status):
    response = Client().generic("GET", "/getaction", body, content_type="application/json")
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/plain") and _not_a_json_object(response)


@pytest.mark.parametrize("query", ["days=99999999999999999999", "days=36501", "days=" + "9" * 5000])
def test_a_huge_days_gets_plain_text_400(unified, aged, query):
    response = unified.getaction(query)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain") and _not_a_json_object(response)
    assert b"days" in response.content


def test_the_largest_days_allowed_still_answers(unified, aged):
    assert set(unified.getaction("days=36500").json()) == {aged["fresh"], aged["old"]}
