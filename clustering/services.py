"""Reclustering: build the vectors from the database, fit KMeans, store membership.

`request_reclustering(user)` queues a job for the worker; `recluster_workflows(job_id)`
runs one (the task, the command and the tests all call it); `place_workflow(workflow)`
puts a workflow that appeared since the last fit into a cluster with the stored model;
`similar_panel(workflow)` is what the workflow page shows of it.
All raise `ClusteringError` with a message an operator can read.
"""

import logging
import os
import pickle
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import joblib
import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from scipy import sparse

from errors.models import ErrorCount, ErrorHistory
from workflows.models import Workflow
from wwt_project.locks import Busy, job_lock
from wwt_project.queue import QueueDown, send_after_commit

from . import kmeans, selectors
from .models import Clustering, ClusterMembership
from .vectors import Cells, Shell, Vocabulary, count_matrix, workflow_vectors

logger = logging.getLogger(__name__)
LOCK_NAME = "recluster"
# A queued job that no worker started within this is taken for lost (broker or worker
# down), so it stops blocking new requests from /cluster.
QUEUED_TIMEOUT = timedelta(minutes=10)
NEVER_STARTED = "never started: is a worker running?"
MODEL_FILES_KEPT = 3
BATCH = 5000
Progress = Callable[[str], None] | None


class ClusteringError(Exception):
    """A reclustering could not run or a model could not be used; the message says why."""


class NotQueued(ClusteringError):
    """The task queue did not take the reclustering; no job row was left behind."""


def lock_ttl() -> timedelta:
    # Longer than Celery's hard time limit, so a live job never loses the lock, yet a
    # crashed one frees it within the hour.
    return timedelta(seconds=getattr(settings, "CELERY_TASK_TIME_LIMIT", 35 * 60) + 300)


def model_dir() -> Path:
    path = Path(settings.WWT["clustering"]["model_dir"])
    return path if path.is_absolute() else Path(settings.BASE_DIR) / path


def save_model(payload: dict, name: str) -> Path:
    """Write `payload` with joblib under model_dir atomically (temp file + rename)."""
    directory = model_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=directory, suffix=".tmp")
        os.close(handle)
        joblib.dump(payload, temp)
        target = directory / name
        os.replace(temp, target)
    except OSError as exc:
        raise ClusteringError(f"cannot write the model to {directory}: {exc.strerror or exc}") from exc
    return target


def load_model(path: str) -> dict:
    # joblib files are pickles: only ever load what this app wrote into model_dir. A damaged
    # file or one written by another scikit-learn version fails in many ways, all "unreadable".
    try:
        return joblib.load(path)
    except (OSError, EOFError, ValueError, KeyError, IndexError, AttributeError, ImportError,
            pickle.UnpicklingError) as exc:  # fmt: skip
        raise ClusteringError(f"cannot read the stored model {path}: {exc}") from exc


# Loading cells ----------------------------------------------------------------------------


@dataclass
class Samples:
    """Error cells grouped into samples, with the workflow of each sample."""

    cells: Cells
    workflow_ids: np.ndarray  # per sample
    buckets: np.ndarray | None = None  # per sample (history only)

    @property
    def n(self) -> int:
        return len(self.workflow_ids)


def _columns(rows: list[tuple], n_columns: int) -> list[np.ndarray]:
    if not rows:
        return [np.array([]) for _ in range(n_columns)]
    return [np.asarray(column) for column in zip(*rows, strict=True)]


def current_samples(workflow_ids: list[int] | None = None) -> Samples:
    """The current errors summed per workflow: one sample per workflow with errors."""
    queryset = ErrorCount.objects.all()
    if workflow_ids is not None:
        queryset = queryset.filter(step__workflow_id__in=workflow_ids)
    rows = list(queryset.values_list("step__workflow_id", "exit_code", "site", "count"))
    workflow, code, site, count = _columns(rows, 4)
    ids, sample = np.unique(workflow.astype(np.int64), return_inverse=True)
    cells = Cells(sample, code.astype(np.int64), site.astype(str), count.astype(np.int64))
    return Samples(cells=cells, workflow_ids=ids)


