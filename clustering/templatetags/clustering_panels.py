"""Panels the clustering app contributes to the workflow view."""

from django import template

register = template.Library()


@register.inclusion_tag("clustering/_similar_panel.html", takes_context=True)
def similar_workflows_panel(context, workflow):
    """Workflows in the same cluster, with checkboxes that feed the action form."""
    return {"workflow": workflow, "request": context.get("request")}


@register.inclusion_tag("clustering/_suggestion.html")
def action_suggestion(workflow):
    """The predicted action for `workflow` with its probability."""
    return {"workflow": workflow}
