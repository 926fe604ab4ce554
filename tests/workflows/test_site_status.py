"""Site status in the two shapes SOURCES.md names (our JSON map, CMS SSB's csvdata), and a
visible source error for any other shape (issue 12, item 8)."""

import json

import pytest

from errors.caches import refresh_source_caches
from errors.ingestion import ingest_current_errors
from tests.workflows.fake_sources import configure, ssb_answer
from workflows import selectors, services, sources
from workflows.models import Site

pytestmark = [pytest.mark.usefixtures("empty_cache"), pytest.mark.pg_too]


def test_the_json_map_is_read_as_it_is(settings, fake_sources):
    fake_sources.routes["/site_status.json"] = (
        200,
        {"T1_US_FNAL": "enabled", "T2_CH_CERN": "drain", "T2_DE_DESY": "disabled", "T3_US_Rice": "test"},
    )
    configure(settings, site_status=fake_sources.url + "/site_status.json")
    assert sources.fetch_site_status() == {
        "T1_US_FNAL": "enabled",
        "T2_CH_CERN": "drain",
        "T2_DE_DESY": "disabled",
        "T3_US_Rice": "test",
    }


def test_the_ssb_shape_is_read_status_first_colour_only_when_status_is_missing(settings, fake_sources):
    fake_sources.routes["/ssb/site_status"] = (
        200,
        ssb_answer(
            [
                ("T1_US_FNAL", "enabled", "green"),
                ("T2_CH_CERN", "drain", "green"),  # Status wins over the colour
                ("T2_DE_DESY", None, "red"),
                ("T2_IT_Pisa", None, "yellow"),
                ("T2_US_MIT", "", "green"),  # an empty Status is a missing one
                ("T3_XX_Colourless", None, None),
            ]
        ),
    )
    configure(settings, site_status=fake_sources.url + "/ssb/site_status")
    assert sources.fetch_site_status() == {
        "T1_US_FNAL": "enabled",
        "T2_CH_CERN": "drain",
        "T2_DE_DESY": "disabled",
        "T2_IT_Pisa": "drain",
        "T2_US_MIT": "enabled",
        "T3_XX_Colourless": "unknown",
    }


def test_the_ssb_shape_from_a_local_file(settings, tmp_path):
    path = tmp_path / "ssb.json"
    path.write_text(json.dumps(ssb_answer([("T1_UK_RAL", "Disabled", "red")])))
    configure(settings, site_status=str(path))
    assert sources.fetch_site_status() == {"T1_UK_RAL": "disabled"}


UNKNOWN_SHAPES = [
    [{"site": "T1_US_FNAL", "status": "enabled"}],
    {"T1_US_FNAL": {"status": "enabled"}},
    {"csvdata": {"T1_US_FNAL": "enabled"}},
    "enabled",
]


@pytest.mark.parametrize("document", UNKNOWN_SHAPES)
def test_any_other_shape_is_a_source_error(settings, fake_sources, document):
    fake_sources.routes["/site_status.json"] = (200, document)
    configure(settings, site_status=fake_sources.url + "/site_status.json")
    with pytest.raises(sources.SourceError, match="site status: unknown format"):
        sources.fetch_site_status()


def test_an_unknown_shape_is_shown_on_the_sites_page_not_a_page_of_unknown_sites(
    client, settings, fake_sources, tmp_path, db
):
    path = tmp_path / "all_errors.json"
    path.write_text(json.dumps({"/wf_A/Task1": {"50660": {"T1_US_FNAL": 3}}}))
    ingest_current_errors(str(path))
    fake_sources.routes["/site_status.json"] = (200, UNKNOWN_SHAPES[0])
    configure(settings, site_status=fake_sources.url + "/site_status.json")
    assert services.refresh_site_statuses().problem.startswith("site status: unknown format")
    page = client.get("/sites").content.decode()
    assert "Site status unknown: site status: unknown format" in page
    assert selectors.site_status_answer().problem.startswith("site status: unknown format")


def test_the_refresh_stores_the_statuses_on_the_sites(settings, fake_sources, db):
    Site.objects.create(name="T2_XX_Gone", status="enabled")
    fake_sources.routes["/ssb"] = (
        200,
        ssb_answer([("T1_US_FNAL", "enabled", None), ("T2_CH_CERN", None, "yellow")]),
    )
    configure(settings, site_status=fake_sources.url + "/ssb")
    refresh_source_caches()
    stored = {site.name: site.status for site in Site.objects.all()}
    assert stored == {"T1_US_FNAL": "enabled", "T2_CH_CERN": "drain", "T2_XX_Gone": ""}
    assert Site.objects.get(name="T1_US_FNAL").status_checked_at is not None
    # A source in an unknown shape changes nothing stored.
    fake_sources.routes["/ssb"] = (200, UNKNOWN_SHAPES[1])
    refresh_source_caches()
    assert {site.name: site.status for site in Site.objects.all()} == stored
