"""Interim: what the workflow page needs of a workflow's WMStats log samples, over today's
errors functions, in the shape `errors.log_samples` gives (LogSamplesState,
log_samples_state, fetch_log_samples). Once that module is merged, the
page imports it instead and this file goes."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Max
from django.utils import timezone

from errors.models import Explanation
from errors.services import refresh_explanations
from workflows.models import Workflow
from workflows.selectors import source_cache_key
from workflows.sources import SourceError, is_configured

logger = logging.getLogger(__name__)

MARK_SECONDS = 10 * 60
FAILURE_SECONDS = 60
NOT_CONFIGURED, QUEUED, FETCHING, FAILED, FRESH, STALE, NONE_STORED = (
    "not configured",
    "queued",
    "fetching",
    "failed",
    "fresh",
    "stale",
    "none stored",
)


def _key(kind: str, workflow_name: str) -> str:
    return source_cache_key(f"logsamples-{kind}", workflow_name)


def _cache(method: str, *args):
    try:
        return getattr(cache, method)(*args)
    except Exception as exc:  # a cache outage must not take the page down; it is logged
        logger.warning("cache unavailable: %s", exc)
        return None


@dataclass(frozen=True)
class LogSamplesState:
    """What a page can say about a workflow's log samples without asking WMStats."""

    status: str
    fetched_at: datetime | None = None
    problem: str = ""

    @property
    def busy(self) -> bool:
        return self.status in (QUEUED, FETCHING)

    @property
    def worth_queueing(self) -> bool:
        return self.status in (STALE, NONE_STORED, FAILED)


def log_samples_state(workflow: Workflow) -> LogSamplesState:
    """The stored samples' age and whether a fetch is queued, running or failed; one query."""
    newest = Explanation.objects.filter(step__workflow=workflow).aggregate(newest=Max("fetched_at"))["newest"]
    if not is_configured("wmstats"):
        return LogSamplesState(
            NOT_CONFIGURED,
            newest,
            "sources.wmstats is not configured in config.yml, so no new log samples are fetched",
        )
    for kind in (FETCHING, QUEUED):
        if _cache("get", _key(kind, workflow.name)):
            return LogSamplesState(kind, newest)
    failure = _cache("get", _key(FAILED, workflow.name))
    if failure:
        return LogSamplesState(FAILED, newest, failure)
    period = timedelta(minutes=settings.WWT["cache"]["explanations_minutes"])
    if _cache("get", _key(FRESH, workflow.name)) or (newest and timezone.now() - newest < period):
        return LogSamplesState(FRESH, newest)
    return LogSamplesState(STALE if newest else NONE_STORED, newest)


def fetch_log_samples(workflow_name: str) -> dict:
    """Fetch the workflow's samples now (in a worker); never raises for a source problem."""
    workflow = Workflow.objects.filter(name=workflow_name).first()
    _cache("delete", _key(QUEUED, workflow_name))
    if workflow is None:
        return {"workflow": workflow_name, "stored": 0, "problem": "no such workflow"}
    if not is_configured("wmstats"):
        return {"workflow": workflow_name, "stored": 0, "problem": "sources.wmstats is not configured"}
    _cache("set", _key(FETCHING, workflow_name), 1, MARK_SECONDS)
    try:
        stored = refresh_explanations(workflow)
    except SourceError as exc:
        _cache("set", _key(FAILED, workflow_name), str(exc), FAILURE_SECONDS)
        return {"workflow": workflow_name, "stored": 0, "problem": str(exc)}
    finally:
        _cache("delete", _key(FETCHING, workflow_name))
    _cache("delete", _key(FAILED, workflow_name))
    period = settings.WWT["cache"]["explanations_minutes"] * 60
    _cache("set", _key(FRESH, workflow_name), 1, period)
    return {"workflow": workflow_name, "stored": stored, "problem": ""}
