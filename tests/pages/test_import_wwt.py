"""`manage.py import_wwt`: the original tool's three stores, as they are on disk, move here.

The stores are written in each test the way the original wrote them (SQLite tables with its
column types, mongoexport's JSON lines in relaxed Extended JSON), with its quirks: -1 exit codes,
step names past the declared 255 characters, `<br>` in long reasons, non-ASCII text, 2016
documents (`Actions`, one string for `Reasons`, no `workflowid`), string values, AllSteps and
actions Unified never acted on.
"""

import io
import json
import sqlite3
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from actions.models import Action, ActionSubmission, Reason
from errors.models import ErrorHistory, ErrorImport
from workflows.models import Step, Workflow

WF_A = "pdmvserv_task_HIG-RunIISummer20UL18wmLHEGEN-00123__v1_T_210601_120000_1234"
WF_B = "cmsunified_task_SMP-RunIISummer20UL17GEN-00042__v1_T_210602_080000_5678"
WF_C = "pdmvserv_EXO-RunIISummer15GS-00311_00139_v0__160601_090000_1111"
WF_D = "pdmvserv_task_TOP-RunIIFall18GS-00077__v1_T_210603_100000_2222"
WF_E = "pdmvserv_task_BPH-RunIISummer20UL18GEN-00001__v1_T_210604_100000_3333"
WF_F = "pdmvserv_task_B2G-RunIISummer20UL16GEN-00002__v1_T_210605_100000_4444"
WF_G = "pdmvserv_task_SUS-RunIISummer20UL16GEN-00003__v1_T_210606_100000_5555"
WF_H = "pdmvserv_task_JME-RunIISummer20UL16GEN-00004__v1_T_210607_100000_6666"
LONG_TASK = "StepOne/" + "StepOneMergeAODSIMoutput" * 12  # a step path of 300+ characters
LONG_STEP = f"/{WF_B}/{LONG_TASK}"
# The importer writes with COPY and a staging table on PostgreSQL: both databases run it.
pytestmark = pytest.mark.pg_too

HISTORY_AT = "2021-06-30T12:00"
BUCKET = datetime(2021, 6, 30, 12, 0, tzinfo=UTC)


def _history_store(path, rows):
    connection = sqlite3.connect(path)
    connection.execute(
        "CREATE TABLE workflows (fullkey varchar(1023) UNIQUE, stepname varchar(255), errorcode int, "
        "sitename varchar(255), numbererrors int, sitereadiness varchar(15))"
    )
    connection.executemany(
        "INSERT INTO workflows VALUES (?, ?, ?, ?, ?, ?)",
        [("_".join(map(str, row[:3])), *row) for row in rows],
    )
    connection.commit()
    connection.close()
    return str(path)


def _reasons_store(path, rows):
    connection = sqlite3.connect(path)
    connection.execute(
        "CREATE TABLE reasons (shortreason varchar(255) PRIMARY KEY, longreason varchar(4095))"
    )
    connection.executemany("INSERT INTO reasons VALUES (?, ?)", rows)
    connection.commit()
    connection.close()
    return str(path)


HISTORY_ROWS = [
    (f"/{WF_A}/TaskA", 50664, "T1_US_FNAL", 10, "green"),
    (f"/{WF_A}/TaskA", -1, "T2_CH_CERN", 3, "yellow"),  # NotReported
    (f"/{WF_B}/StepOne", 8001, "T2_US_MIT", 5, "green"),
    (f"/{WF_B}/StepOne/LogCollect", 99303, "T2_US_MIT", 1, "green"),
    (f"/{WF_B}/StepTwo", 134, "T2_US_MIT", 2, "red"),
    (LONG_STEP, 8001, "T2_DE_DESY", 4, "none"),
    (f"/{WF_A}/TaskA", 85, "T2_US_MIT", 0, "green"),  # zero: stored as nothing
    ("not-a-step-path", 1, "T2_US_MIT", 1, "green"),
]

