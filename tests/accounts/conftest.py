import pytest
from django.core.cache import cache

WEBMASTER = {"name": "WWT test webmaster", "email": "webmaster@example.org"}


@pytest.fixture(autouse=True)
def accounts_config(settings):
    """A known sign-up policy, and fresh allauth rate-limit counters (they live in the cache)."""
    settings.WWT = {
        **settings.WWT,
        "webmaster": dict(WEBMASTER),
        "accounts": {"allowed_domains": ["cern.ch", "example.org"], "whitelisted_emails": ["Guest@Fnal.gov"]},
    }
    cache.clear()
    yield settings.WWT
    cache.clear()
