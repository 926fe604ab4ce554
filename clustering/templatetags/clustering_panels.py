"""Panels the clustering app contributes to the workflow view."""

import logging

from django import template

from clustering import prediction, services

register = template.Library()
logger = logging.getLogger(__name__)


@register.inclusion_tag("clustering/_similar_panel.html")
def similar_workflows_panel(panel: services.SimilarPanel):
    """Renders `panel` (from `services.similar_panel`, which the view calls): workflows in
    the same cluster, with checkboxes that feed the action form. No queries here."""
    return {"membership": panel.membership, "similar": panel.similar, "problem": panel.problem}


@register.inclusion_tag("clustering/_suggestion.html")
def action_suggestion(workflow):
    """The predicted action for `workflow` with its probability."""
    try:
        suggestion = prediction.suggest_action(workflow)
    except services.ClusteringError as exc:
        logger.warning("cannot suggest an action for workflow %s: %s", workflow.pk, exc)
        suggestion = None
    return {"workflow": workflow, "suggestion": suggestion}
