"""Panels the clustering app contributes to the workflow view."""

import logging

from django import template

from clustering import prediction, selectors, services

register = template.Library()
logger = logging.getLogger(__name__)


@register.inclusion_tag("clustering/_similar_panel.html", takes_context=True)
def similar_workflows_panel(context, workflow):
    """Workflows in the same cluster, with checkboxes that feed the action form.
    A workflow new since the last fit is placed with the stored model first."""
    membership = selectors.membership_of(workflow)
    problem = ""
    if membership is None:
        try:
            membership = services.place_workflow(workflow)
        except services.ClusteringError as exc:
            logger.warning("cannot place workflow %s: %s", workflow.pk, exc)
            problem = str(exc)
    similar = selectors.similar_workflows(workflow) if membership else []
    return {
        "workflow": workflow,
        "membership": membership,
        "similar": similar,
        "problem": problem,
        "request": context.get("request"),
    }


@register.inclusion_tag("clustering/_suggestion.html")
def action_suggestion(workflow):
    """The predicted action for `workflow` with its probability."""
    try:
        suggestion = prediction.suggest_action(workflow)
    except services.ClusteringError as exc:
        logger.warning("cannot suggest an action for workflow %s: %s", workflow.pk, exc)
        suggestion = None
    return {"workflow": workflow, "suggestion": suggestion}
