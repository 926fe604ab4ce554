"""HTTP clients for the outside data sources (URLs and certificates from config.yml).

Every call has a timeout and raises `SourceError` with a message an operator can
read; callers decide whether the page still renders without the data.
"""

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import requests
from django.conf import settings


class SourceError(Exception):
    """An outside source could not be reached or answered something unusable. `status` is
    the HTTP status it answered, None when it gave none (network failure, bad file, bad JSON)."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


# Connecting gives up sooner than reading: a host that does not answer the handshake is
# down, while a busy one may still be preparing a large answer.
CONNECT_TIMEOUT_SECONDS = 3.05
_FILE_KEYS = ("cert", "key", "ca_bundle")


def _request_options(what: str) -> dict:
    """TLS options from config.yml. A configured certificate, key or CA bundle that does not
    exist is a SourceError naming the key and the file (requests would raise OSError)."""
    sources = settings.WWT["sources"]
    for key in _FILE_KEYS:
        path = sources[key]
        if path and not os.path.exists(path):
            raise SourceError(f"{what}: the file {path} named by sources.{key} in config.yml does not exist")
    options: dict = {"verify": True}
    if sources["cert"]:
        options["cert"] = (sources["cert"], sources["key"]) if sources["key"] else sources["cert"]
    if sources["ca_bundle"]:
        options["verify"] = sources["ca_bundle"]
    return options


def _timeout() -> tuple[float, float]:
    """(connect, read) seconds: sources.timeout_seconds to read, at most 3.05 s to connect."""
    read = settings.WWT["sources"]["timeout_seconds"]
    return (min(CONNECT_TIMEOUT_SECONDS, read), read)


def get_json(url: str, *, params: dict | None = None, what: str = "source", body: dict | None = None):
    """GET `url` (with a JSON `body` if given: Elasticsearch's _search takes one) and decode
    JSON; raise SourceError naming `what` on any failure."""
    options = _request_options(what)
    try:
        response = requests.get(url, params=params, json=body, timeout=_timeout(), **options)
    except requests.Timeout as exc:
        raise SourceError(f"{what} did not answer in time ({url})") from exc
    except requests.RequestException as exc:
        raise SourceError(f"{what} is unreachable ({url}): {exc.__class__.__name__}") from exc
    except OSError as exc:  # requests' own check of the TLS files, or reading them
        raise SourceError(f"{what} cannot be asked ({url}): {exc}") from exc
    if response.status_code != 200:
        raise SourceError(f"{what} answered HTTP {response.status_code} ({url})", status=response.status_code)
    try:
        return response.json()
    except ValueError as exc:
        raise SourceError(f"{what} did not answer valid JSON ({url}): {exc}") from exc


def _base(name: str) -> str:
    base = settings.WWT["sources"][name]
    if not base:
        raise SourceError(f"sources.{name} is not configured in config.yml")
    return base.rstrip("/")


def is_configured(name: str) -> bool:
    """Whether config.yml gives sources.<name> (pages show a note instead of data otherwise)."""
    return bool(settings.WWT["sources"].get(name))


def _read_local_json(path: str, what: str):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SourceError(f"{what}: cannot read {path}: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise SourceError(f"{what}: {path} is not valid JSON") from exc


# SSB's colours, used only when a row has no Status (the original tool's reading).
_SSB_COLOURS = {"green": "enabled", "yellow": "drain", "red": "disabled"}


def parse_site_status(document) -> dict[str, str]:
    """{site: status} from either shape SOURCES.md names: the JSON map {site: status}, or
    CMS SSB's {"csvdata": [{"VOName", "Status", "COLORNAME"}, ...]} (Status wins; COLORNAME
    green/yellow/red means enabled/drain/disabled only when Status is missing). Any other
    shape is a SourceError: a page of silently "unknown" sites would hide the problem."""
    if isinstance(document, dict) and isinstance(document.get("csvdata"), list):
        statuses = {}
        for row in document["csvdata"]:
            site = row.get("VOName") if isinstance(row, dict) else None
            if not isinstance(site, str) or not site.strip():
                continue
            status = row.get("Status")
            if not isinstance(status, str) or not status.strip():
                status = _SSB_COLOURS.get(str(row.get("COLORNAME") or "").strip().lower(), "unknown")
            statuses[site.strip()] = status.strip().lower()
        return statuses
    if isinstance(document, dict) and all(isinstance(status, str) for status in document.values()):
        return {str(site): status.strip().lower() for site, status in document.items()}
    raise SourceError(
        'site status: unknown format (expected {site: status} or SSB\'s {"csvdata": [{"VOName", "Status"}]})'
    )


def fetch_site_status() -> dict[str, str]:
    """The site statuses {site: status}, from a URL or (demo, tests) a local file path."""
    location = _base("site_status")
    if location.startswith(("http://", "https://")):
        document = get_json(location, what="site status")
    else:
        document = _read_local_json(settings.WWT["sources"]["site_status"], "site status")
    return parse_site_status(document)


# In a task's location list: the task holds generated events (an `MCFakeFile...` file), which
# can run anywhere the request's SiteWhitelist allows. Not a storage name, so never mapped.
ANYWHERE_IN_WHITELIST = "SiteWhitelist"


def fetch_recovery_sites(workflow: str) -> dict[str, list[str]]:
    """{task: sorted storage locations} of the failed files, from the ACDC server's
    byCollectionName view. Locations are raw (PNNs, storage hosts): workflows.selectors turns
    them into sites. A task with `MCFakeFile` files also holds ANYWHERE_IN_WHITELIST."""
    url = f"{_base('acdc')}/couchdb/acdcserver/_design/ACDC/_view/byCollectionName"
    params = {"key": f'"{workflow}"', "include_docs": "true", "reduce": "false"}
    document = get_json(url, params=params, what="the ACDC server")
    prefix = f"/{workflow}/"
    sites: dict[str, set[str]] = {}
    rows = document.get("rows") if isinstance(document, dict) else None
    # Entries in an unexpected shape are skipped, as in fetch_job_detail.
    for row in rows if isinstance(rows, list) else []:
        doc = row.get("doc") if isinstance(row, dict) else None
        step = doc.get("fileset_name") if isinstance(doc, dict) else None
        if not isinstance(step, str) or not step.startswith(prefix):
            continue
        task = sites.setdefault(step[len(prefix) :], set())
        files = doc.get("files")
        for file_name, info in files.items() if isinstance(files, dict) else []:
            if isinstance(file_name, str) and file_name.startswith("MCFakeFile"):
                task.add(ANYWHERE_IN_WHITELIST)
            locations = info.get("locations") if isinstance(info, dict) else None
            if isinstance(locations, list):
                task.update(site for site in locations if isinstance(site, str))
    return {task: sorted(found) for task, found in sites.items()}


def _first_result(document, what: str) -> dict:
    """The object in `{"result": [{...}]}` (WMStats, ReqMgr2); {} when the list is empty."""
    if not isinstance(document, dict) or not isinstance(document.get("result"), list):
        raise SourceError(f'{what} did not answer {{"result": [...]}}')
    for item in document["result"]:
        if isinstance(item, dict):
            return item
    return {}


def _request_date(value) -> datetime | None:
    if isinstance(value, list) and len(value) >= 3 and all(isinstance(v, int) for v in value[:6]):
        try:
            return datetime(*value[:6], tzinfo=UTC)
        except ValueError:
            return None
    return None


class UnknownRequest(SourceError):
    """ReqMgr2 answered, but does not know the workflow (it is up: keep asking about others)."""


def _number(value) -> int | float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if float(value).is_integer() else value


def _number_or_per_task(value) -> int | float | dict | None:
    """ReqMgr2's Memory/Multicore: a number, or a dict {task or step name: number}."""
    if isinstance(value, dict):
        per_task = {str(name): _number(number) for name, number in value.items()}
        return {name: number for name, number in per_task.items() if number is not None}
    return _number(value)


