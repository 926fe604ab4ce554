"""Celery tasks: thin wrappers over the clustering services, safe to run twice."""

from celery import shared_task

from . import prediction, services


@shared_task(acks_late=True)
def recluster(job_id: int | None = None) -> dict:
    job = services.recluster_workflows(job_id)
    return {"job": job.pk, "state": job.state, "message": job.message}


@shared_task(acks_late=True)
def train_predictor() -> dict:
    predictor = prediction.train_predictor()
    return {"predictor": predictor.pk if predictor else None}
