"""Reads about workflows, including what outside sources say (cached).

Answers of outside sources are kept in Django's cache (shared by web server and
worker) for the periods in config.yml `cache`; a failure is remembered for a short
while so a source that is down does not cost every page a timeout.
"""

import hashlib
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache

from . import sources
from .models import Site, Workflow, short_task_name
from .sites import sites_of_locations

logger = logging.getLogger(__name__)

FAILURE_SECONDS = 60
_GENERATION_KEY = "wwt:sources:generation"


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


def _safe_cache_get(key: str):
    try:
        return cache.get(key)
    except Exception as exc:  # a cache outage must not take the pages down; it is logged
        logger.warning("cache unavailable: %s", exc)
        return None


def _safe_cache_set(key: str, value, seconds: float) -> None:
    try:
        cache.set(key, value, seconds)
    except Exception as exc:  # see _safe_cache_get
        logger.warning("cache unavailable: %s", exc)


def forget_source_answers() -> None:
    """Make every cached source answer stale (used by /resetcache and the refresh job)."""
    generation = (_safe_cache_get(_GENERATION_KEY) or 0) + 1
    _safe_cache_set(_GENERATION_KEY, generation, None)


def source_cache_key(kind: str, name: str = "") -> str:
    """A cache key for a source answer about `name`; forget_source_answers() retires it."""
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"wwt:src:{_safe_cache_get(_GENERATION_KEY) or 0}:{kind}:{digest}"


def _ask(kind: str, source_name: str, minutes_key: str, fetch, name: str = "") -> SourceAnswer:
    if not sources.is_configured(source_name):
        return SourceAnswer(
            problem=f"sources.{source_name} is not configured in config.yml", configured=False
        )
    key = source_cache_key(kind, name)
    remembered = _safe_cache_get(key)
    if remembered is not None:
        return SourceAnswer(**remembered)
    try:
        answer = SourceAnswer(value=fetch())
        seconds = settings.WWT["cache"][minutes_key] * 60
    except sources.SourceError as exc:
        logger.warning("%s unavailable: %s", kind, exc)
        answer = SourceAnswer(problem=str(exc))
        seconds = FAILURE_SECONDS
    _safe_cache_set(key, {"value": answer.value, "problem": answer.problem}, seconds)
    return answer


def site_status_answer() -> SourceAnswer:
    """{site: status} with the reason it is empty, for pages that show a note."""
    return _ask("site_status", "site_status", "site_status_minutes", sources.fetch_site_status)


def site_statuses() -> dict[str, str]:
    """{site: "enabled" | "drain" | "disabled" | other} from the site-status source; {} when unknown."""
    return site_status_answer().value or {}


def recovery_sites_answer(workflow: Workflow) -> SourceAnswer:
    return _ask(
        "acdc", "acdc", "acdc_minutes", lambda: sources.fetch_recovery_sites(workflow.name), workflow.name
    )


def recovery_sites(workflow: Workflow) -> dict[str, list[str]]:
    """{task path without /<workflow>/: sorted storage locations} of the failed files, as the
    ACDC server lists them (raw; see recovery_site_choices for sites); {} when unknown."""
    return recovery_sites_answer(workflow).value or {}


def request_parameters(workflow: Workflow) -> SourceAnswer:
    """ReqMgr2's parameters of the workflow (see sources.fetch_request): the copy the refresh
    job stored when there is one, else ReqMgr2's (cached) answer, or the problem."""
    if workflow.request_fetched_at and isinstance(workflow.request_parameters, dict):
        stored = {"resources": [], "tasks": [], "site_whitelist": [], "site_blacklist": []}
        stored.update(workflow.request_parameters)
        stored["requested_at"] = workflow.requested_at
        return SourceAnswer(value=stored, extra={"fetched_at": workflow.request_fetched_at})
    return _ask(
        "reqmgr2", "reqmgr2", "reqmgr2_minutes", lambda: sources.fetch_request(workflow.name), workflow.name
    )


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


# The workflow page ----------------------------------------------------------------------


def related_workflows(workflow: Workflow) -> list[dict]:
    """The original and the ACDCs sharing the workflow's prep ID, with their current error
    totals (one query); [] when the name shows no prep ID."""
    from django.db.models import Sum

    if not workflow.prep_id:
        return []
    rows = (
        Workflow.objects.filter(prep_id=workflow.prep_id)
        .annotate(errors=Sum("steps__errors__count"))
        .values("name", "is_acdc", "errors")
        .order_by("is_acdc", "name")
    )
    return [row for row in rows[:50] if row["name"] != workflow.name]


def step_tables(workflow: Workflow, statuses: dict[str, str] | None = None) -> list[dict]:
    """Per step with errors: exit codes (rows) × sites (columns, each with its status from
    `statuses`) with row and column totals. One query, whatever the number of steps."""
    from collections import defaultdict

    from errors.models import ErrorCount

    cells = (
        ErrorCount.objects.filter(step__workflow=workflow)
        .values_list("step__name", "exit_code", "site", "count")
        .order_by()
    )
    per_step: dict = defaultdict(lambda: defaultdict(dict))
    for step, code, site, count in cells:
        per_step[step][code][site] = count
    tables = []
    for step in sorted(per_step):
        codes = per_step[step]
        sites = sorted({site for by_site in codes.values() for site in by_site})
        site_totals = {site: sum(by_site.get(site, 0) for by_site in codes.values()) for site in sites}
        rows = [
            {
                "exit_code": code,
                "counts": [codes[code].get(site) for site in sites],
                "total": sum(codes[code].values()),
            }
            for code in sorted(codes, key=lambda c: (-sum(codes[c].values()), c))
        ]
        tables.append(
            {
                "name": step,
                "short_name": short_task_name(workflow.name, step),
                "sites": [{"name": site, "status": (statuses or {}).get(site, "")} for site in sites],
                "site_totals": [site_totals[site] for site in sites],
                "rows": rows,
                "total": sum(site_totals.values()),
            }
        )
    return tables


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
        "logs": f"/showlog?{urlencode({'search': workflow.name})}",
    }
