"""The OpenAPI schema says what the endpoints do (fuzzers and clients are generated from it)."""

import pytest

from actions.selectors import MAX_DAYS

pytestmark = pytest.mark.django_db


@pytest.fixture
def paths(client):
    return client.get("/api/schema/?format=json").json()["paths"]


@pytest.mark.parametrize("path", ["/getaction", "/api/getaction"])
def test_getaction_s_errors_are_plain_text_and_days_is_bounded(paths, path):
    operation = paths[path]["get"]
    for status in ("400", "403", "503"):
        assert set(operation["responses"][status]["content"]) == {"text/plain"}, status
    assert set(operation["responses"]["200"]["content"]) == {"application/json"}
    days = next(p for p in operation["parameters"] if p["name"] == "days")["schema"]
    assert days["minimum"] == 0 and days["maximum"] == MAX_DAYS


@pytest.mark.parametrize("path", ["/reportaction", "/api/reportaction"])
def test_reportaction_s_request_body_is_documented(paths, path):
    operation = paths[path]["post"]
    body = operation["requestBody"]["content"]
    assert set(body) == {"application/json"}
    assert {"200", "400", "503"} <= set(operation["responses"])


def test_the_action_api_is_json_only(paths):
    operation = paths["/api/actions/"]["post"]
    assert set(operation["requestBody"]["content"]) == {"application/json"}
    for status, response in operation["responses"].items():
        assert set(response.get("content", {"application/json": 0})) == {"application/json"}, status
