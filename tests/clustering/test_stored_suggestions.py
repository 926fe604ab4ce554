"""The worker computes every current workflow's suggestion and the fit's axes once; the web
process serves the workflow page from them without loading a model (so without scikit-learn
or numpy): the suggestion is one stored row, the similar ranking plain Python."""

import numpy as np
import pytest
from django.core.cache import cache
from django.utils import timezone

from clustering import jobs, placement, prediction
from clustering.model_files import load_model
from clustering.models import StoredSuggestion
from clustering.vectors import Cells, Vocabulary, distances_to, workflow_vectors
from errors import caches
from errors.models import ErrorImport
from errors.selectors.snapshot import ShownSnapshot
from tests.clustering.conftest import add_errors
from tests.clustering.synthetic import make_action_history

pytestmark = pytest.mark.django_db


def no_model_loading(monkeypatch):
    """Make any model load fail the test: the page must not need one."""

    def refuse(path):
        raise AssertionError(f"the page loaded the model {path}")

    monkeypatch.setattr(placement, "load_model", refuse)
    monkeypatch.setattr(prediction, "load_model", refuse)


@pytest.mark.pg_too
def test_training_stores_every_current_workflows_suggestion_the_same_as_computed_live():
    add_errors("wf_memory", [(50660, "T2_CH_CERN", 80), (50660, "T2_US_MIT", 40)])
    add_errors("wf_clone", [(71304, "T2_US_MIT", 60), (84, "T1_US_FNAL", 2)])
    add_errors("wf_xrootd", [(8028, "T1_US_FNAL", 60)])
    add_errors("wf_odd", [(11111, "T3_XX_Nowhere", 50)])
    add_errors("wf_quiet", [])
    make_action_history(60)
    predictor = prediction.train_predictor()
    stored = {row.workflow.name: row for row in StoredSuggestion.objects.select_related("workflow")}
    assert set(stored) == {"wf_memory", "wf_clone", "wf_xrootd", "wf_odd"}  # those with current errors
    assert {row.predictor_id for row in stored.values()} == {predictor.pk}
    for name in ("wf_memory", "wf_clone", "wf_xrootd"):
        live = prediction.suggest_action(stored[name].workflow)
        page = prediction.suggestion_for_page(stored[name].workflow).suggestion
        # Batched, the probabilities may differ from one row's in the last bits.
        assert page.action == live.action
        assert [(n, v) for n, v, _ in page.parameters] == [(n, v) for n, v, _ in live.parameters]
        assert [p for _, _, p in page.parameters] == pytest.approx([p for _, _, p in live.parameters])
        assert page.probability == pytest.approx(live.probability)
    assert stored["wf_memory"].action == "acdc"
    assert (stored["wf_odd"].why_not, stored["wf_odd"].action) == ("unseen", "")


def test_the_page_serves_the_stored_suggestion_and_ranking_without_loading_a_model(
    operator_client, monkeypatch, django_assert_max_num_queries
):
    add_errors("wf_alpha", [(50660, "T2_CH_CERN", 100)])
    add_errors("wf_beta", [(50660, "T2_CH_CERN", 90), (8001, "T1_US_FNAL", 5)])
    make_action_history(40)
    jobs.recluster_workflows()
    prediction.train_predictor()
    placement.load_axes.cache_clear()
    no_model_loading(monkeypatch)
    response = operator_client.get("/seeworkflow", {"workflow": "wf_alpha"})
    assert response.status_code == 200
    assert response.context["suggestion"].suggestion.action == "acdc"
    panel = response.context["similar_panel"]
    assert panel.similar and panel.ranking_problem == ""
    assert all(entry.distance is not None for entry in panel.similar)


def test_after_new_errors_the_page_says_being_computed_and_queues_the_worker_once(
    operator_client, django_capture_on_commit_callbacks
):
    make_action_history(40)
    prediction.train_predictor()
    cache.clear()
    add_errors("wf_memory", [(50660, "T2_CH_CERN", 80)])  # new since the training
    with django_capture_on_commit_callbacks(execute=False) as queued:
        page = operator_client.get("/seeworkflow", {"workflow": "wf_memory"})
        operator_client.get("/seeworkflow", {"workflow": "wf_memory"})
    suggestion = page.context["suggestion"]
    assert (suggestion.suggestion, suggestion.why_not) == (None, prediction.COMPUTING)
    assert "being computed in the background: reload in a moment." in page.content.decode()
    assert len(queued) == 1  # the second view finds it on its way
    queued[0]()  # the broker hands it to the (eager) worker
    page = operator_client.get("/seeworkflow", {"workflow": "wf_memory"}).content.decode()
    assert "Suggested action:</strong> acdc" in page


