"""Panels the clustering app contributes to the workflow view."""

from django import template

from clustering import placement, prediction

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
