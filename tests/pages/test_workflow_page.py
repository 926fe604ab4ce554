"""The detailed workflow view /seeworkflow and the log search /showlog."""

import json

import pytest
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from errors import demo
from errors.ingestion import ingest_current_errors
from errors.models import Procedure
from tests.workflows.fake_sources import (
    ROOT_FILE,
    STEP,
    WORKFLOW,
    closed_port_url,
    configure,
    jobdetail_answer,
    logs_answer,
    reqmgr2_answer,
)
from workflows.models import Workflow
from workflows.services import refresh_site_statuses

pytestmark = pytest.mark.pg_too

ACDC = "cmsunified_ACDC0_task_HIG-RunIISummer20UL18wmLHEGEN-00123__v1_T_240120_123456_9999"
EVIL = 'evil<script>alert("x")<script>\'&quot;ü€_'
EVIL += "x" * (400 - len(EVIL))


def ingest(tmp_path, document, name="errors.json"):
    path = tmp_path / name
    path.write_text(json.dumps(document))
    ingest_current_errors(str(path))


@pytest.fixture
def workflow_errors(db, tmp_path, empty_cache):
    ingest(
        tmp_path,
        {
            STEP: {"84": {"T2_CH_CERN": 3, "T1_US_FNAL": 1}, "50660": {"T1_US_FNAL": 12}},
            f"{STEP}/Merge": {"99109": {"T2_CH_CERN": 2}},
            f"/{ACDC}/HIG_0": {"50660": {"T1_US_FNAL": 6}},
        },
    )
    return Workflow.objects.get(name=WORKFLOW)


def see(client, name, status=200):
    response = client.get("/seeworkflow", {"workflow": name})
    assert response.status_code == status
    return response.content.decode()


def test_the_workflow_page_shows_step_tables_with_totals(client, workflow_errors):
    html = see(client, WORKFLOW)
    assert "18 in 2 steps" in html  # failed jobs
    assert 'HIG-RunIISummer20UL18wmLHEGEN-00123_0 <span class="muted">· 16 failed jobs' in html
    # Rows are exit codes, biggest first, with per-site counts, totals and a link to log samples.
    assert html.index('href="/procedures#code-50660"') < html.index('href="/procedures#code-84"')
    assert '<td class="num"><strong>12</strong></td>' in html
    assert f"/explainerror?errorcode=84&amp;workflowstep=/{WORKFLOW}" in html
    # The ACDC of the same prep ID is listed.
    assert ACDC in html and "(6 errors)" in html


def test_the_workflow_page_links_to_tools_and_holds_the_panels(client, workflow_errors):
    html = see(client, WORKFLOW)
    assert f'href="/showlog?search={WORKFLOW}"' in html
    assert "/globalerror?prep_id=HIG-RunIISummer20UL18wmLHEGEN-00123" in html
    assert "its.cern.ch/jira/issues/?jql=text%20~%20%22HIG-RunIISummer20UL18wmLHEGEN-00123%22" in html
    for panel in ('id="action-panel"', 'id="similar-panel"'):
        assert panel in html
    # Procedures of the exit codes seen, from the seeded table.
    assert "Recommended procedures" in html and "No recommended procedure" not in html


def test_not_configured_sources_are_notes_not_errors(client, settings, workflow_errors):
    configure(settings, reqmgr2=None, wmstats=None, site_status=None)
    html = see(client, WORKFLOW)
    assert "sources.reqmgr2 is not configured in config.yml" in html
    assert "ReqMgr2 request (not configured)" in html
    assert "sources.wmstats is not configured" in html


def refresh_now(client, user):
    """Press "Refresh this workflow now": the task is sent once the request commits (Celery
    runs it eagerly in tests)."""
    client.force_login(user)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post("/seeworkflow/refresh", {"workflow": WORKFLOW})
    assert response.status_code == 302 and response["Location"] == f"/seeworkflow?workflow={WORKFLOW}"
    client.logout()


