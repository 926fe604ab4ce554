from . import selectors


def last_refresh(request):
    """The time of the last data refresh, for the base layout (one query, lazily)."""
    return {"last_refresh": selectors.last_refresh}
