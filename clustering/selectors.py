"""Reads for the cluster page and the workflow page panels."""

from django.db.models import Subquery

from workflows.models import Workflow

from .models import Clustering, ClusterMembership


def last_jobs(limit: int = 10) -> list[Clustering]:
    """The latest reclustering jobs, newest first, with who asked for them."""
    return list(Clustering.objects.select_related("requested_by")[:limit])


def latest_fit() -> Clustering | None:
    """The last reclustering that finished."""
    return Clustering.objects.filter(state=Clustering.State.DONE).order_by("-finished_at").first()


def membership_of(workflow: Workflow) -> ClusterMembership | None:
    return ClusterMembership.objects.filter(workflow=workflow).first()


def similar_workflows(workflow: Workflow) -> list[str]:
    """Names of the other workflows in `workflow`'s cluster (one query; empty when it has none)."""
    own = ClusterMembership.objects.filter(workflow_id=workflow.pk)
    return list(
        Workflow.objects.filter(
            cluster_membership__clustering_id=Subquery(own.values("clustering_id")[:1]),
            cluster_membership__cluster=Subquery(own.values("cluster")[:1]),
        )
        .exclude(pk=workflow.pk)
        .order_by("name")
        .values_list("name", flat=True)
    )


def projection_points(clustering: Clustering) -> list[tuple[str, int, float, float]]:
    """(name, cluster, x, y) of every workflow placed in `clustering`, in one query."""
    return list(
        ClusterMembership.objects.filter(clustering=clustering).values_list(
            "workflow__name", "cluster", "x", "y"
        )
    )
