"""HTTP clients for the outside data sources (URLs and certificates from config.yml).

Every call has a timeout and raises `SourceError` with a message an operator can
read; callers decide whether the page still renders without the data.
"""

import requests
from django.conf import settings


class SourceError(Exception):
    """An outside source could not be reached or answered something unusable."""


def _request_options() -> dict:
    sources = settings.WWT["sources"]
    options: dict = {"verify": True}
    if sources["cert"]:
        options["cert"] = (sources["cert"], sources["key"]) if sources["key"] else sources["cert"]
    if sources["ca_bundle"]:
        options["verify"] = sources["ca_bundle"]
    return options


def get_json(url: str, *, params: dict | None = None, what: str = "source"):
    """GET `url` and decode JSON; raise SourceError naming `what` on any failure."""
    try:
        response = requests.get(
            url, params=params, timeout=settings.WWT["sources"]["timeout_seconds"], **_request_options()
        )
    except requests.Timeout as exc:
        raise SourceError(f"{what} did not answer in time ({url})") from exc
    except requests.RequestException as exc:
        raise SourceError(f"{what} is unreachable ({url}): {exc.__class__.__name__}") from exc
    if response.status_code != 200:
        raise SourceError(f"{what} answered HTTP {response.status_code} ({url})")
    try:
        return response.json()
    except ValueError as exc:
        raise SourceError(f"{what} did not answer valid JSON ({url}): {exc}") from exc


def _base(name: str) -> str:
    base = settings.WWT["sources"][name]
    if not base:
        raise SourceError(f"sources.{name} is not configured in config.yml")
    return base.rstrip("/")


def fetch_site_status() -> dict[str, str]:
    """The site-status JSON {site: status}."""
    document = get_json(_base("site_status"), what="site status")
    if not isinstance(document, dict):
        raise SourceError("site status is not a JSON object {site: status}")
    return {str(site): str(status) for site, status in document.items()}


def fetch_recovery_sites(workflow: str) -> dict[str, list[str]]:
    """Union of file locations per task from the ACDC server's byCollectionName view."""
    url = f"{_base('acdc')}/couchdb/acdcserver/_design/ACDC/_view/byCollectionName"
    params = {"key": f'"{workflow}"', "include_docs": "true", "reduce": "false"}
    document = get_json(url, params=params, what="the ACDC server")
    prefix = f"/{workflow}/"
    sites: dict[str, set[str]] = {}
    for row in document.get("rows", []) if isinstance(document, dict) else []:
        doc = row.get("doc") or {}
        step = doc.get("fileset_name", "")
        if not isinstance(step, str) or not step.startswith(prefix):
            continue
        task = sites.setdefault(step[len(prefix) :], set())
        for info in (doc.get("files") or {}).values():
            task.update(s for s in (info or {}).get("locations") or [] if isinstance(s, str))
    return {task: sorted(found) for task, found in sites.items()}
