from .selectors import snapshot


def last_refresh(request):
    """The time of the last data refresh, for the base layout (one query, lazily)."""
    return {"last_refresh": snapshot.last_refresh}