REASON_ROWS = [
    ("memory", "Jobs ran out of memory.<br>Raise the memory."),
    ("blank", "blank"),  # the original stored a blank long text as the short one
    ("Überlauf", "Zu viele Ereignisse für den Speicher.<br/>Café geschlossen."),
    ("site", "The site is down."),  # ours says otherwise: ours is kept
    ("xrootd", "Read the input over xrootd."),  # the same as ours
]


def _document(workflow, timestamp, parameters, *, acted=0, oid="60dc5f7e8b1e4a0012345678", legacy=False):
    document = {"_id": {"$oid": oid}, "workflow": workflow, "timestamp": timestamp, "acted": acted}
    if not legacy:
        document["workflowid"] = workflow.replace("-", "_")
    document["parameters"] = parameters
    return document


def _parameters(action, parameters, reasons, user):
    return {"Action": action, "Parameters": parameters, "Reasons": reasons, "user": user, "ACDCs": []}


TASK_BLANKS = {"memory": "", "cores": "", "xrootd": "", "secondary": "", "splitting": "", "group": ""}
ACTION_DOCUMENTS = [
    _document(
        WF_A,
        1625054400,
        _parameters(
            "acdc",
            {
                "TaskA": {
                    **TASK_BLANKS,
                    "memory": "4000",
                    "cores": "4",
                    "xrootd": "enabled",
                    "sites": ["T1_US_FNAL_Disk", "T2_CH_CERN", "T0_CH_CERN_MSS", "T2_XX_Unknown"],
                    "bad_sites": ["T2_DE_DESY"],
                }
            },
            ["Jobs ran out of memory.<br>Raise the memory."],
            "dabercro",
        ),
    ),
    _document(
        WF_B,
        1625050000.25,
        _parameters(
            "acdc",
            {
                "AllSteps": {
                    **TASK_BLANKS,
                    "xrootd": "disabled",
                    "splitting": "2x",
                    "sites": ["T2_US_MIT_Disk"],
                }
            },
            ["Site trouble at MIT.<br>Retry elsewhere."],
            "jdoe",
        ),
        acted=1,
    ),
    # 2016: "Actions", one string for "Reasons", no workflowid, a $numberLong time.
    _document(
        WF_C,
        {"$numberLong": "1466000000"},
        {
            "Actions": "clone",
            "Parameters": {"memory": "3000", "cores": "", "splitting": ""},
            "Reasons": "Clone: the café ran out<br>of beans",
            "user": "olduser",
        },
        acted=1,
        legacy=True,
    ),
    _document(
        WF_D,
        1625057000,
        _parameters("special", {"action": "force-complete", "other": ""}, ["Enough events."], "ops1"),
    ),
    # Cannot be made valid: kept in the history only.
    _document(WF_E, 1625058000, _parameters("automatic-wait", {}, ["Waiting."], "unified")),
    _document(
        WF_F,
        1625059000,
        _parameters("acdc", {"TaskZ": {**TASK_BLANKS, "sites": ["T2_XX_Nowhere_Disk"]}}, ["x"], "ops1"),
    ),
    _document(
        WF_G,
        1625060000,
        _parameters("acdc", {"AllSteps": {**TASK_BLANKS, "sites": ["T2_US_MIT"]}}, ["y"], "ops1"),
    ),
    _document(WF_H, 1625061000, _parameters("-", {}, [], "unified")),
]

