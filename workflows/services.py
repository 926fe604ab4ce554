"""Writes for workflows, steps and sites."""

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from wwt_project.cache import soft_cache

from . import sources
from .bulk import in_clause_chunk, staging_table
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


# Set-based writes and look-ups of names through staging tables. {placeholders} are table
# names, quoted by _sql (identifiers from model meta, never input); values are parameters.
_INSERT_NEW_WORKFLOWS = (
    "INSERT INTO {workflow} (name, prep_id, campaign, is_acdc, request_type, request_status, first_seen) "
    "SELECT s.name, s.prep_id, s.campaign, s.is_acdc, '', '', %s FROM {staged} s "
    "WHERE NOT EXISTS (SELECT 1 FROM {workflow} w WHERE w.name = s.name) "
    "ORDER BY s.seq ON CONFLICT DO NOTHING"
)
_STAGED_WORKFLOW_IDS = "SELECT s.name, w.id FROM {staged} s JOIN {workflow} w ON w.name = s.name"
_INSERT_NEW_STEPS = (
    "INSERT INTO {step} (name, workflow_id) "
    "SELECT s.name, w.id FROM {staged} s JOIN {workflow} w ON w.name = s.workflow "
    "WHERE NOT EXISTS (SELECT 1 FROM {step} t WHERE t.name = s.name) "
    "ORDER BY s.seq ON CONFLICT DO NOTHING"
)
_STAGED_STEP_IDS = "SELECT s.name, t.id, t.workflow_id FROM {staged} s JOIN {step} t ON t.name = s.name"
# An unlinked ACDC's original: the workflow ReqMgr2 named, else the oldest non-ACDC workflow of
# its prep ID; never itself. {original_name} reads the JSON key as text on each database.
_ACDC_ORIGINAL = (
    "NULLIF(COALESCE("
    "(SELECT o.id FROM {workflow} o WHERE o.name = {original_name}), "
    "(SELECT MIN(o.id) FROM {workflow} o "
    "WHERE {workflow}.prep_id <> '' AND o.prep_id = {workflow}.prep_id AND NOT o.is_acdc)"
    "), {workflow}.id)"
)
_LINK_ACDCS = (
    "UPDATE {workflow} SET original_id = {original} "
    "WHERE is_acdc AND original_id IS NULL AND {original} IS NOT NULL"
)
_STAGED_WORKFLOW_COLUMNS = {
    "seq": "integer",
    "name": "text",
    "prep_id": "text",
    "campaign": "text",
    "is_acdc": "boolean",
}
_STAGED_STEP_COLUMNS = {"seq": "integer", "name": "text", "workflow": "text"}


def _sql(template: str, staged: str = "", **parts: str) -> str:
    """`template` with the workflow and step tables, the (already quoted) staging table and
    `parts` (SQL fragments of this module) filled in."""
    quote = connection.ops.quote_name
    return template.format(
        workflow=quote(Workflow._meta.db_table), step=quote(Step._meta.db_table), staged=staged, **parts
    )


def _staged_workflows(names: list[str]):
    """A staging table of the workflows `names` (in this order) with what their names tell."""
    rows = ((seq, name, *describe_workflow_name(name).values()) for seq, name in enumerate(names))
    return staging_table("wwt_staged_workflows", _STAGED_WORKFLOW_COLUMNS, rows)


def _insert_staged_workflows(cursor, staged: str) -> int:
    """Create the staged workflows not stored yet, in staging order (so ids follow it);
    returns how many were created. A name created meanwhile by another process is skipped."""
    first_seen = Workflow._meta.get_field("first_seen").get_db_prep_save(timezone.now(), connection)
    cursor.execute(_sql(_INSERT_NEW_WORKFLOWS, staged), [first_seen])
    return cursor.rowcount


def ensure_workflows(names: set[str]) -> dict[str, int]:
    """{workflow name: id}, creating the missing workflows in bulk and linking new ACDCs to
    their original. Names are written and read back through one staging table."""
    if not names:
        return {}
    with transaction.atomic(), _staged_workflows(sorted(names)) as staged, connection.cursor() as cursor:
        created = _insert_staged_workflows(cursor, staged)
        cursor.execute(_sql(_STAGED_WORKFLOW_IDS, staged))
        ids = dict(cursor.fetchall())
        if created:
            link_acdcs_to_originals()
    return ids


def link_acdcs_to_originals() -> int:
    """Point every unlinked ACDC at its original: the `OriginalRequestName` ReqMgr2 gave for
    it when that workflow is known here, else the oldest non-ACDC workflow of its prep ID.
    One UPDATE whatever the number of ACDCs; returns how many were linked."""
    parameters = _sql("{workflow}.request_parameters")
    original_name = (
        f"json_extract({parameters}, '$.original')"
        if connection.vendor == "sqlite"
        else f"({parameters} ->> 'original')"
    )
    original = _sql(_ACDC_ORIGINAL, original_name=original_name)
    with connection.cursor() as cursor:
        cursor.execute(_sql(_LINK_ACDCS, original=original))
        return cursor.rowcount


def ensure_steps(step_names: set[str]) -> dict[str, int]:
    """{step name: id}, creating the missing steps (and workflows) in bulk: the names are
    staged once and written and read back by set-based statements, so a first load on empty
    tables costs no per-name look-up; when every step is stored already (a repeat load) the
    staged names' one join answers and no workflow is staged."""
    return {name: step_id for name, (step_id, _) in ensure_steps_of_workflows(step_names).items()}


def ensure_steps_of_workflows(step_names: set[str]) -> dict[str, tuple[int, int]]:
    """{step name: (step id, workflow id)}, creating the missing steps and workflows as
    ensure_steps does."""
    if not step_names:
        return {}
    names = sorted(step_names)
    step_rows = ((seq, name, name.split("/")[1]) for seq, name in enumerate(names))
    with (
        transaction.atomic(),
        staging_table("wwt_staged_steps", _STAGED_STEP_COLUMNS, step_rows) as staged,
        connection.cursor() as cursor,
    ):
        cursor.execute(_sql(_STAGED_STEP_IDS, staged))
        found = cursor.fetchall()
        if len(found) < len(names):  # else (a repeat load) no workflow needs staging
            workflows = sorted({name.split("/")[1] for name in names})
            with _staged_workflows(workflows) as staged_workflows:
                if _insert_staged_workflows(cursor, staged_workflows):
                    link_acdcs_to_originals()
            cursor.execute(_sql(_INSERT_NEW_STEPS, staged))
            cursor.execute(_sql(_STAGED_STEP_IDS, staged))
            found = cursor.fetchall()
        return {name: (step_id, workflow_id) for name, step_id, workflow_id in found}


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
