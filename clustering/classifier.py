"""Choosing and fitting the action classifier (pure numpy/scikit-learn, no Django).

The original tool tried an MLP; logistic regression and gradient boosting are compared
with it by cross-validated accuracy and the best is kept. A target with one class, or
too few samples to cross-validate, gets the majority-class model.
"""

import warnings
from collections import Counter
from dataclasses import dataclass

import numpy as np
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

MIN_SAMPLES = 6


def candidates(seed: int = 0) -> dict:
    """Fresh, unfitted candidate models by name."""
    return {
        "MLP": make_pipeline(
            StandardScaler(),
            MLPClassifier(hidden_layer_sizes=(32,), max_iter=300, random_state=seed),
        ),
        "logistic regression": make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
        "gradient boosting": HistGradientBoostingClassifier(
            max_iter=40, max_leaf_nodes=15, random_state=seed
        ),
    }


@dataclass
class Choice:
    """The kept model for one target and how the candidates scored."""

    name: str
    model: object
    cv_accuracy: dict[str, float]
    baseline: float  # accuracy of always answering the majority class, on the training data

    def summary(self) -> dict:
        return {
            "model": self.name,
            "cv_accuracy": {k: round(v, 4) for k, v in self.cv_accuracy.items()},
            "baseline": round(self.baseline, 4),
            "classes": [str(c) for c in self.model.classes_],
        }


def majority_accuracy(y_train: np.ndarray, y_test: np.ndarray) -> float:
    """Accuracy on `y_test` of always answering `y_train`'s most frequent class."""
    if len(y_test) == 0:
        return 0.0
    majority = Counter(y_train.tolist()).most_common(1)[0][0]
    return float(np.mean(y_test == majority))


def choose_model(features: np.ndarray, target: np.ndarray, *, seed: int = 0) -> Choice:
    """Cross-validate each candidate on (features, target), refit the best on all of it."""
    counts = Counter(target.tolist())
    baseline = majority_accuracy(target, target)
    # A class seen once cannot be stratified into folds: score the candidates without it,
    # but refit the winner on everything so the rare class can still be suggested.
    scored = np.isin(target, [label for label, n in counts.items() if n >= 2])
    scored_counts = Counter(target[scored].tolist())
    if len(scored_counts) < 2 or scored.sum() < MIN_SAMPLES:
        return Choice("majority class", DummyClassifier().fit(features, target), {}, baseline)
    smallest = min(scored_counts.values())
    folds = StratifiedKFold(n_splits=min(5, smallest), shuffle=True, random_state=seed)
    scores = {}
    # Training sets are small: OpenMP threads cost more than they give (20× slower on a
    # busy two-core host), so one thread.
    with warnings.catch_warnings(), threadpool_limits(1):
        # Small training sets stop the MLP before it converges; its score says how much that matters.
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        for name, model in candidates(seed).items():
            cv_scores = cross_val_score(model, features[scored], target[scored], cv=folds)
            scores[name] = float(np.mean(cv_scores))
        best = max(scores, key=lambda name: scores[name])
        model = candidates(seed)[best].fit(features, target)
    return Choice(best, model, scores, baseline)
