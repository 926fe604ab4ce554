"""The action form: what it offers, what it stores, how it refuses."""

import pytest
from django.template import Context, Template
from django.test import Client, RequestFactory

from actions.models import Action, ActionSubmission, Reason
from actions.panels import workflow_panel
from tests.actions.conftest import tasks_of
from tests.factories import WorkflowFactory


def _post(workflow, **fields):
    data = {
        "workflow": workflow.name,
        "action": "acdc",
        "all-sites_method": "Auto",
        "reason_short": ["memory"],
        "reason_long": ["Jobs exceed the memory limit."],
    }
    for i, task in enumerate(tasks_of(workflow.name)[:2]):
        data[f"t{i}-task"] = task
    data.update(fields)
    return data


def _submit(client, workflow, **fields):
    return client.post(f"/submitaction?workflow={workflow.name}", _post(workflow, **fields))


def _panel(workflow, user):
    request = RequestFactory().get("/seeworkflow", {"workflow": workflow.name})
    request.user = user
    template = Template("{% load actions_panels %}{% action_panel panel %}")
    return template.render(Context({"panel": workflow_panel(workflow, user), "request": request}))


def test_the_form_offers_tasks_sites_and_methods(operator_client, workflows, sources):
    page = operator_client.get(f"/submitaction?workflow={workflows[0].name}").content.decode()
    first, merge, deep_logcollect, logcollect = tasks_of(workflows[0].name)
    assert 'id="action-form"' in page
    assert first in page and merge in page and f'value="{logcollect}"' not in page
    assert 'class="site-drain"' in page and 'class="site-disabled"' in page
    # Ban pre-checks the recovery sites in drain
    assert 'name="t0-ban" value="T2_DE_DESY" checked' in page
    assert 'name="t0-ban" value="T2_CH_CERN" checked' not in page
    assert "force-complete (by-pass)" in page and 'value="recovery"' not in page


def test_recovery_is_offered_with_a_warning_only_when_enabled(
    operator_client, workflows, sources, actions_config
):
    actions_config(enabled=["acdc", "recovery", "clone", "special"])
    page = operator_client.get(f"/submitaction?workflow={workflows[0].name}").content.decode()
    assert 'value="recovery"' in page and "Unified does not act on" in page


def test_an_acdc_is_stored_with_history_and_the_new_short_reason(operator_client, workflows, sources):
    response = _submit(operator_client, workflows[0], **{"all-memory": "3000", "t0-xrootd": "enabled"})
    assert response.status_code == 302
    assert response["Location"] == f"/seeworkflow?workflow={workflows[0].name}"
    action = Action.objects.get(workflow=workflows[0])
    first, merge = tasks_of(workflows[0].name)[:2]
    assert action.parameters == {
        first: {"sites": ["T1_US_FNAL", "T2_CH_CERN"], "memory": 3000, "xrootd": "enabled"},
        merge: {"sites": ["T2_CH_CERN", "T2_US_MIT"], "memory": 3000},
    }
    assert action.reasons == [{"short": "memory", "long": "Jobs exceed the memory limit."}]
    assert ActionSubmission.objects.filter(workflow=workflows[0]).count() == 1
    assert Reason.objects.get(short="memory").long == "Jobs exceed the memory limit."


def test_only_this_task_with_manual_and_ban_sites(operator_client, workflows, sources):
    first, merge = tasks_of(workflows[0].name)[:2]
    response = _submit(
        operator_client,
        workflows[0],
        **{
            "all-memory": "5000",
            "t1-only": "1",
            "t1-sites_method": "Manual",
            "t1-sites": ["T2_IT_Pisa", "T3_US_Colorado"],
        },
    )
    assert response.status_code == 302
    assert Action.objects.get(workflow=workflows[0]).parameters == {
        merge: {"sites": ["T2_IT_Pisa", "T3_US_Colorado"], "memory": 5000}
    }
    _submit(operator_client, workflows[1], **{"all-sites_method": "Ban", "all-ban": ["T2_CH_CERN"]})
    first, merge = tasks_of(workflows[1].name)[:2]
    parameters = Action.objects.get(workflow=workflows[1]).parameters
    assert parameters[first]["sites"] == ["T1_US_FNAL"]  # T2_DE_DESY drains: never Auto
    assert parameters[merge]["sites"] == ["T2_US_MIT"]


def test_clone_and_special_from_the_form(operator_client, workflows, sources):
    _submit(
        operator_client, workflows[0], action="clone", **{"clone-memory": "2500", "clone-comment": "retry"}
    )
    assert Action.objects.get(workflow=workflows[0]).parameters == {"memory": 2500, "comment": "retry"}
    _submit(
        operator_client, workflows[1], action="special", **{"special-action": "on-hold", "special-other": ""}
    )
    assert Action.objects.get(workflow=workflows[1]).parameters == {"action": "on-hold", "other": ""}


def test_similar_workflows_get_the_same_action(operator_client, workflows, sources):
    response = _submit(
        operator_client, workflows[0], action="clone", similar=[workflows[1].name, workflows[2].name]
    )
    assert response.status_code == 302
    assert Action.objects.count() == 3
    batches = set(ActionSubmission.objects.values_list("batch", flat=True))
    assert len(batches) == 1 and None not in batches


