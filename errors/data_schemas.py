"""JSON schemas of the error pages' data (?format=json), for the OpenAPI schema: the top-level
keys and the numbers a client reads; deeper parts are the selectors' dataclasses as objects."""

from wwt_project.page_schema import SNAPSHOT_SCHEMA

_INT = {"type": "integer"}
_STR = {"type": "string"}
_OBJECT = {"type": "object"}
_PIE = {
    "type": "object",
    "nullable": True,
    "properties": {
        "title": _STR,
        "slices": {"type": "array", "items": {"type": "array", "description": "[label, count]"}},
        "total": _INT,
        "more": {"type": "boolean"},
    },
    "required": ["title", "slices", "total"],
}
_PIE_ROW = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "enum": ["workflow", "step", "code"]},
        "label": _STR,
        "total": _INT,
        "cells": {"type": "array", "items": _PIE},
        "workflow": _STR,
        "is_acdc": {"type": "boolean"},
    },
    "required": ["kind", "label", "total", "cells"],
}


def _page(properties: dict) -> dict:
    return {
        "type": "object",
        "properties": {"snapshot": SNAPSHOT_SCHEMA, **properties},
        "required": ["snapshot", *properties],
    }


GLOBAL_VIEW = _page(
    {
        "query": _OBJECT,
        "view": {
            "type": "object",
            "description": "layout grouped (sections → prep-ID groups → rows) or matrix (rows)",
            "properties": {
                "layout": {"type": "string", "enum": ["grouped", "matrix"]},
                "columns": {"type": "array"},
                "column_totals": {"type": "object", "additionalProperties": _INT},
                "total": _INT,
                "rows": {"type": "array", "items": _PIE_ROW},
                "sections": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "campaign": _STR,
                            "total": _INT,
                            "groups": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "prep_id": _STR,
                                        "total": _INT,
                                        "rows": {"type": "array", "items": _PIE_ROW},
                                    },
                                },
                            },
                        },
                    },
                },
            },
            "required": ["layout", "columns", "column_totals", "total"],
        },
    }
)
LIST_PAGE = _page(
    {
        "query": _OBJECT,
        "listing": {
            "type": "object",
            "properties": {
                "listed": {"type": "string", "enum": ["workflow", "exit code", "site"]},
                "total": _INT,
                "rows": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"value": {"anyOf": [_STR, _INT]}, "total": _INT, "steps": _INT},
                        "required": ["value", "total", "steps"],
                    },
                },
            },
            "required": ["listed", "total", "rows"],
        },
    }
)
SITES = _page(
    {
        "site_status_problem": _STR,
        "sites": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "site": _STR,
                    "errors": _INT,
                    "workflows": _INT,
                    "steps": _INT,
                    "status": _STR,
                    "top_codes": {"type": "array"},
                    "pie": _PIE,
                },
                "required": ["site", "errors", "workflows", "steps", "status"],
            },
        },
    }
)
_SERIES = {
    "type": "object",
    "properties": {
        "series": {"type": "array", "items": {"type": "array", "description": "[label, [count per day]]"}},
        "rest": {"type": "array", "nullable": True},
    },
}
TRENDS = _page(
    {
        "days": _INT,
        "trends": {
            "type": "object",
            "properties": {
                "days": {"type": "array", "items": {"type": "string", "format": "date"}},
                "by_code": _SERIES,
                "by_site": _SERIES,
            },
            "required": ["days"],
        },
    }
)
WORKFLOW = _page(
    {
        "workflow": _OBJECT,
        "total": _INT,
        "tables": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": _STR,
                    "sites": {"type": "array"},
                    "site_totals": {"type": "array", "items": _INT},
                    "rows": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "exit_code": _INT,
                                "counts": {"type": "array", "items": {"type": "integer", "nullable": True}},
                                "total": _INT,
                            },
                        },
                    },
                    "total": _INT,
                },
                "required": ["name", "rows", "total"],
            },
        },
        "site_status_problem": _STR,
        "related": {"type": "array"},
    }
)

_MESSAGE = {
    "type": "object",
    "properties": {
        "exit_code": _INT,
        "message": {"type": "string", "description": "the masked message (<num>, <host>, <path>, ...)"},
        "key": {"type": "string", "description": "16 hex characters: /messages/<key> lists its workflows"},
        "samples": _INT,
        "workflows": _INT,
        "shown": {"type": "array", "items": _OBJECT, "description": "up to 3 samples"},
    },
    "required": ["exit_code", "message", "key", "samples", "workflows"],
}
# The top-messages pages read the current snapshot only (messages are grouped when fetched).
TOP_MESSAGES = {
    "type": "object",
    "properties": {
        "sort": {"type": "string", "enum": ["samples", "workflows"]},
        "messages": {"type": "array", "items": _MESSAGE},
        "page": _OBJECT,
        "total_messages": _INT,
        "total_samples": _INT,
    },
    "required": ["messages", "total_messages", "total_samples"],
}
MESSAGE_WORKFLOWS = {
    "type": "object",
    "properties": {
        "message": _MESSAGE,
        "workflows": {"type": "array", "items": _OBJECT},
        "page": _OBJECT,
        "total_workflows": _INT,
    },
    "required": ["message", "workflows", "total_workflows"],
}
