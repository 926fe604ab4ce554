"""Action prediction: link submitted actions to the errors the operator saw, train a
classifier per target (the action and its main parameters), suggest for a workflow.

`train_predictor()` fits and stores a Predictor, then every current workflow's suggestion
(`store_suggestions`, also run after each ingestion); `suggestion_for_page(workflow)` reads the
stored one (no scikit-learn, no numpy: the web process serves it); `suggest_action(workflow)`
computes one live (the model file loaded once per process);
`evaluate_predictor()` scores on held-out submissions against the majority class.
Raise `ClusteringError` with an operator-readable message.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F, FilteredRelation, Q, QuerySet

from actions.models import ActionSubmission
from errors.models import ErrorCount
from errors.selectors.snapshot import ShownSnapshot, last_refresh
from workflows.models import Workflow
from wwt_project.locks import Busy, job_lock
from wwt_project.queue import send_once

from .exceptions import ClusteringError
from .model_files import keep_last_model_files, load_model, save_model
from .models import Predictor, StoredSuggestion

if TYPE_CHECKING:
    import numpy as np

    from .vectors import Vocabulary

# numpy, scipy and scikit-learn are imported inside the functions that need them: the web
# process imports this module for the workflow page and must not load them to serve pages.

UNCHANGED = "unchanged"
# The parameters worth predicting, and the actions that carry them.
PARAMETERS = {
    "memory": {"acdc", "recovery", "clone"},
    "splitting": {"acdc", "recovery", "clone"},
    "xrootd": {"acdc", "recovery"},
}
TARGETS = ["action", *PARAMETERS]
MIN_SUBMISSIONS = 10
logger = logging.getLogger(__name__)
# (exit code, site) pair columns kept: the most widespread in the training errors. Bounds
# the features (dense in the classifiers) whatever the number of codes and sites.
MAX_PAIRS = 1000


def main_parameter(parameters: dict, name: str) -> str:
    """The value of parameter `name` in a submission: the most common over its tasks
    (acdc/recovery hold one dict per task), or "unchanged" when it was left alone."""
    if not isinstance(parameters, dict):
        return UNCHANGED
    values = [str(parameters[name])] if name in parameters and not isinstance(parameters[name], dict) else []
    for per_task in parameters.values():
        if isinstance(per_task, dict) and per_task.get(name) not in (None, ""):
            values.append(str(per_task[name]))
    return Counter(values).most_common(1)[0][0] if values else UNCHANGED


def stored_vocabulary(stored: dict) -> Vocabulary:
    """The columns a stored predictor was fitted on, for `log_counts` (the one feature
    builder of training and suggesting). One trained before pair columns existed has none."""
    import numpy as np

    from .vectors import Vocabulary

    pairs = stored.get("pairs", np.array([], dtype=np.int64))
    return Vocabulary(exit_codes=stored["exit_codes"], sites=stored["sites"], pairs=pairs)


@dataclass
class TrainingSet:
    features: np.ndarray
    targets: dict[str, np.ndarray]
    vocabulary: Vocabulary
    from_history: int = 0
    from_current: int = 0
    submission_ids: list[int] = field(default_factory=list)


def _nearest_samples(wanted: list[tuple[int, float]], workflow_ids: np.ndarray, moments: np.ndarray):
    """For each (workflow, time), the sample of that workflow at the latest time at or
    before it, else the earliest after it; -1 when the workflow has no sample."""
    import numpy as np

    order = np.lexsort((moments, workflow_ids))
    sorted_workflows, sorted_moments = workflow_ids[order], moments[order]
    found = np.full(len(wanted), -1, dtype=np.int64)
    for i, (workflow_id, moment) in enumerate(wanted):
        start = np.searchsorted(sorted_workflows, workflow_id, side="left")
        stop = np.searchsorted(sorted_workflows, workflow_id, side="right")
        if start == stop:
            continue
        at = start + np.searchsorted(sorted_moments[start:stop], moment, side="right") - 1
        found[i] = order[max(at, start)]
    return found


def training_set(submissions: QuerySet | None = None) -> TrainingSet:
    """Features (`log_counts`: log error counts per exit code, site and code × site pair)
    of each submission's workflow at submission time — from the history bucket nearest
    before it, or the current errors when the workflow has no history — with the action
    and parameters submitted. Withdrawn submissions are left out: operators took them back."""
    import numpy as np
    from scipy import sparse

    from .samples import current_samples, history_samples
    from .vectors import Vocabulary, log_counts

    submissions = submissions if submissions is not None else ActionSubmission.objects.all()
    submissions = submissions.filter(withdrawn_at__isnull=True)
    rows = list(
        submissions.order_by("submitted_at", "pk").values_list(
            "pk", "workflow_id", "action", "parameters", "submitted_at"
        )
    )
    workflow_ids = sorted({row[1] for row in rows})
    history = history_samples(workflow_ids)
    current = current_samples(workflow_ids)
    vocabulary = Vocabulary.from_cells(history.cells, current.cells).with_pairs(
        history.cells, current.cells, max_pairs=MAX_PAIRS
    )
    history_features = log_counts(history.cells, history.n, vocabulary)
    current_features = log_counts(current.cells, current.n, vocabulary)

    moments = np.array([b.timestamp() for b in history.buckets], dtype=np.float64)
    at_history = _nearest_samples(
        [(row[1], row[4].timestamp()) for row in rows], history.workflow_ids, moments
    )
    current_index = {int(w): i for i, w in enumerate(current.workflow_ids)}
    picked, kept = [], []
    for i, row in enumerate(rows):
        if at_history[i] >= 0:
            picked.append(history_features[at_history[i]])
        elif row[1] in current_index:
            picked.append(current_features[current_index[row[1]]])
        else:
            continue  # no errors known for this workflow at all: nothing to learn from
        kept.append(row)
    features = sparse.vstack(picked).toarray() if picked else np.zeros((0, vocabulary.size))
    targets = {"action": np.array([row[2] for row in kept], dtype=str)}
    for name in PARAMETERS:
        targets[name] = np.array([main_parameter(row[3], name) for row in kept], dtype=str)
    return TrainingSet(
        features=features,
        targets=targets,
        vocabulary=vocabulary,
        from_history=int(np.sum(at_history >= 0)),
        from_current=len(kept) - int(np.sum(at_history >= 0)),
        submission_ids=[row[0] for row in kept],
    )


def train_predictor(progress: Callable[[str], None] | None = None) -> Predictor:
    """Fit the classifiers on every submitted action and store them as the new Predictor.
    `progress(target)` is called after each target's model is chosen."""
    from . import classifier

    data = training_set()
    if len(data.features) < MIN_SUBMISSIONS:
        raise ClusteringError(
            f"only {len(data.features)} submitted actions with known errors; "
            f"at least {MIN_SUBMISSIONS} are needed to train the predictor"
        )
    choices = {}
    for name, target in data.targets.items():
        choices[name] = classifier.choose_model(data.features, target)
        if progress:
            progress(name)
    predictor = Predictor.objects.create(
        samples=len(data.features),
        scores={name: choice.summary() for name, choice in choices.items()},
    )
    path = save_model(
        {
            "exit_codes": data.vocabulary.exit_codes,
            "sites": data.vocabulary.sites,
            "pairs": data.vocabulary.pairs,
            "models": {name: choice.model for name, choice in choices.items()},
        },
        f"predictor-{predictor.pk}.joblib",
    )
    predictor.model_file = str(path)
    predictor.save(update_fields=["model_file"])
    keep_last_model_files(Predictor.objects.order_by("-pk"))
    try:
        store_suggestions(predictor)
    except Busy:  # another run is storing them: the worker does it again for this predictor
        queue_suggestions(predictor.pk, _current_snapshot_id())
    return predictor


