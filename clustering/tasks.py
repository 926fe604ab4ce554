"""Celery tasks: thin wrappers over the clustering services, safe to run twice.

"Nothing to do yet" (no errors, too few actions, another run holding the lock) is an
answer, not a failure: the job row or the returned message says why.
"""

from celery import shared_task

from wwt_project.locks import Busy

from . import jobs, prediction
from .exceptions import ClusteringError


@shared_task(acks_late=True)
def recluster(job_id: int | None = None) -> dict:
    try:
        job = jobs.recluster_workflows(job_id)
    except ClusteringError as exc:
        return {"job": job_id, "state": "not run", "message": str(exc)}
    return {"job": job.pk, "state": job.state, "message": job.message}


@shared_task(acks_late=True)
def train_predictor() -> dict:
    try:
        predictor = prediction.train_predictor()
    except ClusteringError as exc:
        return {"predictor": None, "message": str(exc)}
    return {"predictor": predictor.pk, "message": f"trained on {predictor.samples} submitted actions"}


# Busy: another run is storing them (for an older snapshot or predictor, maybe): try again soon.
@shared_task(acks_late=True, autoretry_for=(Busy,), retry_backoff=15, retry_backoff_max=120, max_retries=20)
def store_suggestions() -> dict:
    """Every current workflow's suggestion with the latest predictor, for the workflow page."""
    return {"stored": prediction.store_suggestions()}
