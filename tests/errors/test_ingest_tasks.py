"""The Celery tasks around ingestion, run eagerly: what they retry, what they refresh, what
they append. (A real worker runs them in test_embedded_jobs and test_ingest_services.)"""

import json

import pytest

from errors import history, ingestion, tasks
from errors.models import ErrorCount, ErrorHistory, ErrorImport
from tests.errors.conftest import SMALL_DOCUMENT, A, load_document
from tests.workflows.fake_sources import closed_port_url, configure
from workflows import selectors as workflow_selectors
from wwt_project.locks import job_lock

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def failures_as_results():
    """Run tasks as a worker would: a failure (and each retry) is the task's state, not an
    exception in the caller; eager retries run at once."""
    from wwt_project.celery import app

    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = True


def document_path(tmp_path) -> str:
    path = tmp_path / "all_errors.json"
    path.write_text(json.dumps(SMALL_DOCUMENT))
    return str(path)


def failed_with(result, error: type, message: str) -> bool:
    return result.state == "FAILURE" and isinstance(result.result, error) and message in str(result.result)


@pytest.fixture
def ingestions(monkeypatch):
    """Every call of ingestion.ingest_current_errors, in order (the calls still run)."""
    calls = []
    real = ingestion.ingest_current_errors

    def counted(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(ingestion, "ingest_current_errors", counted)
    return calls


def test_no_configured_source_fails_at_once_with_its_message(settings, ingestions):
    configure(settings, all_errors=None)
    result = tasks.refresh_errors.apply()
    assert failed_with(result, ingestion.IngestError, "sources.all_errors is not set")
    assert len(ingestions) == 1


def test_an_invalid_document_fails_at_once(tmp_path, ingestions):
    path = tmp_path / "all_errors.json"
    path.write_text("{not json")
    result = tasks.refresh_errors.apply(args=[str(path)])
    assert failed_with(result, ingestion.IngestError, "is not valid JSON")
    assert len(ingestions) == 1


def test_a_source_that_does_not_answer_is_retried(ingestions):
    result = tasks.refresh_errors.apply(args=[f"{closed_port_url()}/all_errors.json"])
    assert failed_with(result, ingestion.IngestBusy, "unreachable")
    assert len(ingestions) == 1 + tasks.refresh_errors.max_retries


@pytest.mark.parametrize(("status", "retried"), [(503, True), (502, True), (404, False), (403, False)])
def test_a_server_error_is_retried_a_missing_document_is_not(fake_sources, ingestions, status, retried):
    fake_sources.routes["/all_errors.json"] = (status, {"error": "nope"})
    result = tasks.refresh_errors.apply(args=[f"{fake_sources.url}/all_errors.json"])
    assert failed_with(result, ingestion.IngestBusy if retried else ingestion.IngestError, f"HTTP {status}")
    assert len(ingestions) == (1 + tasks.refresh_errors.max_retries if retried else 1)


def test_an_ingestion_holding_the_lock_makes_the_refresh_retry(tmp_path, ingestions):
    with job_lock(ingestion.LOCK_NAME):
        result = tasks.refresh_errors.apply(args=[document_path(tmp_path)])
        assert failed_with(result, ingestion.IngestBusy, "another ingestion is running")
    assert len(ingestions) == 1 + tasks.refresh_errors.max_retries
    assert not ErrorCount.objects.exists()


def test_source_caches_are_renewed_even_when_the_error_source_is_down(empty_cache):
    before = workflow_selectors.source_cache_key("reqmgr2", A)
    result = tasks.refresh_errors.apply(args=[f"{closed_port_url()}/all_errors.json"])
    assert failed_with(result, ingestion.IngestBusy, "unreachable")
    assert workflow_selectors.source_cache_key("reqmgr2", A) != before


def test_source_caches_are_renewed_when_no_error_source_is_configured(settings, empty_cache):
    configure(settings, all_errors=None)
    before = workflow_selectors.source_cache_key("acdc", A)
    assert failed_with(tasks.refresh_errors.apply(), ingestion.IngestError, "not set")
    assert workflow_selectors.source_cache_key("acdc", A) != before


def test_the_hourly_history_task_appends_the_current_snapshot_once(tmp_path):
    load_document(tmp_path, SMALL_DOCUMENT)

    [summary] = tasks.update_history.apply().get()
    [again] = tasks.update_history.apply().get()

    assert summary["source"] == "current snapshot" and summary["created"] == 6
    assert ErrorHistory.objects.count() == 6
    assert sorted(ErrorHistory.objects.values_list("site", "count")) == sorted(
        ErrorCount.objects.values_list("site", "count")
    )
    assert again["created"] == 0 and ErrorHistory.objects.count() == 6
    assert ErrorImport.objects.filter(kind="history").count() == 2


def test_the_history_task_retries_while_another_ingestion_runs(tmp_path, monkeypatch):
    load_document(tmp_path, SMALL_DOCUMENT)
    calls = []
    real = history.update_history
    monkeypatch.setattr(history, "update_history", lambda *a, **k: calls.append(a) or real(*a, **k))
    with job_lock(ingestion.LOCK_NAME):
        result = tasks.update_history.apply()
        assert failed_with(result, ingestion.IngestBusy, "another ingestion is running")
    assert len(calls) == 1 + tasks.update_history.max_retries
    assert not ErrorHistory.objects.exists()