def history_samples(workflow_ids: list[int] | None = None) -> Samples:
    """The history summed per (workflow, bucket): each bucket is a snapshot of a workflow,
    the same kind of thing as a current workflow, so it is one more sample of it."""
    queryset = ErrorHistory.objects.all()
    if workflow_ids is not None:
        queryset = queryset.filter(step__workflow_id__in=workflow_ids)
    rows = list(queryset.values_list("step__workflow_id", "bucket", "exit_code", "site", "count"))
    if not rows:
        empty = Cells(np.array([], int), np.array([], int), np.array([], str), np.array([], int))
        return Samples(cells=empty, workflow_ids=np.array([], int), buckets=np.array([], object))
    workflow, bucket, code, site, count = _columns(rows, 5)
    bucket_values, bucket_index = np.unique(bucket, return_inverse=True)
    workflow = workflow.astype(np.int64)
    key = workflow * len(bucket_values) + bucket_index
    keys, sample = np.unique(key, return_inverse=True)
    cells = Cells(sample, code.astype(np.int64), site.astype(str), count.astype(np.int64))
    return Samples(
        cells=cells, workflow_ids=keys // len(bucket_values), buckets=bucket_values[keys % len(bucket_values)]
    )


def shells_from_config() -> tuple[Shell, Shell]:
    config = settings.WWT["clustering"]
    return Shell.from_config(config["errorcode"]), Shell.from_config(config["sitename"])


# Jobs -------------------------------------------------------------------------------------


def fail_unstarted_jobs() -> int:
    """Mark failed the jobs still queued QUEUED_TIMEOUT after they were requested: no
    worker took them. Returns how many. A worker that picks one up later leaves it alone."""
    now = timezone.now()
    return Clustering.objects.filter(
        state=Clustering.State.QUEUED, started_at__isnull=True, requested_at__lt=now - QUEUED_TIMEOUT
    ).update(state=Clustering.State.FAILED, message=NEVER_STARTED, finished_at=now)


def active_job() -> Clustering | None:
    """The queued or running reclustering, if one is under way (not older than the lock's
    life). A queued job no worker started in time is marked failed first, so it is not."""
    fail_unstarted_jobs()
    since = timezone.now() - lock_ttl()
    return (
        Clustering.objects.filter(
            state__in=[Clustering.State.QUEUED, Clustering.State.RUNNING], requested_at__gte=since
        )
        .order_by("-requested_at")
        .first()
    )


def request_reclustering(user=None) -> Clustering:
    """Queue a reclustering for the worker (sent after commit). Refused while one is under way."""
    from . import tasks

    running = active_job()
    if running:
        raise ClusteringError(
            f"A reclustering is already {running.state} (requested at "
            f"{running.requested_at:%Y-%m-%d %H:%M} UTC); wait for it to finish."
        )
    job = Clustering.objects.create(requested_by=user)
    try:
        send_after_commit(lambda: tasks.recluster.delay(job.pk), undo=job.delete)
    except QueueDown as exc:
        raise NotQueued(str(exc)) from None
    return job


def _set(job: Clustering, **fields) -> None:
    for name, value in fields.items():
        setattr(job, name, value)
    job.save(update_fields=list(fields))


def recluster_workflows(job_id: int | None = None, *, progress: Progress = None) -> Clustering:
    """Run reclustering job `job_id` (a new one when None): fit on history plus current
    errors and store the current workflows' clusters. A job already finished is returned
    unchanged (safe to run twice). Raises ClusteringError (job marked refused) when
    another reclustering holds the lock, or (job marked failed) when there is nothing to fit."""
    job = Clustering.objects.get(pk=job_id) if job_id else Clustering.objects.create()
    if job.state in (Clustering.State.DONE, Clustering.State.FAILED, Clustering.State.REFUSED):
        return job
    try:
        with job_lock(LOCK_NAME):
            _run_holding_the_lock(job, progress)
    except Busy as exc:
        if job.state == Clustering.State.RUNNING:
            # A redelivery (the broker's visibility timeout passed) of this very job, which
            # is still running elsewhere: leave it to finish.
            return job
        message = f"another reclustering is running{exc.detail}; this one was not started. {exc.how_to_clear}"
        _set(job, state=Clustering.State.REFUSED, message=message, finished_at=timezone.now())
        raise ClusteringError(message) from None
    return job


