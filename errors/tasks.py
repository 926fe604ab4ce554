"""Celery tasks: thin wrappers over errors.services, safe to run twice.

Only IngestBusy is retried (the source did not answer, or another ingestion holds the
lock); any other IngestError (no source configured, not JSON) fails at once with its message.
"""

from celery import shared_task

from . import services

RETRY = {
    "autoretry_for": (services.IngestBusy,),
    "retry_backoff": 60,  # 60 s, 120 s, 240 s: longer than an ingestion holds the lock
    "retry_jitter": False,
    "max_retries": 3,
}


@shared_task(acks_late=True, **RETRY)
def refresh_errors(source: str | None = None) -> dict:
    """Retire the cached answers of the outside sources, replace the current errors and
    build the heavy pages for the new snapshot."""
    # First, so the source caches are renewed even when the error source is down.
    services.refresh_source_caches()
    summary = services.ingest_current_errors(source).summary()
    # Before the pages are built: ReqMgr2's campaign and prep ID decide the global view's groups.
    summary["reqmgr2"] = services.refresh_snapshot_requests()
    services.warm_page_caches()
    return summary


@shared_task(acks_late=True, **RETRY)
def update_history(sources: list[str] | None = None) -> list[dict]:
    return [report.summary() for report in services.update_history(sources)]
