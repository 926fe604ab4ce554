"""Log samples are fetched in the background: pages read what is stored, with its age, or
say "fetching…"; a verified operator may queue a fetch; the refresh job fetches the samples
of the biggest cells."""

import json

import pytest
from django.core.management import call_command
from kombu.exceptions import OperationalError as BrokerError

from errors import caches, ingestion, log_samples, tasks
from errors.models import LogSample
from tests.errors.conftest import load_document
from tests.workflows.fake_sources import STEP, WORKFLOW, closed_port_url, configure, jobdetail_answer
from workflows.models import Workflow

OTHER = "pdmvserv_task_TOP-Run3Summer22EEGS-00002__v1_T_240116_123456_3333"
OTHER_STEP = f"/{OTHER}/TOP_0"


@pytest.fixture
def wmstats(settings, tmp_path, fake_sources, empty_cache, db):
    """WORKFLOW with two cells (WMStats knows its samples) and a smaller OTHER workflow."""
    load_document(
        tmp_path,
        {
            STEP: {"84": {"T2_CH_CERN": 30}, "50660": {"T1_US_FNAL": 20}},
            OTHER_STEP: {"8001": {"T2_US_MIT": 5}},
        },
    )
    fake_sources.routes[f"/wmstatsserver/data/jobdetail/{WORKFLOW}"] = (200, jobdetail_answer())
    configure(settings, wmstats=fake_sources.url)
    return fake_sources


@pytest.fixture
def sent(monkeypatch):
    """The workflows whose fetch was handed to the task queue (nothing runs)."""
    names: list[str] = []
    monkeypatch.setattr(tasks.fetch_log_samples, "delay", names.append)
    return names


def workflow(name=WORKFLOW) -> Workflow:
    return Workflow.objects.get(name=name)


def no_outside_call(*args, **kwargs):
    raise AssertionError("a page asked an outside source")


def test_a_page_view_never_asks_wmstats(client, wmstats, monkeypatch):
    monkeypatch.setattr("workflows.sources.get_json", no_outside_call)
    monkeypatch.setattr("workflows.sources.fetch_job_detail", no_outside_call)
    response = client.get("/explainerror", {"errorcode": 84, "workflowstep": STEP})
    assert response.status_code == 200
    assert response.context["samples"].status == log_samples.NONE_STORED
    assert wmstats.requests == []


def test_the_state_goes_from_none_to_queued_to_fresh_and_a_second_queue_sends_nothing(
    wmstats, sent, django_capture_on_commit_callbacks
):
    assert log_samples.log_samples_state(workflow()).status == log_samples.NONE_STORED
    with django_capture_on_commit_callbacks(execute=True):
        assert log_samples.queue_log_samples(workflow()) == ""
        assert log_samples.queue_log_samples(workflow()) == ""  # already queued: not sent again
    assert sent == [WORKFLOW]
    state = log_samples.log_samples_state(workflow())
    assert state.status == log_samples.QUEUED and state.busy and not state.worth_queueing
    assert wmstats.requests == []  # queueing asks nobody

    assert log_samples.fetch_log_samples(WORKFLOW) == {"workflow": WORKFLOW, "stored": 2, "problem": ""}
    state = log_samples.log_samples_state(workflow())
    assert state.status == log_samples.FRESH and state.fetched_at and state.age.total_seconds() < 60
    assert LogSample.objects.count() == 2


def test_nothing_is_sent_before_the_request_s_transaction_commits(
    wmstats, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        log_samples.queue_log_samples(workflow())
    assert sent == [] and len(callbacks) == 1


def test_a_failed_fetch_is_shown_and_may_be_queued_again(settings, wmstats):
    configure(settings, wmstats=closed_port_url())
    result = log_samples.fetch_log_samples(WORKFLOW)
    assert result["stored"] == 0 and "unreachable" in result["problem"]
    state = log_samples.log_samples_state(workflow())
    assert state.status == log_samples.FAILED and "unreachable" in state.problem and state.worth_queueing


def test_samples_stored_long_ago_are_stale_after_the_sources_are_retired(wmstats):
    log_samples.fetch_log_samples(WORKFLOW)
    caches.refresh_source_caches()  # what /resetcache and the refresh job do first
    assert log_samples.log_samples_state(workflow()).status == log_samples.STALE


def test_without_wmstats_nothing_is_queued_and_the_page_says_why(settings, wmstats, sent):
    configure(settings, wmstats=None)
    assert "not configured" in log_samples.queue_log_samples(workflow())
    assert log_samples.log_samples_state(workflow()).status == log_samples.NOT_CONFIGURED
    assert sent == []


@pytest.mark.django_db(transaction=True)
def test_a_broker_that_is_down_is_said_and_leaves_no_queued_mark(
    settings, tmp_path, monkeypatch, empty_cache
):
    load_document(tmp_path, {STEP: {"84": {"T2_CH_CERN": 3}}})
    configure(settings, wmstats=closed_port_url())

    def refused(name):
        raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.fetch_log_samples, "delay", refused)
    problem = log_samples.queue_log_samples(workflow())
    assert problem.startswith("Log samples could not be queued: The task queue (Redis) is unreachable")
    assert log_samples.log_samples_state(workflow()).status == log_samples.NONE_STORED


def test_the_refresh_fetches_the_samples_of_the_biggest_cells_workflows(settings, wmstats):
    assert [w.name for w in log_samples.top_cells_workflows(2)] == [WORKFLOW, OTHER]
    assert [w.name for w in log_samples.top_cells_workflows(1)] == [WORKFLOW]
    settings.WWT = {**settings.WWT, "cache": {**settings.WWT["cache"], "log_samples_per_refresh": 1}}
    assert log_samples.fetch_top_cells_samples() == {"fetched": 1, "skipped": 0, "failed": 0, "problem": ""}
    assert [r["path"] for r in wmstats.requests] == [f"/wmstatsserver/data/jobdetail/{WORKFLOW}"]
    # Fetched within the cache period: the next refresh does not ask again.
    assert log_samples.fetch_top_cells_samples()["skipped"] == 1
    assert len(wmstats.requests) == 1


def test_the_refresh_stops_at_the_first_failure_of_wmstats(settings, wmstats):
    configure(settings, wmstats=closed_port_url())
    report = log_samples.fetch_top_cells_samples(limit=2)
    assert report["fetched"] == 0 and report["failed"] == 1 and "unreachable" in report["problem"]


def test_the_scheduled_job_and_ingest_errors_run_the_same_refresh(settings, tmp_path, wmstats, monkeypatch):
    path = tmp_path / "all_errors.json"
    path.write_text(json.dumps({STEP: {"84": {"T2_CH_CERN": 4}}}))
    summary = tasks.refresh_errors.delay(str(path)).get()
    assert summary["cells"] == 1 and summary["log_samples"]["fetched"] == 1
    assert set(summary) >= {"reqmgr2", "log_samples", "summary_line"}
    assert LogSample.objects.count() == 2

    ran = []
    real = ingestion.refresh_current_errors
    monkeypatch.setattr(ingestion, "refresh_current_errors", lambda *a, **k: ran.append(a) or real(*a, **k))
    call_command("ingest_errors", str(path), "--no-progress")
    tasks.refresh_errors.delay(str(path)).get()
    assert ran == [(str(path),), (str(path),)]
