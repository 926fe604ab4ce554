"""Named sets of workflows that an app above knows and an app beside it may filter by.

The error pages filter "only workflows without a pending action", but errors may not import
actions (tests/test_layers.py). So actions names the set here at start-up (its AppConfig.ready)
and errors asks for it by name: both import only this bottom layer. A set is a queryset of
workflow ids, used as a subquery, never loaded row by row.
"""

from collections.abc import Callable

from django.db.models import QuerySet

PENDING_ACTION = "pending action"

# Filled once per process by AppConfig.ready, the same in every process (like Django's own
# app and admin registries); never changed while serving.
_PROVIDERS: dict[str, Callable[[], QuerySet]] = {}


def provide(name: str, workflow_ids: Callable[[], QuerySet]) -> None:
    """Register the set `name`: `workflow_ids()` returns a queryset of Workflow ids."""
    _PROVIDERS[name] = workflow_ids


def workflow_ids(name: str) -> QuerySet:
    """The queryset of the workflow ids in the set `name`; LookupError when no app gives it."""
    try:
        provider = _PROVIDERS[name]
    except KeyError:
        raise LookupError(f"no installed app gives the workflow set {name!r}") from None
    return provider()