def test_errors_rerender_with_the_input_kept_and_nothing_stored(operator_client, workflows, sources):
    response = _submit(
        operator_client,
        workflows[0],
        similar=[workflows[1].name, "<b>ghost</b>"],
        reason_short=["typo"],
        reason_long=[""],
        **{"all-memory": "lots", "t1-sites_method": "Manual", "t1-splitting": "3x"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "The action was not submitted" in page
    assert "memory (MB) must be a whole number" in page
    assert "long reason is empty" in page
    assert "unknown workflow(s): &lt;b&gt;ghost&lt;/b&gt;" in page and "<b>ghost</b>" not in page
    assert 'name="all-memory" value="lots"' in page
    assert 'value="3x" selected' in page
    assert 'name="t1-sites_method" value="Manual" checked' in page
    assert f'name="similar" value="{workflows[1].name}"' in page
    assert 'value="typo"' in page
    assert (
        Action.objects.count() == 0 and ActionSubmission.objects.count() == 0 and Reason.objects.count() == 0
    )


def test_manual_with_no_site_ticked_is_an_error(operator_client, workflows, sources):
    response = _submit(operator_client, workflows[0], **{"all-sites_method": "Manual"})
    assert response.status_code == 400 and "choose at least one site" in response.content.decode()


def test_no_recovery_info_refuses_auto_with_a_clear_error(operator_client, workflows, sources):
    sources[workflows[0].name] = {}
    page = operator_client.get(f"/submitaction?workflow={workflows[0].name}").content.decode()
    assert "No recovery information" in page
    response = _submit(operator_client, workflows[0])
    assert response.status_code == 400
    assert "no sites can be determined for task" in response.content.decode()
    assert Action.objects.count() == 0


def test_anonymous_and_unverified_users_cannot_submit(client, unverified_client, workflows, sources):
    anonymous = _submit(client, workflows[0])
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert _submit(unverified_client, workflows[0]).status_code == 403
    assert Action.objects.count() == 0 and Reason.objects.count() == 0


def test_the_form_needs_its_csrf_token(verified_operator, workflows, sources):
    client = Client(enforce_csrf_checks=True)
    client.force_login(verified_operator)
    assert _submit(client, workflows[0]).status_code == 403
    assert Action.objects.count() == 0


def test_unknown_or_missing_workflow(operator_client, db):
    assert operator_client.get("/submitaction?workflow=nope").status_code == 404
    assert operator_client.get("/submitaction").status_code == 400


def test_the_panel_shows_the_last_action_and_warns_before_resubmitting(
    operator_client, verified_operator, workflows, sources
):
    page = _panel(workflows[0], verified_operator)
    assert "No action submitted for this workflow yet" in page and 'id="action-form"' in page
    _submit(operator_client, workflows[0], action="special", **{"special-action": "by-pass"})
    page = _panel(workflows[0], verified_operator)
    assert "Last action: <strong>special</strong>" in page and "alice" in page and "pending" in page
    assert "Submitting again replaces it" in page


def test_the_panel_offers_no_form_to_unverified_users(unverified_user, workflows, sources):
    page = _panel(workflows[0], unverified_user)
    assert 'id="action-form"' not in page and "Verify your e-mail address" in page


def test_workflow_names_are_escaped_in_the_panel(verified_operator, sources):
    workflow = WorkflowFactory(name='evil_"><script>alert(1)</script>', prep_id="x", campaign="y")
    sources[workflow.name] = {"Task<i>1": ["T2_CH_CERN"]}
    page = _panel(workflow, verified_operator)
    assert "Task&lt;i&gt;1" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


@pytest.mark.parametrize("reported", [False, True])
def test_the_panel_runs_a_bounded_number_of_queries(
    verified_operator, workflows, sources, django_assert_max_num_queries, reported
):
    from actions.services import submit_action

    submit_action(
        user=verified_operator,
        workflows=[workflows[0].name],
        action="clone",
        parameters={},
        reasons=[{"short": "a", "long": "b"}],
    )
    with django_assert_max_num_queries(6):
        panel = workflow_panel(workflows[0], verified_operator)
    request = RequestFactory().get("/seeworkflow")
    request.user = verified_operator
    with django_assert_max_num_queries(0):  # the template only renders what the view gathered
        html = Template("{% load actions_panels %}{% action_panel panel %}").render(
            Context({"panel": panel, "request": request})
        )
    assert "clone" in html.lower()


def test_the_workflow_page_carries_the_panel_and_its_form(operator_client, client, workflows, sources):
    page = operator_client.get(f"/seeworkflow?workflow={workflows[0].name}")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="action-panel"' in html and 'id="action-form"' in html and "/static/js/actions.js" in html
    anonymous = client.get(f"/seeworkflow?workflow={workflows[0].name}").content.decode()
    assert 'id="action-panel"' in anonymous and 'id="action-form"' not in anonymous


@pytest.mark.parametrize(
    ("fields", "kept"),
    [
        ({"all-memory": "²"}, 'name="all-memory" value="²"'),
        ({"t0-cores": "1²"}, 'name="t0-cores" value="1²"'),
        ({"action": "clone", "clone-memory": "1²"}, 'name="clone-memory" value="1²"'),
    ],
)
def test_digits_that_are_not_ascii_are_refused_with_the_input_kept(
    operator_client, workflows, sources, fields, kept
):
    response = _submit(operator_client, workflows[0], **fields)
    assert response.status_code == 400
    page = response.content.decode()
    assert "must be a whole number" in page and kept in page
    assert (
        Action.objects.count() == 0 and ActionSubmission.objects.count() == 0 and Reason.objects.count() == 0
    )
