"""The demo shows the whole loop (issue 12): generated documents in the real shapes of
SOURCES.md, the local fake of the sources that serves them, and every panel of the
workflow page filled from it."""

import json
import re
import threading
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
import requests
from django.core.management import call_command
from django.test import TestCase

from errors import demo
from tests.workflows.fake_sources import empty_cache  # noqa: F401  (fixture)
from workflows.demo_sources import SITE_STATUS_PATH, make_server
from workflows.services import refresh_site_statuses
from wwt_project.config import load_config

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
# The seeded procedures' expressions (errors/migrations/0002_fill_procedures.py).
ROOT_FILE = re.compile(r"(root://[-/\w\.]+\.root)")
CAN_RUN_ONLY_AT = re.compile(r"The job can run only at .*(T[12].*)")
FIRST, SECOND = demo.SHOWCASE_TASKS
SHOWCASE_FIRST = f"/{demo.SHOWCASE}/{FIRST}"
SHOWCASE_SECOND = f"/{demo.SHOWCASE}/{FIRST}/{SECOND}"


@pytest.fixture(scope="module")
def generated():
    return demo.generate_demo(40, seed=2, now=NOW)


def _samples(job_detail: dict):
    """(workflow, step, state, code, site, cell, entry) for every sample entry, walking the
    documented nesting and failing on anything else."""
    assert set(job_detail) == {"result"} and isinstance(job_detail["result"], list)
    for item in job_detail["result"]:
        for workflow, steps in item.items():
            for step, states in steps.items():
                assert set(states) <= {"jobfailed", "submitfailed"}
                for state, codes in states.items():
                    for code, sites in codes.items():
                        for site, cell in sites.items():
                            assert isinstance(cell["errorCount"], int) and cell["errorCount"] > 0
                            for sample in cell["samples"]:
                                for step_name, entries in sample["errors"].items():
                                    assert isinstance(step_name, str)
                                    for entry in entries:
                                        assert set(entry) >= {"type", "exitCode", "details"}
                                        assert isinstance(entry["exitCode"], int)
                                        yield workflow, step, state, code, site, cell, entry


# The documents --------------------------------------------------------------------------


def test_the_demo_is_deterministic(generated):
    assert demo.generate_demo(40, seed=2, now=NOW) == generated
    assert demo.generate_demo(40, seed=3, now=NOW)["all_errors"] != generated["all_errors"]


def test_all_errors_has_unifieds_quirks(generated):
    document = generated["all_errors"]
    cells = [
        (step, code, site, n)
        for step, codes in document.items()
        for code, sites in codes.items()
        for site, n in sites.items()
    ]
    assert all(step.startswith("/") and step.count("/") >= 2 for step, *_ in cells)
    assert all(code == "NotReported" or code.isdigit() for _, code, _, _ in cells)
    assert (SHOWCASE_FIRST, "NotReported", "T2_CH_CERN", 0) in cells
    assert any(code.isdigit() and n == 0 for _, code, _, n in cells)  # zero cells
    assert any(step.endswith("/LogCollect") for step in document)
    assert any("Cleanup" in step.rsplit("/", 1)[-1] for step in document)
    workflows = {step.split("/")[1] for step in document}
    assert set(demo.TOUR_WORKFLOWS) <= workflows and len(workflows) > 40