SERVED_ALL = {
    WF_A: {
        "Action": "acdc",
        "Parameters": {
            "TaskA": {
                "sites": ["T1_US_FNAL", "T2_CH_CERN"],
                "memory": 4000,
                "multicore": 4,
                "xrootd": "enabled",
            }
        },
        "Reasons": ["Jobs ran out of memory.\nRaise the memory."],
        "Reason": "Jobs ran out of memory.\nRaise the memory.",
        "user": "dabercro",
        "ACDCs": [],
    },
    WF_B: {
        "Action": "acdc",
        "Parameters": {
            "StepOne": {"sites": ["T2_US_MIT"], "splitting": "2x", "xrootd": "disabled"},
            "StepTwo": {"sites": ["T2_US_MIT"], "splitting": "2x", "xrootd": "disabled"},
            LONG_TASK: {"sites": ["T2_US_MIT"], "splitting": "2x", "xrootd": "disabled"},
        },
        "Reasons": ["Site trouble at MIT.\nRetry elsewhere."],
        "Reason": "Site trouble at MIT.\nRetry elsewhere.",
        "user": "jdoe",
        "ACDCs": [],
    },
    WF_C: {
        "Action": "clone",
        "Parameters": {"memory": 3000},
        "Reasons": ["Clone: the café ran out\nof beans"],
        "Reason": "Clone: the café ran out\nof beans",
        "user": "olduser",
        "ACDCs": [],
    },
    WF_D: {
        "Action": "special",
        "Parameters": {"action": "by-pass", "other": ""},
        "Reasons": ["Enough events."],
        "Reason": "Enough events.",
        "user": "ops1",
        "ACDCs": [],
    },
}


