"""Reads about workflows, including what outside sources say (cached)."""

import logging

from . import sources
from .models import Workflow

logger = logging.getLogger(__name__)


def site_statuses() -> dict[str, str]:
    """{site: "enabled" | "drain" | "disabled" | other} from the site-status source; {} when unknown."""
    try:
        return sources.fetch_site_status()
    except sources.SourceError as exc:
        logger.warning("site status unavailable: %s", exc)
        return {}


def recovery_sites(workflow: Workflow) -> dict[str, list[str]]:
    """{task path without /<workflow>/: sorted sites} where the ACDC server says failed work
    can run again (the "Auto" site list of the action form); {} when unknown."""
    try:
        return sources.fetch_recovery_sites(workflow.name)
    except sources.SourceError as exc:
        logger.warning("recovery info for %s unavailable: %s", workflow.name, exc)
        return {}
