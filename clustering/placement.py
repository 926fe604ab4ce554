"""Placement: where a workflow stands among the clusters of the last fit, for the workflow page.

A workflow in the last fit has its stored membership. One that appeared since (a newcomer)
is placed with the stored model, computed on each view and NOT stored: a GET never writes,
and the next reclustering fits it for real. The model file is loaded once per process.
"""

import logging
from dataclasses import dataclass

from workflows.models import Workflow

from . import selectors
from .exceptions import ClusteringError
from .model_files import load_model
from .models import ClusterMembership

logger = logging.getLogger(__name__)


def place_workflow(workflow: Workflow) -> ClusterMembership | None:
    """An UNSAVED membership of `workflow` (not in the last fit) in the cluster the stored
    model predicts from its current errors. None when there is no model yet or the workflow
    has no errors; ClusteringError when the model file cannot be read."""
    # The fit whose memberships are current (the last to finish, not the last requested),
    # so the newcomer lands among the workflows the similar-workflows query reads.
    fit = selectors.latest_fit()
    if fit is None or not fit.model_file:
        return None
    # numpy only here, for the rare newcomer: the web process does not load it to serve pages.
    from .kmeans import nearest_centre, project
    from .samples import current_samples
    from .vectors import Vocabulary, workflow_vectors

    current = current_samples([workflow.pk])
    if current.n == 0:
        return None
    stored = load_model(fit.model_file)
    vocabulary = Vocabulary(exit_codes=stored["exit_codes"], sites=stored["sites"])
    vector = workflow_vectors(current.cells, 1, vocabulary, stored["errorcode"], stored["sitename"])
    x, y = project(stored["pca"], vector)[0]
    return ClusterMembership(
        workflow=workflow,
        clustering=fit,
        # A model file written before "centres" existed holds the fitted KMeans.
        cluster=nearest_centre(
            stored["centres"] if "centres" in stored else stored["kmeans"].cluster_centers_, vector
        ),
        placement=ClusterMembership.Placement.PREDICT,
        x=float(x),
        y=float(y),
    )


@dataclass
class SimilarPanel:
    """What the workflow page shows of a workflow's cluster."""

    membership: ClusterMembership | None  # stored, or unsaved for a newcomer
    similar: list[str]  # names of the other workflows in its cluster
    problem: str = ""  # why the stored model could not be used, for the operator


def similar_panel(workflow: Workflow) -> SimilarPanel:
    """The similar-workflows panel of `workflow`, placing it with the stored model when it
    is new since the last fit (nothing written). Called by the view; the template renders."""
    membership = selectors.membership_of(workflow)
    if membership is None:
        try:
            membership = place_workflow(workflow)
        except ClusteringError as exc:
            logger.warning("cannot place workflow %s: %s", workflow.pk, exc)
            return SimilarPanel(membership=None, similar=[], problem=str(exc))
    if membership is None:
        return SimilarPanel(membership=None, similar=[])
    similar = selectors.workflows_in_cluster(
        membership.clustering_id, membership.cluster, exclude=workflow.pk
    )
    return SimilarPanel(membership=membership, similar=similar)