def _actions_store(path, documents, *, array=False):
    text = json.dumps(documents) if array else "\n".join(json.dumps(d, ensure_ascii=False) for d in documents)
    path.write_text(text + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture
def stores(tmp_path):
    return {
        "history": _history_store(tmp_path / "history.db", HISTORY_ROWS),
        "reasons": _reasons_store(tmp_path / "reasons.db", REASON_ROWS),
        "actions": _actions_store(tmp_path / "actions.json", ACTION_DOCUMENTS),
    }


@pytest.fixture
def offline(monkeypatch):
    """The site status answers with one site; the ACDC server must never be asked."""

    def no_acdc(workflow):
        raise AssertionError("the importer asked the ACDC server")

    monkeypatch.setattr("workflows.selectors.recovery_sites", no_acdc)
    monkeypatch.setattr("workflows.selectors.site_statuses", lambda: {"T3_US_Colorado": "enabled"})


@pytest.fixture
def our_reasons(db):
    Reason.objects.create(short="site", long="Site problem: see the site support ticket.")
    Reason.objects.create(short="xrootd", long="Read the input over xrootd.")


def _import(**stores) -> str:
    out = io.StringIO()
    options = {f"--{name}={path}" for name, path in stores.items() if name != "dry_run"}
    args = sorted(options) + ["--history-at", HISTORY_AT, "--no-progress"]
    if stores.get("dry_run"):
        args.append("--dry-run")
    call_command("import_wwt", *args, stdout=out)
    return out.getvalue()


def _everything() -> dict:
    """Every row the importer can write, comparable between runs."""
    return {
        "history": sorted(
            ErrorHistory.objects.values_list("step__name", "exit_code", "site", "count", "bucket")
        ),
        "imports": list(ErrorImport.objects.values_list("kind", "cells")),
        "reasons": sorted(Reason.objects.values_list("short", "long")),
        "submissions": sorted(
            ActionSubmission.objects.values_list("workflow__name", "action", "submitted_at", "reported_at")
        ),
        "actions": sorted(Action.objects.values_list("workflow__name", "served", "reported_at")),
        "workflows": sorted(Workflow.objects.values_list("name", flat=True)),
        "steps": sorted(Step.objects.values_list("name", flat=True)),
    }


@pytest.fixture(autouse=True)
def _open_getaction(settings):
    """These tests are about what getaction serves, not who may ask: it is opened explicitly."""
    settings.WWT = {**settings.WWT, "actions": {**settings.WWT["actions"], "getaction_open": True}}


def _served(query: str) -> dict:
    response = Client().get(f"/getaction?{query}")
    assert response.status_code == 200
    return json.loads(response.content)


# -- the whole move -----------------------------------------------------------------------------


def test_it_imports_the_history_as_one_marked_snapshot(db, stores, offline):
    output = _import(history=stores["history"])

    assert sorted(
        ErrorHistory.objects.values_list("step__name", "exit_code", "site", "count", "bucket")
    ) == sorted(
        [
            (f"/{WF_A}/TaskA", -1, "T2_CH_CERN", 3, BUCKET),
            (f"/{WF_A}/TaskA", 50664, "T1_US_FNAL", 10, BUCKET),
            (LONG_STEP, 8001, "T2_DE_DESY", 4, BUCKET),
            (f"/{WF_B}/StepOne", 8001, "T2_US_MIT", 5, BUCKET),
            (f"/{WF_B}/StepOne/LogCollect", 99303, "T2_US_MIT", 1, BUCKET),
            (f"/{WF_B}/StepTwo", 134, "T2_US_MIT", 2, BUCKET),
        ]
    )
    assert len(LONG_STEP) > 300
    marked = ErrorImport.objects.get()
    assert marked.kind == ErrorImport.Kind.IMPORTED
    assert stores["history"] in marked.source and marked.cells == 6 and marked.bad_entries == 2
    assert "history" in output and "imported 6, already there 0, skipped 2" in output
    assert (
        "zero count" in output and "not a path /<workflow>/<task>" in output and "'not-a-step-path'" in output
    )


def test_history_time_defaults_to_the_files_time(db, stores, offline):
    import os

    moment = datetime(2021, 7, 1, 9, 40, tzinfo=UTC).timestamp()
    os.utime(stores["history"], (moment, moment))
    call_command("import_wwt", f"--history={stores['history']}", "--no-progress", stdout=io.StringIO())

    assert set(ErrorHistory.objects.values_list("bucket", flat=True)) == {
        datetime(2021, 7, 1, 9, 0, tzinfo=UTC)
    }


def test_it_merges_the_reasons_keeping_ours(db, stores, offline, our_reasons):
    output = _import(reasons=stores["reasons"])

    assert dict(Reason.objects.values_list("short", "long")) == {
        "memory": "Jobs ran out of memory.\nRaise the memory.",
        "blank": "blank",
        "Überlauf": "Zu viele Ereignisse für den Speicher.\nCafé geschlossen.",
        "site": "Site problem: see the site support ticket.",
        "xrootd": "Read the input over xrootd.",
    }
    assert "imported 3, already there 1, skipped 1" in output
    assert "ours was kept" in output and "'The site is down.'" in output


def test_it_imports_the_actions_and_getaction_serves_them_exactly(db, stores, offline, our_reasons):
    output = _import(**stores)

    assert _served("days=0&acted=-1") == SERVED_ALL
    assert _served("days=0") == {WF_A: SERVED_ALL[WF_A], WF_D: SERVED_ALL[WF_D]}  # pending only
    action = Action.objects.get(workflow__name=WF_A)
    assert action.user is None and action.recorded_user == "dabercro"
    assert action.submitted_at == datetime(2021, 6, 30, 12, 0, tzinfo=UTC)
    assert action.reasons == [{"short": "memory", "long": "Jobs ran out of memory.\nRaise the memory."}]
    assert (
        action.submission.submitted_at == action.submitted_at
        and action.submission.recorded_user == "dabercro"
    )
    reported = Action.objects.get(workflow__name=WF_B)
    assert reported.reported_at == reported.submitted_at == datetime.fromtimestamp(1625050000.25, tz=UTC)
    # Every document is in the history, the invalid ones too, with what they said.
    history = {s.workflow.name: s for s in ActionSubmission.objects.select_related("workflow")}
    assert set(history) == {WF_A, WF_B, WF_C, WF_D, WF_E, WF_F, WF_G, WF_H}
    assert history[WF_E].action == "automatic-wait" and history[WF_E].reported_at is None
    assert history[WF_E].recorded_user == "unified"
    assert history[WF_C].submitted_at == datetime(2016, 6, 15, 14, 13, 20, tzinfo=UTC)
    assert not Action.objects.filter(workflow__name__in=[WF_E, WF_F, WF_G, WF_H]).exists()
    # The summary names each action kept in the history only, and why.
    assert "actions (" in output and "imported 4, already there 0, skipped 4" in output
    assert "kept in the history only: action 'automatic-wait' is not one Unified acts on here" in output
    assert "kept in the history only: action '-' is not one Unified acts on here" in output
    assert f"no site (none of its sites is a site known here); e.g. {WF_F}" in output
    assert f"no task to act on (none named, and none known here for AllSteps); e.g. {WF_G}" in output


def test_a_json_array_export_imports_the_same(db, tmp_path, stores, offline, our_reasons):
    array = _actions_store(tmp_path / "array.json", ACTION_DOCUMENTS, array=True)
    _import(history=stores["history"], reasons=stores["reasons"], actions=array)

    assert _served("days=0&acted=-1") == SERVED_ALL


def test_running_it_twice_adds_nothing(db, stores, offline, our_reasons):
    _import(**stores)
    before = _everything()

    output = _import(**stores)

    assert _everything() == before
    assert "history" in output and "imported 0, already there 6" in output
    assert "reasons" in output and "imported 0, already there 4" in output
    assert "imported 0, already there 8, skipped 0" in output


def test_a_newer_action_made_here_is_kept(db, stores, offline, our_reasons, verified_operator):
    from actions.services import submit_action

    _import(history=stores["history"])
    Workflow.objects.create(name=WF_D)
    submit_action(
        user=verified_operator,
        workflows=[WF_D],
        action="special",
        parameters={"action": "on-hold", "other": ""},
        reasons=[{"short": "", "long": "Hold it."}],
    )

    output = _import(actions=stores["actions"])

    assert _served("days=0&acted=-1")[WF_D]["Parameters"] == {"action": "on-hold", "other": ""}
    assert "1 workflow(s) kept the newer action made here" in output
    assert ActionSubmission.objects.filter(workflow__name=WF_D).count() == 2


def test_a_dry_run_changes_nothing(db, stores, offline, our_reasons):
    before = _everything()

    output = _import(**stores, dry_run=True)

    assert _everything() == before
    assert "would import 6" in output and "would import 3" in output and "would import 4" in output


# -- stores that are not the original's -----------------------------------------------------------


def test_a_foreign_history_file_is_an_error_and_nothing_is_imported(db, stores, offline):
    with pytest.raises(CommandError, match=r"reasons\.db: no table 'workflows' \(holds reasons\)"):
        _import(history=stores["reasons"])

    assert (
        not ErrorHistory.objects.exists() and not ErrorImport.objects.exists() and not Step.objects.exists()
    )


def test_a_corrupt_history_file_is_an_error(db, tmp_path, offline):
    corrupt = tmp_path / "history.db"
    corrupt.write_bytes(b"SQLite format 3\x00" + b"\x07" * 4000)

    with pytest.raises(CommandError, match=r"history\.db: not a readable SQLite database"):
        _import(history=str(corrupt))

    assert not ErrorHistory.objects.exists()


def test_a_foreign_reasons_file_is_an_error(db, stores, offline, our_reasons):
    with pytest.raises(CommandError, match=r"history\.db: no table 'reasons'"):
        _import(reasons=stores["history"])

    assert Reason.objects.count() == 2


def test_an_actions_file_that_is_not_json_is_an_error_naming_the_line(db, tmp_path, offline):
    lines = [json.dumps(ACTION_DOCUMENTS[0]), "{not json", json.dumps(ACTION_DOCUMENTS[3])]
    broken = tmp_path / "actions.json"
    broken.write_text("\n".join(lines), encoding="utf-8")

    with pytest.raises(CommandError, match=r"actions\.json line 2: not JSON"):
        _import(actions=str(broken))

    assert (
        not ActionSubmission.objects.exists()
        and not Action.objects.exists()
        and not Workflow.objects.exists()
    )


def test_a_foreign_json_file_is_an_error(db, tmp_path, offline):
    foreign = tmp_path / "all_errors.json"
    foreign.write_text(json.dumps({"/wf/task": {"8001": {"T2_US_MIT": 3}}}), encoding="utf-8")

    with pytest.raises(
        CommandError, match=r"all_errors\.json: no document has the fields workflow and parameters"
    ):
        _import(actions=str(foreign))

    assert not ActionSubmission.objects.exists()


def test_one_bad_store_does_not_stop_the_others(db, stores, tmp_path, offline):
    missing = str(tmp_path / "nowhere.json")
    out = io.StringIO()

    with pytest.raises(CommandError, match="nowhere.json: no such file; nothing of this store was imported"):
        call_command(
            "import_wwt",
            f"--history={stores['history']}",
            f"--actions={missing}",
            "--no-progress",
            stdout=out,
        )

    assert ErrorHistory.objects.count() == 6
    assert "imported 6" in out.getvalue()


def test_it_needs_a_store(db):
    with pytest.raises(CommandError, match="give at least one of --history, --reasons, --actions"):
        call_command("import_wwt")


def test_a_bad_history_time_is_refused(db, stores):
    with pytest.raises(CommandError, match="--history-at must be an ISO date/time"):
        call_command("import_wwt", f"--history={stores['history']}", "--history-at", "yesterday")


def test_the_actions_page_names_the_recorded_user(db, stores, offline, operator_client):
    _import(**stores)

    response = operator_client.get("/actions/?status=all")

    assert response.status_code == 200
    assert "<td>dabercro</td>" in response.content.decode()


def test_rows_that_are_not_utf8_are_skipped_not_fatal(db, tmp_path, offline):
    path = tmp_path / "history.db"
    _history_store(path, HISTORY_ROWS[:1])
    connection = sqlite3.connect(path)
    connection.execute(
        "INSERT INTO workflows VALUES ('k', CAST(? AS BLOB), 1, 'T2_US_MIT', 2, 'green')", (b"/wf/\xff\xfe",)
    )
    connection.commit()
    connection.close()

    output = _import(history=str(path))

    assert ErrorHistory.objects.count() == 1
    assert "skipped 1: step or site name missing or not UTF-8 text" in output


def test_extended_json_times_and_numbers_are_read(db, tmp_path, stores, offline):
    documents = [
        {**ACTION_DOCUMENTS[3], "timestamp": {"$date": "2021-06-30T12:00:00Z"}},
        {**ACTION_DOCUMENTS[2], "timestamp": {"$date": {"$numberLong": "1466000000000"}}},
    ]
    _import(history=stores["history"], actions=_actions_store(tmp_path / "dates.json", documents))

    assert sorted(ActionSubmission.objects.values_list("submitted_at", flat=True)) == [
        datetime(2016, 6, 15, 14, 13, 20, tzinfo=UTC),
        datetime(2021, 6, 30, 12, 0, tzinfo=UTC),
    ]


def test_a_document_without_a_workflow_or_time_is_not_imported(db, tmp_path, stores, offline):
    documents = [
        ACTION_DOCUMENTS[3],
        {"_id": {"$oid": "1"}, "timestamp": 1625000000, "parameters": {"Action": "clone"}},
        {**ACTION_DOCUMENTS[2], "timestamp": "soon"},
    ]
    output = _import(actions=_actions_store(tmp_path / "odd.json", documents))

    assert list(ActionSubmission.objects.values_list("workflow__name", flat=True)) == [WF_D]
    assert "not imported: no workflow name" in output and "not imported: no usable timestamp" in output
