"""The outside-source clients against a local HTTP server (never the real cmsweb)."""

import json

import pytest

from tests.workflows.fake_sources import (
    ACDC_VIEW,
    STEP,
    WORKFLOW,
    FakeSources,
    closed_port_url,
    configure,
    jobdetail_answer,
    logs_answer,
    reqmgr2_answer,
)
from workflows import selectors, services, sources
from workflows.models import Workflow


def test_reqmgr2_request_gives_the_parameters_we_use(settings, fake_sources):
    fake_sources.routes["/reqmgr2/data/request"] = (200, reqmgr2_answer())
    configure(settings, reqmgr2=fake_sources.url + "/")
    request = sources.fetch_request(WORKFLOW)
    assert fake_sources.requests[0]["query"] == {"name": [WORKFLOW]}
    assert request["request_type"] == "TaskChain"
    assert request["prep_id"] == "HIG-RunIISummer20UL18wmLHEGEN-00123"
    assert request["memory"] == 2300
    assert request["site_whitelist"] == ["T1_US_FNAL", "T2_CH_CERN"]
    assert request["tasks"] == [
        "HIG-RunIISummer20UL18wmLHEGEN-00123_0",
        "HIG-RunIISummer20UL18wmLHEGEN-00123_1",
    ]
    assert request["requested_at"].isoformat() == "2024-01-15T12:34:56+00:00"


def test_reqmgr2_not_knowing_the_workflow_is_a_source_error(settings, fake_sources):
    fake_sources.routes["/reqmgr2/data/request"] = (200, {"result": []})
    configure(settings, reqmgr2=fake_sources.url)
    with pytest.raises(sources.SourceError, match="does not know"):
        sources.fetch_request(WORKFLOW)


def test_job_detail_gives_log_samples_and_skips_bad_entries(settings, fake_sources):
    fake_sources.routes[f"/wmstatsserver/data/jobdetail/{WORKFLOW}"] = (200, jobdetail_answer())
    configure(settings, wmstats=fake_sources.url)
    samples = sources.fetch_job_detail(WORKFLOW)
    assert sorted((s.step, s.exit_code, s.site) for s in samples) == [
        (STEP, 84, "T2_CH_CERN"),
        (STEP, 50660, "T1_US_FNAL"),
    ]
    assert any("root://cms-xrd-global.cern.ch//store/mc/" in s.details for s in samples)


def test_job_detail_with_an_empty_result_is_no_samples(settings, fake_sources):
    fake_sources.routes[f"/wmstatsserver/data/jobdetail/{WORKFLOW}"] = (200, {"result": []})
    configure(settings, wmstats=fake_sources.url)
    assert sources.fetch_job_detail(WORKFLOW) == []


def test_log_search_sends_a_query_string_sorted_newest_first(settings, fake_sources):
    fake_sources.routes["/wmarchive-*/_search"] = (200, logs_answer())
    configure(settings, logs=fake_sources.url)
    total, entries = sources.search_logs("ACDC", module="unified.assistor", limit=20, offset=40)
    body = fake_sources.requests[0]["body"]
    assert body["query"]["bool"]["must"][0]["query_string"]["query"] == "ACDC"
    assert body["query"]["bool"]["filter"] == [{"term": {"module": "unified.assistor"}}]
    assert body["sort"] == [{"timestamp": {"order": "desc"}}]
    assert (body["size"], body["from"]) == (20, 40)
    assert total == 2
    assert entries[0].module == "unified.assistor"


def test_site_status_from_a_url_and_from_a_local_file(settings, fake_sources, tmp_path):
    fake_sources.routes["/status.json"] = (200, {"T1_US_FNAL": "enabled", "T2_CH_CERN": "drain"})
    configure(settings, site_status=fake_sources.url + "/status.json")
    assert sources.fetch_site_status() == {"T1_US_FNAL": "enabled", "T2_CH_CERN": "drain"}
    path = tmp_path / "site_status.json"
    path.write_text(json.dumps({"T2_US_MIT": "disabled"}))
    configure(settings, site_status=str(path))
    assert sources.fetch_site_status() == {"T2_US_MIT": "disabled"}


def test_a_source_that_is_down_gives_a_clear_error(settings):
    configure(settings, reqmgr2=closed_port_url())
    with pytest.raises(sources.SourceError, match="ReqMgr2 is unreachable") as down:
        sources.fetch_request(WORKFLOW)
    assert down.value.status is None


def test_a_source_that_does_not_answer_in_time_gives_a_clear_error(settings):
    with FakeSources() as slow:
        slow.delay_seconds = 1.0
        slow.routes["/reqmgr2/data/request"] = (200, reqmgr2_answer())
        configure(settings, reqmgr2=slow.url, timeout_seconds=0.2)
        with pytest.raises(sources.SourceError, match="did not answer in time"):
            sources.fetch_request(WORKFLOW)


