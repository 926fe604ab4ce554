"""Panels the clustering app contributes to the workflow view."""

from urllib.parse import quote

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
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
    if entry.top_exit_code is None:
        top = format_html('<span class="muted">{}</span>', "none now")
    else:
        label = exit_code_label(entry.top_exit_code)
        top = format_html('<a href="{}#code-{}">{}</a>', procedures, label, label)
    action = entry.last_action
    if action is None:
        done, reasons = format_html('<span class="muted">{}</span>', "none"), ""
    else:
        state = ("ok", "done") if action.reported_at else ("bad", "pending")
        done = format_html(
            '{} <span class="muted">{}</span> <span class="{}">{}</span>',
            action.get_action_display(),
            f"{timezone.localtime(action.submitted_at):%Y-%m-%d}",
            *state,
        )
        reasons = format_html_join("", '<div class="reason">{}</div>', ([_reason(r)] for r in action.reasons))
    return format_html(
        '<tr><td><label><input type="checkbox" form="action-form" name="similar" value="{}"></label></td>'
        '<td><a class="name" href="{}?workflow={}">{}</a></td><td class="num">{}</td><td class="num">{}</td>'
        "<td>{}</td><td>{}</td><td>{}</td></tr>\n",
        entry.name,
        page,
        quote(entry.name, safe="/"),
        entry.name,
        entry.distance_text,
        f"{entry.errors:,}",
        top,
        done,
        reasons,
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
