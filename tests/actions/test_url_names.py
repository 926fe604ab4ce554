"""Namespaced URL names of actions/, clustering/ and accounts/ reverse to the original paths
(bookmarks and Unified's client keep working), and the pages link by those names."""

import pytest
from django.urls import reverse


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("actions:getaction", "/getaction"),
        ("actions:reportaction", "/reportaction"),
        ("actions:api-getaction", "/api/getaction"),
        ("actions:api-reportaction", "/api/reportaction"),
        ("actions:api-actions", "/api/actions/"),
        ("actions:api-schema", "/api/schema/"),
        ("actions:api-docs", "/api/docs/"),
        ("actions:api-docs-script", "/api/docs/redoc.standalone.js"),
        ("actions:submit", "/submitaction"),
        ("actions:list", "/actions/"),
        ("actions:seeworkflow2", "/seeworkflow2"),
        ("clustering:cluster", "/cluster"),
        ("clustering:projection", "/cluster/projection.svg"),
        ("accounts:old_newuser", "/newuser"),
        ("accounts:old_resetpassword", "/resetpassword"),
        ("accounts:old_confirmuser", "/confirmuser"),
    ],
)
def test_each_name_reverses_to_the_original_path(name, path):
    assert reverse(name) == path


@pytest.mark.django_db
def test_the_api_docs_page_links_the_schema_and_script_by_name(client):
    page = client.get("/api/docs/").content.decode()
    assert 'href="/api/schema/"' in page and 'src="/api/docs/redoc.standalone.js"' in page
