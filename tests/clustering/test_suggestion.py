"""The suggestion on the workflow page: the predicted action with its probability, the model's
date and offline accuracy against the majority baseline, or exactly why there is none; and
"use this suggestion", which reloads the page with the action form filled from it."""

import html
import re
from pathlib import Path

import pytest
from django.utils import timezone

from actions.models import ActionSubmission
from clustering import prediction
from tests.clustering.conftest import add_errors
from tests.clustering.synthetic import make_action_history

pytestmark = pytest.mark.django_db


def suggestion_box(page: str) -> str:
    return re.search(r'<aside class="suggestion" id="action-suggestion">(.*?)</aside>', page, re.S).group(1)


def why_not(client, name: str) -> str:
    box = suggestion_box(client.get("/seeworkflow", {"workflow": name}).content.decode())
    assert "Suggested action:" not in box
    code, text = re.search(r'data-why-not="([^"]*)">([^<]*)<', box).groups()
    return code, html.unescape(text)


def test_too_little_history_says_how_many_actions_there_are_and_how_many_are_needed(operator_client):
    workflow = add_errors("wf_alpha", [(50660, "T2_CH_CERN", 10)])
    ActionSubmission.objects.create(workflow=workflow, action="acdc", parameters={}, submitted_at=timezone.now())
    code, text = why_not(operator_client, "wf_alpha")
    assert code == "too little history"
    assert "1 action submitted so far, the predictor needs at least 10" in text


def test_enough_history_but_no_model_says_no_model_is_trained_yet(operator_client):
    make_action_history(12)
    add_errors("wf_alpha", [(50660, "T2_CH_CERN", 10)])
    code, text = why_not(operator_client, "wf_alpha")
    assert code == "no model"
    assert text.startswith("no model trained yet (12 submitted actions are enough)")
    assert "manage.py train_predictor" in text


def test_a_workflow_without_current_errors_has_no_suggestion_and_the_page_says_so(operator_client):
    make_action_history(40)
    prediction.train_predictor()
    add_errors("wf_quiet", [])
    code, text = why_not(operator_client, "wf_quiet")
    assert (code, text) == ("no errors", "this workflow has no current errors to predict from.")


def test_a_workflow_whose_codes_and_sites_the_model_never_saw_is_called_unseen(operator_client):
    make_action_history(40)
    predictor = prediction.train_predictor()
    add_errors("wf_odd", [(11111, "T3_XX_Nowhere", 50)])
    prediction.store_suggestions()  # the worker's step after the errors changed
    code, text = why_not(operator_client, "wf_odd")
    assert code == "unseen"
    assert "none of its exit codes (11111) or sites were in the 40 submitted actions" in text
    assert f"model of {predictor.trained_at:%Y-%m-%d %H:%M} UTC" in text


def test_a_model_file_that_cannot_be_read_is_said_not_a_500(operator_client):
    make_action_history(40)
    Path(prediction.train_predictor().model_file).unlink()
    add_errors("wf_memory", [(50660, "T2_CH_CERN", 80)])
    prediction.store_suggestions()  # the worker's step after the errors changed
    response = operator_client.get("/seeworkflow", {"workflow": "wf_memory"})
    assert response.status_code == 200
    code, text = why_not(operator_client, "wf_memory")
    assert code == "unreadable"
    assert text.startswith("the predictor's model could not be used: cannot read the stored model")


def test_the_suggestion_shows_probability_model_date_and_accuracy_against_the_baseline(client):
    make_action_history(60)
    predictor = prediction.train_predictor()
    add_errors("wf_memory", [(50660, "T2_CH_CERN", 80)])
    prediction.store_suggestions()  # the worker's step after the errors changed
    page = client.get("/seeworkflow", {"workflow": "wf_memory"}).content.decode()
    box = suggestion_box(page)
    suggestion = prediction.suggestion_for_page(add_errors("wf_memory", [])).suggestion
    assert suggestion.action == "acdc"
    assert f'<span class="probability" title="the model\'s probability for this action">{round(suggestion.probability * 100)}%</span>' in box
    score = predictor.scores["action"]
    accuracy = score["cv_accuracy"].get(score["model"], score["baseline"])
    assert suggestion.accuracy == accuracy and suggestion.baseline == score["baseline"]
    assert f"model of {predictor.trained_at:%Y-%m-%d %H:%M} UTC" in box
    assert f"offline accuracy {round(accuracy * 100)}% (cross-validated) vs {round(score['baseline'] * 100)}%" in box
    assert "Predicted from 60 past submissions" in box
    assert "Use this suggestion" not in box  # anonymous: no form to fill


def test_use_this_suggestion_fills_the_form_and_says_so(operator_client):
    make_action_history(60)
    prediction.train_predictor()
    add_errors("wf_memory", [(50660, "T2_CH_CERN", 80)])
    prediction.store_suggestions()  # the worker's step after the errors changed
    page = operator_client.get("/seeworkflow", {"workflow": "wf_memory"}).content.decode()
    assert 'href="/seeworkflow?workflow=wf_memory&amp;prefill=suggestion#action-form">Use this suggestion</a>' in page
    assert 'name="all-memory" value=""' in page  # the form starts from its defaults
    assert "Filled from the suggested action" not in page

    filled = operator_client.get("/seeworkflow", {"workflow": "wf_memory", "prefill": "suggestion"})
    page = filled.content.decode()
    suggestion = filled.context["suggestion"].suggestion
    assert suggestion.action == "acdc" and ("memory", "8000") in [(n, v) for n, v, _ in suggestion.parameters]
    assert '<input type="radio" name="action" value="acdc" checked>' in page
    assert 'name="all-memory" value="8000"' in page
    assert f"Filled from the suggested action (acdc, {suggestion.probability:.0%})" in page


def test_a_clone_suggestion_fills_the_clone_fields():
    suggestion = prediction.Suggestion("clone", 0.8, [("memory", "4000", 0.7), ("splitting", "2x", 0.6)], None)
    assert suggestion.prefill_parameters() == {"memory": "4000", "splitting": "2x"}
    acdc = prediction.Suggestion("acdc", 0.8, [("memory", "8000", 0.7), ("xrootd", "enabled", 0.6)], None)
    assert acdc.prefill_parameters() == {"AllSteps": {"memory": "8000", "xrootd": "enabled"}}


def test_prefill_without_a_suggestion_leaves_the_form_as_it_was(operator_client):
    add_errors("wf_alpha", [(50660, "T2_CH_CERN", 10)])
    page = operator_client.get("/seeworkflow", {"workflow": "wf_alpha", "prefill": "suggestion"}).content.decode()
    assert "Filled from the suggested action" not in page
    assert 'name="all-memory" value=""' in page