def test_request_parameters_and_log_parameters_come_from_the_sources(
    client, settings, fake_sources, workflow_errors, verified_operator
):
    fake_sources.routes["/reqmgr2/data/request"] = (200, reqmgr2_answer())
    fake_sources.routes[f"/wmstatsserver/data/jobdetail/{WORKFLOW}"] = (200, jobdetail_answer())
    fake_sources.routes["/status.json"] = (200, {"T2_CH_CERN": "drain", "T1_US_FNAL": "enabled"})
    configure(
        settings,
        reqmgr2=fake_sources.url,
        wmstats=fake_sources.url,
        site_status=fake_sources.url + "/status.json",
    )
    # Nothing asked yet: the page says so, and asks no source.
    html = see(client, WORKFLOW)
    assert "ReqMgr2 was not asked about this workflow yet" in html and fake_sources.requests == []
    refresh_now(client, verified_operator)
    refresh_site_statuses()
    html = see(client, WORKFLOW)
    assert "ReqMgr2 as of" in html and "log samples as of" in html
    assert "TaskChain" in html and "2300 MB" in html and "running-closed" in html
    assert f"{fake_sources.url}/reqmgr2/fetch?rid={WORKFLOW}" in html
    # Exit code 84's procedure extracts the file from the log sample (group(1) of its regex).
    assert f'<code class="param">{ROOT_FILE}</code>' in html
    # The original table's texts, with its line breaks kept.
    assert "The file could not be found" in html
    assert "Site Support Team.<br><br>If a temporary failure: ACDC.<br><br>If a problem" in html  # 99109
    assert 'class="site-drain" title="drain">T2_CH_CERN' in html


def test_sources_that_are_down_leave_the_page_working(client, settings, workflow_errors, verified_operator):
    down = closed_port_url()
    configure(settings, reqmgr2=down, wmstats=down, site_status=down, acdc=down)
    refresh_now(client, verified_operator)
    assert "unreachable" in refresh_site_statuses().problem
    html = see(client, WORKFLOW)
    assert "ReqMgr2 was not asked about this workflow yet" in html
    assert "Log samples: WMStats job detail is unreachable" in html
    assert "Site status unknown (site status is unreachable" in html
    assert "18 in 2 steps" in html


def test_a_missing_certificate_file_leaves_every_page_working_and_names_the_file(
    client, settings, fake_sources, workflow_errors, tmp_path, verified_operator
):
    fake_sources.routes["/reqmgr2/data/request"] = (200, reqmgr2_answer())
    fake_sources.routes["/status.json"] = (200, {"T2_CH_CERN": "drain"})
    fake_sources.routes["/wmarchive-*/_search"] = (200, logs_answer())
    missing = str(tmp_path / "grid-security" / "usercert.pem")
    url = fake_sources.url
    configure(
        settings,
        cert=missing,
        key=missing,
        reqmgr2=url,
        wmstats=url,
        acdc=url,
        site_status=url + "/status.json",
        logs=url,
    )
    bad_file = f"the file {missing} named by sources.cert in config.yml does not exist"
    refresh_now(client, verified_operator)
    refresh_site_statuses()
    html = see(client, WORKFLOW)
    assert "Log samples: WMStats job detail: " + bad_file in html
    assert "18 in 2 steps" in html
    response = client.get("/sites")
    assert response.status_code == 200
    assert "Site status unknown: site status: " + bad_file in response.content.decode()
    response = client.get("/showlog", {"search": WORKFLOW})
    assert response.status_code == 200
    assert "The log server could not be searched: the log server: " + bad_file in response.content.decode()
    assert fake_sources.requests == []


@pytest.mark.django_db
def test_unknown_workflow_is_a_404_page(client):
    html = see(client, "no-such-workflow", status=404)
    assert "No workflow is named no-such-workflow" in html


@pytest.mark.django_db
def test_missing_or_too_long_workflow_is_a_400(client):
    assert "Give the workflow name" in see(client, "", status=400)
    assert "at most 400 characters" in see(client, "x" * 401, status=400)