def test_a_source_answering_html_or_an_error_status_is_a_source_error(settings, fake_sources):
    fake_sources.routes["/reqmgr2/data/request"] = (200, b"<html>login</html>")
    configure(settings, reqmgr2=fake_sources.url)
    with pytest.raises(sources.SourceError, match="valid JSON") as invalid:
        sources.fetch_request(WORKFLOW)
    assert invalid.value.status is None  # it answered 200
    fake_sources.routes["/reqmgr2/data/request"] = (503, {"error": "busy"})
    with pytest.raises(sources.SourceError, match="HTTP 503") as busy:
        sources.fetch_request(WORKFLOW)
    # Callers read the status, not the message (ingestion retries a 5xx).
    assert busy.value.status == 503


# Stored answers: the refresh job asks, pages read (workflows.services, workflows.selectors) ---


@pytest.mark.django_db
def test_pages_read_what_the_refresh_stored_never_the_source(settings, fake_sources, empty_cache):
    fake_sources.routes["/reqmgr2/data/request"] = (200, reqmgr2_answer())
    configure(settings, reqmgr2=fake_sources.url)
    workflow = Workflow.objects.create(name=WORKFLOW)
    before = selectors.request_parameters(workflow)
    assert before.problem == "ReqMgr2 was not asked about this workflow yet"
    assert fake_sources.requests == []
    assert services.refresh_request_parameters([workflow.id]).updated == 1
    workflow.refresh_from_db()
    first = selectors.request_parameters(workflow)
    second = selectors.request_parameters(workflow)
    assert first.ok and second.value["memory"] == 2300 and first.extra["fetched_at"]
    assert len(fake_sources.requests) == 1  # the refresh's, none for the reads


@pytest.mark.django_db
def test_site_statuses_and_recovery_sites_never_raise_when_sources_are_down(settings, tmp_path, empty_cache):
    workflow = Workflow.objects.create(name=WORKFLOW)
    configure(settings, site_status=None, acdc=None)
    assert selectors.site_statuses() == {}
    assert selectors.recovery_sites(workflow) == {}
    assert selectors.site_status_answer().configured is False
    assert "not configured" in services.refresh_site_statuses().problem
    assert "not configured" in services.refresh_recovery_locations([workflow.id]).problem
    # A refresh that worked once, then one with the source down: the stored statuses stay.
    status_file = tmp_path / "status.json"
    status_file.write_text(json.dumps({"T2_CH_CERN": "drain"}))
    configure(settings, site_status=str(status_file), acdc=closed_port_url())
    assert services.refresh_site_statuses().updated == 1
    configure(settings, site_status=closed_port_url(), acdc=closed_port_url())
    assert "unreachable" in services.refresh_site_statuses().problem
    assert "unreachable" in services.refresh_recovery_locations([workflow.id]).problem
    answer = selectors.site_status_answer()
    assert answer.value == {"T2_CH_CERN": "drain"} and answer.extra["fetched_at"]
    workflow.refresh_from_db()
    assert selectors.recovery_sites(workflow) == {} and workflow.recovery_fetched_at is None


@pytest.mark.django_db
def test_no_status_stored_yet_is_said_not_hidden(settings, tmp_path):
    status_file = tmp_path / "status.json"
    status_file.write_text("{}")
    configure(settings, site_status=str(status_file))
    assert "no site status stored yet" in selectors.site_status_answer().problem


@pytest.mark.django_db
def test_a_down_source_changes_nothing_stored(settings, fake_sources, empty_cache):
    fake_sources.routes["/reqmgr2/data/request"] = (500, {"error": "down"})
    fake_sources.routes[ACDC_VIEW] = (503, {"error": "busy"})
    configure(settings, reqmgr2=fake_sources.url, acdc=fake_sources.url)
    workflow = Workflow.objects.create(name=WORKFLOW)
    assert "HTTP 500" in services.refresh_request_parameters([workflow.id]).problem
    assert "HTTP 503" in services.refresh_recovery_locations([workflow.id]).problem
    workflow.refresh_from_db()
    assert workflow.request_fetched_at is None and workflow.recovery_fetched_at is None
    assert selectors.request_parameters(workflow).problem == "ReqMgr2 was not asked about this workflow yet"


@pytest.mark.django_db
def test_recovery_locations_are_refreshed_least_recently_asked_first_and_bounded(settings, fake_sources):
    names = [f"{WORKFLOW}_{i}" for i in range(3)]
    fake_sources.routes[ACDC_VIEW] = lambda handler: (200, {"rows": []})
    configure(settings, acdc=fake_sources.url)
    workflows = [Workflow.objects.create(name=name) for name in names]
    ids = [w.id for w in workflows]
    assert services.refresh_recovery_locations(ids, limit=2).updated == 2
    asked = [request["query"]["key"][0] for request in fake_sources.requests]
    assert asked == [f'"{names[0]}"', f'"{names[1]}"']  # never asked: by name
    fake_sources.requests.clear()
    assert services.refresh_recovery_locations(ids, limit=2).updated == 2
    # The one never asked first, then the oldest answer.
    asked = [request["query"]["key"][0] for request in fake_sources.requests]
    assert asked == [f'"{names[2]}"', f'"{names[0]}"']
    stored = Workflow.objects.get(name=names[2])
    assert stored.recovery_locations == {} and stored.recovery_fetched_at is not None