@dataclass
class Suggestion:
    action: str
    probability: float
    parameters: list[tuple[str, str, float]]  # (name, value, probability)
    trained_at: object
    accuracy: float | None = None  # the chosen model's cross-validated accuracy on "action"
    baseline: float | None = None  # always answering the most common action, same data
    samples: int = 0  # submitted actions it learned from

    def prefill_parameters(self) -> dict:
        """The suggested parameters in the API's shape, for "use this suggestion": flat for a
        clone, an AllSteps block (every task) for ACDC and recovery."""
        values = {name: value for name, value, _ in self.parameters}
        return values if self.action in ("clone", "special") else {"AllSteps": values}

    def form_note(self) -> str:
        return (
            f"Filled from the suggested action ({self.action}, {self.probability:.0%}): "
            "check every value before submitting."
        )


@dataclass
class PageSuggestion:
    """What the workflow page says: the suggestion, or exactly why there is none."""

    suggestion: Suggestion | None
    # Without one: "too little history", "no model", "no errors", "unseen" or "unreadable".
    why_not: str = ""
    detail: str = ""  # the operator-readable sentence


# Without one stored for the current snapshot and predictor: queued, said "being computed".
COMPUTING = "computing"
# Long enough for the worker to compute every workflow's suggestion, short enough that a lost
# task is queued again soon by the next page view.
QUEUED_SECONDS = 10 * 60
SUGGESTIONS_LOCK = "store suggestions"
# Rows of dense features per predict_proba call: bounds the worker's memory at any size.
CHUNK = 2000


