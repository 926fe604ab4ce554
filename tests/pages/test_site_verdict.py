"""Issue 17 item 3 on the workflow page: the badge that says whether the errors sit on sites
that fail most workflows ("probably the site") or the workflow fails wherever it runs."""

import pytest
from django.core.cache import cache

from errors.selectors.site_context import SiteContext, workflow_verdict
from tests.errors.conftest import load_document
from tests.errors.test_colours_and_site_context import EVERY, HALF, KNOWN, PLAIN, SITEY, load_known

pytestmark = pytest.mark.pg_too


@pytest.fixture
def known(db, tmp_path, settings):
    cache.clear()  # the snapshot's sums are cached per snapshot key, which restarts per test
    load_known(tmp_path, settings)


SITE_BADGE = "Probably the site, not the workflow"
WORKFLOW_BADGE = "This workflow fails at every site"


def see(client, name: str) -> str:
    response = client.get("/seeworkflow", {"workflow": name})
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_a_workflow_failing_mostly_at_a_site_that_fails_most_workflows_blames_the_site(client, known):
    html = see(client, SITEY)
    assert SITE_BADGE in html and WORKFLOW_BADGE not in html
    # 20 of its 22 errors at T2_BAD, which fails 8 of the 12 failing workflows.
    assert "91% of its errors are at T2_BAD, which fails 30% or more" in html


@pytest.mark.django_db
def test_a_workflow_failing_at_many_healthy_sites_blames_the_workflow(client, known):
    html = see(client, EVERY)
    assert WORKFLOW_BADGE in html and SITE_BADGE not in html
    assert "errors at 4 sites (T1_OK, T2_A, T2_B, T2_C)" in html


@pytest.mark.django_db
@pytest.mark.parametrize("name", [PLAIN, HALF])
def test_no_badge_for_one_healthy_site_or_half_at_a_bad_site(client, known, name):
    html = see(client, name)
    assert SITE_BADGE not in html and WORKFLOW_BADGE not in html


@pytest.mark.django_db
def test_a_snapshot_too_small_to_tell_shows_no_badge(client, tmp_path):
    cache.clear()
    # Three workflows: every site "fails" a third of them, which says nothing.
    small = {step: cells for step, cells in KNOWN.items() if EVERY in step or SITEY in step or PLAIN in step}
    load_document(tmp_path, small)
    for name in (EVERY, SITEY, PLAIN):
        html = see(client, name)
        assert SITE_BADGE not in html and WORKFLOW_BADGE not in html


def context(site: str, workflows: int, all_workflows: int = 20) -> SiteContext:
    return SiteContext(site, "enabled", 1, workflows, all_workflows, None, None)


@pytest.mark.parametrize(
    ("site_errors", "kind"),
    [
        ({"BAD": 6, "OK1": 4}, "site"),  # 60% at a site failing 10 of 20 workflows
        ({"BAD": 5, "OK1": 5}, None),  # exactly half: not "most"
        ({"BAD": 5, "OK1": 3, "OK2": 2}, "workflow"),  # three sites, half at the bad one
        ({"OK1": 1, "OK2": 1}, None),  # two sites are not "every site"
        ({"OK1": 3, "OK2": 1, "NEW": 1}, "workflow"),  # a site the snapshot does not know counts as healthy
        ({}, None),
    ],
)
def test_the_verdict_thresholds(site_errors, kind):
    contexts = {"BAD": context("BAD", 10), "OK1": context("OK1", 2), "OK2": context("OK2", 1)}
    verdict = workflow_verdict(site_errors, contexts)
    assert (verdict.kind if verdict else None) == kind