@pytest.mark.django_db
def test_recovery_sites_from_the_acdc_server(settings, fake_sources, empty_cache):
    view = "/couchdb/acdcserver/_design/ACDC/_view/byCollectionName"
    fake_sources.routes[view] = (
        200,
        {
            "rows": [
                {
                    "doc": {
                        "fileset_name": STEP,
                        "files": {"/store/a.root": {"locations": ["T2_CH_CERN", "T1_US_FNAL"]}},
                    }
                },
                {"doc": {"fileset_name": STEP, "files": {"/store/b.root": {"locations": ["T2_CH_CERN"]}}}},
            ]
        },
    )
    configure(settings, acdc=fake_sources.url)
    workflow = Workflow.objects.create(name=WORKFLOW)
    assert services.refresh_recovery_locations([workflow.id]).updated == 1
    workflow.refresh_from_db()
    assert selectors.recovery_sites(workflow) == {STEP.split("/", 2)[2]: ["T1_US_FNAL", "T2_CH_CERN"]}
    assert fake_sources.requests[0]["query"]["key"] == [f'"{WORKFLOW}"']


# Certificates, timeouts and malformed answers ----------------------------------------------


@pytest.mark.parametrize("key", ["cert", "key", "ca_bundle"])
def test_a_configured_tls_file_that_does_not_exist_is_a_source_error_naming_it(
    settings, fake_sources, tmp_path, key
):
    fake_sources.routes["/reqmgr2/data/request"] = (200, reqmgr2_answer())
    real = tmp_path / "real.pem"
    real.write_text("not used: the missing file is found first")
    missing = str(tmp_path / "grid-security" / f"missing-{key}.pem")
    files = {"cert": str(real), "key": str(real), "ca_bundle": None, key: missing}
    configure(settings, reqmgr2=fake_sources.url, **files)
    with pytest.raises(sources.SourceError) as raised:
        sources.fetch_request(WORKFLOW)
    assert (
        str(raised.value)
        == f"ReqMgr2: the file {missing} named by sources.{key} in config.yml does not exist"
    )
    assert fake_sources.requests == []


def test_an_os_error_from_requests_is_a_source_error(settings, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("Could not find a suitable TLS CA certificate bundle, invalid path: /gone.pem")

    monkeypatch.setattr(sources.requests, "get", refuse)
    configure(settings, reqmgr2="https://cmsweb.example.org")
    with pytest.raises(sources.SourceError, match="ReqMgr2 cannot be asked .*invalid path: /gone.pem"):
        sources.fetch_request(WORKFLOW)


def test_sources_give_up_connecting_after_3_seconds_and_reading_after_10_by_default(settings, monkeypatch):
    from wwt_project.config import load_config

    asked = {}

    def record(url, **kwargs):
        asked.update(kwargs)
        raise sources.requests.ConnectionError("down")

    monkeypatch.setattr(sources.requests, "get", record)
    defaults = load_config(None)["sources"]
    assert defaults["timeout_seconds"] == 10
    configure(settings, reqmgr2="https://cmsweb.example.org", timeout_seconds=defaults["timeout_seconds"])
    with pytest.raises(sources.SourceError, match="unreachable"):
        sources.fetch_request(WORKFLOW)
    assert asked["timeout"] == (3.05, 10)
    configure(settings, timeout_seconds=0.2)  # a shorter read timeout shortens connecting too
    with pytest.raises(sources.SourceError):
        sources.fetch_request(WORKFLOW)
    assert asked["timeout"] == (0.2, 0.2)


@pytest.mark.django_db
def test_recovery_sites_skip_entries_in_an_unexpected_shape(settings, fake_sources, empty_cache):
    view = "/couchdb/acdcserver/_design/ACDC/_view/byCollectionName"
    fake_sources.routes[view] = (
        200,
        {
            "rows": [
                "not a row",
                None,
                {"doc": "not a doc"},
                {"doc": {"fileset_name": STEP, "files": ["not", "an", "object"]}},
                {"doc": {"fileset_name": STEP, "files": {"/store/a.root": "not an object"}}},
                {"doc": {"fileset_name": STEP, "files": {"/store/b.root": {"locations": "T2_CH_CERN"}}}},
                {"doc": {"fileset_name": STEP, "files": {"/store/c.root": {"locations": ["T1_US_FNAL", 7]}}}},
                {"doc": {"fileset_name": 12, "files": {}}},
            ]
        },
    )
    configure(settings, acdc=fake_sources.url)
    workflow = Workflow.objects.create(name=WORKFLOW)
    assert sources.fetch_recovery_sites(WORKFLOW) == {STEP.split("/", 2)[2]: ["T1_US_FNAL"]}
    services.refresh_recovery_locations([workflow.id])
    workflow.refresh_from_db()
    assert selectors.recovery_sites(workflow) == {STEP.split("/", 2)[2]: ["T1_US_FNAL"]}
    fake_sources.routes[view] = (200, {"rows": {"not": "a list"}})
    assert sources.fetch_recovery_sites(WORKFLOW) == {}