def latest_predictor() -> Predictor | None:
    return Predictor.objects.exclude(model_file="").order_by("-trained_at").first()


def _current_snapshot_id(snapshot: ShownSnapshot | None = None) -> int | None:
    """The id of the current snapshot (the ErrorImport the stored suggestions are tagged with):
    the shown one unless a ticket link pinned an older one. None before any import."""
    if snapshot is not None and not snapshot.pinned:
        return snapshot.id
    refresh = last_refresh()
    return refresh.pk if refresh else None


def suggestion_for_page(workflow: Workflow, snapshot: ShownSnapshot | None = None) -> PageSuggestion:
    """The workflow page's suggestion, or why there is none, as the worker stored it for the
    current snapshot and the latest predictor (`snapshot`: the page's, to save a query). None
    stored yet (errors or model just changed): "being computed", and the computation is queued.
    Never raises, never loads the model: one query when the suggestion is stored."""
    snapshot_id = _current_snapshot_id(snapshot)
    predictor = _latest_with_stored(workflow, snapshot_id)
    if predictor is not None and predictor.stored_id is not None:
        return _from_stored(_stored_of(predictor), predictor)
    if predictor is None:
        submitted = ActionSubmission.objects.count()
        if submitted < MIN_SUBMISSIONS:
            return PageSuggestion(
                None,
                "too little history",
                f"too little history to learn from: {submitted} action{'s' if submitted != 1 else ''} "
                f"submitted so far, the predictor needs at least {MIN_SUBMISSIONS}",
            )
        return PageSuggestion(
            None,
            "no model",
            f"no model trained yet ({submitted} submitted actions are enough): it is trained "
            'by the daily "train action predictor" job, or `manage.py train_predictor`',
        )
    if not ErrorCount.objects.filter(step__workflow=workflow).exists():
        return _no_errors()
    not_queued = queue_suggestions(predictor.pk, snapshot_id)
    return PageSuggestion(
        None,
        COMPUTING,
        "the suggestion for the current errors is being computed in the background: reload in a moment"
        + (f" (not queued: {not_queued})" if not_queued else ""),
    )


# The stored suggestion's fields, read with the latest predictor in one query.
STORED_FIELDS = ("why_not", "detail", "action", "probability", "parameters")


def _latest_with_stored(workflow: Workflow, snapshot_id: int | None) -> Predictor | None:
    """The latest predictor, annotated with `workflow`'s suggestion stored for it and the
    snapshot `snapshot_id` (`stored_id` None when there is none): one query, a left join."""
    snapshot = Q(suggestions__snapshot_id=snapshot_id) if snapshot_id is not None else Q(
        suggestions__snapshot_id__isnull=True
    )
    mine = FilteredRelation("suggestions", condition=Q(suggestions__workflow=workflow) & snapshot)
    columns = {f"stored_{name}": F(f"mine__{name}") for name in STORED_FIELDS}
    return (
        Predictor.objects.exclude(model_file="")
        .order_by("-trained_at")
        .annotate(mine=mine)
        .annotate(stored_id=F("mine__id"), **columns)
        .first()
    )


