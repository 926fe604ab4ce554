"""WMStats log samples (job details) of a workflow: fetched in the background, never by a page.

A page asks `log_samples_state(workflow)` (what is stored, how old, or whether a fetch is
queued or running) and may `queue_log_samples(workflow)`, which enqueues
`errors.tasks.fetch_log_samples` once the request's transaction commits and returns at once.
The scheduled refresh fetches the samples of the workflows of the biggest cells
(`fetch_top_cells_samples`, config.yml's cache.log_samples_per_refresh).
"""

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from workflows.models import Workflow
from workflows.selectors import source_cache_key
from workflows.services import ensure_steps
from workflows.sources import SourceError, fetch_job_detail, is_configured
from wwt_project.cache import soft_cache
from wwt_project.queue import send_once

from .document import is_logcollect_or_cleanup
from .ingestion import keeps_logcollect_cleanup
from .messages import group_samples
from .models import ErrorCount, LogSample, MessageGroup

logger = logging.getLogger(__name__)

SAMPLES_PER_CELL = 5
DETAILS_KEPT = 20_000
# How long a "queued"/"fetching" mark lives: longer than a fetch (WMStats' read timeout and
# the write), short enough that a lost task does not hide the page's queue button for long.
MARK_SECONDS = 10 * 60
FAILURE_SECONDS = 60

# The states a page shows.
NOT_CONFIGURED = "not configured"
QUEUED = "queued"
FETCHING = "fetching"
FAILED = "failed"
FRESH = "fresh"
STALE = "stale"
NONE_STORED = "none stored"


