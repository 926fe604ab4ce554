"""Celery tasks: thin wrappers over errors.services, safe to run twice."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, autoretry_for=(services.IngestError,), retry_backoff=60, max_retries=3)
def refresh_errors(source: str | None = None) -> dict:
    """Replace the current errors, retire the cached answers of the outside sources and
    build the heavy pages for the new snapshot."""
    summary = services.ingest_current_errors(source).summary()
    services.refresh_source_caches()
    services.warm_page_caches()
    return summary


@shared_task(acks_late=True)
def update_history(sources: list[str] | None = None) -> list[dict]:
    return [report.summary() for report in services.update_history(sources)]