def _stored_of(predictor: Predictor) -> StoredSuggestion:
    return StoredSuggestion(
        predictor=predictor, **{name: getattr(predictor, f"stored_{name}") for name in STORED_FIELDS}
    )


def queue_suggestions(predictor_id: int | None = None, snapshot_id: int | None = None) -> str:
    """Queue `store_suggestions` for the worker once (per predictor and snapshot); "" when
    queued or already on its way, else why not. Every ingestion path calls it (no ids: the
    latest predictor, if any, for the new snapshot)."""
    from . import tasks  # the task module imports this one

    if predictor_id is None:
        predictor = latest_predictor()
        if predictor is None:
            return ""
        predictor_id = predictor.pk
        snapshot_id = _current_snapshot_id()
    return send_once(
        f"wwt:suggestions-queued:{predictor_id}:{snapshot_id}",
        QUEUED_SECONDS,
        lambda: tasks.store_suggestions.delay(),
    )


def _no_errors() -> PageSuggestion:
    return PageSuggestion(None, "no errors", "this workflow has no current errors to predict from")


def _from_stored(stored: StoredSuggestion, predictor: Predictor) -> PageSuggestion:
    if stored.why_not:
        return PageSuggestion(None, stored.why_not, stored.detail)
    score = predictor.scores.get("action", {})
    accuracy = score.get("cv_accuracy", {}).get(score.get("model"), score.get("baseline"))
    suggestion = Suggestion(
        stored.action,
        stored.probability,
        [(name, value, p) for name, value, p in stored.parameters],
        predictor.trained_at,
        accuracy=accuracy,
        baseline=score.get("baseline"),
        samples=predictor.samples,
    )
    return PageSuggestion(suggestion)


def store_suggestions(predictor: Predictor | None = None) -> int:
    """Compute the suggestion of every workflow with current errors with `predictor` (default:
    the latest) and store them, tagged with it and the current snapshot, replacing every stored
    one in one transaction. A model that cannot be read is stored as each one's why-not.
    Returns how many were stored (0 without a predictor); raises Busy while another run holds
    the "store suggestions" lock (two would replace the same rows at once)."""
    with job_lock(SUGGESTIONS_LOCK):
        return _store_suggestions(predictor)


def _store_suggestions(predictor: Predictor | None) -> int:
    predictor = predictor or latest_predictor()
    if predictor is None:
        return 0
    snapshot_id = _current_snapshot_id()
    try:
        pages = _suggest_many(None, predictor)
    except ClusteringError as exc:
        logger.warning("cannot suggest actions with predictor %s: %s", predictor.pk, exc)
        ids = ErrorCount.objects.values_list("step__workflow_id", flat=True).order_by().distinct()
        problem = PageSuggestion(None, "unreadable", f"the predictor's model could not be used: {exc}")
        pages = dict.fromkeys(ids, problem)
    rows = [
        StoredSuggestion(
            workflow_id=workflow_id,
            predictor=predictor,
            snapshot_id=snapshot_id,
            why_not=page.why_not,
            detail=page.detail,
            action=page.suggestion.action if page.suggestion else "",
            probability=page.suggestion.probability if page.suggestion else None,
            parameters=[list(entry) for entry in page.suggestion.parameters] if page.suggestion else [],
        )
        for workflow_id, page in pages.items()
    ]
    with transaction.atomic():
        StoredSuggestion.objects.all().delete()
        StoredSuggestion.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def suggest_action(workflow: Workflow) -> Suggestion | None:
    """The predicted action for `workflow` from its current errors, computed now, or None
    without a trained predictor, without current errors or with none the model ever saw.
    Raises ClusteringError when the model cannot be read."""
    predictor = latest_predictor()
    if predictor is None:
        return None
    page = _suggest_many([workflow.pk], predictor).get(workflow.pk, _no_errors())
    return page.suggestion


