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