def _run_holding_the_lock(job: Clustering, progress: Progress) -> None:
    # We hold the lock, so any other "running" job died without finishing.
    Clustering.objects.filter(state=Clustering.State.RUNNING).exclude(pk=job.pk).update(
        state=Clustering.State.FAILED,
        message="interrupted before it finished",
        finished_at=timezone.now(),
    )
    # Conditional, so a job /cluster meanwhile gave up on as never started stays failed
    # (a running one is a redelivery after a crash: run it again).
    started = Clustering.objects.filter(
        pk=job.pk, state__in=[Clustering.State.QUEUED, Clustering.State.RUNNING]
    ).update(state=Clustering.State.RUNNING, started_at=timezone.now(), stage="loading errors")
    job.refresh_from_db()
    if not started:
        return
    try:
        _fit_and_store(job, progress)
    except ClusteringError as exc:
        _set(job, state=Clustering.State.FAILED, message=str(exc), finished_at=timezone.now(), stage="")
        raise
    except Exception as exc:
        _set(
            job,
            state=Clustering.State.FAILED,
            message=f"unexpected error: {exc}",
            finished_at=timezone.now(),
            stage="",
        )
        raise


def _stage(job: Clustering, stage: str, progress: Progress) -> None:
    _set(job, stage=stage)
    if progress:
        progress(stage)


def _fit_and_store(job: Clustering, progress: Progress) -> None:
    config = settings.WWT["clustering"]
    errorcode, sitename = shells_from_config()
    _stage(job, "loading errors", progress)
    current = current_samples()
    history = history_samples()
    if current.n == 0 and history.n == 0:
        raise ClusteringError("there are no errors to cluster yet: load current errors or history first")
    vocabulary = Vocabulary.from_cells(current.cells, history.cells)

    _stage(job, "building vectors", progress)
    current_vectors = workflow_vectors(current.cells, current.n, vocabulary, errorcode, sitename)
    history_vectors = workflow_vectors(history.cells, history.n, vocabulary, errorcode, sitename)
    training = sparse.vstack([current_vectors, history_vectors], format="csr")

    _stage(job, "fitting KMeans", progress)
    model = kmeans.fit_kmeans(training, config["n_clusters"], config["n_init"])
    labels = model.labels_[: current.n]

    _stage(job, "projecting", progress)
    points, pca = kmeans.projection_2d(current_vectors)

    _stage(job, "storing clusters", progress)
    summary = _summary(current, vocabulary, labels, model.n_clusters)
    path = save_model(
        {
            "kmeans": model,
            "pca": pca,
            "exit_codes": vocabulary.exit_codes,
            "sites": vocabulary.sites,
            "errorcode": errorcode,
            "sitename": sitename,
        },
        f"clustering-{job.pk}.joblib",
    )
    memberships = [
        ClusterMembership(
            workflow_id=int(workflow_id), clustering=job, cluster=int(label), x=float(x), y=float(y)
        )
        for workflow_id, label, (x, y) in zip(current.workflow_ids, labels, points, strict=True)
    ]
    with transaction.atomic():
        ClusterMembership.objects.exclude(workflow_id__in=current.workflow_ids.tolist()).delete()
        for start in range(0, len(memberships), BATCH):
            ClusterMembership.objects.bulk_create(
                memberships[start : start + BATCH],
                update_conflicts=True,
                unique_fields=["workflow"],
                update_fields=["clustering", "cluster", "placement", "x", "y"],
            )
        _set(
            job,
            state=Clustering.State.DONE,
            stage="",
            finished_at=timezone.now(),
            parameters={
                "n_clusters": config["n_clusters"],
                "n_init": config["n_init"],
                "errorcode": errorcode.__dict__,
                "sitename": sitename.__dict__,
                "exit_codes": len(vocabulary.exit_codes),
                "sites": len(vocabulary.sites),
            },
            n_clusters=model.n_clusters,
            current_samples=current.n,
            history_samples=history.n,
            inertia=float(model.inertia_),
            model_file=str(path),
            summary=summary,
            message=f"{current.n} current workflows and {history.n} history snapshots "
            f"in {model.n_clusters} clusters",
        )
    _forget_old_models(job)