def _suggest_many(workflow_ids: list[int] | None, predictor: Predictor) -> dict[int, PageSuggestion]:
    """Per workflow with current errors among `workflow_ids` (None: all): its suggestion
    from `predictor`, or why there is none. Raises ClusteringError (model unreadable)."""
    import numpy as np

    from .samples import current_samples
    from .vectors import log_counts

    current = current_samples(workflow_ids)
    if current.n == 0:
        return {}
    stored = load_model(predictor.model_file)
    features = log_counts(current.cells, current.n, stored_vocabulary(stored))
    seen = np.flatnonzero(features.getnnz(axis=1) > 0)
    pages: dict[int, PageSuggestion] = {}
    unseen = np.setdiff1d(np.arange(current.n), seen)
    if len(unseen):
        codes_of: dict[int, set[int]] = {}
        for sample, code in zip(current.cells.sample.tolist(), current.cells.exit_code.tolist(), strict=True):
            codes_of.setdefault(sample, set()).add(code)
        for i in unseen.tolist():
            codes = ", ".join(str(code) for code in sorted(codes_of.get(i, ())))
            pages[int(current.workflow_ids[i])] = PageSuggestion(
                None,
                "unseen",
                f"workflow unseen: none of its exit codes ({codes}) or sites were in the "
                f"{predictor.samples} submitted actions the model of "
                f"{predictor.trained_at:%Y-%m-%d %H:%M} UTC learned from, so it could only repeat "
                "the most common action",
            )

    def best(model, rows) -> tuple[list[str], list[float]]:
        probabilities = model.predict_proba(rows)
        top = np.argmax(probabilities, axis=1)
        return [str(value) for value in model.classes_[top]], probabilities[np.arange(len(top)), top].tolist()

    score = predictor.scores.get("action", {})
    accuracy = score.get("cv_accuracy", {}).get(score.get("model"), score.get("baseline"))
    for start in range(0, len(seen), CHUNK):
        chunk = seen[start : start + CHUNK]
        rows = features[chunk].toarray()
        actions, probabilities = best(stored["models"]["action"], rows)
        answers = {name: best(model, rows) for name, model in stored["models"].items() if name in PARAMETERS}
        for j, i in enumerate(chunk.tolist()):
            action = actions[j]
            parameters = []
            for name, actions_with_it in PARAMETERS.items():
                if action in actions_with_it and name in answers:
                    value, p = answers[name][0][j], answers[name][1][j]
                    if value != UNCHANGED:
                        parameters.append((name, value, float(p)))
            pages[int(current.workflow_ids[i])] = PageSuggestion(
                Suggestion(
                    action,
                    float(probabilities[j]),
                    parameters,
                    predictor.trained_at,
                    accuracy=accuracy,
                    baseline=score.get("baseline"),
                    samples=predictor.samples,
                )
            )
    return pages


def evaluate_predictor(*, test_fraction: float = 0.25, seed: int = 0) -> dict:
    """Per target: the model chosen on the training part, its accuracy on the held-out
    part, and the majority-class baseline there. Raises ClusteringError on too little data."""
    import numpy as np
    from sklearn.model_selection import train_test_split

    from . import classifier

    data = training_set()
    n = len(data.features)
    if n < MIN_SUBMISSIONS:
        raise ClusteringError(f"only {n} submitted actions with known errors; need {MIN_SUBMISSIONS}")
    actions = data.targets["action"]
    stratify = actions if min(Counter(actions.tolist()).values()) >= 2 else None
    train, test = train_test_split(
        np.arange(n), test_size=test_fraction, random_state=seed, stratify=stratify
    )
    report = {}
    for name, target in data.targets.items():
        choice = classifier.choose_model(data.features[train], target[train], seed=seed)
        predicted = choice.model.predict(data.features[test])
        report[name] = {
            "model": choice.name,
            "accuracy": float(np.mean(predicted == target[test])),
            "baseline": classifier.majority_accuracy(target[train], target[test]),
            "train": len(train),
            "test": len(test),
        }
    return report
