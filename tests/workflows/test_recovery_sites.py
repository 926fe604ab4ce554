"""Auto sites are CMS compute sites: the ACDC server's storage locations (PNNs, storage hosts,
MCFakeFile collections) turned into known sites, as the original tool did (issue 12, item 1)."""

import json

import pytest

from errors.ingestion import ingest_current_errors
from tests.workflows.fake_sources import (
    ACDC_VIEW,
    acdc_answer,
    closed_port_url,
    configure,
    refresh_stored_sources,
    reqmgr2_route,
)
from workflows import selectors, sources
from workflows.models import Site, Workflow
from workflows.selectors import SITE_STATUS_UNAVAILABLE

pytestmark = [pytest.mark.usefixtures("empty_cache"), pytest.mark.pg_too]

WORKFLOW = "pdmvserv_task_EGM-Run3Summer23DRPremix-00042__v1_T_261120_080000_4242"
DIGI = "EGM-Run3Summer23DRPremix-00042_0"
MERGE = f"{DIGI}/{DIGI}MergeAODSIMoutput"
GEN = "EGM-Run3Summer23wmLHEGS-00042_0"
STATUS = {
    "T1_US_FNAL": "enabled",
    "T1_UK_RAL": "enabled",
    "T1_IT_CNAF": "enabled",
    "T2_CH_CERN": "drain",
    "T2_US_MIT": "enabled",
    "T2_DE_DESY": "disabled",
}
FILE = "/store/mc/Run3Summer23DRPremix/EGM/AODSIM/130X_v1-v2/2530000/{}.root"


def _acdc_document(gen_files=None):
    files = {
        DIGI: {
            FILE.format("a"): ["T1_US_FNAL_Disk", "T0_CH_CERN_MSS"],
            FILE.format("b"): ["T1_UK_RAL_ECHO_Disk", "T1_IT_CNAF_Export", "T1_IT_CNAF_MSS"],
            FILE.format("c"): ["T2_CH_CERN", "T2_XX_Nowhere_Disk"],
        },
        MERGE: {FILE.format("d"): ["cmssrm.fnal.gov"], FILE.format("e"): ["srm.unmapped.example.org"]},
    }
    if gen_files is not None:
        files[GEN] = gen_files
    return acdc_answer(WORKFLOW, files)


@pytest.fixture
def acdc_server(settings, fake_sources, tmp_path, db):
    """The ACDC server and ReqMgr2 on a local server, the site status as a local file."""
    status_file = tmp_path / "site_status.json"
    status_file.write_text(json.dumps(STATUS))
    fake_sources.routes[ACDC_VIEW] = (200, _acdc_document())
    fake_sources.routes["/reqmgr2/data/request"] = reqmgr2_route(
        {
            WORKFLOW: {
                "RequestType": "StepChain",
                "SiteWhitelist": ["T2_US_MIT", "T2_DE_DESY", "T3_XX_Nowhere", "T1_US_FNAL_Disk"],
            }
        }
    )
    configure(
        settings,
        acdc=fake_sources.url,
        reqmgr2=fake_sources.url,
        site_status=str(status_file),
        storage_hosts={},
    )
    return fake_sources


def _workflow():
    """The workflow once the refresh job stored what its sources say (the choices read only that)."""
    return refresh_stored_sources(Workflow.objects.get_or_create(name=WORKFLOW)[0])[0]


def test_storage_names_become_compute_sites_the_original_way(acdc_server):
    workflow = _workflow()
    acdc_server.requests.clear()
    choices = selectors.recovery_site_choices(workflow)
    # _Disk and _ECHO_Disk stripped; T0, _MSS and _Export dropped (even of a known site);
    # a site nobody knows dropped; a storage host without a table entry dropped.
    assert choices.by_task == {DIGI: ["T1_UK_RAL", "T1_US_FNAL", "T2_CH_CERN"], MERGE: []}
    assert not choices.problem
    # The choices read what the refresh stored: no source is asked.
    assert acdc_server.requests == []


def test_a_storage_host_maps_to_a_site_only_through_the_configured_table(acdc_server, settings):
    configure(settings, storage_hosts={"cmssrm.fnal.gov": "T1_US_FNAL"})
    choices = selectors.recovery_site_choices(_workflow())
    assert choices.by_task[MERGE] == ["T1_US_FNAL"]
    assert choices.auto(MERGE) == ["T1_US_FNAL"]


