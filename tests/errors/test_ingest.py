"""Ingestion of all_errors documents into the current snapshot (runs on SQLite and PostgreSQL)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from errors import history, ingestion
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
    report = ingestion.ingest_current_errors(write(tmp_path, SMALL))

    assert report.cells == 6  # the zero count is not stored
    assert report.steps == 4 and report.workflows == 3 and report.bad_entries == 0
    assert ErrorCount.objects.count() == 6
    first_step = f"/{ORIGINAL}/HIG-RunIISummer20UL18wmLHEGEN-00123_0"
    assert (first_step, 50660, "T2_CH_CERN", 12) in snapshot()
    assert not ErrorCount.objects.filter(site="T2_DE_DESY").exists()
    assert Step.objects.count() == 4


def test_workflows_get_prep_id_campaign_and_acdc_link(tmp_path):
    ingestion.ingest_current_errors(write(tmp_path, SMALL))

    original = Workflow.objects.get(name=ORIGINAL)
    acdc = Workflow.objects.get(name=ACDC)
    assert original.prep_id == "HIG-RunIISummer20UL18wmLHEGEN-00123"
    assert original.campaign == "RunIISummer20UL18wmLHEGEN"
    assert not original.is_acdc
    assert acdc.is_acdc and acdc.original == original
    assert Workflow.objects.get(name=OTHER).original is None


def test_the_same_file_twice_changes_nothing(tmp_path):
    path = write(tmp_path, SMALL)
    ingestion.ingest_current_errors(path)
    before = list(ErrorCount.objects.order_by("pk").values_list("pk", "count"))

    report = ingestion.ingest_current_errors(path)

    assert (report.created, report.updated, report.deleted) == (0, 0, 0)
    assert list(ErrorCount.objects.order_by("pk").values_list("pk", "count")) == before


def test_a_new_document_replaces_the_snapshot(tmp_path):
    ingestion.ingest_current_errors(write(tmp_path, SMALL))
    step = f"/{OTHER}/TOP-Run3Summer22EEGS-00042_0"
    newer = {step: {"8001": {"T2_US_MIT": 9}, "134": {"T2_US_MIT": 1}}}

    report = ingestion.ingest_current_errors(write(tmp_path, newer, "newer.json"))

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
    ingestion.ingest_current_errors(write(tmp_path, SMALL))
    before, imports = snapshot(), ErrorImport.objects.count()

    with pytest.raises(ingestion.IngestError, match=message):
        ingestion.ingest_current_errors(write(tmp_path, text, "bad.json"))

    assert snapshot() == before
    assert ErrorImport.objects.count() == imports


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ingestion.IngestError, match="cannot read error document"):
        ingestion.ingest_current_errors(str(tmp_path / "nowhere.json"))


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
            "Unknown": {"T2_US_MIT": 3},  # NotReported is a real code (-1); this is none
            "134": ["T2_US_MIT"],
        },
        "no-leading-slash/task": {"8001": {"T2_US_MIT": 1}},
        f"/{ORIGINAL}": {"8001": {"T2_US_MIT": 1}},
        f"/{ORIGINAL}/Task": "not an object",
    }

    report = ingestion.ingest_current_errors(write(tmp_path, document))

    assert snapshot() == [(step, 8001, "T2_US_MIT", 7)]
    assert report.bad_entries == 9
    examples = " | ".join(report.bad_examples)
    assert "negative count -2" in examples
    assert "count '5' is not an integer" in examples
    assert "exit code 'Unknown' is not an integer or NotReported" in examples
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

    report = ingestion.ingest_current_errors(url)

    assert report.cells == 6 and ErrorCount.objects.count() == 6
    assert ErrorImport.objects.get().source == url


def test_url_source_answering_an_error_changes_nothing(error_server):
    _AllErrorsHandler.body, _AllErrorsHandler.status = b"down for maintenance", 503
    url = f"http://127.0.0.1:{error_server.server_port}/all_errors.json"

    with pytest.raises(ingestion.IngestError, match="answered HTTP 503"):
        ingestion.ingest_current_errors(url)
    assert not ErrorCount.objects.exists()


def test_unreachable_url_is_a_clear_error():
    with pytest.raises(ingestion.IngestError, match="unreachable"):
        ingestion.ingest_current_errors("http://127.0.0.1:9/all_errors.json")


def test_failure_midway_leaves_the_previous_snapshot(tmp_path, monkeypatch):
    ingestion.ingest_current_errors(write(tmp_path, SMALL))
    before = snapshot()

    def explode(report, started_at):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ingestion, "record_import", explode)
    newer = {f"/{OTHER}/TOP-Run3Summer22EEGS-00042_0": {"8001": {"T2_US_MIT": 99}}}
    with pytest.raises(RuntimeError):
        ingestion.ingest_current_errors(write(tmp_path, newer, "newer.json"))

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
    assert ingestion.ingest_current_errors().cells == 6


def test_no_source_at_all_is_a_clear_error(settings):
    settings.WWT = {**settings.WWT, "sources": {**settings.WWT["sources"], "all_errors": None}}
    with pytest.raises(ingestion.IngestError, match="sources.all_errors is not set"):
        ingestion.ingest_current_errors()


def test_exit_codes_and_counts_too_big_for_the_columns_are_skipped_and_reported(tmp_path):
    step = f"/{OTHER}/TOP-Run3Summer22EEGS-00042_0"
    document = {
        step: {
            str(10**20): {"T2_US_MIT": 1},  # past 64 bits: OverflowError on SQLite
            str(2**31): {"T2_US_MIT": 1},  # past PostgreSQL's integer column: DataError
            "8001": {"T2_US_MIT": 7, "T2_US_UCSD": 10**20, "T1_US_FNAL": 2**31, "T2_CH_CERN": 2**31 - 1},
            str(-(2**31)): {"T2_US_MIT": 1},
        },
    }

    report = ingestion.ingest_current_errors(write(tmp_path, document))

    assert snapshot() == [
        (step, -(2**31), "T2_US_MIT", 1),
        (step, 8001, "T2_CH_CERN", 2**31 - 1),
        (step, 8001, "T2_US_MIT", 7),
    ]
    assert report.bad_entries == 4
    examples = " | ".join(report.bad_examples)
    assert f"exit code {10**20} is out of range (-2147483648..2147483647)" in examples
    assert f"exit code {2**31} is out of range" in examples
    assert f"count {10**20} is larger than 2147483647" in examples
    assert f"count {2**31} is larger than 2147483647" in examples
    assert ErrorImport.objects.get().bad_entries == 4


def test_names_too_long_or_not_storable_are_skipped_and_reported(tmp_path):
    step = f"/{OTHER}/TOP-Run3Summer22EEGS-00042_0"
    long_workflow = "w" * 401
    long_prep_id_workflow = f"pdmvserv_task_HIG-{'x' * 300}-00001__v1"  # prep ID > 200 characters
    document = {
        step: {"8001": {"T2_US_MIT": 7, "T2_" + "x" * 200: 1, "T2_\x00NUL": 1}},
        f"/{long_workflow}/Task": {"8001": {"T2_US_MIT": 1}},
        f"/{long_prep_id_workflow}/Task": {"8001": {"T2_US_MIT": 1}},
        f"/{ORIGINAL}/" + "t" * 1000: {"8001": {"T2_US_MIT": 1}},
        f"/{ORIGINAL}/\ud800": {"8001": {"T2_US_MIT": 1}},  # a lone surrogate: not storable text
    }

    report = ingestion.ingest_current_errors(write(tmp_path, document))

    assert snapshot() == [(step, 8001, "T2_US_MIT", 7)]
    assert report.bad_entries == 6
    examples = " | ".join(report.bad_examples)
    assert "workflow name longer than 400 characters" in examples
    assert "its prep id is longer than 200 characters" in examples
    assert "step name longer than 1000 characters" in examples
    assert "step name is not valid Unicode" in examples
    assert examples.count("bad site name") == 2
    assert max(len(example) for example in report.bad_examples) < 300  # long names are cut
    assert Workflow.objects.count() == 1
    assert ErrorImport.objects.get().bad_entries == 6


def test_a_number_too_long_to_read_is_a_clear_error(tmp_path):
    with pytest.raises(ingestion.IngestError, match="is not usable JSON"):
        ingestion.ingest_current_errors(write(tmp_path, '{"/w/t": {"1": {"T2_US_MIT": ' + "9" * 5000 + "}}}"))
    assert not ErrorImport.objects.exists()


def test_a_failure_while_writing_leaves_the_previous_snapshot_and_import_log(tmp_path):
    ingestion.ingest_current_errors(write(tmp_path, SMALL))
    before, imports = snapshot(), list(ErrorImport.objects.values_list("pk", "finished_at"))
    seen_midway = []

    def progress(phase, done, total):
        if phase == ingestion.WRITING and done == total:  # every row written, nothing committed
            seen_midway.append(snapshot())
            raise RuntimeError("worker killed midway")

    newer = {f"/{OTHER}/TOP-Run3Summer22EEGS-00042_0": {"8001": {"T2_US_MIT": 99}, "134": {"T2_US_MIT": 1}}}
    with pytest.raises(RuntimeError):
        ingestion.ingest_current_errors(write(tmp_path, newer, "newer.json"), progress=progress)

    assert len(seen_midway[0]) == 2 and seen_midway[0] != before  # it died with the new rows in
    assert snapshot() == before
    assert list(ErrorImport.objects.values_list("pk", "finished_at")) == imports
    assert ingestion.ingest_current_errors(write(tmp_path, newer, "newer.json")).cells == 2  # lock freed


def _final_bars(stderr: str) -> dict[str, str]:
    """{phase: the bar's last state}; a bar redraws itself with \\r, one line per phase."""
    lines = [line.split("\r")[-1] for line in stderr.split("\n") if line.strip()]
    bars = {line.split(":")[0]: line for line in lines}
    assert len(bars) == len(lines), f"a bar spread over several lines:\n{stderr}"
    return bars


def test_ingest_errors_command_shows_progress_per_phase_up_to_its_total(tmp_path):
    path = write(tmp_path, SMALL)
    out, err = StringIO(), StringIO()

    call_command("ingest_errors", path, stdout=out, stderr=err)

    bars = _final_bars(err.getvalue())
    assert "100%" in bars["checking entries"] and "4/4" in bars["checking entries"]
    assert "100%" in bars["writing rows"] and "6/6" in bars["writing rows"]
    assert "\x1b[" not in err.getvalue()  # tqdm's own output, not Django's styled lines
    assert "6 cells in 4 steps of 3 workflows (6 new, 0 changed, 0 removed)" in out.getvalue()

    again_out, again_err = StringIO(), StringIO()
    call_command("ingest_errors", path, stdout=again_out, stderr=again_err)

    bars = _final_bars(again_err.getvalue())
    assert "6/6" in bars["comparing with stored rows"]  # a repeat load writes nothing but shows progress
    assert "writing rows" not in bars
    assert "(0 new, 0 changed, 0 removed)" in again_out.getvalue()


def test_a_second_ingestion_while_one_runs_fails_clearly_and_changes_nothing(tmp_path):
    from contextlib import ExitStack

    from wwt_project.locks import job_lock

    ingestion.ingest_current_errors(write(tmp_path, SMALL))
    before, imports = snapshot(), ErrorImport.objects.count()
    newer = write(tmp_path, {f"/{OTHER}/TOP-Run3Summer22EEGS-00042_0": {"8001": {"T2_US_MIT": 99}}}, "n.json")
    other_ingestion = ExitStack()
    other_ingestion.enter_context(job_lock(ingestion.LOCK_NAME))

    with pytest.raises(ingestion.IngestBusy, match=r"another ingestion is running since \d{4}-"):
        ingestion.ingest_current_errors(newer)
    with pytest.raises(ingestion.IngestBusy, match="another ingestion is running"):
        history.update_history()
    with pytest.raises(ingestion.IngestBusy, match="another ingestion is running"):
        history.update_history([newer])
    with pytest.raises(CommandError, match="another ingestion is running"):
        call_command("ingest_errors", newer, "--no-progress", stderr=StringIO())

    assert snapshot() == before and not ErrorHistory.objects.exists()
    assert ErrorImport.objects.count() == imports
    other_ingestion.close()
    assert ingestion.ingest_current_errors(newer).cells == 1


def test_a_failed_ingestion_frees_the_lock(tmp_path):
    from wwt_project.locks import job_lock

    with pytest.raises(ingestion.IngestError):
        ingestion.ingest_current_errors(write(tmp_path, "{", "bad.json"))
    with job_lock(ingestion.LOCK_NAME):
        pass  # free again
    assert ingestion.ingest_current_errors(write(tmp_path, SMALL)).cells == 6
