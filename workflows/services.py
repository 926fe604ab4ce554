"""Writes for workflows, steps and sites."""

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from wwt_project.cache import soft_cache

from . import sources
from .bulk import bulk_insert, in_clause_chunk
from .models import Site, Step, Workflow
from .selectors import SITE_STATUS_FAILURE_KEY

logger = logging.getLogger(__name__)

# CMS prep IDs look like PWG-Campaign-NNNNN, e.g. HIG-RunIISummer20UL18wmLHEGEN-00123.
PREP_ID = re.compile(r"([A-Z][A-Za-z0-9]*-[A-Za-z0-9]+-\d{5})")


def describe_workflow_name(name: str) -> dict:
    """Prep ID, campaign and ACDC flag as far as the name tells (ReqMgr2 knows better)."""
    match = PREP_ID.search(name)
    prep_id = match.group(1) if match else ""
    campaign = prep_id.split("-")[1] if prep_id else ""
    return {"prep_id": prep_id, "campaign": campaign, "is_acdc": "ACDC" in name}


def _ids_by_name(model, names: list[str], **filters) -> dict[str, int]:
    found, size = {}, in_clause_chunk()
    for start in range(0, len(names), size):
        chunk = names[start : start + size]
        found.update(model.objects.filter(name__in=chunk, **filters).values_list("name", "id"))
    return found


def ensure_workflows(names: set[str]) -> dict[str, int]:
    """Create the missing workflows in bulk and link new ACDCs to their original."""
    names = sorted(names)
    ids = _ids_by_name(Workflow, names)
    missing = [name for name in names if name not in ids]
    if missing:
        Workflow.objects.bulk_create(
            [Workflow(name=name, **describe_workflow_name(name)) for name in missing],
            batch_size=2000,
            ignore_conflicts=True,
        )
        ids.update(_ids_by_name(Workflow, missing))
        link_acdcs_to_originals()
    return ids


def link_acdcs_to_originals() -> int:
    """Point every unlinked ACDC at its original: the `OriginalRequestName` ReqMgr2 gave for
    it when that workflow is known here, else the oldest non-ACDC workflow of its prep ID."""
    orphans = list(
        Workflow.objects.filter(is_acdc=True, original__isnull=True).only(
            "id", "prep_id", "request_parameters"
        )
    )
    if not orphans:
        return 0
    named = {
        w.id: w.request_parameters["original"]
        for w in orphans
        if isinstance(w.request_parameters, dict) and w.request_parameters.get("original")
    }
    by_name = _ids_by_name(Workflow, sorted(set(named.values())))
    originals: dict[str, int] = {}
    prep_ids, size = sorted({w.prep_id for w in orphans if w.prep_id}), in_clause_chunk()
    for start in range(0, len(prep_ids), size):
        rows = (
            Workflow.objects.filter(prep_id__in=prep_ids[start : start + size], is_acdc=False)
            .order_by("-id")
            .values_list("prep_id", "id")
        )
        originals.update(rows)  # ordered newest first, so the oldest id wins
    linked = []
    for workflow in orphans:
        original = by_name.get(named.get(workflow.id, "")) or originals.get(workflow.prep_id)
        if original and original != workflow.id:
            workflow.original_id = original
            linked.append(workflow)
    Workflow.objects.bulk_update(linked, ["original"], batch_size=2000)
    return len(linked)


def ensure_steps(step_names: set[str]) -> dict[str, int]:
    """Return {step name: id}, creating missing steps (and workflows) in bulk."""
    names = sorted(step_names)
    ids = _ids_by_name(Step, names)
    missing = [name for name in names if name not in ids]
    if missing:
        workflow_ids = ensure_workflows({name.split("/")[1] for name in missing})
        bulk_insert(
            Step,
            ("name", "workflow_id"),
            [(name, workflow_ids[name.split("/")[1]]) for name in missing],
            ignore_conflicts=True,
        )
        ids.update(_ids_by_name(Step, missing))
    return ids


# Sites ------------------------------------------------------------------------------------


