"""The explain-error page and the procedures: stored log samples, with what a procedure's
match expression finds in them."""

import re
from collections import defaultdict
from dataclasses import dataclass

from workflows.models import Step, Workflow

from ..models import LogSample, Procedure


@dataclass
class Snippet:
    site: str
    error_type: str
    details: str
    # `details` cut at the procedure's matches: (text, is a match), for <mark> in the template.
    parts: list[tuple[str, bool]]
    parameters: list[str]
    # The sample's own exit code (None: WMStats gave none); it may differ from the cell's.
    sample_exit_code: int | None = None


def split_matches(text: str, pattern: re.Pattern | None) -> tuple[list[tuple[str, bool]], list[str]]:
    """`text` cut into (part, is a match of `pattern`) pieces, and the group(1) values found
    (first seen first). Empty matches are skipped."""
    if pattern is None:
        return [(text, False)], []
    parts, found, position = [], [], 0
    for match in pattern.finditer(text):
        if match.end() == match.start():
            continue
        parts.append((text[position : match.start()], False))
        parts.append((match.group(0), True))
        position = match.end()
        if pattern.groups and match.group(1) is not None and match.group(1) not in found:
            found.append(match.group(1))
    parts.append((text[position:], False))
    return [part for part in parts if part[0]], found


def compiled(procedure: Procedure | None) -> re.Pattern | None:
    if procedure is None or not procedure.match_expression:
        return None
    try:
        return re.compile(procedure.match_expression)
    except re.error:  # validated on save; an old bad row must not break pages
        return None


def procedures_for(exit_codes) -> dict[int, Procedure]:
    return {p.exit_code: p for p in Procedure.objects.filter(exit_code__in=list(exit_codes))}


def snippets(step: Step, exit_code: int, procedure: Procedure | None) -> list[Snippet]:
    """The stored log samples of (step, exit code), cut at the procedure's matches. One query."""
    pattern = compiled(procedure)
    result = []
    for row in LogSample.objects.filter(step=step, exit_code=exit_code).order_by("site", "id"):
        parts, found = split_matches(row.details, pattern)
        result.append(
            Snippet(
                row.site, row.error_type, row.details, parts, found, sample_exit_code=row.sample_exit_code
            )
        )
    return result


def procedure_parameters(workflow: Workflow, procedures: dict[int, Procedure]) -> dict[int, list[str]]:
    """Per exit code: the group(1) values its procedure's regex finds in the workflow's
    stored log samples (first 20 distinct). One query."""
    patterns = {code: compiled(p) for code, p in procedures.items()}
    found: dict[int, list[str]] = defaultdict(list)
    rows = LogSample.objects.filter(
        step__workflow=workflow, exit_code__in=[c for c, p in patterns.items() if p]
    )
    for code, details in rows.values_list("exit_code", "details"):
        pattern = patterns[code]
        if not pattern.groups:
            continue
        for match in pattern.finditer(details):
            value = match.group(1)
            if value and value not in found[code] and len(found[code]) < 20:
                found[code].append(value)
    return dict(found)
