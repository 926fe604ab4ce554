"""Reads for the cluster page and the workflow page panels."""

from dataclasses import dataclass

from django.db.models import Q

from errors.models import ErrorCount
from workflows.models import Workflow

from .models import ClusterMembership, ReclusteringJob


def last_jobs(limit: int = 10) -> list[ReclusteringJob]:
    """The latest reclustering jobs, newest first, with who asked for them."""
    return list(ReclusteringJob.objects.select_related("requested_by")[:limit])


def latest_fit() -> ReclusteringJob | None:
    """The last reclustering that finished."""
    return ReclusteringJob.objects.filter(state=ReclusteringJob.State.DONE).order_by("-finished_at").first()


def membership_of(workflow: Workflow) -> ClusterMembership | None:
    """The workflow's stored membership with its fit's date and model file, one query (the
    fit's summary, one entry per cluster, is not read: the workflow page shows it on each view)."""
    return (
        ClusterMembership.objects.select_related("clustering")
        .only(*MEMBERSHIP_FIELDS)
        .filter(workflow=workflow)
        .first()
    )


MEMBERSHIP_FIELDS = (
    "workflow_id", "cluster", "placement", "x", "y",
    "clustering__id", "clustering__state", "clustering__finished_at", "clustering__model_file",
)  # fmt: skip


def workflows_in_cluster(fit_id: int, cluster: int, *, exclude: int | None = None) -> list[str]:
    """Names of the workflows in `cluster` of fit `fit_id` (less workflow `exclude`), one query."""
    members = Workflow.objects.filter(
        cluster_membership__clustering_id=fit_id, cluster_membership__cluster=cluster
    )
    if exclude is not None:
        members = members.exclude(pk=exclude)
    return list(members.order_by("name").values_list("name", flat=True))


def cluster_members(fit_id: int, cluster: int) -> list[tuple[int, str]]:
    """(id, name) of the workflows in `cluster` of fit `fit_id`, one query."""
    return list(
        ClusterMembership.objects.filter(clustering_id=fit_id, cluster=cluster).values_list(
            "workflow_id", "workflow__name"
        )
    )


def cluster_cells(fit_id: int, cluster: int, also: int) -> list[tuple[int, int, str, int]]:
    """The current error cells (workflow id, exit code, site, count) of the workflows in
    `cluster` of fit `fit_id` and of workflow `also` (one placed since the fit), one query."""
    in_cluster = Q(
        step__workflow__cluster_membership__clustering_id=fit_id,
        step__workflow__cluster_membership__cluster=cluster,
    )
    return list(
        ErrorCount.objects.filter(in_cluster | Q(step__workflow_id=also))
        .values_list("step__workflow_id", "exit_code", "site", "count")
        .order_by()
    )


def projection_points(clustering: ReclusteringJob) -> list[tuple[str, int, float, float]]:
    """(name, cluster, x, y) of every workflow placed in `clustering`, in one query."""
    return list(
        ClusterMembership.objects.filter(clustering=clustering).values_list(
            "workflow__name", "cluster", "x", "y"
        )
    )


# Colours that stay distinguishable for the default ten clusters; more clusters reuse them.
PALETTE = [
    "#1f5fa8", "#d95f02", "#1b9e77", "#e7298a", "#7570b3",
    "#a6761d", "#66a61e", "#e6ab02", "#b3261e", "#666666",
]  # fmt: skip


@dataclass
class Picture:
    width: int
    height: int
    points: list[tuple[str, int, float, float, str]]  # (name, cluster, x, y, colour)
    legend: list[tuple[int, str, int, int]]  # (cluster, colour, size, y of its line)

    @property
    def legend_height(self) -> int:
        return 16 * len(self.legend) + 8


def projection_picture(clustering: ReclusteringJob | None, *, width: int = 720, height: int = 480) -> Picture:
    """The projection points of `clustering` scaled into a width × height picture."""
    rows = projection_points(clustering) if clustering else []
    margin = 12
    picture = Picture(width=width, height=height, points=[], legend=[])
    if not rows:
        return picture
    xs = [row[2] for row in rows]
    ys = [row[3] for row in rows]
    x_low, y_low = min(xs), min(ys)
    x_span, y_span = (max(xs) - x_low) or 1.0, (max(ys) - y_low) or 1.0
    sizes: dict[int, int] = {}
    for name, cluster, x, y in rows:
        sizes[cluster] = sizes.get(cluster, 0) + 1
        picture.points.append(
            (
                name,
                cluster,
                round(margin + (x - x_low) / x_span * (width - 2 * margin), 1),
                # SVG's y axis points down; flip so the picture reads like a plot.
                round(height - margin - (y - y_low) / y_span * (height - 2 * margin), 1),
                PALETTE[cluster % len(PALETTE)],
            )
        )
    picture.legend = [
        (c, PALETTE[c % len(PALETTE)], sizes[c], 20 + 16 * i) for i, c in enumerate(sorted(sizes))
    ]
    return picture


def cluster_table(clustering: ReclusteringJob | None) -> list[dict]:
    """The stored summary of `clustering`, biggest cluster first, each with its colour."""
    if clustering is None:
        return []
    rows = [{**entry, "colour": PALETTE[entry["cluster"] % len(PALETTE)]} for entry in clustering.summary]
    return sorted(rows, key=lambda row: (-row["size"], row["cluster"]))