def test_job_detail_has_the_same_counts_as_all_errors_and_samples_of_both_states(generated):
    from_detail = {}
    states, entries = set(), []
    for workflow, detail in generated["job_detail"].items():
        for name, step, state, code, site, cell, entry in _samples(detail):
            assert name == workflow and step.startswith(f"/{workflow}/")
            from_detail[(step, code, site)] = cell["errorCount"]
            states.add(state)
            entries.append((step, code, site, state, entry))
    expected = {
        (step, code, site): n
        for step, codes in generated["all_errors"].items()
        for code, sites in codes.items()
        for site, n in sites.items()
        if n and code != "NotReported"
    }
    assert from_detail == expected
    assert states == {"jobfailed", "submitfailed"}
    assert all(state == "submitfailed" for _, code, _, state, _ in entries if int(code) in demo.SUBMIT_CODES)
    # A log-archive failure 99999 filed under the 8001 cell of the showcase.
    assert any(s == SHOWCASE_FIRST and c == "8001" and e["exitCode"] == 99999 for s, c, _, _, e in entries)
    # The seeded procedures' expressions find something in the texts.
    for _, code, _, _, entry in entries:
        if int(code) in (84, 85, 92, 8020, 8021, 8028):
            assert ROOT_FILE.search(entry["details"]), entry
        if int(code) in (50660, 8004):
            assert "maxRSS" in entry["details"]
    pisa = [e for s, c, site, _, e in entries if s == SHOWCASE_SECOND and c == "71104"]
    assert pisa and CAN_RUN_ONLY_AT.search(pisa[0]["details"]).group(1).startswith("T2_IT_Pisa")


def test_some_demo_requests_are_in_statuses_the_guard_rails_refuse(generated):
    """The tour's requests can be ACDC'd; among the others some still run and some are closed,
    so the action form's guard-rails show in the demo."""
    statuses = {
        name: answer["result"][0][name]["RequestStatus"] for name, answer in generated["requests"].items()
    }
    assert {statuses[name] for name in demo.TOUR_WORKFLOWS if name in statuses} == {"running-closed"}
    assert {"running-closed", "completed", "running-open"} <= set(statuses.values())
    assert {"closed-out", "announced"} & set(statuses.values())


def test_reqmgr2_requests_are_taskchains_stepchains_rerecos_and_resubmissions(generated):
    requests_ = {}
    for workflow, answer in generated["requests"].items():
        (only,) = answer["result"]
        assert set(only) == {workflow}
        request = only[workflow]
        assert request["RequestName"] == workflow
        assert len(request["RequestDate"]) == 6 and all(isinstance(v, int) for v in request["RequestDate"])
        assert isinstance(request["SiteWhitelist"], list) and request["PrepID"]
        requests_[workflow] = request
    showcase = requests_[demo.SHOWCASE]
    assert showcase["RequestType"] == "TaskChain" and showcase["TaskChain"] == 2
    assert [showcase["Task1"]["TaskName"], showcase["Task2"]["TaskName"]] == demo.SHOWCASE_TASKS
    assert set(showcase["Memory"]) == set(demo.SHOWCASE_TASKS)  # per task
    assert set(showcase["SiteWhitelist"]) >= {"T2_DE_DESY", "T2_IT_Pisa"}
    stepchain = requests_[demo.STEPCHAIN]
    assert (
        stepchain["RequestType"] == "StepChain"
        and stepchain["Step1"]["StepName"] == f"{demo.STEPCHAIN_PREP_ID}_0"
    )
    rereco = requests_[demo.RERECO]
    assert rereco["RequestType"] == "ReReco" and rereco["PrepID"] == demo.RERECO_PREP_ID
    assert rereco["PrepID"] not in demo.RERECO  # the name does not tell it
    for acdc, original in [(demo.SHOWCASE_ACDC, demo.SHOWCASE), (demo.RERECO_ACDC, demo.RERECO)]:
        resubmission = requests_[acdc]
        assert resubmission["RequestType"] == "Resubmission"
        assert resubmission["OriginalRequestName"] == original
        assert resubmission["PrepID"] == requests_[original]["PrepID"]
        assert resubmission["RequestDate"] > requests_[original]["RequestDate"]
    resubmissions = [r for r in requests_.values() if r["RequestType"] == "Resubmission"]
    assert all(r["OriginalRequestName"] in requests_ for r in resubmissions) and len(resubmissions) > 2


