"""Issue 12, items 3-6 and 9, on documents written from SOURCES.md's shapes (Unified's
all_errors and WMStats job detail), not from our generator.

all_errors as Unified's producer writes it: zero cells for every code × site pair of a
task, NotReported (often with 0) for tasks with skipped files, and LogCollect/Cleanup
steps as other producers leave them in.
"""

import importlib
import json
from collections import defaultdict
from datetime import UTC, datetime

import pytest
from django.apps import apps as django_apps

from errors import services
from errors.models import ErrorCount, ErrorHistory, ErrorImport, Explanation, Procedure
from tests.workflows.fake_sources import configure
from tests.workflows.test_exit_codes_and_job_detail import GEN as JD_GEN
from tests.workflows.test_exit_codes_and_job_detail import JOB_DETAIL, ROOT_FILE
from tests.workflows.test_exit_codes_and_job_detail import WORKFLOW as JD_WORKFLOW
from workflows.models import Step, Workflow
from wwt_project.config import ConfigError, validate_config

ORIGINAL = "pdmvserv_task_HIG-RunIISummer20UL18wmLHEGEN-00456__v1_T_240301_101010_1111"
ACDC = "cmsunified_ACDC0_task_HIG-RunIISummer20UL18wmLHEGEN-00456__v1_T_240305_101010_2222"
OTHER = "pdmvserv_task_TOP-Run3Summer22EEGS-00789__v1_T_240302_090000_3333"
O_GEN = f"/{ORIGINAL}/HIG-RunIISummer20UL18wmLHEGEN-00456_0"
O_MERGE = f"{O_GEN}/HIG-RunIISummer20UL18wmLHEGEN-00456_0MergeRAWSIMoutput"
O_CLEANUP = f"{O_GEN}/HIG-RunIISummer20UL18wmLHEGEN-00456_0CleanupUnmergedRAWSIMoutput"
O_LOGCOLLECT = f"{O_GEN}/LogCollect"
O_SIM = f"{O_GEN}/HIG-RunIISummer20UL18SIM-00456_0"
A_GEN = f"/{ACDC}/HIG-RunIISummer20UL18wmLHEGEN-00456_0"
A_LOGCOLLECT = f"{A_GEN}/HIG-RunIISummer20UL18wmLHEGEN-00456_0LogCollect"
T_GEN = f"/{OTHER}/TOP-Run3Summer22EEGS-00789_0"
T_CLEANUP = f"{T_GEN}/TOP-Run3Summer22EEGS-00789_0CleanupUnmergedNANOEDMAODSIMoutput"
CERN, FNAL, MIT = "T2_CH_CERN", "T1_US_FNAL", "T2_US_MIT"


def every_site(**counts) -> dict:
    """A code's sites as Unified writes them: every site of the task, 0 where none failed."""
    return {site: counts.get(site, 0) for site in (CERN, FNAL, MIT)}


ALL_ERRORS = {
    O_GEN: {
        "8001": every_site(T2_CH_CERN=4),
        "50660": every_site(T1_US_FNAL=7),
        "99303": every_site(),  # a code with zeros only stores nothing
        "NotReported": {CERN: 0, FNAL: 0},
    },
    O_MERGE: {"84": every_site(T1_US_FNAL=2), "NotReported": {FNAL: 0}},
    O_CLEANUP: {"134": every_site(T2_CH_CERN=5)},
    O_LOGCOLLECT: {"99999": every_site(T2_CH_CERN=3)},
    O_SIM: {"8001": every_site(T2_US_MIT=1), "NotReported": {MIT: 2}},
    A_GEN: {"50660": every_site(T1_US_FNAL=3), "NotReported": {FNAL: 0}},
    A_LOGCOLLECT: {"8001": every_site(T1_US_FNAL=9)},
    T_GEN: {"8028": every_site(T2_US_MIT=6), "71104": every_site(T2_CH_CERN=1), "NotReported": {MIT: 0}},
    T_CLEANUP: {"8001": every_site(T2_US_MIT=4)},
}

# Written by hand from the rules (NotReported is -1, its 0 counts 1; zero cells and
# LogCollect/Cleanup steps are not stored): what every page must show.
EXPECTED = {
    (O_GEN, 8001, CERN): 4,
    (O_GEN, 50660, FNAL): 7,
    (O_GEN, -1, CERN): 1,
    (O_GEN, -1, FNAL): 1,
    (O_MERGE, 84, FNAL): 2,
    (O_MERGE, -1, FNAL): 1,
    (O_SIM, 8001, MIT): 1,
    (O_SIM, -1, MIT): 2,
    (A_GEN, 50660, FNAL): 3,
    (A_GEN, -1, FNAL): 1,
    (T_GEN, 8028, MIT): 6,
    (T_GEN, 71104, CERN): 1,
    (T_GEN, -1, MIT): 1,
}
PER_WORKFLOW = {ORIGINAL: 19, ACDC: 4, OTHER: 8}


