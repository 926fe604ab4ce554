"""Fitting: KMeans on the history plus the current errors, stored as the job's model file,
cluster summary and the current workflows' memberships.

`fit_and_store(job, stage)` calls `stage(name)` as it enters each of STAGES, in order; the
job lifecycle (`clustering.jobs`) records it on the job row and the command draws its bar.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from workflows.bulk import bulk_insert

from .exceptions import ClusteringError
from .model_files import keep_last_model_files, save_model
from .models import ClusterMembership, ReclusteringJob

if TYPE_CHECKING:
    import numpy as np

    from .samples import Samples
    from .vectors import Vocabulary

LOADING, VECTORS, FITTING, PROJECTING, STORING = STAGES = [
    "loading errors",
    "building vectors",
    "fitting KMeans",
    "projecting",
    "storing clusters",
]
# Samples closer than this share of `distance` (how far apart two samples with no exit code in
# common are) are one pattern when counting how many clusters the data holds: with few
# patterns, spare clusters would otherwise split one pattern on its noise.
SAME_PATTERN = 0.2


def fit_and_store(job: ReclusteringJob, stage: Callable[[str], None]) -> None:
    """Fit on every sample, write the model file and store the fit on `job` (marked done)
    with the current workflows' memberships. Raises ClusteringError with nothing to fit."""
    # numpy, scipy and scikit-learn are imported by the job only: the web process serves
    # /cluster (which imports this module) without them.
    from scipy import sparse

    from . import kmeans
    from .samples import current_samples, history_samples, shells_from_config
    from .vectors import Vocabulary, workflow_vectors

    config = settings.WWT["clustering"]
    errorcode, sitename = shells_from_config()
    stage(LOADING)
    current = current_samples()
    history = history_samples()
    if current.n == 0 and history.n == 0:
        raise ClusteringError("there are no errors to cluster yet: load current errors or history first")
    vocabulary = Vocabulary.from_cells(current.cells, history.cells)

    stage(VECTORS)
    current_vectors = workflow_vectors(current.cells, current.n, vocabulary, errorcode, sitename)
    history_vectors = workflow_vectors(history.cells, history.n, vocabulary, errorcode, sitename)
    training = sparse.vstack([current_vectors, history_vectors], format="csr")

    stage(FITTING)
    tolerance = SAME_PATTERN * min(errorcode.distance, sitename.distance)
    model = kmeans.fit_kmeans(training, config["n_clusters"], config["n_init"], tolerance=tolerance)
    labels = model.labels_[: current.n]

    stage(PROJECTING)
    points, pca = kmeans.projection_2d(current_vectors)

    stage(STORING)
    summary = cluster_summary(current, vocabulary, labels, model.n_clusters)
    path = save_model(
        {
            # Plain arrays, no scikit-learn object: the workflow page places a newcomer with
            # numpy alone (clustering.placement).
            "centres": model.cluster_centers_,
            "pca": pca,
            "exit_codes": vocabulary.exit_codes,
            "sites": vocabulary.sites,
            "errorcode": errorcode,
            "sitename": sitename,
        },
        f"clustering-{job.pk}.joblib",
    )
    fitted = ClusterMembership.Placement.FIT.value
    memberships = list(
        zip(
            current.workflow_ids.tolist(),
            [job.pk] * current.n,
            labels.tolist(),
            [fitted] * current.n,
            points[:, 0].tolist(),
            points[:, 1].tolist(),
            strict=True,
        )
    )
    with transaction.atomic():
        # Every current workflow is in this fit: the old rows go and the new ones are written
        # in bulk (COPY on PostgreSQL), which is faster than updating them in place.
        ClusterMembership.objects.all().delete()
        bulk_insert(
            ClusterMembership, ("workflow_id", "clustering_id", "cluster", "placement", "x", "y"), memberships
        )
        job.state = ReclusteringJob.State.DONE
        job.stage = ""
        job.finished_at = timezone.now()
        job.parameters = {
            "n_clusters": config["n_clusters"],
            "n_init": config["n_init"],
            "errorcode": errorcode.__dict__,
            "sitename": sitename.__dict__,
            "exit_codes": len(vocabulary.exit_codes),
            "sites": len(vocabulary.sites),
        }
        job.n_clusters = model.n_clusters
        job.current_samples = current.n
        job.history_samples = history.n
        job.inertia = float(model.inertia_)
        job.model_file = str(path)
        job.summary = summary
        job.message = (
            f"{current.n} current workflows and {history.n} history snapshots in {model.n_clusters} clusters"
        )
        job.save()
    keep_last_model_files(
        ReclusteringJob.objects.filter(state=ReclusteringJob.State.DONE).order_by("-finished_at", "-pk")
    )


def cluster_summary(
    current: Samples, vocabulary: Vocabulary, labels: np.ndarray, n_clusters: int
) -> list[dict]:
    """Per cluster: its size and its most common exit codes and sites in the current errors."""
    import numpy as np

    from . import kmeans
    from .vectors import count_matrix, site_count_matrix

    sizes = np.bincount(labels, minlength=n_clusters) if len(labels) else np.zeros(n_clusters, int)
    codes = count_matrix(
        current.cells.sample, current.cells.exit_code, current.cells.count, vocabulary.exit_codes, current.n
    )
    sites = site_count_matrix(current.cells, vocabulary.sites, current.n)
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