def test_acdc_collections_name_storage_and_generated_files(generated):
    def locations(workflow):
        answer = generated["acdc"][workflow]
        found = {}
        for row in answer["rows"]:
            doc = row["doc"]
            assert doc["fileset_name"].startswith(f"/{workflow}/")
            for name, info in doc["files"].items():
                assert isinstance(info["locations"], list) and isinstance(info["events"], int)
                found.setdefault(doc["fileset_name"], set()).update(info["locations"])
                found.setdefault("files", set()).add(name)
        return found

    showcase = locations(demo.SHOWCASE)
    assert showcase[SHOWCASE_FIRST] == {
        "T1_US_FNAL_Disk", "T2_CH_CERN_ECHO_Disk", "T0_CH_CERN_MSS", "T1_IT_CNAF_Export", "T2_DE_DESY"
    }  # fmt: skip
    assert showcase[SHOWCASE_SECOND] == {"cmssrm.fnal.gov", "T2_IT_Pisa", demo.UNMAPPED_STORAGE_HOST}
    assert any(name.startswith("MCFakeFile") for name in locations(demo.STEPCHAIN)["files"])
    everywhere = set().union(*(v for w in generated["acdc"] for k, v in locations(w).items() if k != "files"))
    assert any(location.endswith("_Disk") for location in everywhere - {"T1_US_FNAL_Disk"})


def test_site_status_is_the_ssb_shape_with_drained_and_disabled_recovery_sites(generated):
    rows = generated["site_status"]["csvdata"]
    assert all({"VOName", "Status", "COLORNAME"} <= set(row) for row in rows)
    status = {row["VOName"]: row["Status"] for row in rows}
    assert status["T2_DE_DESY"] == "drain" and status["T2_IT_Pisa"] == "disabled"
    assert {row["COLORNAME"] for row in rows if row["Status"] == "enabled"} == {"green"}
    assert set(demo.SITES) <= set(status)


def test_log_messages_are_search_hit_sources(generated):
    logs = generated["logs"]
    assert all(set(message) >= {"timestamp", "module", "message"} for message in logs)
    assert any(demo.SHOWCASE in message["message"] for message in logs)
    assert {message["module"] for message in logs} <= set(demo.LOG_MODULES)


# The fake server ------------------------------------------------------------------------


