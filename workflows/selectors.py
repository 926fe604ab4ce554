"""Reads about workflows, including what outside sources said.

Pages never ask an outside source: the refresh job (workflows.services) stores what
ReqMgr2, the ACDC server and the site-status source say, and these read the stored copy.
"""

import hashlib
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Max
from django.urls import reverse

from wwt_project.cache import soft_cache

from . import sources
from .models import Site, Workflow
from .sites import sites_of_locations

logger = logging.getLogger(__name__)

_GENERATION_KEY = "wwt:sources:generation"
# What the last failed site-status refresh said (services.refresh_site_statuses), for the pages.
SITE_STATUS_FAILURE_KEY = "wwt:sources:site-status-failure"
NO_SITE_STATUS_YET = "no site status stored yet: the next refresh asks the site-status source"


@dataclass
class SourceAnswer:
    """What a source said (`value`) or why we do not know (`problem`, for the page)."""

    value: object = None
    problem: str = ""
    configured: bool = True
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problem


def forget_source_answers() -> None:
    """Make every cached source answer stale (used by /resetcache and the refresh job)."""
    generation = (soft_cache("get", _GENERATION_KEY) or 0) + 1
    soft_cache("set", _GENERATION_KEY, generation, None)


def source_cache_key(kind: str, name: str = "") -> str:
    """A cache key for a source answer about `name`; forget_source_answers() retires it."""
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"wwt:src:{soft_cache('get', _GENERATION_KEY) or 0}:{kind}:{digest}"


def _not_configured(source_name: str) -> SourceAnswer:
    return SourceAnswer(problem=f"sources.{source_name} is not configured in config.yml", configured=False)


def site_status_answer() -> SourceAnswer:
    """{site: status} as the refresh job last stored it (services.refresh_site_statuses), with
    `extra["fetched_at"]`, or the reason it is empty; never asks the source (two queries)."""
    if not sources.is_configured("site_status"):
        return _not_configured("site_status")
    checked = Site.objects.aggregate(at=Max("status_checked_at"))["at"]
    statuses = dict(Site.objects.exclude(status="").values_list("name", "status"))
    if not statuses:
        # Why the last refresh stored nothing, when it failed: the page names the cause.
        failed = soft_cache("get", SITE_STATUS_FAILURE_KEY)
        return SourceAnswer(value={}, problem=failed or NO_SITE_STATUS_YET)
    return SourceAnswer(value=statuses, extra={"fetched_at": checked})


def site_statuses() -> dict[str, str]:
    """{site: "enabled" | "drain" | "disabled" | other} as stored; {} when unknown."""
    return site_status_answer().value or {}


def recovery_sites_answer(workflow: Workflow) -> SourceAnswer:
    """The ACDC server's {task: locations} as the refresh job stored them
    (services.refresh_recovery_locations), or why there are none; never asks the server."""
    if not sources.is_configured("acdc"):
        return _not_configured("acdc")
    if workflow.recovery_fetched_at is None or not isinstance(workflow.recovery_locations, dict):
        return SourceAnswer(value={}, problem="the ACDC server was not asked about this workflow yet")
    return SourceAnswer(value=workflow.recovery_locations, extra={"fetched_at": workflow.recovery_fetched_at})


def recovery_sites(workflow: Workflow) -> dict[str, list[str]]:
    """{task path without /<workflow>/: sorted storage locations} of the failed files, as the
    ACDC server listed them at the last refresh (raw; see recovery_site_choices for sites);
    {} when unknown."""
    return recovery_sites_answer(workflow).value or {}


def request_parameters(workflow: Workflow) -> SourceAnswer:
    """ReqMgr2's parameters of the workflow (see sources.fetch_request) as the refresh job
    stored them, with `extra["fetched_at"]`, or why there are none; never asks ReqMgr2."""
    if workflow.request_fetched_at and isinstance(workflow.request_parameters, dict):
        stored = {"resources": [], "tasks": [], "site_whitelist": [], "site_blacklist": []}
        stored.update(workflow.request_parameters)
        stored["requested_at"] = workflow.requested_at
        return SourceAnswer(value=stored, extra={"fetched_at": workflow.request_fetched_at})
    if not sources.is_configured("reqmgr2"):
        return _not_configured("reqmgr2")
    return SourceAnswer(problem="ReqMgr2 was not asked about this workflow yet")


SITE_STATUS_UNAVAILABLE = "site status unavailable; choose sites by hand (Manual)"


@dataclass
class RecoverySites:
    """Where each task's failed work can run again, as CMS compute sites the tool knows.

    `by_task` holds every such site whatever its status (the form shows them, drained ones in
    red); `auto(task)` only the enabled ones, the sites "Auto" serves. `problem` says why
    Auto cannot be served at all (the site status is unavailable)."""

    by_task: dict[str, list[str]]
    statuses: dict[str, str]
    problem: str = ""

    def auto(self, task: str) -> list[str]:
        if self.problem:
            return []
        return [site for site in self.by_task.get(task, []) if self.statuses.get(site) == "enabled"]

    def not_enabled(self, task: str) -> list[str]:
        return [site for site in self.by_task.get(task, []) if self.statuses.get(site) != "enabled"]


def known_sites(statuses: dict[str, str]) -> set[str]:
    """Sites with a status now, or stored (seen in errors or in an earlier status); one query."""
    return set(statuses) | set(Site.objects.values_list("name", flat=True))


def recovery_site_choices(workflow: Workflow) -> RecoverySites:
    """The ACDC server's locations per task turned into known compute sites (the original
    tool's rule, workflows.sites); a task with generated events (MCFakeFile) may run anywhere
    in the request's SiteWhitelist, mapped and filtered the same way."""
    locations = recovery_sites(workflow)
    statuses = site_statuses()
    whitelist: list[str] = []
    if any(sources.ANYWHERE_IN_WHITELIST in found for found in locations.values()):
        request = request_parameters(workflow)
        whitelist = list(request.value.get("site_whitelist") or []) if request.ok else []
    known = known_sites(statuses) if locations else set()
    storage_hosts = settings.WWT["sources"]["storage_hosts"]
    by_task = {
        task: sites_of_locations(
            [*found, *(whitelist if sources.ANYWHERE_IN_WHITELIST in found else [])],
            known_sites=known,
            storage_hosts=storage_hosts,
        )
        for task, found in locations.items()
    }
    return RecoverySites(
        by_task=by_task, statuses=statuses, problem="" if statuses else SITE_STATUS_UNAVAILABLE
    )


# Links ---------------------------------------------------------------------------------


def outside_links(workflow: Workflow) -> dict:
    """Links to the outside tools for the workflow (None where the base URL is not configured)."""
    from urllib.parse import quote, urlencode

    configured = settings.WWT["sources"]
    reqmgr = (configured["reqmgr2"] or "").rstrip("/")
    jira = (configured["jira"] or "").rstrip("/")
    text = workflow.prep_id or workflow.name
    return {
        "reqmgr2": f"{reqmgr}/reqmgr2/fetch?{urlencode({'rid': workflow.name})}" if reqmgr else None,
        "reqmgr2_prep_id": (
            f"{reqmgr}/reqmgr2/data/request?{urlencode({'prep_id': workflow.prep_id})}"
            if reqmgr and workflow.prep_id
            else None
        ),
        "jira": f"{jira}/issues/?jql={quote(f'text ~ {chr(34)}{text}{chr(34)}')}" if jira else None,
        "logs": f"{reverse('workflows:logs')}?{urlencode({'search': workflow.name})}",
    }
