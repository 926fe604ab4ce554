"""Action prediction: linking submissions to errors, training, suggesting, evaluating."""

from datetime import timedelta
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.template import Context, Template
from django.utils import timezone

from actions.models import ActionSubmission
from clustering import classifier, prediction, tasks
from clustering.exceptions import ClusteringError
from clustering.models import Predictor
from errors.models import ErrorHistory
from tests.clustering.conftest import add_errors
from tests.clustering.synthetic import make_action_history

pytestmark = pytest.mark.django_db


def test_main_parameters_are_read_from_per_task_and_flat_parameters():
    per_task = {"Task1": {"memory": 8000, "xrootd": "enabled"}, "Task2": {"memory": 8000}, "Task3": {}}
    assert prediction.main_parameter(per_task, "memory") == "8000"
    assert prediction.main_parameter(per_task, "xrootd") == "enabled"
    assert prediction.main_parameter(per_task, "splitting") == "unchanged"
    assert prediction.main_parameter({"memory": 4000, "splitting": "2x"}, "splitting") == "2x"
    assert prediction.main_parameter({"action": "on-hold"}, "memory") == "unchanged"
    assert prediction.main_parameter("not a dict", "memory") == "unchanged"


def test_a_submission_is_linked_to_the_errors_seen_before_it_or_else_the_current_ones():
    now = timezone.now()
    seen = add_errors("wf_seen", [(84, "T2_CH_CERN", 1)])
    step = seen.steps.get()
    ErrorHistory.objects.bulk_create(
        [
            ErrorHistory(
                step=step, exit_code=50660, site="T2_CH_CERN", count=9, bucket=now - timedelta(hours=3)
            ),
            ErrorHistory(
                step=step, exit_code=8028, site="T2_CH_CERN", count=9, bucket=now + timedelta(hours=1)
            ),
        ]
    )
    ActionSubmission.objects.create(workflow=seen, action="acdc", submitted_at=now)
    fresh = add_errors("wf_fresh", [(71304, "T1_US_FNAL", 5)])
    ActionSubmission.objects.create(workflow=fresh, action="clone", submitted_at=now)
    ActionSubmission.objects.create(workflow=add_errors("wf_none", []), action="special", submitted_at=now)

    data = prediction.training_set()
    assert (data.from_history, data.from_current) == (1, 1)
    assert data.targets["action"].tolist() == ["acdc", "clone"]  # the one without errors is left out
    codes = data.vocabulary.exit_codes.tolist()
    first, second = data.features
    assert first[codes.index(50660)] == pytest.approx(np.log1p(9))
    assert first[codes.index(8028)] == 0 and first[codes.index(84)] == 0
    assert second[codes.index(71304)] == pytest.approx(np.log1p(5))


def test_prediction_beats_the_majority_baseline_when_the_action_follows_the_errors():
    make_action_history(160)
    report = prediction.evaluate_predictor()
    action = report["action"]
    assert action["test"] == 40
    assert action["baseline"] < 0.6
    assert action["accuracy"] >= action["baseline"] + 0.25
    assert report["memory"]["accuracy"] >= report["memory"]["baseline"]


def code_at_site_history(n_workflows: int, *, seed: int = 3) -> None:
    """Operators answer 50660 at CERN or 8028 at FNAL with an ACDC, and 50660 at FNAL or
    8028 at CERN with a clone: every workflow holds both codes and both sites in equal
    numbers, so only which code failed where tells the two apart."""
    rng = np.random.default_rng(seed)
    now = timezone.now()
    for i in range(n_workflows):
        count = int(rng.integers(5, 100))
        if i % 2:
            cells, action = [(50660, "T2_CH_CERN", count), (8028, "T1_US_FNAL", count)], "acdc"
        else:
            cells, action = [(50660, "T1_US_FNAL", count), (8028, "T2_CH_CERN", count)], "clone"
        workflow = add_errors(f"wf_pair_{i:03d}", cells)
        ActionSubmission.objects.create(workflow=workflow, action=action, submitted_at=now)


def test_which_code_failed_at_which_site_is_learned():
    code_at_site_history(80)
    report = prediction.evaluate_predictor()["action"]
    assert report["baseline"] == pytest.approx(0.5)
    assert report["accuracy"] >= 0.9


def test_the_stored_predictor_suggests_from_the_code_at_site_pairs():
    code_at_site_history(40)
    prediction.train_predictor()
    acdc = add_errors("wf_new_acdc", [(50660, "T2_CH_CERN", 30), (8028, "T1_US_FNAL", 30)])
    clone = add_errors("wf_new_clone", [(50660, "T1_US_FNAL", 30), (8028, "T2_CH_CERN", 30)])
    assert prediction.suggest_action(acdc).action == "acdc"
    assert prediction.suggest_action(clone).action == "clone"


def test_code_at_site_pairs_are_features_next_to_the_per_code_and_per_site_counts():
    code_at_site_history(12)
    data = prediction.training_set()
    vocabulary = data.vocabulary
    assert len(vocabulary.pairs) == 4  # only the pairs seen in the errors, not codes × sites
    assert data.features.shape == (12, 2 + 2 + 4)
    # Per code and per site the two actions look the same; per pair they never overlap.
    codes_and_sites = data.features[:, :4]
    pairs = data.features[:, 4:] > 0
    acdc = data.targets["action"] == "acdc"
    assert {tuple(row) for row in (codes_and_sites > 0)[acdc]} == {
        tuple(row) for row in (codes_and_sites > 0)[~acdc]
    }
    assert not (pairs[acdc].any(axis=0) & pairs[~acdc].any(axis=0)).any()