@pytest.fixture
def demo_server(generated, tmp_path):
    for name in ("job_detail", "requests", "acdc", "site_status", "logs"):
        (tmp_path / f"{name}.json").write_text(json.dumps(generated[name]))
    server = make_server(tmp_path, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_fake_server_answers_every_endpoint(demo_server, generated):
    def get(path, **kwargs):
        response = requests.get(f"{demo_server}{path}", timeout=5, **kwargs)
        return response.status_code, response.json()

    name = demo.SHOWCASE
    assert get(f"/wmstatsserver/data/jobdetail/{name}") == (200, generated["job_detail"][name])
    assert get("/wmstatsserver/data/jobdetail/nobody") == (200, {"result": []})
    assert get("/reqmgr2/data/request", params={"name": name}) == (200, generated["requests"][name])
    status, by_prep_id = get("/reqmgr2/data/request", params={"prep_id": demo.RERECO_PREP_ID})
    assert status == 200 and set(by_prep_id["result"][0]) == {demo.RERECO, demo.RERECO_ACDC}
    status, names = get("/reqmgr2/data/request", params={"status": "running-closed", "detail": "false"})
    assert status == 200 and name in names["result"]
    acdc = "/couchdb/acdcserver/_design/ACDC/_view/byCollectionName"
    params = {"key": f'"{name}"', "include_docs": "true", "reduce": "false"}
    assert get(acdc, params=params) == (200, generated["acdc"][name])
    assert get(SITE_STATUS_PATH, params={"columnid": "158"}) == (200, generated["site_status"])
    assert get("/nothing/here")[0] == 404


def test_the_fake_log_search_filters_sorts_and_pages(demo_server, generated):
    def search(body):
        response = requests.get(f"{demo_server}/unified-logs/_search", json=body, timeout=5)
        assert response.status_code == 200
        hits = response.json()["hits"]
        return hits["total"]["value"], [hit["_source"] for hit in hits["hits"]]

    def body(text, module="", size=50, start=0):
        return {
            "query": {
                "bool": {
                    "must": [{"query_string": {"query": text, "default_field": "message"}}],
                    "filter": [{"term": {"module": module}}] if module else [],
                }
            },
            "sort": [{"timestamp": {"order": "desc"}}],
            "size": size,
            "from": start,
        }

    expected = [m for m in generated["logs"] if demo.SHOWCASE in m["message"]]
    total, found = search(body(demo.SHOWCASE))
    assert total == len(expected) >= 2 and len(found) == total
    assert [m["timestamp"] for m in found] == sorted((m["timestamp"] for m in expected), reverse=True)
    module = expected[0]["module"]
    total, found = search(body(demo.SHOWCASE, module=module))
    assert total == 1 and found[0]["module"] == module
    total, first_page = search(body("exit code", size=3))
    _, second_page = search(body("exit code", size=3, start=3))
    assert total > 6 and len(first_page) == len(second_page) == 3
    assert first_page[-1]["timestamp"] >= second_page[0]["timestamp"]
    assert search(body("no-such-word-anywhere")) == (0, [])


# The demo configuration and the whole loop ----------------------------------------------


def test_the_demo_config_points_every_source_at_the_fake_server():
    config = load_config(Path(__file__).resolve().parent.parent / "config.demo.yml")
    sources = config["sources"]
    for name in ("wmstats", "reqmgr2", "acdc", "logs"):
        assert sources[name] == "http://127.0.0.1:8081"
    assert sources["site_status"].startswith(f"http://127.0.0.1:8081{SITE_STATUS_PATH}?")
    assert sources["all_errors"] == "var/demo/all_errors.json"
    assert sources["storage_hosts"] == demo.STORAGE_HOSTS


@pytest.fixture
def demo_loaded(settings, tmp_path, empty_cache):  # noqa: F811
    """`make run` in a test: the demo data loaded, the fake sources started on a free
    port, config.demo.yml with that port."""
    settings.VAR_DIR = tmp_path / "var"
    settings.WWT = load_config(Path(settings.BASE_DIR) / "config.demo.yml")
    settings.WWT["clustering"]["model_dir"] = str(tmp_path / "models")
    out = StringIO()
    call_command("load_demo_data", "--workflows", "30", "--days", "3", stdout=out, stderr=out)
    server = make_server(tmp_path / "var" / "demo" / "sources", port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port_url = f"http://127.0.0.1:{server.server_address[1]}"
    settings.WWT["sources"] = {
        **settings.WWT["sources"],
        **{
            key: value.replace("http://127.0.0.1:8081", port_url)
            for key, value in settings.WWT["sources"].items()
            if isinstance(value, str)
        },
        "all_errors": str(tmp_path / "var" / "demo" / "all_errors.json"),
    }
    yield out.getvalue()
    server.shutdown()
    server.server_close()


@pytest.mark.django_db
def test_the_demo_shows_every_panel_of_the_workflow_page(demo_loaded, operator_client):
    assert "predictor trained on" in demo_loaded, demo_loaded
    # The page reads what is stored: the refresh job's site status, and "Refresh this
    # workflow now" for ReqMgr2, the ACDC server and the log samples.
    assert refresh_site_statuses().updated
    with TestCase.captureOnCommitCallbacks(execute=True):
        refreshed = operator_client.post("/seeworkflow/refresh", {"workflow": demo.SHOWCASE})
    assert refreshed.status_code == 302
    response = operator_client.get("/seeworkflow", {"workflow": demo.SHOWCASE})
    assert response.status_code == 200
    html = response.content.decode()

    # Log samples were fetched from WMStats, and the procedure of 84 extracted its file.
    assert "Log samples:" not in html  # no "could not fetch" note
    procedures = {item["exit_code"]: item for item in response.context["procedures"]}
    assert procedures[84]["parameters"] and all(ROOT_FILE.fullmatch(p) for p in procedures[84]["parameters"])
    explain = operator_client.get("/explainerror", {"errorcode": 84, "workflowstep": SHOWCASE_FIRST})
    assert "Failed to open the file" in explain.content.decode()

    # Request parameters from ReqMgr2 (per-task memory, never a Python repr).
    assert response.context["request_answer"].ok
    request_panel = html[html.index('<section class="request">') :]
    request_panel = request_panel[: request_panel.index("</section>")]
    assert "TaskChain" in request_panel and f"{FIRST} → {SECOND}" in request_panel
    assert "{" not in request_panel  # item 7: memory per task, not {'task': 6000}

    # Auto and Ban: storage names turned into sites; the drained and disabled sites left
    # out of Auto and pre-checked for Ban.
    panel = response.context["action_panel"]
    blocks = {block["task"]: block for block in panel["blocks"]}
    auto_all = [site["name"] for site in blocks[None]["auto_sites"] if not site["red"]]
    assert set(auto_all) == {"T1_US_FNAL", "T2_CH_CERN"}
    auto_second = [site["name"] for site in blocks[f"{FIRST}/{SECOND}"]["auto_sites"] if not site["red"]]
    assert auto_second == ["T1_US_FNAL"]  # cmssrm.fnal.gov through sources.storage_hosts
    for location in ("T1_US_FNAL_Disk", "T2_CH_CERN_ECHO_Disk", "T0_CH_CERN_MSS", "T1_IT_CNAF_Export"):
        assert location not in html
    assert "cmssrm.fnal.gov" not in html and demo.UNMAPPED_STORAGE_HOST not in html
    for site in ("T2_DE_DESY", "T2_IT_Pisa"):
        assert re.search(rf'name="all-ban" value="{site}"\s+checked', html), site

    # The suggestion of the predictor trained on the demo's past actions.
    assert 'id="action-suggestion"' in html and "Suggested action:" in html

    # Log search finds what Unified's modules said about the workflow, newest first.
    logs = operator_client.get("/showlog", {"search": demo.SHOWCASE})
    assert logs.status_code == 200
    entries = logs.context["entries"]
    assert entries and all(demo.SHOWCASE in entry.message for entry in entries)
    assert [e.timestamp for e in entries] == sorted((e.timestamp for e in entries), reverse=True)
    assert len(entries) >= 2 and entries[0].message in logs.content.decode()


@pytest.mark.django_db
def test_the_demo_log_samples_show_their_own_exit_code(demo_loaded, operator_client):
    """Item 5 through the demo: the 99999 sample filed under 8001 says 99999, and the
    submit failure 71104 (only under submitfailed) has its sample too."""
    explain = operator_client.get("/explainerror", {"errorcode": 8001, "workflowstep": SHOWCASE_FIRST})
    html = explain.content.decode()
    assert "Failure in the log archive step" in html
    assert "99999" in html
    submit = operator_client.get("/explainerror", {"errorcode": 71104, "workflowstep": SHOWCASE_SECOND})
    assert "The job can run only at T2_IT_Pisa" in submit.content.decode()


def test_serve_demo_sources_says_what_is_missing(tmp_path, settings):
    from django.core.management.base import CommandError

    settings.VAR_DIR = tmp_path
    with pytest.raises(CommandError, match="run `manage.py load_demo_data` first"):
        call_command("serve_demo_sources", "--port", "0")
    busy = make_server(tmp_path, port=0)
    try:
        with pytest.raises(CommandError, match="cannot listen on 127.0.0.1"):
            call_command(
                "serve_demo_sources", "--port", str(busy.server_address[1]), "--directory", str(tmp_path)
            )
    finally:
        busy.server_close()
