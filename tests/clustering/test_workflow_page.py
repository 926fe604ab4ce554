"""The clustering panels on the real workflow page /seeworkflow."""

import pytest

from clustering import jobs, prediction
from clustering.models import ClusterMembership
from tests.clustering.conftest import add_errors
from tests.clustering.synthetic import make_action_history

pytestmark = pytest.mark.django_db


def test_the_workflow_page_lists_similar_workflows_with_checkboxes_for_the_action_form(operator_client):
    add_errors("wf_alpha", [(50660, "T2_CH_CERN", 10)])
    add_errors("wf_beta", [(50660, "T2_CH_CERN", 12)])
    add_errors("wf_gamma", [(8028, "T1_US_FNAL", 30)])
    jobs.recluster_workflows()
    response = operator_client.get("/seeworkflow", {"workflow": "wf_alpha"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="similar-panel"' in page
    assert '<input type="checkbox" form="action-form" name="similar" value="wf_beta">' in page
    assert 'href="/seeworkflow?workflow=wf_beta"' in page
    assert 'value="wf_gamma"' not in page


def test_the_workflow_page_shows_the_suggested_action(operator_client):
    make_action_history(60)
    prediction.train_predictor()
    add_errors("wf_memory", [(50660, "T2_CH_CERN", 80)])
    prediction.store_suggestions()  # the worker's step after the errors changed
    page = operator_client.get("/seeworkflow", {"workflow": "wf_memory"}).content.decode()
    assert "Suggested action:</strong> acdc" in page


def test_the_workflow_page_places_a_newcomer_in_its_view_and_stores_nothing(
    operator_client, django_assert_max_num_queries
):
    add_errors("wf_alpha", [(50660, "T2_CH_CERN", 10)])
    add_errors("wf_gamma", [(8028, "T1_US_FNAL", 30)])
    jobs.recluster_workflows()
    newcomer = add_errors("wf_new", [(8028, "T1_US_FNAL", 20)])
    # Cold (no snapshot to cache by), one query per panel, none per row: the similar panel's
    # members, their cells and their last actions are 3, whatever the cluster's size; five are
    # the site context's per-site sums (cached per snapshot, but these rows come from no
    # ingestion, so no snapshot names them); the action panel (history, tasks, past reasons,
    # last action, status) and the messages add theirs.
    with django_assert_max_num_queries(28):
        response = operator_client.get("/seeworkflow", {"workflow": "wf_new"})
    panel = response.context["similar_panel"]
    assert [entry.name for entry in panel.similar] == ["wf_gamma"] and panel.membership.workflow == newcomer
    page = response.content.decode()
    assert '<input type="checkbox" form="action-form" name="similar" value="wf_gamma">' in page
    assert "Placed with the model" in page
    assert panel.membership.placement == "predict"
    assert not ClusterMembership.objects.filter(workflow=newcomer).exists()  # a GET never writes