def _mark_key(kind: str, workflow_name: str) -> str:
    if kind in (FRESH, FAILED):
        # What a fetch found is a source answer: /resetcache and the refresh job retire it.
        return source_cache_key(f"logsamples-{kind}", workflow_name)
    # Names can hold anything; the cache key must stay short and safe.
    digest = hashlib.sha256(workflow_name.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"wwt:logsamples:{kind}:{digest}"


def _period() -> timedelta:
    return timedelta(minutes=settings.WWT["cache"]["explanations_minutes"])


@dataclass(frozen=True)
class LogSamplesState:
    """What a page can say about a workflow's log samples without asking WMStats."""

    status: str  # one of FRESH, STALE, NONE_STORED, QUEUED, FETCHING, FAILED, NOT_CONFIGURED
    fetched_at: datetime | None = None  # of the newest stored sample
    problem: str = ""  # why the last fetch failed, or why none can be fetched

    @property
    def age(self) -> timedelta | None:
        return timezone.now() - self.fetched_at if self.fetched_at else None

    @property
    def busy(self) -> bool:
        """A fetch is on its way: the page says "fetching…" and offers no queue button."""
        return self.status in (QUEUED, FETCHING)

    @property
    def worth_queueing(self) -> bool:
        return self.status in (STALE, NONE_STORED, FAILED)


def log_samples_state(workflow: Workflow) -> LogSamplesState:
    """The stored samples' age and whether a fetch is queued, running or failed. One
    query and a few cache reads; never calls WMStats."""
    newest = LogSample.objects.filter(step__workflow=workflow).aggregate(newest=Max("fetched_at"))["newest"]
    if not is_configured("wmstats"):
        return LogSamplesState(
            NOT_CONFIGURED,
            newest,
            "sources.wmstats is not configured in config.yml, so no new log samples are fetched",
        )
    for kind in (FETCHING, QUEUED):
        if soft_cache("get", _mark_key(kind, workflow.name)):
            return LogSamplesState(kind, newest)
    failure = soft_cache("get", _mark_key(FAILED, workflow.name))
    if failure:
        return LogSamplesState(FAILED, newest, failure)
    # The mark of the last fetch lives for the cache period and dies when the sources are
    # retired (/resetcache, each refresh): it covers workflows WMStats has no samples for, and
    # the stored samples keep their true fetch time for the page.
    if soft_cache("get", _mark_key(FRESH, workflow.name)):
        return LogSamplesState(FRESH, newest)
    return LogSamplesState(STALE if newest else NONE_STORED, newest)


def queue_log_samples(workflow: Workflow) -> str:
    """Enqueue a fetch of `workflow`'s log samples, once the current transaction commits.
    Idempotent: a fetch already queued or running is not queued again. Returns "" when
    queued (or already on its way), else why not (WMStats not configured, the task queue
    down): the page shows that sentence instead of "fetching…"."""
    from . import tasks

    if not is_configured("wmstats"):
        return "sources.wmstats is not configured in config.yml, so no new log samples are fetched"
    if soft_cache("get", _mark_key(FETCHING, workflow.name)):
        return ""
    name = workflow.name
    problem = send_once(_mark_key(QUEUED, name), MARK_SECONDS, lambda: tasks.fetch_log_samples.delay(name))
    return f"Log samples could not be queued: {problem}" if problem else ""


def refresh_log_samples(workflow: Workflow) -> int:
    """Replace the stored log samples of `workflow` with what WMStats job detail says now
    (job and submit failures): at most SAMPLES_PER_CELL per (step, exit code, site), each
    with its own exit code and error type, long texts cut. Raises
    workflows.sources.SourceError (nothing changed) when WMStats cannot answer. Returns
    the number of samples stored."""
    samples = fetch_job_detail(workflow.name)
    prefix = f"/{workflow.name}/"
    keep_all_steps = keeps_logcollect_cleanup()
    kept: dict[tuple, list] = {}
    for sample in samples:
        # A step ingestion leaves out gets no samples either (and no Step row for them).
        if sample.step.startswith(prefix) and (keep_all_steps or not is_logcollect_or_cleanup(sample.step)):
            cell = kept.setdefault((sample.step, sample.exit_code, sample.site[:100]), [])
            if len(cell) < SAMPLES_PER_CELL:
                cell.append(sample)
    with transaction.atomic():
        step_ids = ensure_steps({step for step, _, _ in kept})
        LogSample.objects.filter(step__workflow=workflow).delete()
        stored = LogSample.objects.bulk_create(
            [
                LogSample(
                    step_id=step_ids[step],
                    exit_code=code,
                    site=site,
                    sample_exit_code=sample.sample_exit_code,
                    error_type=sample.error_type,
                    details=sample.details[:DETAILS_KEPT],
                )
                for (step, code, site), cell in kept.items()
                for sample in cell
            ],
            batch_size=1000,
        )
        store_message_groups(workflow, stored)
    # The top-messages page is cached per snapshot and per this mark: new groups retire it.
    # Set after the commit (the task runs in autocommit), not by on_commit: a request that
    # enqueues the fetch counts its own commit callbacks.
    soft_cache("set", MESSAGES_GENERATION_KEY, time.time_ns(), None)
    return len(stored)


MESSAGES_GENERATION_KEY = "wwt:messages:generation"


def store_message_groups(workflow: Workflow, samples: list[LogSample]) -> int:
    """Replace `workflow`'s message groups with those of `samples` (all its stored samples,
    saved, so with ids): grouped once here, per fetched set, so pages never mask text.
    Returns the number of groups. Call inside the transaction that stores the samples, then
    set MESSAGES_GENERATION_KEY (as refresh_log_samples does)."""
    groups = group_samples(
        (
            sample.exit_code if sample.sample_exit_code is None else sample.sample_exit_code,
            sample.site,
            sample.details,
        )
        for sample in samples
    )
    MessageGroup.objects.filter(workflow=workflow).delete()
    MessageGroup.objects.bulk_create(
        [
            MessageGroup(
                workflow=workflow,
                exit_code=group.exit_code,
                message=group.message,
                message_key=group.key,
                samples=len(group.samples),
                sites=len(set(group.sites)),
                shown_samples=[samples[position].pk for position in group.shown()],
            )
            for group in groups
        ],
        batch_size=1000,
    )
    return len(groups)


def fetch_log_samples(workflow_name: str) -> dict:
    """What the background task does: fetch `workflow_name`'s samples, marking the fetch
    while it runs and remembering a failure for a minute (so a down WMStats costs one
    timeout per minute, not one per page). Never raises for a source problem."""
    queued_key, fetching_key = _mark_key(QUEUED, workflow_name), _mark_key(FETCHING, workflow_name)
    workflow = Workflow.objects.filter(name=workflow_name).first()
    if workflow is None:
        soft_cache("delete", queued_key)
        return {"workflow": workflow_name, "stored": 0, "problem": "no such workflow"}
    soft_cache("set", fetching_key, 1, MARK_SECONDS)
    soft_cache("delete", queued_key)
    try:
        stored = refresh_log_samples(workflow)
    except SourceError as exc:
        soft_cache("set", _mark_key(FAILED, workflow_name), str(exc), FAILURE_SECONDS)
        return {"workflow": workflow_name, "stored": 0, "problem": str(exc)}
    finally:
        soft_cache("delete", fetching_key)
    soft_cache("delete", _mark_key(FAILED, workflow_name))
    soft_cache("set", _mark_key(FRESH, workflow_name), 1, _period().total_seconds())
    return {"workflow": workflow_name, "stored": stored, "problem": ""}


def top_cells_workflows(limit: int) -> list[Workflow]:
    """The distinct workflows of the `limit` biggest current (step, exit code, site) cells,
    biggest first. Two queries."""
    if limit <= 0:
        return []
    rows = ErrorCount.objects.order_by("-count", "id").values_list("step__workflow_id", flat=True)
    ids: list[int] = []
    for workflow_id in rows[: limit * 4]:  # big workflows own several top cells
        if workflow_id not in ids:
            ids.append(workflow_id)
        if len(ids) == limit:
            break
    found = Workflow.objects.in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]


def fetch_top_cells_samples(limit: int | None = None) -> dict:
    """Fetch the log samples of the workflows of the biggest cells (default: config.yml's
    cache.log_samples_per_refresh), skipping those fetched within the cache period. Never
    raises for a source problem and stops at the first failure; returns {"fetched",
    "skipped", "failed", "problem"}."""
    report = {"fetched": 0, "skipped": 0, "failed": 0, "problem": ""}
    if not is_configured("wmstats"):
        report["problem"] = "sources.wmstats is not configured"
        return report
    if limit is None:
        limit = settings.WWT["cache"]["log_samples_per_refresh"]
    for workflow in top_cells_workflows(limit):
        if log_samples_state(workflow).status == FRESH:
            report["skipped"] += 1
            continue
        result = fetch_log_samples(workflow.name)
        if result["problem"]:
            # WMStats is down or failing: one timeout is enough, the next refresh tries again.
            report["failed"] += 1
            report["problem"] = result["problem"]
            break
        else:
            report["fetched"] += 1
    return report
