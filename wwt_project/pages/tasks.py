"""Celery tasks of the top layer: thin wrappers over wwt_project.pages.services."""

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def refresh_workflow_sources(workflow_id: int) -> dict:
    return services.refresh_workflow_sources(workflow_id)
