"""Ingestion of all_errors documents into the current snapshot (runs on SQLite and PostgreSQL)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from errors import services
from errors.models import ErrorCount, ErrorHistory, ErrorImport
from workflows.models import Step, Workflow

pytestmark = [pytest.mark.django_db, pytest.mark.pg_too]

ORIGINAL = "pdmvserv_task_HIG-RunIISummer20UL18wmLHEGEN-00123__v1_T_240115_123456_1234"
ACDC = "cmsunified_ACDC0_task_HIG-RunIISummer20UL18wmLHEGEN-00123__v1_T_240120_101010_4321"
OTHER = "pdmvserv_task_TOP-Run3Summer22EEGS-00042__v1_T_240201_000000_1111"

SMALL = {
    f"/{ORIGINAL}/HIG-RunIISummer20UL18wmLHEGEN-00123_0": {
        "50660": {"T2_CH_CERN": 12, "T1_US_FNAL": 3},
        "8028": {"T2_CH_CERN": 1},
    },
    f"/{ORIGINAL}/HIG-RunIISummer20UL18wmLHEGEN-00123_0/HIG-RunIISummer20UL18wmLHEGEN-00123_0MergeRAWSIMoutput": {
        "73": {"T1_US_FNAL": 2, "T2_DE_DESY": 0},
    },
    f"/{ACDC}/HIG-RunIISummer20UL18wmLHEGEN-00123_0": {"50660": {"T1_US_FNAL": 4}},
    f"/{OTHER}/TOP-Run3Summer22EEGS-00042_0": {"8001": {"T2_US_MIT": 7}},
}


def write(tmp_path, document, name="all_errors.json"):
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return str(path)


def snapshot():
    return sorted(ErrorCount.objects.values_list("step__name", "exit_code", "site", "count"))


def test_small_file_is_stored_cell_by_cell(tmp_path):
    report = services.ingest_current_errors(write(tmp_path, SMALL))

    assert report.cells == 6  # the zero count is not stored
    assert report.steps == 4 and report.workflows == 3 and report.bad_entries == 0
    assert ErrorCount.objects.count() == 6
    first_step = f"/{ORIGINAL}/HIG-RunIISummer20UL18wmLHEGEN-00123_0"
    assert (first_step, 50660, "T2_CH_CERN", 12) in snapshot()
    assert not ErrorCount.objects.filter(site="T2_DE_DESY").exists()
    assert Step.objects.count() == 4


def test_workflows_get_prep_id_campaign_and_acdc_link(tmp_path):
    services.ingest_current_errors(write(tmp_path, SMALL))

    original = Workflow.objects.get(name=ORIGINAL)
    acdc = Workflow.objects.get(name=ACDC)
    assert original.prep_id == "HIG-RunIISummer20UL18wmLHEGEN-00123"
    assert original.campaign == "RunIISummer20UL18wmLHEGEN"
    assert not original.is_acdc
    assert acdc.is_acdc and acdc.original == original
    assert Workflow.objects.get(name=OTHER).original is None


def test_the_same_file_twice_changes_nothing(tmp_path):
    path = write(tmp_path, SMALL)
    services.ingest_current_errors(path)
    before = list(ErrorCount.objects.order_by("pk").values_list("pk", "count"))

    report = services.ingest_current_errors(path)

    assert (report.created, report.updated, report.deleted) == (0, 0, 0)
    assert list(ErrorCount.objects.order_by("pk").values_list("pk", "count")) == before


def test_a_new_document_replaces_the_snapshot(tmp_path):
    services.ingest_current_errors(write(tmp_path, SMALL))
    step = f"/{OTHER}/TOP-Run3Summer22EEGS-00042_0"
    newer = {step: {"8001": {"T2_US_MIT": 9}, "134": {"T2_US_MIT": 1}}}

    report = services.ingest_current_errors(write(tmp_path, newer, "newer.json"))

    assert snapshot() == [(step, 134, "T2_US_MIT", 1), (step, 8001, "T2_US_MIT", 9)]
    assert (report.created, report.updated, report.deleted) == (1, 1, 5)
    assert Workflow.objects.count() == 3  # workflows are kept for the history


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "is not valid JSON"),
        ("[1, 2, 3]", "must be a JSON object"),
        ("", "is not valid JSON"),
    ],
)
def test_unusable_document_aborts_and_changes_nothing(tmp_path, text, message):
    services.ingest_current_errors(write(tmp_path, SMALL))
    before, imports = snapshot(), ErrorImport.objects.count()

    with pytest.raises(services.IngestError, match=message):
        services.ingest_current_errors(write(tmp_path, text, "bad.json"))

    assert snapshot() == before
    assert ErrorImport.objects.count() == imports


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(services.IngestError, match="cannot read error document"):
        services.ingest_current_errors(str(tmp_path / "nowhere.json"))


def test_bad_entries_are_skipped_and_reported(tmp_path):
    step = f"/{OTHER}/TOP-Run3Summer22EEGS-00042_0"
    document = {
        step: {
            "8001": {
                "T2_US_MIT": 7,
                "T2_US_UCSD": -2,
                "T2_US_Purdue": "5",
                "T1_US_FNAL": 1.5,
                "T2_CH_CERN": True,
            },
            "NotReported": {"T2_US_MIT": 3},
            "134": ["T2_US_MIT"],
        },
        "no-leading-slash/task": {"8001": {"T2_US_MIT": 1}},
        f"/{ORIGINAL}": {"8001": {"T2_US_MIT": 1}},
        f"/{ORIGINAL}/Task": "not an object",
    }

    report = services.ingest_current_errors(write(tmp_path, document))

    assert snapshot() == [(step, 8001, "T2_US_MIT", 7)]
    assert report.bad_entries == 9
    examples = " | ".join(report.bad_examples)
    assert "negative count -2" in examples
    assert "count '5' is not an integer" in examples
    assert "exit code 'NotReported' is not an integer" in examples
    assert "not a path /<workflow>/<task>" in examples
    stored = ErrorImport.objects.get()
    assert stored.bad_entries == 9 and stored.bad_examples[:2] == report.bad_examples[:2]


class _AllErrorsHandler(BaseHTTPRequestHandler):
    body = b"{}"
    status = 200

    def do_GET(self):  # noqa: N802 (http.server's API)
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def error_server():
    server = HTTPServer(("127.0.0.1", 0), _AllErrorsHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_url_source_is_read_over_http(error_server):
    _AllErrorsHandler.body, _AllErrorsHandler.status = json.dumps(SMALL).encode(), 200
    url = f"http://127.0.0.1:{error_server.server_port}/all_errors.json"

    report = services.ingest_current_errors(url)

    assert report.cells == 6 and ErrorCount.objects.count() == 6
    assert ErrorImport.objects.get().source == url


def test_url_source_answering_an_error_changes_nothing(error_server):
    _AllErrorsHandler.body, _AllErrorsHandler.status = b"down for maintenance", 503
    url = f"http://127.0.0.1:{error_server.server_port}/all_errors.json"

    with pytest.raises(services.IngestError, match="answered HTTP 503"):
        services.ingest_current_errors(url)
    assert not ErrorCount.objects.exists()


def test_unreachable_url_is_a_clear_error():
    with pytest.raises(services.IngestError, match="unreachable"):
        services.ingest_current_errors("http://127.0.0.1:9/all_errors.json")


def test_failure_midway_leaves_the_previous_snapshot(tmp_path, monkeypatch):
    services.ingest_current_errors(write(tmp_path, SMALL))
    before = snapshot()

    def explode(report, started_at):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_record", explode)
    newer = {f"/{OTHER}/TOP-Run3Summer22EEGS-00042_0": {"8001": {"T2_US_MIT": 99}}}
    with pytest.raises(RuntimeError):
        services.ingest_current_errors(write(tmp_path, newer, "newer.json"))

    assert snapshot() == before


def test_ingest_errors_command_prints_a_summary(tmp_path):
    out = StringIO()
    call_command("ingest_errors", write(tmp_path, SMALL), "--no-progress", stdout=out, stderr=StringIO())
    assert "6 cells in 4 steps of 3 workflows (6 new, 0 changed, 0 removed)" in out.getvalue()


def test_ingest_errors_command_fails_cleanly_on_bad_input(tmp_path):
    with pytest.raises(CommandError, match="is not valid JSON"):
        call_command("ingest_errors", write(tmp_path, "{", "bad.json"), "--no-progress", stderr=StringIO())
    assert not ErrorHistory.objects.exists() and not ErrorCount.objects.exists()


def test_configured_source_is_the_default(tmp_path, settings):
    settings.WWT = {
        **settings.WWT,
        "sources": {**settings.WWT["sources"], "all_errors": write(tmp_path, SMALL)},
    }
    assert services.ingest_current_errors().cells == 6


def test_no_source_at_all_is_a_clear_error(settings):
    settings.WWT = {**settings.WWT, "sources": {**settings.WWT["sources"], "all_errors": None}}
    with pytest.raises(services.IngestError, match="sources.all_errors is not set"):
        services.ingest_current_errors()