def test_auto_keeps_the_enabled_sites_and_shows_the_drained_apart(acdc_server):
    choices = selectors.recovery_site_choices(_workflow())
    assert choices.auto(DIGI) == ["T1_UK_RAL", "T1_US_FNAL"]
    assert choices.not_enabled(DIGI) == ["T2_CH_CERN"]


def test_an_mcfakefile_collection_may_run_anywhere_in_the_site_whitelist(acdc_server):
    acdc_server.routes[ACDC_VIEW] = (
        200,
        _acdc_document({"MCFakeFile-pdmvserv_task_EGM-00042-5a1b2c3d4e": ["T2_CH_CERN"]}),
    )
    choices = selectors.recovery_site_choices(_workflow())
    # The whitelist is mapped and filtered like locations: a PNN in it becomes its site, an
    # unknown site is dropped; the disabled T2_DE_DESY is shown but not served.
    assert choices.by_task[GEN] == ["T1_US_FNAL", "T2_CH_CERN", "T2_DE_DESY", "T2_US_MIT"]
    assert choices.auto(GEN) == ["T1_US_FNAL", "T2_US_MIT"]
    assert choices.by_task[DIGI] == ["T1_UK_RAL", "T1_US_FNAL", "T2_CH_CERN"]


def test_an_mcfakefile_with_reqmgr2_down_serves_only_the_listed_locations(acdc_server, settings):
    acdc_server.routes[ACDC_VIEW] = (200, _acdc_document({"MCFakeFile-abc": ["T2_US_MIT_Disk"]}))
    configure(settings, reqmgr2=closed_port_url())
    assert selectors.recovery_site_choices(_workflow()).by_task[GEN] == ["T2_US_MIT"]


def test_a_site_seen_in_errors_is_known_but_not_enabled(acdc_server, tmp_path):
    document = {f"/{WORKFLOW}/{DIGI}": {"8021": {"T2_US_Wisconsin": 4, "T2_CH_CERN": 1}}}
    path = tmp_path / "all_errors.json"
    path.write_text(json.dumps(document))
    ingest_current_errors(str(path))
    assert set(Site.objects.values_list("name", flat=True)) == {"T2_US_Wisconsin", "T2_CH_CERN"}
    acdc_server.routes[ACDC_VIEW] = (
        200,
        acdc_answer(WORKFLOW, {DIGI: {FILE.format("f"): ["T2_US_Wisconsin_Disk", "T1_US_FNAL_Disk"]}}),
    )
    choices = selectors.recovery_site_choices(_workflow())
    assert choices.by_task[DIGI] == ["T1_US_FNAL", "T2_US_Wisconsin"]
    # No status for it: shown, never served.
    assert choices.auto(DIGI) == ["T1_US_FNAL"]


@pytest.mark.parametrize("site_status", [None, "unreachable", "unknown format"])
def test_without_the_site_status_auto_serves_nothing_and_says_why(
    acdc_server, settings, tmp_path, site_status
):
    if site_status == "unreachable":
        configure(settings, site_status=closed_port_url() + "/status.json")
    elif site_status == "unknown format":
        bad = tmp_path / "bad_status.json"
        bad.write_text(json.dumps([{"site": "T1_US_FNAL", "state": "ok"}]))
        configure(settings, site_status=str(bad))
    else:
        configure(settings, site_status=None)
    choices = selectors.recovery_site_choices(_workflow())
    assert choices.problem == SITE_STATUS_UNAVAILABLE
    assert choices.auto(DIGI) == []


def test_recovery_locations_are_kept_raw_per_task(acdc_server):
    assert sources.fetch_recovery_sites(WORKFLOW)[DIGI] == [
        "T0_CH_CERN_MSS",
        "T1_IT_CNAF_Export",
        "T1_IT_CNAF_MSS",
        "T1_UK_RAL_ECHO_Disk",
        "T1_US_FNAL_Disk",
        "T2_CH_CERN",
        "T2_XX_Nowhere_Disk",
    ]


def test_the_storage_host_table_is_validated_in_config_yml():
    from wwt_project.config import ConfigError, validate_config

    config = validate_config({"sources": {"storage_hosts": {"CMSSRM.fnal.gov": "T1_US_FNAL"}}})
    assert config["sources"]["storage_hosts"] == {"cmssrm.fnal.gov": "T1_US_FNAL"}
    assert validate_config({})["sources"]["storage_hosts"] == {}
    for bad in (["cmssrm.fnal.gov"], {"cmssrm.fnal.gov": 7}, {"": "T1_US_FNAL"}):
        with pytest.raises(ConfigError, match="sources.storage_hosts"):
            validate_config({"sources": {"storage_hosts": bad}})
