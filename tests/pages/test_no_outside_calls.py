"""A page never waits on an outside source: every GET page reads only the database and the
cache, even with every source configured (issue 14, item 2). The HTTP client and the sources'
one entry point are patched to fail the test at the first outside call."""

import json

import pytest

from errors.ingestion import ingest_current_errors
from tests.workflows.fake_sources import STEP, WORKFLOW, configure

pytestmark = pytest.mark.usefixtures("empty_cache")

CONFIGURED = "http://127.0.0.1:9"  # never asked: any call fails the test before it connects


class OutsideCall(AssertionError):
    pass


def _refuse(*args, **kwargs):
    raise OutsideCall(f"a page asked an outside source: {args[:2]} {kwargs.get('url', '')}")


@pytest.fixture
def no_outside_calls(monkeypatch, settings):
    configure(
        settings,
        wmstats=CONFIGURED,
        reqmgr2=CONFIGURED,
        acdc=CONFIGURED,
        site_status=CONFIGURED + "/status.json",
        logs=CONFIGURED,
    )
    monkeypatch.setattr("requests.Session.request", _refuse)
    monkeypatch.setattr("requests.get", _refuse)
    monkeypatch.setattr("workflows.sources.get_json", _refuse)


@pytest.fixture
def current_errors(db, tmp_path):
    path = tmp_path / "all_errors.json"
    path.write_text(json.dumps({STEP: {"84": {"T2_CH_CERN": 3}, "50660": {"T1_US_FNAL": 12}}}))
    ingest_current_errors(str(path))


PAGES = [
    "/",
    "/globalerror",
    "/globalerror?pievar=sitename",
    "/listpage?errorcode=84&sitename=T2_CH_CERN",
    f"/seeworkflow?workflow={WORKFLOW}",
    "/sites",
    "/trends",
    "/messages",
    "/actions/",
    "/procedures",
    "/cluster",
    f"/submitaction?workflow={WORKFLOW}",
    f"/explainerror?errorcode=84&workflowstep={STEP}",
]


def test_the_patch_catches_an_outside_call(no_outside_calls):
    from workflows import sources

    with pytest.raises(OutsideCall):
        sources.fetch_request(WORKFLOW)


@pytest.mark.parametrize("page", PAGES)
def test_a_page_view_makes_no_outside_call(client, current_errors, no_outside_calls, verified_operator, page):
    # Signed in as a verified operator: the action form and the refresh button are drawn too.
    client.force_login(verified_operator)
    assert client.get(page).status_code == 200


def test_an_anonymous_view_of_the_workflow_page_makes_no_outside_call(
    client, current_errors, no_outside_calls
):
    assert client.get("/seeworkflow", {"workflow": WORKFLOW}).status_code == 200
