"""Auto serves the enabled recovery sites only; drained/disabled ones are shown in red and are
Ban's default; nothing left (or no site status) refuses Auto, in the form and in POST
/api/actions/ alike (issue 12, item 2). The ACDC server, ReqMgr2 and the site status answer
from a local server in their real shapes: nothing here is monkeypatched."""

import json

import pytest

from actions.models import Action
from tests.factories import StepFactory, WorkflowFactory
from tests.workflows.fake_sources import (
    ACDC_VIEW,
    acdc_answer,
    closed_port_url,
    configure,
    refresh_stored_sources,
    ssb_answer,
)
from workflows.models import Site

pytestmark = [pytest.mark.usefixtures("empty_cache"), pytest.mark.pg_too]

NAME = "pdmvserv_task_TOP-Run3Summer22EEGS-00077__v1_T_261121_090000_7777"
GEN = "TOP-Run3Summer22EEGS-00077_0"
MERGE = f"{GEN}/{GEN}MergeRAWSIMoutput"
ROOT = "/store/unmerged/Run3Summer22EEGS/TT/GEN-SIM/124X_v2/50000/{}.root"


@pytest.fixture
def workflow(db):
    made = WorkflowFactory(name=NAME)
    for task in (GEN, MERGE, f"{GEN}/LogCollect"):
        StepFactory(workflow=made, name=f"/{NAME}/{task}")
    return made


@pytest.fixture
def outside(settings, fake_sources, workflow):
    """GEN's files sit at FNAL (enabled) and CERN (drain); MERGE's at DESY (disabled) only."""
    fake_sources.routes[ACDC_VIEW] = (
        200,
        acdc_answer(
            NAME,
            {
                GEN: {
                    ROOT.format("a"): ["T1_US_FNAL_Disk", "T2_CH_CERN"],
                    ROOT.format("b"): ["T0_CH_CERN_MSS"],
                },
                MERGE: {ROOT.format("c"): ["T2_DE_DESY"]},
            },
        ),
    )
    fake_sources.routes["/ssb"] = (
        200,
        ssb_answer(
            [
                ("T1_US_FNAL", "enabled", "green"),
                ("T2_CH_CERN", None, "yellow"),
                ("T2_DE_DESY", "disabled", "red"),
                ("T2_US_MIT", "enabled", "green"),
            ]
        ),
    )
    configure(settings, acdc=fake_sources.url, site_status=fake_sources.url + "/ssb")
    refresh_stored_sources(workflow)  # pages and the validator read what the refresh job stored
    return fake_sources


def _api(client, parameters):
    body = {
        "workflows": [NAME],
        "action": "acdc",
        "parameters": parameters,
        "reasons": [{"short": "", "long": "Recover the failed jobs."}],
    }
    return client.post("/api/actions/", json.dumps(body), content_type="application/json")


def _form(client, **fields):
    data = {
        "workflow": NAME,
        "action": "acdc",
        "all-sites_method": "Auto",
        "t0-task": GEN,
        "t1-task": MERGE,
        "reason_short": [""],
        "reason_long": ["Recover the failed jobs."],
        **fields,
    }
    return client.post(f"/submitaction?workflow={NAME}", data)


def test_the_form_shows_drained_sites_in_red_and_ticks_them_for_ban(operator_client, outside):
    page = operator_client.get(f"/submitaction?workflow={NAME}").content.decode()
    assert '<span class="site-drain">T2_CH_CERN</span>' in page
    assert 'name="t0-ban" value="T2_CH_CERN" checked' in page
    assert 'name="t0-ban" value="T1_US_FNAL" checked' not in page
    assert 'name="t1-ban" value="T2_DE_DESY" checked' in page
    # Storage names never reach the form; T0 is not a place to run.
    assert "T1_US_FNAL_Disk" not in page and "T0_CH_CERN" not in page
    assert f"No enabled recovery site is left for: {MERGE}" in page


def test_the_api_serves_auto_without_the_drained_site(operator_client, outside):
    response = _api(operator_client, {GEN: {"memory": 3000}})
    assert response.status_code == 201, response.content
    assert response.json()[0]["Parameters"] == {GEN: {"sites": ["T1_US_FNAL"], "memory": 3000}}


def test_auto_with_nothing_enabled_left_is_refused_with_a_clear_message(operator_client, outside):
    response = _api(operator_client, {"AllSteps": {}})
    assert response.status_code == 400
    text = json.dumps(response.json())
    assert f"no sites can be determined for task {MERGE}" in text
    assert "no enabled site is left: T2_DE_DESY (disabled)" in text and "Manual" in text
    response = _form(operator_client)
    assert response.status_code == 400
    assert "no enabled site is left: T2_DE_DESY (disabled)" in response.content.decode()
    assert Action.objects.count() == 0
    # Manual for that task still works.
    response = _form(operator_client, **{"t1-sites_method": "Manual", "t1-sites": ["T2_US_MIT"]})
    assert response.status_code == 302
    assert Action.objects.get().parameters == {
        GEN: {"sites": ["T1_US_FNAL"]},
        MERGE: {"sites": ["T2_US_MIT"]},
    }


def test_banning_the_last_enabled_site_is_refused(operator_client, outside):
    response = _api(operator_client, {GEN: {"ban": ["T1_US_FNAL"]}})
    assert response.status_code == 400
    assert "every enabled recovery site is banned" in json.dumps(response.json())
    assert Action.objects.count() == 0


def test_without_the_site_status_auto_is_refused_rather_than_unchecked(operator_client, outside, settings):
    configure(settings, site_status=closed_port_url() + "/ssb")
    Site.objects.update(status="")  # no status stored: the refresh never reached the source
    page = operator_client.get(f"/submitaction?workflow={NAME}").content.decode()
    assert "Auto is not available: site status unavailable; choose sites by hand (Manual)." in page
    response = _api(operator_client, {GEN: {}})
    assert response.status_code == 400
    assert "site status unavailable" in json.dumps(response.json())
    response = _form(operator_client, **{"t0-only": "1"})
    assert response.status_code == 400 and "site status unavailable" in response.content.decode()
    assert Action.objects.count() == 0
    response = _api(operator_client, {GEN: {"sites": ["T2_CH_CERN"]}})
    assert response.status_code == 201
