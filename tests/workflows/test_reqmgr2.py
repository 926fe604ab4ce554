"""ReqMgr2 as it really answers (issue 12, item 7): TaskChain and StepChain requests with
per-task Memory/Multicore, ReReco names whose prep ID and campaign only ReqMgr2 knows, and
Resubmissions (ACDCs) naming their original."""

import json

import pytest

from errors import tasks
from errors.ingestion import ingest_current_errors
from tests.workflows.fake_sources import closed_port_url, configure, reqmgr2_route
from workflows import sources
from workflows.models import Workflow
from workflows.services import refresh_request_parameters

pytestmark = [pytest.mark.usefixtures("empty_cache"), pytest.mark.pg_too]

TASKCHAIN = "pdmvserv_task_BPH-Run3Summer22EEGS-00031__v1_T_261110_101010_3131"
STEPCHAIN = "pdmvserv_task_SUS-Run3Summer23wmLHEGS-00012__v1_T_261111_111111_1212"
RERECO = "pdmvserv_Run2022D_JetMET_27Jun2023_261112_121212_4545"
RERECO_PREP_ID = "ReReco-Run2022D-JetMET-27Jun2023-00001"

TASKCHAIN_REQUEST = {
    "RequestType": "TaskChain",
    "RequestStatus": "running-closed",
    "PrepID": "BPH-Run3Summer22EEGS-00031",
    "Campaign": "Run3Summer22EEGS",
    "Memory": {"BPH-Run3Summer22EEGS-00031_0": 4000, "BPH-Run3Summer22EEDRPremix-00027_0": 15900.0},
    "Multicore": {"BPH-Run3Summer22EEGS-00031_0": 2, "BPH-Run3Summer22EEDRPremix-00027_0": 8},
    "SiteWhitelist": ["T1_US_FNAL", "T2_CH_CERN"],
    "TaskChain": 2,
    "Task1": {"TaskName": "BPH-Run3Summer22EEGS-00031_0", "Memory": 4000},
    "Task2": {"TaskName": "BPH-Run3Summer22EEDRPremix-00027_0", "InputTask": "BPH-Run3Summer22EEGS-00031_0"},
}
STEPCHAIN_REQUEST = {
    "RequestType": "StepChain",
    "RequestStatus": "acquired",
    "PrepID": "SUS-Run3Summer23wmLHEGS-00012",
    "Campaign": "Run3Summer23wmLHEGS",
    "Memory": 12000,
    "Multicore": {"SUS-Run3Summer23wmLHEGS-00012_0": 4, "SUS-Run3Summer23DRPremix-00009_0": 8},
    "StepChain": 2,
    "Step1": {"StepName": "SUS-Run3Summer23wmLHEGS-00012_0"},
    "Step2": {"StepName": "SUS-Run3Summer23DRPremix-00009_0"},
}
RERECO_REQUEST = {
    "RequestType": "ReReco",
    "RequestStatus": "running-open",
    "PrepID": RERECO_PREP_ID,
    "Campaign": "Run2022D",
    "Memory": 3000,
    "Multicore": 4,
}


@pytest.fixture
def reqmgr2(settings, fake_sources):
    answers = {TASKCHAIN: TASKCHAIN_REQUEST, STEPCHAIN: STEPCHAIN_REQUEST, RERECO: RERECO_REQUEST}
    fake_sources.routes["/reqmgr2/data/request"] = reqmgr2_route(answers)
    configure(settings, reqmgr2=fake_sources.url, site_status=None, acdc=None, wmstats=None)
    fake_sources.answers = answers
    return fake_sources


def ingest(tmp_path, workflows, name="all_errors.json"):
    document = {f"/{workflow}/Task_0": {"50660": {"T1_US_FNAL": 3}} for workflow in workflows}
    path = tmp_path / name
    path.write_text(json.dumps(document))
    ingest_current_errors(str(path))
    return str(path)


def test_taskchain_and_stepchain_give_their_tasks_and_per_task_resources(reqmgr2):
    taskchain = sources.fetch_request(TASKCHAIN)
    assert taskchain["tasks"] == ["BPH-Run3Summer22EEGS-00031_0", "BPH-Run3Summer22EEDRPremix-00027_0"]
    assert taskchain["resources"] == [
        {"task": "BPH-Run3Summer22EEGS-00031_0", "memory": 4000, "cores": 2},
        {"task": "BPH-Run3Summer22EEDRPremix-00027_0", "memory": 15900, "cores": 8},
    ]
    stepchain = sources.fetch_request(STEPCHAIN)
    assert stepchain["tasks"] == ["SUS-Run3Summer23wmLHEGS-00012_0", "SUS-Run3Summer23DRPremix-00009_0"]
    # A number applies to every step; the dict is looked up by step name.
    assert stepchain["resources"] == [
        {"task": "SUS-Run3Summer23wmLHEGS-00012_0", "memory": 12000, "cores": 4},
        {"task": "SUS-Run3Summer23DRPremix-00009_0", "memory": 12000, "cores": 8},
    ]
    rereco = sources.fetch_request(RERECO)
    assert rereco["tasks"] == [] and rereco["resources"] == [{"task": "", "memory": 3000, "cores": 4}]


