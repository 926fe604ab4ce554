"""The log search /showlog (workflows.views)."""

import json

import pytest

from errors import demo
from errors.ingestion import ingest_current_errors
from tests.workflows.fake_sources import WORKFLOW, closed_port_url, configure, logs_answer

pytestmark = pytest.mark.pg_too


def ingest(tmp_path, document, name="errors.json"):
    path = tmp_path / name
    path.write_text(json.dumps(document))
    ingest_current_errors(str(path))


@pytest.mark.django_db
def test_log_search_lists_messages_newest_first_escaped(client, settings, fake_sources):
    fake_sources.routes["/wmarchive-*/_search"] = (200, logs_answer())
    configure(settings, logs=fake_sources.url)
    html = client.get(
        "/showlog", {"search": WORKFLOW, "module": "unified.assistor", "limit": 1}
    ).content.decode()
    assert "2 matching messages" in html and "page 1 of 2" in html
    assert "needs &lt;b&gt;ACDC&lt;/b&gt;" in html
    assert html.index("2026-11-25T10:00:00Z") < html.index("2026-11-25T09:00:00Z")
    assert "older ›" in html
    sent = fake_sources.requests[0]["body"]
    assert sent["size"] == 1 and sent["query"]["bool"]["must"][0]["query_string"]["query"] == WORKFLOW


@pytest.mark.django_db
def test_log_search_without_a_log_server_says_so(client, settings):
    configure(settings, logs=None)
    html = client.get("/showlog").content.decode()
    assert "sources.logs is not configured" in html
    configure(settings, logs=closed_port_url())
    response = client.get("/showlog", {"search": "x"})
    assert response.status_code == 200
    assert "The log server could not be searched" in response.content.decode()


def many_logs_answer(n: int) -> dict:
    hits = [
        {
            "_source": {
                "timestamp": f"2026-11-25T10:{i // 60:02d}:{i % 60:02d}Z",
                "module": "m",
                "message": str(i),
            }
        }
        for i in range(n)
    ]
    return {"hits": {"total": {"value": n, "relation": "eq"}, "hits": hits}}


@pytest.mark.django_db
def test_log_search_queries_do_not_grow_with_the_hits(
    client, settings, fake_sources, tmp_path, django_assert_max_num_queries
):
    configure(settings, logs=fake_sources.url)
    for n_workflows, hits in ((5, 3), (60, 300)):
        ingest(tmp_path, demo.generate_error_document(n_workflows, seed=3), f"{n_workflows}.json")
        fake_sources.routes["/wmarchive-*/_search"] = (200, many_logs_answer(hits))
        with django_assert_max_num_queries(1):  # the last refresh, for the layout
            response = client.get("/showlog", {"search": "x", "limit": 500})
        assert response.status_code == 200
        assert f"{hits} matching messages" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["limit=0", "limit=abc", "limit=100000", "page=-1"])
def test_log_search_bad_limits_are_400(client, query):
    assert client.get(f"/showlog?{query}").status_code == 400
