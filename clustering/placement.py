"""Placement: where a workflow stands among the clusters of the last fit, and the workflows
nearest to it there, for the workflow page.

A workflow in the last fit has its stored membership. One that appeared since (a newcomer)
is placed with the stored model, computed on each view and NOT stored: a GET never writes,
and the next reclustering fits it for real. The model file is loaded once per process.
"""

import logging
import math
from dataclasses import dataclass, field

from actions.selectors import last_actions
from workflows.models import Workflow
from wwt_project.cache import soft_cache

from . import selectors
from .exceptions import ClusteringError
from .model_files import load_axes, load_model
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
class SimilarWorkflow:
    """One workflow of the same cluster, as the similar-workflows panel lists it."""

    workflow_id: int
    name: str
    distance: float | None  # from the page's workflow, on the fit's vectors (None: not ranked)
    errors: int  # current failed jobs
    top_exit_code: int | None  # the exit code with the most of them
    last_action: object = None  # its current Action, read on each view (actions change any time)

    @property
    def distance_text(self) -> str:
        return "—" if self.distance is None else f"{self.distance:.2f}"


@dataclass
class SimilarPanel:
    """What the workflow page shows of a workflow's cluster."""

    membership: ClusterMembership | None  # stored, or unsaved for a newcomer
    similar: list[SimilarWorkflow] = field(default_factory=list)  # nearest first
    total: int = 0  # similar workflows in the cluster (more than shown unless show_all)
    workflow_name: str = ""
    show_all: bool = False
    problem: str = ""  # why the stored model could not be used, for the operator
    ranking_problem: str = ""  # why the list is by name, not by distance


# The panel's default length: a cluster can hold thousands of workflows (issue #16: 1,043
# checkboxes made a 424 kB page); the rest are one click away.
SHOWN = 50
SIMILAR_CACHE_SECONDS = 60 * 60


def ranked_similar(workflow: Workflow, membership: ClusterMembership) -> tuple[list[SimilarWorkflow], str]:
    """The other workflows of `membership`'s cluster, nearest to `workflow` first (by the
    distance of their vectors in the fit, the one KMeans used), each with its current
    errors and top exit code; and why they are by name instead, when the fit's axes
    cannot be read. Two queries, whatever the cluster's size; plain Python (the fit's axes
    file, not its model), so the web process never loads numpy to serve the page."""
    fit_id, cluster = membership.clustering_id, membership.cluster
    names = dict(selectors.cluster_members(fit_id, cluster))
    rows = selectors.cluster_cells(fit_id, cluster, workflow.pk)
    codes: dict[int, dict[int, int]] = {}  # workflow id -> exit code -> count
    sites: dict[int, dict[str, int]] = {}
    for workflow_id, exit_code, site, count in rows:
        per_code = codes.setdefault(workflow_id, {})
        per_code[exit_code] = per_code.get(exit_code, 0) + count
        per_site = sites.setdefault(workflow_id, {})
        per_site[site] = per_site.get(site, 0) + count
    ids = sorted(set(names) | {workflow.pk})
    problem = ""
    try:
        axes = fit_axes(membership.clustering.model_file)
    except ClusteringError as exc:
        logger.warning("cannot rank the workflows similar to %s: %s", workflow.pk, exc)
        axes, problem = None, str(exc)
    distance: dict[int, float | None] = dict.fromkeys(ids)
    if axes is not None:
        known_codes, known_sites, errorcode, sitename = axes
        vectors = {
            i: shell_position(codes.get(i, {}), known_codes, errorcode)
            + shell_position(sites.get(i, {}), known_sites, sitename)
            for i in ids
        }
        own = vectors[workflow.pk]
        own_norm = sum(value * value for _, value in own)
        own_values = dict(own)
        for i, vector in vectors.items():
            norm = sum(value * value for _, value in vector)
            dot = sum(value * own_values.get(axis, 0.0) for axis, value in vector)
            distance[i] = math.sqrt(max(norm + own_norm - 2 * dot, 0.0))
    order = sorted(
        (i for i in ids if i != workflow.pk),
        key=lambda i: (math.inf if distance[i] is None else distance[i], names.get(i, "")),
    )
    similar = []
    for i in order:
        per_code = codes.get(i, {})
        # The exit code with the most errors, the lowest on a tie.
        top = min(per_code, key=lambda code: (-per_code[code], code)) if per_code else None
        similar.append(
            SimilarWorkflow(
                workflow_id=i,
                name=names[i],
                distance=None if distance[i] is None else round(distance[i], 4),
                errors=sum(per_code.values()),
                top_exit_code=top,
            )
        )
    return similar, problem


