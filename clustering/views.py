"""The cluster page: thin views over clustering.selectors and clustering.jobs."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accounts.decorators import verified_required

from . import jobs, selectors


def _cluster_page(request, *, error: str = "", status: int = 200):
    # First: it gives up on jobs no worker started, which the job list then shows.
    active = jobs.active_job()
    fit = selectors.latest_fit()
    context = {
        "fit": fit,
        "clusters": selectors.cluster_table(fit),
        "jobs": selectors.last_jobs(),
        "active": active,
        "queued_timeout_minutes": int(jobs.QUEUED_TIMEOUT.total_seconds() // 60),
        "error": error,
    }
    return render(request, "clustering/cluster.html", context, status=status)


@verified_required
@require_http_methods(["GET", "POST"])
def cluster(request):
    """GET: the clusters of the last fit and the state of the jobs; POST: queue a reclustering."""
    if request.method == "POST":
        try:
            job = jobs.request_reclustering(request.user)
        except jobs.ClusteringError as exc:
            status = 503 if isinstance(exc, jobs.NotQueued) else 409
            return _cluster_page(request, error=str(exc), status=status)
        messages.success(request, f"Reclustering {job.pk} is queued; this page shows its progress.")
        return redirect("clustering:cluster")
    return _cluster_page(request)


@verified_required
@require_GET
def projection(request):
    """The last fit's workflows on a 2-D PCA projection, coloured by cluster, as SVG."""
    picture = selectors.projection_picture(selectors.latest_fit())
    return render(request, "clustering/projection.svg", {"picture": picture}, content_type="image/svg+xml")
