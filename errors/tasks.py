"""Celery tasks: thin wrappers over the errors services, safe to run twice.

Only IngestBusy is retried (the source did not answer, or another ingestion holds the
lock); any other IngestError (no source configured, not JSON) fails at once with its message.
"""

from celery import shared_task

from . import history, ingestion, log_samples

RETRY = {
    "autoretry_for": (ingestion.IngestBusy,),
    "retry_backoff": 60,  # 60 s, 120 s, 240 s: longer than an ingestion holds the lock
    "retry_jitter": False,
    "max_retries": 3,
}


@shared_task(acks_late=True, **RETRY)
def refresh_errors(source: str | None = None) -> dict:
    """The scheduled refresh: the same service as `manage.py ingest_errors`."""
    return ingestion.refresh_current_errors(source)


@shared_task(acks_late=True, **RETRY)
def update_history(sources: list[str] | None = None) -> list[dict]:
    return [report.summary() for report in history.update_history(sources)]


@shared_task(acks_late=True)
def fetch_log_samples(workflow_name: str) -> dict:
    """Fetch one workflow's WMStats log samples (queued by a page); never raises for a
    source problem, which the page then shows."""
    return log_samples.fetch_log_samples(workflow_name)