def test_untrusted_workflow_names_are_escaped(client, db, tmp_path, empty_cache):
    ingest(tmp_path, {f"/{EVIL}/Task<b>": {"50660": {"T2_CH_CERN": 3}}})
    html = see(client, EVIL)
    assert "<script>" not in html and "<b>" not in html
    assert "evil&lt;script&gt;alert(&quot;x&quot;)&lt;script&gt;&#x27;&amp;quot;ü€_" in html
    assert see(client, EVIL[:-1] + "y", status=404).count("<script>") == 0


def count_queries(client, name) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get("/seeworkflow", {"workflow": name}).status_code == 200
    return len(context.captured_queries)


def test_queries_do_not_grow_with_the_data(client, db, tmp_path, empty_cache, django_assert_max_num_queries):
    ingest(tmp_path, demo.generate_error_document(10, seed=2), "small.json")
    small_name = Workflow.objects.order_by("id").first().name
    small = count_queries(client, small_name)
    ingest(tmp_path, demo.generate_error_document(120, seed=2), "big.json")
    # Among workflows with a code whose procedure has a regex (as the small one has): with
    # none, the page skips the log-sample query, which says nothing about growth.
    with_regex = Workflow.objects.filter(
        steps__errors__exit_code__in=Procedure.objects.exclude(match_expression="").values("exit_code")
    ).distinct()
    big_name = max(with_regex, key=lambda w: w.steps.count()).name
    big = count_queries(client, big_name)
    assert small == big
    # Own queries + a margin for the action and clustering panels.
    with django_assert_max_num_queries(20):
        client.get("/seeworkflow", {"workflow": big_name})


def test_the_error_tables_and_related_workflows_are_read_from_the_cache_until_the_snapshot_changes(
    client, tmp_path, workflow_errors, settings
):
    from django.utils import timezone

    from workflows.models import Site

    settings.WWT = {
        **settings.WWT,
        "sources": {**settings.WWT["sources"], "site_status": "http://127.0.0.1:9/ssb"},
    }
    Site.objects.update_or_create(
        name="T1_US_FNAL", defaults={"status": "enabled", "status_checked_at": timezone.now()}
    )
    assert '<span class="site-enabled" title=' in see(client, WORKFLOW)
    first = count_queries(client, WORKFLOW)
    with CaptureQueriesContext(connection) as context:
        see(client, WORKFLOW)
    assert not [q for q in context.captured_queries if 'AS "step__name"' in q["sql"]]  # cells cached
    assert not [q for q in context.captured_queries if 'AS "errors"' in q["sql"]]  # related totals cached
    assert count_queries(client, WORKFLOW) == first
    # The site status changes: the tables show it at once.
    Site.objects.filter(name="T1_US_FNAL").update(status="drain", status_checked_at=timezone.now())
    html = see(client, WORKFLOW)
    assert '<span class="site-drain" title=' in html and '<span class="site-enabled"' not in html
    # A new snapshot: its counts at once.
    ingest(tmp_path, {STEP: {"84": {"T2_CH_CERN": 7}}}, "next.json")
    html = see(client, WORKFLOW)
    assert "7 in 1 step" in html and '<td class="num"><strong>12</strong></td>' not in html
    assert ACDC in html and "(0 errors)" in html


def test_the_layout_names_the_last_refresh_from_the_snapshot_the_page_already_read(client, workflow_errors):
    from errors.selectors.snapshot import last_refresh

    refresh = last_refresh()
    with CaptureQueriesContext(connection) as context:
        html = see(client, WORKFLOW)
    assert f"Data refreshed {refresh.finished_at:%Y-%m-%d %H:%M} UTC" in html
    # Reads of the imports themselves (the stored per-site sums check theirs in a subquery).
    reads = [
        q
        for q in context.captured_queries
        if q["sql"].split(" FROM ", 1)[-1].startswith('"errors_errorimport"')
    ]
    assert len(reads) == 1