def test_the_workflow_page_shows_memory_and_cores_per_task_never_a_dict(client, reqmgr2, tmp_path, db):
    ingest(tmp_path, [TASKCHAIN, STEPCHAIN])
    html = client.get("/seeworkflow", {"workflow": TASKCHAIN}).content.decode()
    assert "ReqMgr2 was not asked about this workflow yet" in html and reqmgr2.requests == []
    # The pages read the copy the refresh stored, and say when ReqMgr2 said it.
    refresh_request_parameters(Workflow.objects.values_list("id", flat=True))
    asked = len(reqmgr2.requests)
    html = client.get("/seeworkflow", {"workflow": TASKCHAIN}).content.decode()
    assert (
        '<tr><td class="name">BPH-Run3Summer22EEDRPremix-00027_0</td><td class="num">15900</td>'
        '<td class="num">8</td></tr>'
    ) in html
    assert "{&#x27;" not in html and "{'" not in html
    html = client.get("/seeworkflow", {"workflow": STEPCHAIN}).content.decode()
    assert len(reqmgr2.requests) == asked
    assert (
        '<tr><td class="name">SUS-Run3Summer23DRPremix-00009_0</td><td class="num">12000</td>'
        '<td class="num">8</td></tr>'
    ) in html
    assert "StepChain" in html and "as ReqMgr2 said on" in html and "{&#x27;" not in html


def test_a_rereco_takes_prep_id_and_campaign_from_reqmgr2_and_is_grouped_by_them(
    client, reqmgr2, tmp_path, db
):
    path = ingest(tmp_path, [RERECO, TASKCHAIN])
    rereco = Workflow.objects.get(name=RERECO)
    assert (rereco.prep_id, rereco.campaign) == ("", "")  # the name tells nothing
    html = client.get("/globalerror").content.decode()
    assert "Campaign (unknown)" in html
    result = tasks.refresh_errors.apply(args=[path])
    assert result.successful() and result.result["reqmgr2"]["updated"] == 2
    rereco.refresh_from_db()
    assert (rereco.prep_id, rereco.campaign, rereco.request_type, rereco.request_status) == (
        RERECO_PREP_ID,
        "Run2022D",
        "ReReco",
        "running-open",
    )
    assert rereco.request_parameters["memory"] == 3000 and rereco.request_fetched_at is not None
    html = client.get("/globalerror").content.decode()
    assert "Campaign Run2022D" in html and "Campaign (unknown)" not in html
    assert f'<span class="name">{RERECO_PREP_ID}</span>' in html
    page = client.get("/globalerror", {"campaign": "Run2022D"}).content.decode()
    assert RERECO in page and TASKCHAIN not in page


def test_a_down_reqmgr2_changes_nothing_and_the_refresh_job_goes_on(settings, reqmgr2, tmp_path, db):
    path = ingest(tmp_path, [RERECO, TASKCHAIN])
    before = list(Workflow.objects.order_by("name").values())
    configure(settings, reqmgr2=closed_port_url())
    report = refresh_request_parameters(Workflow.objects.values_list("id", flat=True))
    assert report.updated == 0 and "ReqMgr2 is unreachable" in report.problem
    assert list(Workflow.objects.order_by("name").values()) == before
    result = tasks.refresh_errors.apply(args=[path])
    assert result.successful() and "unreachable" in result.result["reqmgr2"]["problem"]


def test_the_refresh_is_bounded_and_asks_the_least_recently_asked_first(reqmgr2, tmp_path, db):
    ingest(tmp_path, [RERECO, TASKCHAIN, STEPCHAIN, "unknown_to_reqmgr2_261101_000000_1"])
    ids = list(Workflow.objects.values_list("id", flat=True))
    first = refresh_request_parameters(ids, limit=2)
    assert first.updated == 2 and first.unknown == []
    second = refresh_request_parameters(ids, limit=2)
    # The two never asked come first; the one ReqMgr2 does not know is reported, not fatal.
    assert second.updated == 1 and second.unknown == ["unknown_to_reqmgr2_261101_000000_1"]
    assert Workflow.objects.filter(request_fetched_at__isnull=False).count() == 3


def test_an_acdc_links_to_the_original_its_reqmgr2_request_names(reqmgr2, tmp_path, db):
    prep_id = "BPH-Run3Summer22EEGS-00031"
    clone = "pdmvserv_task_BPH-Run3Summer22EEGS-00031__v2_T_261115_151515_3232"
    acdc = "cmsunified_ACDC0_task_BPH-Run3Summer22EEGS-00031__v1_T_261118_181818_9090"
    reqmgr2.answers[clone] = {**TASKCHAIN_REQUEST, "RequestDate": [2026, 11, 15, 15, 15, 15]}
    reqmgr2.answers[acdc] = {
        "RequestType": "Resubmission",
        "RequestStatus": "running-open",
        "PrepID": prep_id,
        "Campaign": "Run3Summer22EEGS",
        "OriginalRequestName": clone,
        "InitialTaskPath": f"/{clone}/BPH-Run3Summer22EEGS-00031_0",
    }
    ingest(tmp_path, [TASKCHAIN, clone, acdc])
    # By name and prep ID alone, the oldest workflow of the prep ID looks like the original.
    assert Workflow.objects.get(name=acdc).original.name == TASKCHAIN
    report = refresh_request_parameters(Workflow.objects.values_list("id", flat=True))
    assert report.updated == 3 and report.linked == 1
    assert Workflow.objects.get(name=acdc).original.name == clone
    assert Workflow.objects.get(name=acdc).is_acdc


def test_a_resubmission_without_acdc_in_its_name_is_an_acdc_of_its_original(reqmgr2, tmp_path, db):
    resubmission = "pdmvserv_Resubmission_Run2022D_JetMET_261120_080808_0808"
    reqmgr2.answers[resubmission] = {
        "RequestType": "Resubmission",
        "PrepID": RERECO_PREP_ID,
        "Campaign": "Run2022D",
        "OriginalRequestName": RERECO,
    }
    ingest(tmp_path, [RERECO, resubmission])
    refresh_request_parameters(Workflow.objects.values_list("id", flat=True))
    linked = Workflow.objects.get(name=resubmission)
    assert linked.is_acdc and linked.original.name == RERECO
    assert not Workflow.objects.get(name=RERECO).is_acdc
