"""The similar-workflows panel (placement.similar_panel, rendered by its template tag) and
the suggestion on the workflow page."""

import re
from pathlib import Path

import pytest
from django.template import Context, Template
from django.utils import timezone

from actions.models import Action
from clustering import jobs, placement, prediction
from clustering.models import ClusterMembership
from tests.clustering.conftest import add_errors
from workflows.models import Workflow

pytestmark = pytest.mark.django_db

HOSTILE = 'wf_<b>"bold"</b>&co'


def render(tag: str, value) -> str:
    return Template("{% load clustering_panels %}{% " + tag + " value %}").render(Context({"value": value}))


def render_panel(workflow) -> str:
    return render("similar_workflows_panel", placement.similar_panel(workflow))


def test_the_panel_links_and_offers_a_checkbox_for_each_similar_workflow(
    django_assert_max_num_queries, django_assert_num_queries
):
    alpha = add_errors("wf_alpha", [(50660, "T2_CH_CERN", 10)])
    add_errors(HOSTILE, [(50660, "T2_CH_CERN", 11)])
    add_errors("wf_gamma", [(8028, "T1_US_FNAL", 30)])
    jobs.recluster_workflows()
    with django_assert_max_num_queries(4):
        panel = placement.similar_panel(alpha)
    with django_assert_num_queries(0):  # the template only renders
        html = render("similar_workflows_panel", panel)
    assert "1 similar workflow " in html
    escaped = "wf_&lt;b&gt;&quot;bold&quot;&lt;/b&gt;&amp;co"
    assert f'<input type="checkbox" form="action-form" name="similar" value="{escaped}">' in html
    assert 'href="/seeworkflow?workflow=wf_%3Cb%3E%22bold%22%3C/b%3E%26co"' in html
    assert "<b>" not in html
    assert "wf_gamma" not in html


def cluster_of_many(n: int):
    """wf_alpha and `n` workflows of its pattern (50660 at CERN, some 8001 at FNAL), wf_k
    with k more 8001 failures the further it is; wf_other of another pattern."""
    alpha = add_errors("wf_alpha", [(50660, "T2_CH_CERN", 100)])
    for k in range(n):
        add_errors(f"wf_{k:03d}", [(50660, "T2_CH_CERN", 100 + k), (8001, "T1_US_FNAL", k + 1)])
    add_errors("wf_other", [(8028, "T1_IT_CNAF", 30)])
    jobs.recluster_workflows()
    return alpha


@pytest.mark.pg_too
def test_similar_workflows_come_nearest_first_with_errors_top_code_and_last_action(
    verified_operator, django_assert_max_num_queries
):
    alpha = cluster_of_many(30)
    now = timezone.now()
    Action.objects.create(
        workflow=Workflow.objects.get(name="wf_002"), action="acdc", parameters={}, user=verified_operator,
        reasons=[{"short": "memory", "long": "Jobs <exceed> the memory limit (exit code 50660)."}],
        submitted_at=now,
    )  # fmt: skip
    Action.objects.create(
        workflow=Workflow.objects.get(name="wf_001"), action="clone", parameters={}, user=verified_operator,
        reasons=[{"short": "", "long": "Cloned with more memory."}], submitted_at=now, reported_at=now,
    )  # fmt: skip
    with django_assert_max_num_queries(4):  # 30 similar workflows or 3: the same queries
        panel = placement.similar_panel(alpha)
    names = [entry.name for entry in panel.similar]
    assert names == [f"wf_{k:03d}" for k in range(30)]  # more 8001 is further from wf_alpha
    assert [entry.distance for entry in panel.similar] == sorted(entry.distance for entry in panel.similar)
    far = panel.similar[-1]
    assert (far.errors, far.top_exit_code) == (129 + 30, 50660)
    html = render("similar_workflows_panel", panel)
    row = re.search(r"<tr>\s*<td><label><input[^>]*value=\"wf_002\">.*?</tr>", html, re.S).group(0)
    assert ">105<" in row and "#code-50660\">50660</a>" in row
    assert "ACDC" in row and '<span class="bad">pending</span>' in row
    assert "<strong>memory</strong>: Jobs &lt;exceed&gt; the memory limit" in row
    row = re.search(r"<tr>\s*<td><label><input[^>]*value=\"wf_001\">.*?</tr>", html, re.S).group(0)
    assert '<span class="ok">done</span>' in row and "Cloned with more memory." in row
    assert '<th class="num">distance</th>' in html


