"""Storage names from the ACDC server become the compute sites Unified can run at."""

import pytest

from workflows.sites import site_of_location, sites_of_locations

KNOWN = {"T1_US_FNAL", "T2_CH_CERN", "T1_UK_RAL", "T2_DE_DESY"}
HOSTS = {"cmssrm.fnal.gov": "T1_US_FNAL"}


@pytest.mark.parametrize(
    ("location", "site"),
    [
        ("T1_US_FNAL_Disk", "T1_US_FNAL"),
        ("T1_UK_RAL_ECHO_Disk", "T1_UK_RAL"),
        ("T2_CH_CERN", "T2_CH_CERN"),
        ("T0_CH_CERN_MSS", None),
        ("T0_CH_CERN_Disk", None),
        ("T1_US_FNAL_MSS", None),
        ("T1_IT_CNAF_Export", None),
        ("cmssrm.fnal.gov", "T1_US_FNAL"),
        ("CMSSRM.FNAL.GOV", "T1_US_FNAL"),
        ("srm.unknown.org", None),
        ("", None),
    ],
)
def test_each_storage_name_maps_to_its_compute_site_or_nothing(location, site):
    assert site_of_location(location, HOSTS) == site


def test_only_known_sites_are_kept_sorted_and_once():
    locations = [
        "T2_DE_DESY",
        "T1_US_FNAL_Disk",
        "cmssrm.fnal.gov",
        "T2_CH_CERN_ECHO_Disk",
        "T0_CH_CERN_MSS",
        "T1_IT_CNAF_Export",
        "T3_US_Nowhere",
        "se.unknown.host",
    ]
    assert sites_of_locations(locations, known_sites=KNOWN, storage_hosts=HOSTS) == [
        "T1_US_FNAL",
        "T2_CH_CERN",
        "T2_DE_DESY",
    ]


def test_a_storage_host_without_a_table_entry_is_dropped():
    assert sites_of_locations(["cmssrm.fnal.gov"], known_sites=KNOWN) == []
