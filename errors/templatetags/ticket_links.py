"""The "link for a ticket" of the error pages: pins the snapshot a page shows (errors/pinning.py)."""

from django import template

from accounts.permissions import is_verified_operator

from ..selectors.snapshot import PINNED_DAYS

register = template.Library()


@register.inclusion_tag("errors/_ticket_link.html", takes_context=True)
def ticket_link(context, snapshot, pin: bool = True):
    """A pinned page says so and links to the current errors; otherwise a button that pins
    `snapshot` (a POST; `pin=False`: a plain link, for pages read from the kept history)."""
    request = context["request"]
    query = request.GET.copy()
    query.pop("snapshot", None)
    current = f"{request.path}?{query.urlencode()}" if query else request.path
    query["snapshot"] = str(snapshot.id) if snapshot and snapshot.id else ""
    return {
        "snapshot": snapshot,
        "pin": pin,
        # Pinning stores rows: verified operators only (the others are told how).
        "may_pin": is_verified_operator(request.user),
        "days": PINNED_DAYS,
        "here": request.get_full_path(),
        "current_url": current,
        "pinned_url": f"{request.path}?{query.urlencode()}",
        "csrf_token": context.get("csrf_token"),
    }