def _chain_tasks(request: dict) -> list[str]:
    """Task names of a TaskChain (Task1..N, TaskName) or step names of a StepChain (Step1..N,
    StepName), in order."""
    for key, name_key in (("Task", "TaskName"), ("Step", "StepName")):
        declared = request.get(f"{key}Chain")
        count = declared if isinstance(declared, int) and not isinstance(declared, bool) else 99
        names = []
        for number in range(1, min(count, 99) + 1):
            task = request.get(f"{key}{number}")
            if not isinstance(task, dict):
                break
            names.append(str(task.get(name_key) or f"{key}{number}"))
        if names:
            return names
    return []


def _resources(memory, cores, tasks: list[str]) -> list[dict]:
    """[{"task", "memory", "cores"}] for the page: one unnamed row when both are plain numbers,
    else one row per task (a per-task value looked up by its name; a number applies to all),
    or per name of the dicts when the request has no task list."""
    per_task = [value for value in (memory, cores) if isinstance(value, dict)]
    if not per_task:
        return [{"task": "", "memory": memory, "cores": cores}]
    names = tasks or sorted({name for value in per_task for name in value})

    def of(value, name):
        return value.get(name) if isinstance(value, dict) else value

    return [{"task": name, "memory": of(memory, name), "cores": of(cores, name)} for name in names]


def _text_value(value) -> str:
    return value if isinstance(value, str) else ""


def parse_request(workflow: str, request: dict) -> dict:
    """The keys we use of one ReqMgr2 request document (missing ones are None or empty)."""
    tasks = _chain_tasks(request)
    memory = _number_or_per_task(request.get("Memory"))
    cores = _number_or_per_task(request.get("Multicore"))

    def _list(key):
        value = request.get(key)
        return [str(v) for v in value] if isinstance(value, list) else []

    return {
        "request_type": _text_value(request.get("RequestType")),
        "request_status": _text_value(request.get("RequestStatus")),
        "requested_at": _request_date(request.get("RequestDate")),
        "prep_id": _text_value(request.get("PrepID")),
        "campaign": _text_value(request.get("Campaign")),
        "requestor": _text_value(request.get("Requestor")),
        "memory": memory,
        "cores": cores,
        "resources": _resources(memory, cores, tasks),
        "site_whitelist": _list("SiteWhitelist"),
        "site_blacklist": _list("SiteBlacklist"),
        "tasks": tasks,
        "original": _text_value(request.get("OriginalRequestName")),
    }


