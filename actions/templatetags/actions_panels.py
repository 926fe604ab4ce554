"""Panels the actions app contributes to other apps' pages (the workflow view)."""

from django import template

register = template.Library()


@register.inclusion_tag("actions/_workflow_panel.html", takes_context=True)
def action_panel(context, workflow):
    """The last action submitted for `workflow` and the submit form."""
    return {"workflow": workflow, "request": context.get("request")}
