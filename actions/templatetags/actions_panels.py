"""Panels the actions app contributes to other apps' pages (the workflow view)."""

from django import template

register = template.Library()


@register.inclusion_tag("actions/_workflow_panel.html", takes_context=True)
def action_panel(context, panel: dict):
    """Renders `panel` (from `panels.workflow_panel`, which the view calls): the last action
    and, for verified operators, the submit form. No queries here."""
    return {**panel, "request": context.get("request"), "csrf_token": context.get("csrf_token")}
