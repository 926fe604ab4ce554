"""The pages that also answer JSON (wwt_project/page_data.py), in the OpenAPI schema.

drf-spectacular documents DRF views only, and the pages are plain Django views: a view marked
`@data_page(...)` is added to /api/schema/ by `add_data_pages` (a postprocessing hook in
SPECTACULAR_SETTINGS), at the path its URL pattern gives, with its query form's fields as
parameters. A new page takes one line: the decorator over a view that calls render_page."""

from django import forms
from django.urls import URLPattern, URLResolver, get_resolver

_PROBLEM = {
    "type": "object",
    "properties": {"detail": {"type": "string"}, "status": {"type": "integer"}},
    "required": ["detail", "status"],
}
# Every page's JSON says which snapshot it shows (null on pages not about one).
SNAPSHOT_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer", "nullable": True, "description": "ErrorImport id; null before any import"},
        "finished_at": {"type": "string", "nullable": True, "format": "date-time"},
        "pinned": {"type": "boolean", "description": "a ticket link's fixed snapshot, not the current"},
    },
    "required": ["id", "finished_at", "pinned"],
}
FORMAT_PARAMETER = {
    "name": "format",
    "in": "query",
    "required": False,
    "description": "json: the page's data as JSON (as does an Accept header preferring application/json)",
    "schema": {"type": "string", "enum": ["html", "json"]},
}
SNAPSHOT_PARAMETER = {
    "name": "snapshot",
    "in": "query",
    "required": False,
    "description": "a ticket link's snapshot id: the numbers of that snapshot (410 once no longer kept)",
    "schema": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
}


def data_page(*, summary: str, form: type[forms.Form] | None = None, data: dict, snapshot: bool = True,
              description: str = ""):  # fmt: skip
    """Mark a page view as answering JSON: `form` (its query string) gives the parameters,
    `data` the JSON schema of what render_page's `data` becomes; `snapshot`: it takes
    `?snapshot=`."""

    def mark(view):
        view.data_page = {
            "summary": summary,
            "description": description,
            "form": form,
            "data": data,
            "snapshot": snapshot,
        }
        return view

    return mark


def _field_schema(field: forms.Field) -> dict:
    if isinstance(field, forms.ChoiceField):
        return {"type": "string", "enum": [str(key) for key, _ in field.choices if key != ""]}
    if isinstance(field, forms.IntegerField):
        schema = {"type": "integer"}
        if field.min_value is not None:
            schema["minimum"] = field.min_value
        if field.max_value is not None:
            schema["maximum"] = field.max_value
        return schema
    if isinstance(field, forms.BooleanField):
        return {"type": "boolean"}
    # A NUL character is refused before any view (RejectNulInQueryMiddleware).
    schema = {"type": "string", "pattern": "^[^\\x00]*$"}
    if field.required:  # an empty value is a missing one
        schema["minLength"] = 1
    if getattr(field, "max_length", None):
        schema["maxLength"] = field.max_length
    return schema


def form_parameters(form: type[forms.Form] | None) -> list[dict]:
    """The query parameters of a page's form, as OpenAPI parameters."""
    if form is None:
        return []
    return [
        {
            "name": name,
            "in": "query",
            "required": field.required,
            "description": str(field.help_text or field.label or "").strip() or name,
            "schema": _field_schema(field),
        }
        for name, field in form.base_fields.items()
    ]


def _operation(spec: dict) -> dict:
    parameters = form_parameters(spec["form"])
    if spec["snapshot"]:
        parameters.append(SNAPSHOT_PARAMETER)
    parameters.append(FORMAT_PARAMETER)
    problem = {"application/json": {"schema": _PROBLEM}, "text/html": {"schema": {"type": "string"}}}
    return {
        "operationId": "page_" + spec["path"].strip("/").replace("/", "_"),
        "summary": spec["summary"],
        "description": (spec["description"] + " " if spec["description"] else "")
        + "A page: HTML, or with ?format=json (or Accept: application/json) the same numbers as JSON.",
        "tags": ["pages"],
        "parameters": parameters,
        "responses": {
            "200": {
                "description": "the page, or its data",
                "content": {
                    "application/json": {"schema": spec["data"]},
                    "text/html": {"schema": {"type": "string"}},
                },
            },
            "302": {"description": "to the login page (HTML only; a page for verified operators)"},
            "400": {
                "description": "bad parameter (a page with filters may answer its data and the problems)",
                "content": {
                    "application/json": {"schema": {"anyOf": [_PROBLEM, spec["data"]]}},
                    "text/html": {"schema": {"type": "string"}},
                },
            },
            "401": {"description": "not logged in (JSON)", "content": problem},
            "403": {"description": "not a verified operator", "content": problem},
            "404": {"description": "no such workflow, step or snapshot", "content": problem},
            "410": {"description": "the snapshot is not (or no longer) kept", "content": problem},
            "503": {"description": "the database is unreachable", "content": problem},
        },
    }


def data_pages(patterns=None, prefix: str = "/") -> list[dict]:
    """Each view marked @data_page with its path, walking the URL patterns."""
    found = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found.extend(data_pages(pattern.url_patterns, prefix + route))
        elif isinstance(pattern, URLPattern) and hasattr(pattern.callback, "data_page"):
            found.append({"path": prefix + route, **pattern.callback.data_page})
    return found


def add_data_pages(result, generator, request, public):
    """drf-spectacular postprocessing hook: the data pages' GET operations."""
    for spec in data_pages():
        result.setdefault("paths", {}).setdefault(spec["path"], {})["get"] = _operation(spec)
    return result