def ensure_sites(names: Iterable[str]) -> int:
    """Make `names` known sites (error ingestion and the site-status refresh call this), in
    bulk; returns how many were new. Names that do not fit the column are left out."""
    limit = Site._meta.get_field("name").max_length
    names = sorted({name for name in names if isinstance(name, str) and name and len(name) <= limit})
    known = _ids_by_name(Site, names)
    missing = [name for name in names if name not in known]
    if missing:
        Site.objects.bulk_create(
            [Site(name=name) for name in missing], batch_size=2000, ignore_conflicts=True
        )
    return len(missing)


def record_site_statuses(statuses: Mapping[str, str]) -> int:
    """Store what the site-status source says now ({site: status}): every site it names
    becomes known with its status; sites it no longer names keep their row, status "".
    Returns the number of sites with a status."""
    now = timezone.now()
    limit = Site._meta.get_field("status").max_length
    with transaction.atomic():
        ensure_sites(statuses)
        Site.objects.exclude(name__in=list(statuses)).exclude(status="").update(
            status="", status_checked_at=now
        )
        sites = list(Site.objects.filter(name__in=list(statuses)).only("id", "name"))
        for site in sites:
            site.status, site.status_checked_at = statuses[site.name][:limit], now
        Site.objects.bulk_update(sites, ["status", "status_checked_at"], batch_size=2000)
    return len(sites)


@dataclass
class SourceRefresh:
    """What a refresh from one outside source did: rows updated, or the problem that
    stopped it (the source down or not configured; nothing changed then)."""

    updated: int = 0
    problem: str = ""

    def summary(self) -> dict:
        return {"updated": self.updated, "problem": self.problem}


def refresh_site_statuses() -> SourceRefresh:
    """Ask the site-status source and store its answer (record_site_statuses): pages read
    the stored statuses, never the source. A failure leaves the stored ones as they are."""
    if not sources.is_configured("site_status"):
        return SourceRefresh(problem="sources.site_status is not configured in config.yml")
    try:
        statuses = sources.fetch_site_status()
    except sources.SourceError as exc:
        logger.warning("site status not refreshed: %s", exc)
        soft_cache("set", SITE_STATUS_FAILURE_KEY, str(exc), None)
        return SourceRefresh(problem=str(exc))
    soft_cache("set", SITE_STATUS_FAILURE_KEY, "", None)
    return SourceRefresh(updated=record_site_statuses(statuses))


# ReqMgr2 ----------------------------------------------------------------------------------


@dataclass
class RequestRefresh:
    """What refresh_request_parameters did: workflows updated, unknown to ReqMgr2, and the
    problem that stopped it (ReqMgr2 down) if any."""

    updated: int = 0
    unknown: list[str] = field(default_factory=list)
    problem: str = ""
    linked: int = 0

    def summary(self) -> dict:
        return {
            "updated": self.updated,
            "unknown": len(self.unknown),
            "problem": self.problem,
            "linked": self.linked,
        }


_STORED_FIELDS = ("prep_id", "campaign", "request_type", "request_status")


def _apply_request(workflow: Workflow, request: dict, now) -> None:
    """Copy ReqMgr2's answer onto `workflow` (not saved). A value ReqMgr2 leaves empty, or one
    too long for its column, keeps what we had (the name's guess)."""
    for name in _STORED_FIELDS:
        value = request.get(name) or ""
        if value and len(value) <= Workflow._meta.get_field(name).max_length:
            setattr(workflow, name, value)
    if request.get("requested_at"):
        workflow.requested_at = request["requested_at"]
    if request.get("request_type") == "Resubmission":
        workflow.is_acdc = True
    stored = {key: value for key, value in request.items() if key != "requested_at"}
    workflow.request_parameters = stored
    workflow.request_fetched_at = now