def write(tmp_path, document, name="all_errors.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)


def snapshot() -> dict:
    return {
        (step, code, site): count
        for step, code, site, count in ErrorCount.objects.values_list(
            "step__name", "exit_code", "site", "count"
        )
    }


@pytest.fixture
def real_errors(db, tmp_path, empty_cache, settings):
    configure(settings, wmstats=None, site_status=None, reqmgr2=None, acdc=None)
    return services.ingest_current_errors(write(tmp_path, ALL_ERRORS))


# Item 3: NotReported ---------------------------------------------------------------------


def test_not_reported_is_stored_as_minus_one_with_zero_counted_as_one(real_errors):
    stored = snapshot()
    assert {key: n for key, n in stored.items() if key[1] == -1} == {
        key: n for key, n in EXPECTED.items() if key[1] == -1
    }
    assert real_errors.bad_entries == 0 and real_errors.bad_examples == []


def test_pages_name_not_reported_and_never_show_minus_one(client, real_errors, admin_client):
    Procedure.objects.create(exit_code=-1, cause="Files listed by the ACDC server without a report")
    pages = {
        "global by code": client.get("/globalerror", {"pievar": "errorcode"}),
        "global by site": client.get("/globalerror", {"pievar": "sitename"}),
        "global by step": client.get("/globalerror", {"pievar": "stepname"}),
        "list": client.get("/listpage", {"workflow": ORIGINAL, "sitename": FNAL}),
        "workflow": client.get("/seeworkflow", {"workflow": ORIGINAL}),
        "sites": client.get("/sites"),
        "procedures": client.get("/procedures"),
        "explain": client.get("/explainerror", {"errorcode": "NotReported", "workflowstep": O_GEN}),
        "admin counts": admin_client.get("/admin/errors/errorcount/"),
    }
    for name, response in pages.items():
        html = response.content.decode()
        assert response.status_code == 200, name
        assert "NotReported" in html, name
        assert ">-1<" not in html and "-1:" not in html and "errorcode=-1" not in html, name
    # Tooltips (pie <title>s) and links say NotReported.
    assert "NotReported: 1 (" in pages["global by code"].content.decode()
    assert "errorcode=NotReported" in pages["global by site"].content.decode()
    assert "exit code NotReported at T1_US_FNAL" in pages["global by step"].content.decode()
    assert 'href="/listpage?errorcode=NotReported&amp;sitename=T1_US_FNAL"' in pages["sites"].content.decode()
    assert 'id="code-NotReported"' in pages["procedures"].content.decode()
    assert "<h1>Exit code NotReported" in pages["explain"].content.decode()


def test_trends_name_not_reported(client, real_errors):
    services.update_history()
    html = client.get("/trends").content.decode()
    assert "NotReported" in html and ">-1<" not in html


@pytest.mark.parametrize("code", ["NotReported", "-1", "notreported"])
def test_listpage_and_explainerror_accept_not_reported(client, real_errors, code):
    response = client.get("/listpage", {"errorcode": code, "sitename": FNAL})
    assert response.status_code == 200
    assert [(row["value"], row["total"]) for row in response.context["listing"]["rows"]] == [
        (ORIGINAL, 2),
        (ACDC, 1),
    ]
    response = client.get("/explainerror", {"errorcode": code, "workflowstep": O_GEN})
    assert response.status_code == 200 and response.context["exit_code"] == -1


@pytest.mark.parametrize("code", ["Not Reported", "NotReportedX", "99999999999"])
def test_other_words_are_a_clear_400(client, real_errors, code):
    response = client.get("/listpage", {"errorcode": code, "sitename": FNAL})
    assert response.status_code == 400
    assert "errorcode must be" in response.content.decode()


# Item 4: LogCollect and Cleanup ---------------------------------------------------------


def test_logcollect_and_cleanup_steps_are_left_out_and_counted(real_errors):
    dropped = {O_CLEANUP, O_LOGCOLLECT, A_LOGCOLLECT, T_CLEANUP}
    assert not Step.objects.filter(name__in=dropped).exists()
    assert real_errors.dropped_steps == 4 and real_errors.bad_entries == 0
    assert ErrorImport.objects.get().dropped_steps == 4
    assert "left out 4 LogCollect/Cleanup steps" in real_errors.summary_line()


def test_a_config_key_keeps_logcollect_and_cleanup(settings, db, tmp_path):
    settings.WWT = {**settings.WWT, "errors": {"keep_logcollect_cleanup": True}}
    report = services.ingest_current_errors(write(tmp_path, ALL_ERRORS))
    assert report.dropped_steps == 0
    stored = snapshot()
    assert stored[(O_CLEANUP, 134, CERN)] == 5 and stored[(A_LOGCOLLECT, 8001, FNAL)] == 9
    assert len(stored) == len(EXPECTED) + 4


def test_a_workflow_named_cleanup_is_not_dropped():
    assert services.is_logcollect_or_cleanup(f"{O_GEN}/LogCollect")
    assert not services.is_logcollect_or_cleanup("/pdmvserv_CleanupTest_v1/Task_0")


def test_the_config_key_is_validated():
    assert validate_config({})["errors"]["keep_logcollect_cleanup"] is False
    assert validate_config({"errors": {"keep_logcollect_cleanup": True}})["errors"]["keep_logcollect_cleanup"]
    with pytest.raises(ConfigError, match="errors.keep_logcollect_cleanup"):
        validate_config({"errors": {"keep_logcollect_cleanup": "yes"}})
    with pytest.raises(ConfigError, match="errors.keep_logcolect"):
        validate_config({"errors": {"keep_logcolect": True}})


# Item 5: log samples from both states, each with its own exit code -----------------------


@pytest.fixture
def job_detail_samples(db, tmp_path, settings, fake_sources, empty_cache):
    services.ingest_current_errors(
        write(
            tmp_path,
            {
                JD_GEN: {
                    "8001": {"T2_DE_DESY": 4},
                    "8028": {"T1_IT_CNAF": 2},
                    "71104": {"T2_US_Nebraska": 6},
                    "99303": {"T2_US_Nebraska": 1},
                }
            },
        )
    )
    fake_sources.routes[f"/wmstatsserver/data/jobdetail/{JD_WORKFLOW}"] = (200, JOB_DETAIL)
    configure(settings, wmstats=fake_sources.url, site_status=None, reqmgr2=None, acdc=None)
    return fake_sources


@pytest.mark.pg_too
def test_samples_of_submit_failures_are_stored_with_their_own_code(job_detail_samples):
    workflow = Workflow.objects.get(name=JD_WORKFLOW)
    assert services.refresh_explanations(workflow) == 5
    stored = sorted(
        Explanation.objects.values_list("exit_code", "sample_exit_code", "error_type").order_by("exit_code")
    )
    assert stored == [
        (8001, 8001, "CMSException"),
        (8001, 99999, "LogArchiveFailure"),
        (8028, 8028, "Fatal Exception"),
        (71104, 71104, "SubmitFailed"),
        (99303, None, "NoJobReport"),
    ]


def test_the_explain_page_says_each_samples_own_code(client, job_detail_samples):
    html = client.get("/explainerror", {"errorcode": 8001, "workflowstep": JD_GEN}).content.decode()
    assert "Log samples (2)" in html
    assert "exit code 99999" in html and "LogArchiveFailure" in html
    assert "(filed under 8001)" in html
    assert html.count("filed under") == 1  # the 8001 sample is not flagged
    html = client.get("/explainerror", {"errorcode": 71104, "workflowstep": JD_GEN}).content.decode()
    # A submit failure's sample, with the original's 71104 regex run on it.
    assert "<code>T2_US_Nebraska</code>" in html
    html = client.get("/explainerror", {"errorcode": 99303, "workflowstep": JD_GEN}).content.decode()
    assert 'exit code <span class="muted">not given</span>' in html


def test_procedure_regexes_run_on_submitfailed_and_new_procedures(client, job_detail_samples):
    services.refresh_explanations(Workflow.objects.get(name=JD_WORKFLOW))  # the page only reads them
    response = client.get("/seeworkflow", {"workflow": JD_WORKFLOW})
    found = {item["exit_code"]: item["parameters"] for item in response.context["procedures"]}
    assert found[71104] == ["T2_US_Nebraska"]
    assert found[8028] == [ROOT_FILE]  # item 6's procedure on a jobfailed sample


def test_logcollect_samples_are_not_stored_by_default(db, tmp_path, settings, fake_sources, empty_cache):
    services.ingest_current_errors(write(tmp_path, {JD_GEN: {"8001": {"T2_DE_DESY": 4}}}))
    log_collect = f"/{JD_WORKFLOW}/LogCollect"
    document = {"result": [{JD_WORKFLOW: {**JOB_DETAIL["result"][0][JD_WORKFLOW]}}]}
    document["result"][0][JD_WORKFLOW][log_collect] = {
        "jobfailed": {"99999": {"T2_DE_DESY": {"errorCount": 1, "samples": [{"errors": {"logArch1": [
            {"type": "LogCollectError", "exitCode": 99999, "details": "tar failed"}
        ]}}]}}}
    }  # fmt: skip
    fake_sources.routes[f"/wmstatsserver/data/jobdetail/{JD_WORKFLOW}"] = (200, document)
    configure(settings, wmstats=fake_sources.url)
    services.refresh_explanations(Workflow.objects.get(name=JD_WORKFLOW))
    assert not Step.objects.filter(name=log_collect).exists()
    assert not Explanation.objects.filter(error_type="LogCollectError").exists()


# Item 6: procedures 8020, 8021, 8028 ----------------------------------------------------


@pytest.mark.django_db
def test_file_open_procedures_are_seeded_in_the_originals_words():
    for code in (8020, 8021, 8028):
        procedure = Procedure.objects.get(exit_code=code)
        assert procedure.normal_procedure == "ACDC"
        assert procedure.cause == "File was not found and fallback procedure also failed."
        assert procedure.additional_procedure == "Check that the file exists"
        assert procedure.match_expression == r"(root://[-/\w\.]+\.root)"


@pytest.mark.pg_too
@pytest.mark.django_db
def test_the_procedure_migration_keeps_an_admins_row():
    migration = importlib.import_module("errors.migrations.0004_file_open_procedures")
    Procedure.objects.filter(exit_code__in=[8020, 8021, 8028]).delete()
    Procedure.objects.create(exit_code=8021, cause="ours", normal_procedure="Ask the site")
    migration.fill(django_apps, None)
    assert Procedure.objects.get(exit_code=8021).normal_procedure == "Ask the site"
    assert Procedure.objects.get(exit_code=8020).normal_procedure == "ACDC"
    migration.empty(django_apps, None)  # unapplying removes only the rows it wrote
    assert list(
        Procedure.objects.filter(exit_code__in=[8020, 8021, 8028]).values_list("exit_code", flat=True)
    ) == [8021]


# Item 9: every cell, every page, the history ----------------------------------------------


@pytest.mark.pg_too
def test_every_cell_equals_what_the_pages_and_history_show(client, real_errors, tmp_path):
    assert snapshot() == EXPECTED

    # The list page, one (step, code) at a time, lists each site with its cell's count.
    for step, code in {(step, code) for step, code, _ in EXPECTED}:
        errorcode = "NotReported" if code == -1 else code
        listing = client.get("/listpage", {"workflowstep": step, "errorcode": errorcode}).context["listing"]
        shown = {row["value"]: row["total"] for row in listing["rows"]}
        assert shown == {site: n for (s, c, site), n in EXPECTED.items() if (s, c) == (step, code)}

    # The workflow page: every table cell and the per-workflow sum.
    for workflow, total in PER_WORKFLOW.items():
        context = client.get("/seeworkflow", {"workflow": workflow}).context
        cells = {
            (table["name"], row["exit_code"], site["name"]): count
            for table in context["tables"]
            for row in table["rows"]
            for site, count in zip(table["sites"], row["counts"], strict=True)
            if count is not None
        }
        assert cells == {key: n for key, n in EXPECTED.items() if key[0].startswith(f"/{workflow}/")}
        assert context["total"] == total

    # Per-workflow sums on the list page (per site and code) and in the global view.
    per_site_code: dict = defaultdict(int)
    for (step, code, site), n in EXPECTED.items():
        per_site_code[(step.split("/")[1], code, site)] += n
    for code, site in {(code, site) for _, code, site in EXPECTED}:
        errorcode = "NotReported" if code == -1 else code
        rows = client.get("/listpage", {"errorcode": errorcode, "sitename": site}).context["listing"]["rows"]
        assert {row["value"]: row["total"] for row in rows} == {
            wf: n for (wf, c, s), n in per_site_code.items() if (c, s) == (code, site)
        }
    view = client.get("/globalerror", {"pievar": "errorcode"}).context["view"]
    workflow_rows = {
        row.workflow: row.total
        for section in view["sections"]
        for group in section["groups"]
        for row in group.rows
        if row.kind == "workflow"
    }
    assert workflow_rows == PER_WORKFLOW and view["total"] == sum(PER_WORKFLOW.values())

    # The history: the snapshot appended, and the document itself, give the same cells.
    bucket = datetime(2026, 3, 1, 10, tzinfo=UTC)
    services.update_history(at=bucket)
    services.update_history([write(tmp_path, ALL_ERRORS, "again.json")], at=bucket.replace(hour=11))
    for hour in (10, 11):
        history = {
            (step, code, site): n
            for step, code, site, n in ErrorHistory.objects.filter(
                bucket=bucket.replace(hour=hour)
            ).values_list("step__name", "exit_code", "site", "count")
        }
        assert history == EXPECTED
