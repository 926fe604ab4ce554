"""The similar-workflows panel (placement.similar_panel, rendered by its template tag) and
the suggestion on the workflow page."""

from pathlib import Path

import pytest
from django.template import Context, Template

from clustering import jobs, placement, prediction
from clustering.models import ClusterMembership
from tests.clustering.conftest import add_errors

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
    with django_assert_max_num_queries(2):
        panel = placement.similar_panel(alpha)
    with django_assert_num_queries(0):  # the template only renders
        html = render("similar_workflows_panel", panel)
    assert "1 similar workflow " in html
    escaped = "wf_&lt;b&gt;&quot;bold&quot;&lt;/b&gt;&amp;co"
    assert f'<input type="checkbox" form="action-form" name="similar" value="{escaped}">' in html
    assert 'href="/seeworkflow?workflow=wf_%3Cb%3E%22bold%22%3C/b%3E%26co"' in html
    assert "<b>" not in html
    assert "wf_gamma" not in html


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