def test_a_model_that_cannot_learn_is_no_better_than_the_baseline():
    # The same errors everywhere: nothing to learn, so no candidate should look clever.
    features = np.ones((40, 3))
    target = np.array(["acdc", "clone"] * 20)
    choice = classifier.choose_model(features, target)
    assert max(choice.cv_accuracy.values()) <= 0.6


def test_a_class_seen_once_does_not_stop_the_candidates_from_being_compared():
    # Real histories nearly always hold a rare action or a one-off memory value.
    rng = np.random.default_rng(0)
    features = np.vstack([rng.normal(0, 0.1, (50, 3)), rng.normal(3, 0.1, (49, 3)), [[9.0, 9.0, 9.0]]])
    target = np.array(["acdc"] * 50 + ["clone"] * 49 + ["special"])
    choice = classifier.choose_model(features, target)
    assert set(choice.cv_accuracy) == {"MLP", "logistic regression", "gradient boosting"}
    assert choice.cv_accuracy[choice.name] > 0.9
    assert "special" in choice.model.classes_.tolist()


def test_training_stores_the_best_model_and_the_suggestion_shows_it():
    make_action_history(80)
    predictor = prediction.train_predictor()
    assert Path(predictor.model_file).exists()
    assert predictor.samples == 80
    scores = predictor.scores["action"]
    assert scores["model"] in {"MLP", "logistic regression", "gradient boosting"}
    assert set(scores["cv_accuracy"]) == {"MLP", "logistic regression", "gradient boosting"}
    assert scores["cv_accuracy"][scores["model"]] == max(scores["cv_accuracy"].values())

    workflow = add_errors("wf_memory", [(50660, "T2_CH_CERN", 80), (50660, "T2_US_MIT", 40)])
    prediction.store_suggestions()  # the worker's step after the errors changed
    suggestion = prediction.suggest_action(workflow)
    assert suggestion.action == "acdc"
    assert 0.5 < suggestion.probability <= 1
    assert ("memory", "8000") in [(name, value) for name, value, _ in suggestion.parameters]
    html = Template("{% load clustering_panels %}{% action_suggestion page workflow %}").render(
        Context({"page": prediction.suggestion_for_page(workflow), "workflow": workflow})
    )
    assert "Suggested action:</strong> acdc" in html
    assert "memory 8000" in html


def test_an_unreadable_predictor_shows_no_suggestion_instead_of_an_error(django_assert_max_num_queries):
    make_action_history(40)
    predictor = prediction.train_predictor()
    Path(predictor.model_file).write_bytes(b"not a model")
    workflow = add_errors("wf_memory", [(50660, "T2_CH_CERN", 80)])
    prediction.store_suggestions()  # the worker's step after the errors changed
    with pytest.raises(ClusteringError):
        prediction.suggest_action(workflow)
    page = prediction.suggestion_for_page(workflow)
    assert page.suggestion is None and page.why_not == "unreadable"
    suggestion = prediction.PageSuggestion(prediction.Suggestion("acdc", 0.8, [], timezone.now()))
    with django_assert_max_num_queries(0):
        html = Template("{% load clustering_panels %}{% action_suggestion page workflow %}").render(
            Context({"page": suggestion, "workflow": workflow})
        )
    assert "Suggested action:</strong> acdc" in html and "80%" in html


def test_training_refuses_with_too_few_submissions():
    make_action_history(5)
    with pytest.raises(ClusteringError, match="at least 10 are needed"):
        prediction.train_predictor()
    assert not Predictor.objects.exists()


def test_the_commands_train_and_evaluate():
    make_action_history(60)
    out, err = StringIO(), StringIO()
    call_command("train_predictor", stdout=out, stderr=err)
    assert "action:" in out.getvalue()
    assert Predictor.objects.count() == 1
    bar = err.getvalue()
    assert f"{len(prediction.TARGETS)}/{len(prediction.TARGETS)}" in bar
    assert "\n" not in bar.rstrip("\n")  # tqdm redraws in place: one line
    out = StringIO()
    call_command("evaluate_predictor", stdout=out)
    lines = out.getvalue()
    assert "baseline" in lines and "action" in lines


def test_the_commands_fail_clearly_without_history():
    with pytest.raises(CommandError, match="submitted actions"):
        call_command("train_predictor", stdout=StringIO())
    with pytest.raises(CommandError, match="submitted actions"):
        call_command("evaluate_predictor", stdout=StringIO())


def test_the_training_task_runs():
    make_action_history(30)
    result = tasks.train_predictor.delay().get()
    assert result["predictor"] == Predictor.objects.get().pk


def test_the_training_task_trains_the_predictor_that_suggestions_read():
    make_action_history(40)
    result = tasks.train_predictor.apply()  # eager: the task body in this process
    assert result.successful()
    predictor = Predictor.objects.get()
    assert result.get() == {"predictor": predictor.pk, "message": "trained on 40 submitted actions"}
    workflow = add_errors("wf_memory", [(50660, "T2_CH_CERN", 80)])
    assert prediction.suggest_action(workflow).action == "acdc"


def test_the_training_task_answers_without_failing_when_there_is_too_little_history():
    make_action_history(5)
    result = tasks.train_predictor.apply()
    assert result.successful()
    assert result.get()["predictor"] is None
    assert "at least 10 are needed" in result.get()["message"]
    assert not Predictor.objects.exists()
