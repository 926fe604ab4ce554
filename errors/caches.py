"""Upkeep of the caches around the current snapshot: the outside sources' answers, ReqMgr2's
parameters of the snapshot's workflows, and the heavy pages built ahead of the first reader."""

import logging
from collections.abc import Callable

from workflows import selectors as workflow_selectors
from workflows.services import refresh_recovery_locations, refresh_request_parameters, refresh_site_statuses

from .models import ErrorCount
from .selectors.global_view import PIEVARS, global_view
from .selectors.sites import errors_per_site
from .selectors.snapshot import forget_grouped_pages

logger = logging.getLogger(__name__)

# What apps above build for each new snapshot (clustering: the stored suggestions), registered
# once per process by their AppConfig.ready: errors may not import them (tests/test_layers.py).
_SNAPSHOT_WARMERS: list[Callable[[], object]] = []


def warm_on_new_snapshot(warm: Callable[[], object]) -> None:
    """Register `warm()` to be called at the end of `warm_page_caches` (every ingestion path)."""
    if warm not in _SNAPSHOT_WARMERS:
        _SNAPSHOT_WARMERS.append(warm)


def refresh_source_caches() -> None:
    """Make every cached answer of the outside sources stale (ReqMgr2, ACDC, WMStats log
    samples) and fetch the site status again. Stored log samples keep their true fetch time:
    pages show their age, and they are fetched again once older than the cache period."""
    workflow_selectors.forget_source_answers()
    refresh_site_statuses()


def refresh_snapshot_requests() -> dict:
    """Store what ReqMgr2 says (prep ID, campaign, type, status, parameters) about the
    workflows with current errors, bounded by sources.reqmgr2_refresh_limit. Never raises for
    a source problem: the refresh job goes on and reports it."""
    workflow_ids = ErrorCount.objects.values_list("step__workflow_id", flat=True).order_by().distinct()
    report = refresh_request_parameters(list(workflow_ids))
    refresh_recovery_locations(list(workflow_ids))  # ACDC locations for the action form, stored
    if report.problem:
        logger.warning("ReqMgr2 parameters not refreshed: %s", report.problem)
    if report.updated:
        forget_grouped_pages()
    return report.summary()


def warm_page_caches() -> None:
    """Build the first page of each global view and the site totals for the new snapshot,
    so the first operator after a refresh does not wait for the sums over all errors.
    Every ingestion path ends here: the refresh (`manage.py ingest_errors` and the beat
    job), the demo loader and the original tool's history import. Pages already built for
    the current snapshot are read from the cache, not built again."""
    for pievar in PIEVARS:
        global_view(pievar)
    errors_per_site({})
    for warm in _SNAPSHOT_WARMERS:
        warm()