Shell = tuple[float, float, float]  # distance, width, midpoint (config.yml clustering.errorcode)


def fit_axes(model_file: str) -> tuple[frozenset, frozenset, Shell, Shell] | None:
    """The exit codes, sites and shells the fit in `model_file` placed workflows on, from its
    axes file (a fit written before axes files existed: from the model, which loads numpy).
    ClusteringError when neither can be read."""
    axes = load_axes(model_file)
    if axes is None:
        stored = load_model(model_file)
        axes = {
            "exit_codes": stored["exit_codes"].tolist(),
            "sites": stored["sites"].tolist(),
            "errorcode": vars(stored["errorcode"]),
            "sitename": vars(stored["sitename"]),
        }

    def shell(section: dict) -> Shell:
        return float(section["distance"]), float(section["width"]), float(section["midpoint"])

    return (
        frozenset(int(code) for code in axes["exit_codes"]),
        frozenset(str(site) for site in axes["sites"]),
        shell(axes["errorcode"]),
        shell(axes["sitename"]),
    )


def shell_position(counts: dict, axes: frozenset, shell: Shell) -> list[tuple[object, float]]:
    """One workflow's position on one shell as sparse (axis, value) pairs, as
    `vectors.shell_positions` places it: direction counts/|counts| over the values on `axes`
    (others dropped), distance R(|counts|) from the origin; [] without counts on the axes."""
    distance, width, midpoint = shell
    kept = [(axis, float(count)) for axis, count in counts.items() if axis in axes]
    norm = math.sqrt(sum(count * count for _, count in kept))
    if norm <= 0:
        return []
    radius = distance / math.sqrt(2) + 2 * width * (norm / (norm + midpoint) - 0.5)
    scale = radius / norm
    # Keyed by shell as well: an exit code and a site never share an axis.
    return [((type(axis).__name__, axis), count * scale) for axis, count in kept]


def similar_panel(workflow: Workflow, snapshot: str = "", *, show_all: bool = False) -> SimilarPanel:
    """The similar-workflows panel of `workflow`, placing it with the stored model when it
    is new since the last fit (nothing written): the SHOWN nearest, or all with `show_all`,
    each with its last action. The ranking is cached per `snapshot` (errors.selectors.
    snapshot_key) and fit; the last actions are read on each view, in one query."""
    membership = selectors.membership_of(workflow)
    if membership is None:
        try:
            membership = place_workflow(workflow)
        except ClusteringError as exc:
            logger.warning("cannot place workflow %s: %s", workflow.pk, exc)
            return SimilarPanel(membership=None, workflow_name=workflow.name, problem=str(exc))
    if membership is None:
        return SimilarPanel(membership=None, workflow_name=workflow.name)
    key = None
    if snapshot:
        shown = "all" if show_all else SHOWN
        key = f"wwt:similar:{snapshot}:{membership.clustering_id}:{membership.cluster}:{workflow.pk}:{shown}"
    cached = soft_cache("get", key) if key else None
    if cached is None:
        ranked, ranking_problem = ranked_similar(workflow, membership)
        cached = (len(ranked), ranked if show_all else ranked[:SHOWN], ranking_problem)
        if key:
            soft_cache("set", key, cached, SIMILAR_CACHE_SECONDS)
    total, similar, ranking_problem = cached
    last = last_actions([entry.workflow_id for entry in similar])
    for entry in similar:
        entry.last_action = last.get(entry.workflow_id)
    return SimilarPanel(
        membership=membership,
        similar=similar,
        total=total,
        workflow_name=workflow.name,
        show_all=show_all,
        ranking_problem=ranking_problem,
    )