def _summary(current: Samples, vocabulary: Vocabulary, labels: np.ndarray, n_clusters: int) -> list[dict]:
    sizes = np.bincount(labels, minlength=n_clusters) if len(labels) else np.zeros(n_clusters, int)
    codes = count_matrix(
        current.cells.sample, current.cells.exit_code, current.cells.count, vocabulary.exit_codes, current.n
    )
    sites = count_matrix(
        current.cells.sample, current.cells.site, current.cells.count, vocabulary.sites, current.n
    )
    top_codes = kmeans.top_columns(codes, labels, n_clusters) if len(labels) else [[]] * n_clusters
    top_sites = kmeans.top_columns(sites, labels, n_clusters) if len(labels) else [[]] * n_clusters
    return [
        {
            "cluster": cluster,
            "size": int(sizes[cluster]),
            "codes": [[int(vocabulary.exit_codes[col]), n] for col, n in top_codes[cluster]],
            "sites": [[str(vocabulary.sites[col]), n] for col, n in top_sites[cluster]],
        }
        for cluster in range(n_clusters)
    ]


def _forget_old_models(job: Clustering) -> None:
    done = Clustering.objects.filter(state=Clustering.State.DONE)
    old = done.exclude(model_file="").order_by("-finished_at")
    for stale in old[MODEL_FILES_KEPT:]:
        Path(stale.model_file).unlink(missing_ok=True)
        _set(stale, model_file="")


# Placing a new workflow ------------------------------------------------------------------


def place_workflow(workflow: Workflow) -> ClusterMembership | None:
    """Put `workflow` (not in the last fit) into a cluster with the stored model, from its
    current errors. None when there is no model yet or the workflow has no errors."""
    # The fit whose memberships are current (the last to finish, not the last requested),
    # so the newcomer lands among the workflows the similar-workflows query reads.
    clustering = selectors.latest_fit()
    if clustering is None or not clustering.model_file:
        return None
    current = current_samples([workflow.pk])
    if current.n == 0:
        return None
    stored = load_model(clustering.model_file)
    vocabulary = Vocabulary(exit_codes=stored["exit_codes"], sites=stored["sites"])
    vector = workflow_vectors(current.cells, 1, vocabulary, stored["errorcode"], stored["sitename"])
    cluster = int(stored["kmeans"].predict(vector)[0])
    x, y = kmeans.project(stored["pca"], vector)[0]
    ClusterMembership.objects.bulk_create(
        [
            ClusterMembership(
                workflow=workflow,
                clustering=clustering,
                cluster=cluster,
                placement=ClusterMembership.Placement.PREDICT,
                x=float(x),
                y=float(y),
            )
        ],
        ignore_conflicts=True,  # a reclustering may have placed it meanwhile; that one wins
    )
    return ClusterMembership.objects.select_related("clustering").filter(workflow=workflow).first()


@dataclass
class SimilarPanel:
    """What the workflow page shows of a workflow's cluster."""

    membership: ClusterMembership | None
    similar: list[str]  # names of the other workflows in its cluster
    problem: str = ""  # why the stored model could not be used, for the operator


def similar_panel(workflow: Workflow) -> SimilarPanel:
    """The similar-workflows panel of `workflow`, placing it with the stored model first when
    it is new since the last fit. Called by the view, so the template only renders."""
    membership = selectors.membership_of(workflow)
    if membership is None:
        try:
            membership = place_workflow(workflow)
        except ClusteringError as exc:
            logger.warning("cannot place workflow %s: %s", workflow.pk, exc)
            return SimilarPanel(membership=None, similar=[], problem=str(exc))
    return SimilarPanel(
        membership=membership, similar=selectors.similar_workflows(workflow) if membership else []
    )
