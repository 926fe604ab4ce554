"""The actions page's downloads: every action the filters select, as CSV or JSON, streamed.

Rows come from `selectors.export_rows` (read in chunks), so a download of 100,000 actions
keeps the web process's memory flat.
"""

import csv
import dataclasses
import json

from django.http import StreamingHttpResponse

from . import selectors
from .display import parameters_in_one_line

FORMATS = ("csv", "json")


def _csv_cell(value) -> str:
    """A cell a spreadsheet shows as text: workflow names and reasons are untrusted, and a cell
    starting with = + - @ would run as a formula (CSV injection)."""
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Echo:
    def write(self, value):
        return value


def csv_response(rows) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    header = [*selectors.EXPORT_COLUMNS[:4], "parameters (readable)", *selectors.EXPORT_COLUMNS[4:]]

    def lines():
        yield writer.writerow(header)
        for row in rows:
            reasons = " | ".join(
                f"{r.get('short')}: {r.get('long')}" if r.get("short") else str(r.get("long", ""))
                for r in row["reasons"]
            )
            values = [
                row["workflow"],
                row["campaign"],
                row["prep_id"],
                row["action"],
                parameters_in_one_line(row["action"], row["parameters"]),
                json.dumps(row["parameters"], sort_keys=True),
                reasons,
                row["user"],
                row["submitted_at"],
                row["reported_at"] or "",
                "yes" if row["pending_too_long"] else "",
                " ".join(row["acdcs"]),
            ]
            yield writer.writerow([_csv_cell(value) for value in values])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="wwt-actions.csv"'
    return response


def json_response(rows, filters) -> StreamingHttpResponse:
    def chunks():
        yield '{"filters": ' + json.dumps(dataclasses.asdict(filters)) + ', "actions": ['
        for number, row in enumerate(rows):
            yield ("," if number else "") + json.dumps(row)
        yield "]}"

    response = StreamingHttpResponse(chunks(), content_type="application/json")
    response["Content-Disposition"] = 'attachment; filename="wwt-actions.json"'
    return response
