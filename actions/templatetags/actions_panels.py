"""Panels the actions app contributes to other apps' pages (the workflow view)."""

import json
from datetime import timedelta

from django import template
from django.conf import settings
from django.utils import timezone

from accounts.permissions import is_verified_operator

from .. import forms, selectors

register = template.Library()


@register.inclusion_tag("actions/_workflow_panel.html", takes_context=True)
def action_panel(context, workflow):
    """The last action submitted for `workflow` (who, when, what) and, for verified operators,
    the submit form (`id="action-form"`; the clustering panel adds `similar` checkboxes to it)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    can_submit = is_verified_operator(user)
    panel = forms.form_context(workflow) if can_submit else {"last_action": selectors.last_action(workflow)}
    last = panel["last_action"]
    submithistory = settings.WWT["actions"]["submithistory"]
    panel.update(
        {
            "request": request,
            "csrf_token": context.get("csrf_token"),
            "can_submit": can_submit,
            "submithistory": submithistory,
            "recent": bool(last and last.submitted_at >= timezone.now() - timedelta(days=submithistory)),
            "last_parameters": json.dumps(last.parameters, indent=2, sort_keys=True) if last else "",
        }
    )
    return panel
