"""Every page as data: a page view hands `render_page` the selector output it renders, and
the same call answers JSON (`?format=json` or `Accept: application/json`) or the HTML page.
One code path, so the JSON carries exactly the numbers the HTML shows."""

import dataclasses
import datetime
import decimal
from collections.abc import Mapping

from django.db.models import Model
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

FORMATS = ("html", "json")
JSON = "application/json"


def format_problem(request) -> str:
    """"" or why `?format=` names no format this site answers."""
    asked = request.GET.get("format", "")
    if asked and asked not in FORMATS:
        return f"format must be html or json; {asked!r} is neither."
    return ""


def wants_json(request) -> bool:
    """`?format=json`, or an Accept header that prefers JSON to HTML (a browser asks for HTML
    first; `*/*` gets the page)."""
    asked = request.GET.get("format", "")
    if asked:
        return asked == "json"
    accept = request.headers.get("Accept", "")
    if JSON not in accept:
        return False
    return request.get_preferred_type(["text/html", JSON]) == JSON


def as_json(value):
    """`value` (the selectors' dataclasses, dicts, lists, tuples, dates) as plain JSON values.
    Dict keys become strings; a model instance is refused, so a page never dumps a row whole."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: as_json(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): as_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [as_json(item) for item in items]
    if isinstance(value, datetime.date | datetime.time):  # datetime is a date
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, Model):
        raise TypeError(f"a page's data holds a {type(value).__name__} row: pass the fields it shows")
    if value is None or isinstance(value, str | int | float):
        return value
    raise TypeError(f"a page's data holds a {type(value).__name__}, which has no JSON form")


def json_problem(message: str, status: int) -> JsonResponse:
    return JsonResponse({"detail": message, "status": status}, status=status)


def render_page(request, template: str, context: dict, *, data, status: int = 200):
    """The page `template` with `context`, or `data` (what the page shows) as JSON when the
    client asks for JSON. An unknown `?format=` is a 400 (in JSON)."""
    if problem := format_problem(request):
        return json_problem(problem, 400)
    if wants_json(request):
        response = JsonResponse(as_json(data), status=status, json_dumps_params={"ensure_ascii": False})
    else:
        response = render(request, template, context, status=status)
    # Caches between us and the client must keep the two answers apart.
    patch_vary_headers(response, ["Accept"])
    return response
