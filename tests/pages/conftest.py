from tests.workflows.fake_sources import empty_cache, fake_sources  # noqa: F401 -- fixtures