def test_the_ranking_is_cached_per_snapshot_and_the_last_actions_are_read_on_each_view(
    verified_operator, django_assert_num_queries
):
    alpha = cluster_of_many(5)
    placement.similar_panel(alpha, "snapshot-1")
    with django_assert_num_queries(2):  # its membership, and the last actions of those shown
        panel = placement.similar_panel(alpha, "snapshot-1")
    assert [entry.name for entry in panel.similar][:2] == ["wf_000", "wf_001"]
    Action.objects.create(
        workflow=Workflow.objects.get(name="wf_000"), action="acdc", parameters={}, user=verified_operator,
        reasons=[], submitted_at=timezone.now(),
    )  # fmt: skip
    assert placement.similar_panel(alpha, "snapshot-1").similar[0].last_action.action == "acdc"


def test_the_nearest_fifty_are_shown_and_all_on_demand(client, django_assert_max_num_queries):
    cluster_of_many(60)
    page = client.get("/seeworkflow", {"workflow": "wf_alpha"}).content.decode()
    assert page.count('form="action-form" name="similar"') == placement.SHOWN == 50
    assert "60 similar workflows (cluster" in page and "the nearest 50 shown" in page
    assert 'value="wf_049"' in page and 'value="wf_050"' not in page
    assert 'href="/seeworkflow?workflow=wf_alpha&amp;all_similar=1#similar-panel">Show all 60 similar workflows' in page
    with django_assert_max_num_queries(30):
        page = client.get("/seeworkflow", {"workflow": "wf_alpha", "all_similar": "1"}).content.decode()
    assert page.count('form="action-form" name="similar"') == 60
    assert "Show the nearest 50 only" in page


@pytest.mark.pg_too
def test_checked_similar_workflows_get_the_same_action(operator_client):
    cluster_of_many(3)
    page = operator_client.get("/seeworkflow", {"workflow": "wf_alpha"}).content.decode()
    offered = re.findall(r'form="action-form" name="similar" value="([^"]+)"', page)
    assert offered == ["wf_000", "wf_001", "wf_002"]
    response = operator_client.post(
        "/submitaction?workflow=wf_alpha",
        {
            "workflow": "wf_alpha",
            "action": "special",
            "special-action": "on-hold",
            "reason_short": [""],
            "reason_long": ["Same memory problem as its cluster."],
            "similar": offered[:2],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert sorted(Action.objects.values_list("workflow__name", flat=True)) == ["wf_000", "wf_001", "wf_alpha"]


def test_a_workflow_new_since_the_fit_is_placed_when_its_page_is_shown_without_storing_it():
    add_errors("wf_alpha", [(50660, "T2_CH_CERN", 10)])
    add_errors("wf_gamma", [(8028, "T1_US_FNAL", 30)])
    jobs.recluster_workflows()
    newcomer = add_errors("wf_new", [(8028, "T1_US_FNAL", 20)])
    html = render_panel(newcomer)
    assert "wf_gamma" in html and "wf_alpha" not in html
    assert "Placed with the model" in html
    assert not ClusterMembership.objects.filter(workflow=newcomer).exists()


def test_the_panel_says_when_nothing_is_clustered():
    workflow = add_errors("wf_alpha", [(50660, "T2_CH_CERN", 10)])
    html = render_panel(workflow)
    assert "Not clustered yet" in html
    assert "checkbox" not in html


def test_the_panel_says_when_the_stored_model_cannot_be_used():
    add_errors("wf_alpha", [(50660, "T2_CH_CERN", 10)])
    add_errors("wf_gamma", [(8028, "T1_US_FNAL", 30)])
    job = jobs.recluster_workflows()
    Path(job.model_file).unlink()
    newcomer = add_errors("wf_new", [(8028, "T1_US_FNAL", 20)])
    html = render_panel(newcomer)
    assert "The clustering model could not be used: cannot read the stored model" in html
    assert not ClusterMembership.objects.filter(workflow=newcomer).exists()


def test_no_suggestion_without_a_trained_predictor():
    workflow = add_errors("wf_alpha", [(50660, "T2_CH_CERN", 10)])
    page = prediction.suggestion_for_page(workflow)
    assert page.suggestion is None and page.why_not == "too little history"
    html = Template("{% load clustering_panels %}{% action_suggestion page workflow %}").render(
        Context({"page": page, "workflow": workflow})
    )
    assert "Suggested action" not in html
    assert "No suggested action:</strong>" in html