def fetch_request(workflow: str) -> dict:
    """ReqMgr2's parameters of `workflow` (see parse_request). Raises UnknownRequest when
    ReqMgr2 does not know it, SourceError when ReqMgr2 is down or answers nonsense."""
    url = f"{_base('reqmgr2')}/reqmgr2/data/request"
    found = _first_result(get_json(url, params={"name": workflow}, what="ReqMgr2"), "ReqMgr2")
    request = found.get(workflow)
    if not isinstance(request, dict):
        raise UnknownRequest(f"ReqMgr2 does not know the workflow {workflow}")
    return parse_request(workflow, request)


@dataclass(frozen=True)
class LogSample:
    """One log excerpt from WMStats job details. `exit_code` is the cell it is filed
    under; `sample_exit_code` and `error_type` are the sample's own (a 99999 log-archive
    failure may sit in an 8001 cell). `state` is "jobfailed" or "submitfailed"."""

    step: str
    exit_code: int
    site: str
    error_type: str
    details: str
    sample_exit_code: int | None = None
    state: str = "jobfailed"


# Both carry samples; submit failures (71104, 99303...) live only under submitfailed.
JOB_DETAIL_STATES = ("jobfailed", "submitfailed")


def _sample_exit_code(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _samples_of_cell(step: str, state: str, exit_code: int, site: str, site_detail) -> list[LogSample]:
    """The samples of one {"errorCount": n, "samples": [{"errors": {cmsRun: [...]}}]} cell."""
    found: list[LogSample] = []
    samples = site_detail.get("samples") if isinstance(site_detail, dict) else None
    for sample in samples if isinstance(samples, list) else []:
        errors = sample.get("errors") if isinstance(sample, dict) else None
        for entries in errors.values() if isinstance(errors, dict) else []:
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict) and isinstance(entry.get("details"), str):
                    found.append(
                        LogSample(
                            step=step,
                            exit_code=exit_code,
                            site=site,
                            error_type=str(entry.get("type") or "")[:200],
                            details=entry["details"],
                            sample_exit_code=_sample_exit_code(entry.get("exitCode")),
                            state=state,
                        )
                    )
    return found


def fetch_job_detail(workflow: str) -> list[LogSample]:
    """The log samples WMStats keeps for `workflow`, per (step, exit code, site), from both
    `jobfailed` and `submitfailed`. Entries in an unexpected shape are skipped; an empty
    result gives []."""
    url = f"{_base('wmstats')}/wmstatsserver/data/jobdetail/{quote(workflow, safe='')}"
    found = _first_result(get_json(url, what="WMStats job detail"), "WMStats job detail")
    steps = found.get(workflow)
    samples: list[LogSample] = []
    if not isinstance(steps, dict):
        return samples
    for step, step_detail in steps.items():
        for state in JOB_DETAIL_STATES:
            failed = step_detail.get(state) if isinstance(step_detail, dict) else None
            if not isinstance(failed, dict):
                continue
            for code, sites in failed.items():
                try:
                    exit_code = int(code)
                except (TypeError, ValueError):
                    continue
                for site, site_detail in sites.items() if isinstance(sites, dict) else []:
                    samples.extend(_samples_of_cell(str(step), state, exit_code, str(site), site_detail))
    return samples


@dataclass(frozen=True)
class LogEntry:
    timestamp: str
    module: str
    message: str


def search_logs(
    search: str, *, module: str = "", limit: int = 50, offset: int = 0
) -> tuple[int, list[LogEntry]]:
    """Newest-first log messages matching `search` (query_string) and `module` from
    Elasticsearch/OpenSearch. Returns (total hits, entries)."""
    url = f"{_base('logs')}/{settings.WWT['sources']['logs_index']}/_search"
    must: list[dict] = [
        {"query_string": {"query": search, "default_field": "message"}} if search else {"match_all": {}}
    ]
    filters = [{"term": {"module": module}}] if module else []
    body = {
        "query": {"bool": {"must": must, "filter": filters}},
        "sort": [{"timestamp": {"order": "desc"}}],
        "size": limit,
        "from": offset,
    }
    document = get_json(url, body=body, what="the log server")
    hits = document.get("hits") if isinstance(document, dict) else None
    if not isinstance(hits, dict):
        raise SourceError("the log server did not answer a _search result")
    total = hits.get("total", 0)
    total = total.get("value", 0) if isinstance(total, dict) else total
    entries = []
    for hit in hits.get("hits") or []:
        source = hit.get("_source") if isinstance(hit, dict) else None
        if isinstance(source, dict):
            entries.append(
                LogEntry(
                    timestamp=str(source.get("timestamp") or source.get("@timestamp") or ""),
                    module=str(source.get("module") or ""),
                    message=str(source.get("message") or ""),
                )
            )
    return (total if isinstance(total, int) else len(entries)), entries
