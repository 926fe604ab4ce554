"""The long-term history: appended per time bucket, never twice."""

import json
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from errors import history as error_history
from errors import ingestion
from errors.models import ErrorHistory, ErrorImport

pytestmark = [pytest.mark.django_db, pytest.mark.pg_too]

WF = "pdmvserv_task_SMP-Run3Summer22EEGS-00007__v1_T_240301_000000_0001"
STEP = f"/{WF}/SMP-Run3Summer22EEGS-00007_0"
DOC = {STEP: {"8001": {"T2_US_MIT": 7, "T1_US_FNAL": 2}, "50660": {"T2_CH_CERN": 1}}}
AT = datetime(2026, 11, 20, 10, 17, tzinfo=UTC)


def write(tmp_path, document, name="doc.json"):
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)


def history():
    return sorted(ErrorHistory.objects.values_list("bucket", "exit_code", "site", "count"))


def test_documents_land_in_the_bucket_of_their_time(tmp_path):
    [report] = error_history.update_history([write(tmp_path, DOC)], at=AT)

    bucket = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert report.created == 3
    assert history() == [
        (bucket, 8001, "T1_US_FNAL", 2),
        (bucket, 8001, "T2_US_MIT", 7),
        (bucket, 50660, "T2_CH_CERN", 1),
    ]


def test_the_same_document_twice_adds_no_history_rows(tmp_path):
    path = write(tmp_path, DOC)
    error_history.update_history([path], at=AT)
    before = list(ErrorHistory.objects.order_by("pk").values_list("pk", "count"))

    [report] = error_history.update_history([path], at=AT.replace(minute=59))

    assert (report.created, report.updated) == (0, 0)
    assert list(ErrorHistory.objects.order_by("pk").values_list("pk", "count")) == before


def test_a_new_count_in_the_same_bucket_replaces_the_old_one(tmp_path):
    error_history.update_history([write(tmp_path, DOC)], at=AT)
    changed = {STEP: {"8001": {"T2_US_MIT": 9}}}

    [report] = error_history.update_history([write(tmp_path, changed, "changed.json")], at=AT)

    assert (report.created, report.updated, report.deleted) == (0, 1, 0)
    assert ErrorHistory.objects.get(site="T2_US_MIT").count == 9
    assert ErrorHistory.objects.count() == 3  # history never loses a cell


def test_a_later_bucket_adds_new_rows(tmp_path):
    path = write(tmp_path, DOC)
    error_history.update_history([path], at=AT)
    error_history.update_history([path], at=AT.replace(hour=11))
    assert ErrorHistory.objects.count() == 6


def test_without_sources_the_current_snapshot_is_appended(tmp_path):
    ingestion.ingest_current_errors(write(tmp_path, DOC))

    [first] = error_history.update_history(at=AT)
    [again] = error_history.update_history(at=AT)

    assert first.created == 3 and first.workflows == 1 and first.source == "current snapshot"
    assert again.created == 0
    assert ErrorHistory.objects.count() == 3
    assert ErrorImport.objects.filter(kind="history").count() == 2


def test_a_bad_document_among_several_changes_nothing_for_it(tmp_path):
    good = write(tmp_path, DOC)
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    with pytest.raises(ingestion.IngestError):
        error_history.update_history([good, str(bad)], at=AT)
    # the first document is stored (its own transaction), the bad one added nothing
    assert ErrorHistory.objects.count() == 3
    assert ErrorImport.objects.count() == 1


def test_update_history_command(tmp_path):
    out = StringIO()
    call_command(
        "update_history",
        write(tmp_path, DOC),
        "--at",
        "2026-11-20T10:17",
        "--no-progress",
        stdout=out,
        stderr=StringIO(),
    )
    assert "3 cells in 1 steps of 1 workflows (3 new" in out.getvalue()
    assert ErrorHistory.objects.filter(bucket=datetime(2026, 11, 20, 10, tzinfo=UTC)).count() == 3


def test_update_history_command_rejects_a_bad_time(tmp_path):
    with pytest.raises(CommandError, match="--at must be an ISO date"):
        call_command("update_history", write(tmp_path, DOC), "--at", "yesterday", stderr=StringIO())
    assert not ErrorHistory.objects.exists()


def test_bucket_size_comes_from_config(settings):
    settings.WWT = {**settings.WWT, "history": {"bucket_minutes": 15}}
    assert error_history.history_bucket(AT) == datetime(2026, 11, 20, 10, 15, tzinfo=UTC)


def test_update_history_command_shows_progress_on_one_line_per_phase(tmp_path):
    ingestion.ingest_current_errors(write(tmp_path, DOC))
    out, err = StringIO(), StringIO()

    call_command("update_history", stdout=out, stderr=err)

    lines = [line.split("\r")[-1] for line in err.getvalue().split("\n") if line.strip()]
    assert [line.split(":")[0] for line in lines] == ["reading the current snapshot", "writing rows"]
    assert all("100%" in line and "3/3" in line for line in lines)
    assert "history: 3 cells in 1 steps of 1 workflows (3 new" in out.getvalue()