def test_a_suggestion_stored_for_an_older_snapshot_is_not_shown():
    make_action_history(40)
    prediction.train_predictor()
    workflow = add_errors("wf_memory", [(50660, "T2_CH_CERN", 80)])
    prediction.store_suggestions()
    assert prediction.suggestion_for_page(workflow).suggestion.action == "acdc"
    ErrorImport.objects.create(
        kind=ErrorImport.Kind.CURRENT, source="next refresh", started_at=timezone.now(), finished_at=timezone.now()
    )
    assert prediction.suggestion_for_page(workflow).why_not == prediction.COMPUTING
    prediction.store_suggestions()
    stored = StoredSuggestion.objects.get(workflow=workflow)
    assert stored.snapshot_id == ErrorImport.objects.get(source="next refresh").pk
    assert prediction.suggestion_for_page(workflow).suggestion.action == "acdc"


def test_every_ingestion_path_queues_the_suggestions_for_the_new_snapshot(django_capture_on_commit_callbacks):
    make_action_history(20)
    prediction.train_predictor()
    cache.clear()
    add_errors("wf_memory", [(50660, "T2_CH_CERN", 80)])
    with django_capture_on_commit_callbacks(execute=True):
        caches.warm_page_caches()  # where the refresh, the demo loader and the import all end
    assert StoredSuggestion.objects.get(workflow__name="wf_memory").action == "acdc"


def test_without_a_predictor_nothing_is_stored_or_queued(django_capture_on_commit_callbacks):
    add_errors("wf_memory", [(50660, "T2_CH_CERN", 80)])
    with django_capture_on_commit_callbacks() as queued:
        assert prediction.queue_suggestions() == ""
    assert queued == [] and prediction.store_suggestions() == 0


@pytest.mark.parametrize("width", [0.0, 0.25])
def test_the_plain_ranking_gives_the_distances_of_the_fits_vectors(width, settings):
    """The web's plain-Python ranking equals `vectors.distances_to` on the fit's vectors
    (codes and sites the fit never saw dropped), at the default width and the original's."""
    for shell in ("errorcode", "sitename"):
        settings.WWT["clustering"][shell]["width"] = width
    alpha = add_errors("wf_alpha", [(50660, "T2_CH_CERN", 100), (8001, "T1_US_FNAL", 3)])
    for k in range(6):
        add_errors(f"wf_{k}", [(50660, "T2_CH_CERN", 10 + 30 * k), (8001, "T2_CH_CERN", 1 + k * k)])
    add_errors("wf_other", [(8028, "T1_IT_CNAF", 30)])
    jobs.recluster_workflows()
    add_errors("wf_3", [(99999, "T3_XX_New", 50)])  # after the fit: unknown to it
    membership = placement.selectors.membership_of(alpha)
    similar, problem = placement.ranked_similar(alpha, membership)
    assert problem == "" and len(similar) >= 6

    stored = load_model(membership.clustering.model_file)
    names = dict(placement.selectors.cluster_members(membership.clustering_id, membership.cluster))
    rows = placement.selectors.cluster_cells(membership.clustering_id, membership.cluster, alpha.pk)
    ids = sorted(names)
    owner, code, site, count = (np.array(column) for column in zip(*rows, strict=True))
    cells = Cells(sample=np.searchsorted(ids, owner), exit_code=code, site=site.astype(str), count=count)
    vocabulary = Vocabulary(exit_codes=stored["exit_codes"], sites=stored["sites"])
    vectors = workflow_vectors(cells, len(ids), vocabulary, stored["errorcode"], stored["sitename"])
    expected = distances_to(vectors, ids.index(alpha.pk))
    assert {entry.name: entry.distance for entry in similar} == {
        names[i]: round(float(expected[n]), 4) for n, i in enumerate(ids) if i != alpha.pk
    }
    assert [entry.distance for entry in similar] == sorted(entry.distance for entry in similar)


@pytest.mark.pg_too
def test_a_stored_suggestion_is_one_query(django_assert_num_queries):
    make_action_history(40)
    prediction.train_predictor()
    workflow = add_errors("wf_memory", [(50660, "T2_CH_CERN", 80)])
    prediction.store_suggestions()
    with django_assert_num_queries(1):  # the page's snapshot given: the row with its predictor
        page = prediction.suggestion_for_page(workflow, ShownSnapshot(None, None))
    assert page.suggestion.action == "acdc" and page.suggestion.samples == 40


@pytest.mark.pg_too
def test_one_run_stores_the_suggestions_at_a_time_and_a_training_meanwhile_queues_its_own(
    django_capture_on_commit_callbacks,
):
    from wwt_project.locks import Busy, job_lock

    make_action_history(40)
    workflow = add_errors("wf_memory", [(50660, "T2_CH_CERN", 80)])
    cache.clear()
    with job_lock(prediction.SUGGESTIONS_LOCK):
        with pytest.raises(Busy):
            prediction.store_suggestions()
        with django_capture_on_commit_callbacks() as queued:
            predictor = prediction.train_predictor()  # trained all the same
    assert len(queued) == 1 and not StoredSuggestion.objects.exists()
    queued[0]()  # the worker, once the other run is done
    assert StoredSuggestion.objects.get(workflow=workflow).predictor == predictor