def refresh_request_parameters(workflow_ids: Iterable[int], *, limit: int | None = None) -> RequestRefresh:
    """Ask ReqMgr2 about the workflows (least recently asked first, at most `limit`, default
    config.yml's sources.reqmgr2_refresh_limit) and store what it says: prep ID, campaign,
    type, status, parameters. One call per workflow, one bulk write at the end; ACDCs are
    linked to their originals afterwards. A down ReqMgr2 stops the refresh and changes nothing."""
    report = RequestRefresh()
    if not sources.is_configured("reqmgr2"):
        report.problem = "sources.reqmgr2 is not configured in config.yml"
        return report
    limit = settings.WWT["sources"]["reqmgr2_refresh_limit"] if limit is None else limit
    ids, size, workflows = sorted(set(workflow_ids)), in_clause_chunk(), []
    for start in range(0, len(ids), size):
        workflows.extend(Workflow.objects.filter(id__in=ids[start : start + size]))
    workflows.sort(key=lambda w: (w.request_fetched_at is not None, w.request_fetched_at or 0, w.name))
    now, answered = timezone.now(), []
    for workflow in workflows[:limit]:
        try:
            request = sources.fetch_request(workflow.name)
        except sources.UnknownRequest:
            report.unknown.append(workflow.name)
            continue
        except sources.SourceError as exc:
            logger.warning("ReqMgr2 refresh stopped: %s", exc)
            report.problem = str(exc)
            return report
        _apply_request(workflow, request, now)
        answered.append(workflow)
    with transaction.atomic():
        fields = [*_STORED_FIELDS, "requested_at", "is_acdc", "request_parameters", "request_fetched_at"]
        Workflow.objects.bulk_update(answered, fields, batch_size=500)
        report.updated = len(answered)
        report.linked = _link_by_original_name(answered) + link_acdcs_to_originals()
    return report


def _link_by_original_name(workflows: list[Workflow]) -> int:
    """ReqMgr2's OriginalRequestName wins over a prep-ID guess made before it was known."""
    named = {
        w.id: w.request_parameters.get("original")
        for w in workflows
        if w.is_acdc and (w.request_parameters or {}).get("original")
    }
    by_name = _ids_by_name(Workflow, sorted(set(named.values())))
    relinked = [w for w in workflows if by_name.get(named.get(w.id, "")) not in (None, w.original_id, w.id)]
    for workflow in relinked:
        workflow.original_id = by_name[named[workflow.id]]
    Workflow.objects.bulk_update(relinked, ["original"], batch_size=2000)
    return len(relinked)


# ACDC server ------------------------------------------------------------------------------


def refresh_recovery_locations(workflow_ids: Iterable[int], *, limit: int | None = None) -> SourceRefresh:
    """Ask the ACDC server where the failed files of the workflows are (least recently asked
    first, at most `limit`, default config.yml's sources.acdc_refresh_limit) and store the
    raw {task: locations} with the time asked. One call per workflow, one bulk write at the
    end; a down ACDC server stops the refresh and changes nothing."""
    if not sources.is_configured("acdc"):
        return SourceRefresh(problem="sources.acdc is not configured in config.yml")
    limit = settings.WWT["sources"]["acdc_refresh_limit"] if limit is None else limit
    ids, size, workflows = sorted(set(workflow_ids)), in_clause_chunk(), []
    for start in range(0, len(ids), size):
        workflows.extend(
            Workflow.objects.filter(id__in=ids[start : start + size]).only(
                "id", "name", "recovery_fetched_at"
            )
        )
    workflows.sort(key=lambda w: (w.recovery_fetched_at is not None, w.recovery_fetched_at or 0, w.name))
    now, answered = timezone.now(), []
    for workflow in workflows[:limit]:
        try:
            workflow.recovery_locations = sources.fetch_recovery_sites(workflow.name)
        except sources.SourceError as exc:
            logger.warning("ACDC recovery locations not refreshed: %s", exc)
            return SourceRefresh(problem=str(exc))
        workflow.recovery_fetched_at = now
        answered.append(workflow)
    Workflow.objects.bulk_update(answered, ["recovery_locations", "recovery_fetched_at"], batch_size=500)
    return SourceRefresh(updated=len(answered))
