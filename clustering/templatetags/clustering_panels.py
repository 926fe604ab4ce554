"""Panels the clustering app contributes to the workflow view."""

from html import escape
from urllib.parse import quote

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from clustering import placement, prediction
from workflows.exit_codes import exit_code_label

register = template.Library()


@register.inclusion_tag("clustering/_similar_panel.html")
def similar_workflows_panel(panel: placement.SimilarPanel):
    """Renders `panel` (from `placement.similar_panel`, which the view calls): workflows in
    the same cluster, nearest first, with their errors, top exit code and last action, and
    checkboxes that feed the action form. No queries here."""
    return {
        "membership": panel.membership,
        "similar": panel.similar,
        "total": panel.total,
        "show_all": panel.show_all,
        "shown": placement.SHOWN,
        "workflow_name": panel.workflow_name,
        "problem": panel.problem,
        "ranking_problem": panel.ranking_problem,
    }


@register.inclusion_tag("clustering/_suggestion.html")
def action_suggestion(page: prediction.PageSuggestion, workflow, can_submit: bool = False):
    """Renders the predicted action (from `prediction.suggestion_for_page`) with its
    probability and the model's date and accuracy, or why there is none; "use this
    suggestion" (for those who may submit) reloads the page with the form filled from it."""
    return {
        "suggestion": page.suggestion,
        "why_not": page.why_not,
        "detail": page.detail,
        "workflow": workflow,
        "can_submit": can_submit,
    }


@register.simple_tag
def similar_rows(similar: list[placement.SimilarWorkflow]) -> SafeString:
    """The rows of the similar-workflows table: built here rather than in the template,
    which took half the workflow page's rendering time for its 50 rows. Every value escaped."""
    page, procedures = reverse("pages:workflow"), reverse("errors:procedures")
    rows = "".join(_similar_row(entry, page, procedures) for entry in similar)
    return mark_safe(rows)  # noqa: S308 -- each row is format_html of escaped values


def _similar_row(entry: placement.SimilarWorkflow, page: str, procedures: str) -> str:
    # Escaped as format_html escapes (django.utils.html.escape is html.escape, marked safe), but
    # with plain f-strings: 50 rows of 7 cells on each view, format_html's wrappers cost most.
    name = escape(entry.name)
    if entry.top_exit_code is None:
        top = '<span class="muted">none now</span>'
    else:
        label = escape(exit_code_label(entry.top_exit_code))
        top = f'<a href="{escape(procedures)}#code-{label}">{label}</a>'
    action = entry.last_action
    if action is None:
        done, reasons = '<span class="muted">none</span>', ""
    else:
        css, state = ("ok", "done") if action.reported_at else ("bad", "pending")
        done = (
            f'{escape(action.get_action_display())} <span class="muted">'
            f'{escape(f"{timezone.localtime(action.submitted_at):%Y-%m-%d}")}</span> '
            f'<span class="{css}">{state}</span>'
        )
        reasons = "".join(f'<div class="reason">{_reason(r)}</div>' for r in action.reasons)
    return (
        '<tr><td><label><input type="checkbox" form="action-form" name="similar" '
        f'value="{name}"></label></td><td><a class="name" '
        f'href="{escape(page)}?workflow={escape(quote(entry.name, safe="/"))}">{name}</a></td>'
        f'<td class="num">{escape(entry.distance_text)}</td><td class="num">{entry.errors:,}</td>'
        f"<td>{top}</td><td>{done}</td><td>{reasons}</td></tr>\n"
    )


def _reason(reason) -> SafeString:
    if not isinstance(reason, dict):
        reason = {"long": str(reason)}
    short, long = reason.get("short", ""), reason.get("long", "")
    if len(long) > 120:
        long = long[:119] + "…"
    if short:
        return format_html("<strong>{}</strong>{}{}", short, ": " if long else "", long)
    return format_html("{}", long)
