"""Panels the clustering app contributes to the workflow view."""

from django import template

from clustering import placement, prediction

register = template.Library()


@register.inclusion_tag("clustering/_similar_panel.html")
def similar_workflows_panel(panel: placement.SimilarPanel):
    """Renders `panel` (from `placement.similar_panel`, which the view calls): workflows in
    the same cluster, with checkboxes that feed the action form. No queries here."""
    return {"membership": panel.membership, "similar": panel.similar, "problem": panel.problem}


@register.inclusion_tag("clustering/_suggestion.html")
def action_suggestion(suggestion: prediction.Suggestion | None):
    """Renders the predicted action (from `prediction.suggestion_for_page`) with its probability."""
    return {"suggestion": suggestion}
