"""The operators' actions page, the old workflow path, the API schema and docs, the admin."""

from datetime import timedelta

import pytest
from django.utils import timezone

from actions.models import Action
from actions.services import submit_action
from tests.factories import UserFactory, WorkflowFactory


def _submit(user, action="clone", days_ago=0.0, reported=False):
    workflow = WorkflowFactory()
    parameters = {"action": "on-hold"} if action == "special" else {"memory": 2000}
    submit_action(
        user=user,
        workflows=[workflow.name],
        action=action,
        parameters=parameters,
        reasons=[{"short": "", "long": f"{action} reason"}],
    )
    when = timezone.now() - timedelta(days=days_ago)
    Action.objects.filter(workflow=workflow).update(submitted_at=when, reported_at=when if reported else None)
    return workflow.name


@pytest.fixture
def listed(verified_operator, other_operator):
    return {
        "fresh": _submit(verified_operator),
        "late": _submit(other_operator, "special", days_ago=3),
        "done": _submit(verified_operator, days_ago=2, reported=True),
    }


def test_pending_actions_are_listed_and_the_late_ones_flagged(operator_client, listed):
    response = operator_client.get("/actions/")
    page = response.content.decode()
    assert response.status_code == 200
    assert listed["fresh"] in page and listed["late"] in page and listed["done"] not in page
    assert page.count('class="late"') == 1 and "pending 3\xa0days" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=reported", {"done"}),
        ("status=all", {"fresh", "late", "done"}),
        ("status=all&action=special", {"late"}),
        ("status=all&user=alice", {"fresh", "done"}),
        ("status=all&days=1", {"fresh"}),
    ],
)
def test_the_filters(operator_client, listed, query, expected):
    page = operator_client.get(f"/actions/?{query}").content.decode()
    assert {label for label, name in listed.items() if name in page} == expected


@pytest.mark.parametrize("query", ["status=maybe", "days=-1", "days=x", "action=delete"])
def test_bad_filters_are_explained(operator_client, listed, query):
    response = operator_client.get(f"/actions/?{query}")
    assert response.status_code == 400 and 'class="error-box"' in response.content.decode()


def test_the_page_needs_a_verified_operator_and_a_fixed_number_of_queries(
    client, unverified_client, operator_client, verified_operator, django_assert_max_num_queries
):
    assert client.get("/actions/").status_code == 302
    assert unverified_client.get("/actions/").status_code == 403
    for _ in range(5):
        _submit(verified_operator)
    with django_assert_max_num_queries(12) as few:
        operator_client.get("/actions/")
    for _ in range(30):
        _submit(UserFactory())
    with django_assert_max_num_queries(len(few.captured_queries)):
        operator_client.get("/actions/")


def test_seeworkflow2_redirects_to_the_workflow_page(client):
    response = client.get("/seeworkflow2?workflow=a b&c")
    assert response.status_code == 302 and response["Location"] == "/seeworkflow?workflow=a+b"
    assert client.get("/seeworkflow2?workflow=wf_1")["Location"] == "/seeworkflow?workflow=wf_1"
    assert client.get("/seeworkflow2").status_code == 400


def test_the_schema_documents_the_unified_endpoints(client, db):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/getaction", "/reportaction", "/api/actions/"} <= set(paths)
    assert "post" in paths["/reportaction"] and "get" in paths["/getaction"]


def test_the_docs_page_needs_no_cdn(client, db):
    page = client.get("/api/docs/").content.decode()
    assert "/api/schema/" in page and "//cdn" not in page and "googleapis" not in page
    script = client.get("/api/docs/redoc.standalone.js")
    assert script.status_code == 200 and b"Redoc" in script.content


@pytest.mark.parametrize("model", ["action", "actionsubmission", "reason"])
def test_admin_changelists(client, listed, model, admin_user):
    client.force_login(admin_user)
    assert client.get(f"/admin/actions/{model}/").status_code == 200
    assert client.get(f"/admin/actions/{model}/?acted=0&action=clone").status_code == 200 or model == "reason"


def test_api_tokens_are_managed_in_admin(admin_client):
    assert admin_client.get("/admin/authtoken/tokenproxy/").status_code == 200


@pytest.mark.parametrize("days", ["99999999999999999999", "36501", "9" * 5000])
def test_a_huge_days_filter_is_explained(operator_client, listed, days):
    response = operator_client.get(f"/actions/?status=all&days={days}")
    assert response.status_code == 400
    page = response.content.decode()
    assert 'class="error-box"' in page and "36500" in page
