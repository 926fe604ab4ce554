"""The site-centric page, the trends from history and /resetcache."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_results.models import TaskResult

from errors.models import ErrorHistory, ErrorImport
from tests.errors.conftest import SMALL_DOCUMENT, A, load_document
from tests.workflows.fake_sources import configure
from workflows.models import Step
from workflows.services import refresh_site_statuses


def test_sites_page_lists_errors_per_site_with_status(client, settings, small_errors, tmp_path, empty_cache):
    status = tmp_path / "status.json"
    status.write_text('{"T2_CH_CERN": "drain", "T1_US_FNAL": "enabled"}')
    configure(settings, site_status=str(status))
    refresh_site_statuses()  # the refresh job's part: the page reads the stored statuses
    html = client.get("/sites").content.decode()
    rows = re.findall(
        r"<tr>\s*<td><a [^>]*>(T\d_\w+)</a></td>\s*<td class=\"site-(\w+)\">\w+</td>\s*"
        r"<td class=\"num\">(\d+)</td>",
        html,
    )
    assert rows == [
        ("T2_CH_CERN", "drain", "44"),
        ("T1_US_FNAL", "enabled", "7"),  # ties by name
        ("T2_US_MIT", "unknown", "7"),
    ]
    assert "/listpage?errorcode=50660&amp;sitename=T2_CH_CERN" in html
    assert "T2_CH_CERN: 44 errors" in html  # the pie's tooltip


def test_sites_page_without_site_status_says_so(client, settings, small_errors, empty_cache):
    configure(settings, site_status=None)
    html = client.get("/sites").content.decode()
    assert "Site status unknown: sources.site_status is not configured" in html


@pytest.mark.django_db
def test_sites_page_queries_do_not_grow(
    client, tmp_path, settings, empty_cache, django_assert_max_num_queries
):
    from tests.errors.conftest import generated_document

    configure(settings, site_status=None)
    for n, name in ((5, "a.json"), (50, "b.json")):
        load_document(tmp_path, generated_document(n), name)
        with django_assert_max_num_queries(6):  # last refresh (twice) + the four per-site sums
            assert client.get("/sites").status_code == 200


def test_trends_count_the_last_snapshot_of_each_day(client, small_errors):
    step = Step.objects.get(name=f"/{A}/HIG_0")
    today = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    yesterday = today - timedelta(days=1)
    ErrorHistory.objects.bulk_create(
        [
            # Two snapshots yesterday: only the later one counts.
            ErrorHistory(
                step=step, exit_code=50660, site="T2_CH_CERN", count=5, bucket=yesterday - timedelta(hours=3)
            ),
            ErrorHistory(step=step, exit_code=50660, site="T2_CH_CERN", count=9, bucket=yesterday),
            ErrorHistory(
                step=step, exit_code=50660, site="T2_CH_CERN", count=30, bucket=today - timedelta(hours=1)
            ),
            ErrorHistory(
                step=step, exit_code=84, site="T1_US_FNAL", count=4, bucket=today - timedelta(hours=1)
            ),
        ]
    )
    html = client.get("/trends?days=3").content.decode()
    assert html.count('<svg class="trend"') == 2
    assert f"50660 on {yesterday.date().isoformat()}: 9 errors" in html
    assert f"50660 on {today.date().isoformat()}: 30 errors" in html
    assert f"T1_US_FNAL on {yesterday.date().isoformat()}: 0 errors" in html
    assert f"T2_CH_CERN on {today.date().isoformat()}: 30 errors" in html


@pytest.mark.django_db
def test_trends_without_history_and_bad_days(client):
    assert "No history in this period yet" in client.get("/trends").content.decode()
    assert client.get("/trends?days=abc").status_code == 400
    assert client.get("/trends?days=0").status_code == 400


def test_resetcache_needs_a_verified_operator(client, unverified_client, db):
    assert client.get("/resetcache").status_code == 302
    assert unverified_client.get("/resetcache").status_code == 403
    assert unverified_client.post("/resetcache").status_code == 403


def test_resetcache_enqueues_a_refresh_after_commit_and_shows_its_state(
    operator_client, settings, tmp_path, django_capture_on_commit_callbacks
):
    path = tmp_path / "all_errors.json"
    import json

    path.write_text(json.dumps(SMALL_DOCUMENT))
    configure(settings, all_errors=str(path))
    page = operator_client.get("/resetcache").content.decode()
    assert "Refresh now" in page and "csrfmiddlewaretoken" in page
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = operator_client.post("/resetcache")
    assert len(callbacks) == 1
    assert response.status_code == 302
    job_id = response["Location"].split("job=")[1]
    assert ErrorImport.objects.filter(kind="current").count() == 1  # eager Celery ran it
    html = operator_client.get(response["Location"]).content.decode()
    assert job_id in html
    assert re.search(r'class="job-state">(SUCCESS|PENDING)<', html)
    TaskResult.objects.create(task_id=job_id, task_name="errors.tasks.refresh_errors", status="SUCCESS")
    assert "SUCCESS" in operator_client.get(response["Location"]).content.decode()


def test_resetcache_rejects_a_bad_job_id(operator_client):
    response = operator_client.get("/resetcache?job=<script>")
    assert response.status_code == 400
    assert "<script>" not in response.content.decode().split("<main")[1]


def test_refresh_task_replaces_errors_and_retires_source_answers(db, settings, tmp_path, empty_cache):
    import json

    from errors import tasks
    from workflows import selectors as workflow_selectors

    path = tmp_path / "all_errors.json"
    path.write_text(json.dumps(SMALL_DOCUMENT))
    before = workflow_selectors.source_cache_key("reqmgr2", A)
    summary = tasks.refresh_errors.delay(str(path)).get()
    assert summary["cells"] == 6
    assert workflow_selectors.source_cache_key("reqmgr2", A) != before


def test_the_refresh_builds_the_global_view_for_the_new_snapshot(client, db, settings, tmp_path, empty_cache):
    import json

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from errors import tasks

    path = tmp_path / "all_errors.json"
    path.write_text(json.dumps(SMALL_DOCUMENT))
    tasks.refresh_errors.delay(str(path))
    for pievar in ("errorcode", "sitename", "stepname"):
        with CaptureQueriesContext(connection) as queries:
            html = client.get(f"/globalerror?pievar={pievar}").content.decode()
        assert "58 failed jobs" in html
        assert not any("errors_errorcount" in q["sql"] for q in queries.captured_queries)


def test_each_site_pie_opens_the_view_of_its_own_site(client, settings, small_errors, empty_cache):
    configure(settings, site_status=None)
    html = client.get("/sites").content.decode()
    for site in ("T2_CH_CERN", "T1_US_FNAL", "T2_US_MIT"):
        href = f'href="/globalerror?pievar=errorcode&amp;sitename={site}"'
        row = re.search(rf"<tr>\s*<td><a {re.escape(href)}>{site}</a></td>.*?</tr>", html, flags=re.S)
        assert row, site
        assert f'<td class="pc"><a {href}><svg' in row.group(0)
    assert "/globalerror?pievar=sitename" not in html
    # The view it opens shows that site's errors only.
    site_view = client.get("/globalerror?pievar=errorcode&sitename=T2_US_MIT").content.decode()
    assert "7 failed jobs at T2_US_MIT" in site_view


# Untrusted site names: markup, quotes, an entity, unicode, and as long as the column allows.
EVIL_SITE = "T2_<script>alert(1)</script>\"'&quot;ü€_"
EVIL_SITE += "x" * (100 - len(EVIL_SITE))


def test_untrusted_site_names_are_escaped_on_the_sites_page(client, settings, tmp_path, empty_cache, db):
    configure(settings, site_status=None)
    too_long = "<script>alert(1)</script>" + "y" * 375
    report = load_document(tmp_path, {f"/{A}/T": {"50660": {EVIL_SITE: 3, too_long: 4}}})
    assert report.bad_entries == 1  # 400 characters do not fit a site name: reported, skipped
    response = client.get("/sites")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>" not in html
    shown = "T2_&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#x27;&amp;quot;ü€_xxx"
    assert html.count(shown) >= 2  # the name and the pie's tooltip
    assert "sitename=T2_%3Cscript%3Ealert%281%29%3C/script%3E%22%27%26quot%3B%C3%BC%E2%82%AC_xxx" in html
    assert "yyy" not in html
    # The site view it links to escapes it too.
    html = client.get("/globalerror", {"pievar": "errorcode", "sitename": EVIL_SITE}).content.decode()
    assert "<script>" not in html and "3 failed jobs at " + shown in html


def test_the_layout_tells_when_the_data_was_last_refreshed(client, small_errors):
    import datetime as dt

    ErrorImport.objects.filter(kind="current").update(
        finished_at=dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC)
    )
    for url in ("/", "/sites", "/procedures", "/trends"):
        html = client.get(url).content.decode()
        assert re.search(r"Data refreshed 2026-01-02 03:04 UTC \([^)]+ ago\)", html), url


@pytest.mark.django_db
def test_the_layout_says_when_no_data_was_ever_loaded(client):
    html = client.get("/").content.decode()
    assert "No error data loaded yet" in html and "Data refreshed" not in html


@pytest.mark.django_db
def test_home_counts_at_a_glance_with_queries_that_do_not_grow(
    client, tmp_path, django_assert_max_num_queries
):
    from errors.models import ErrorCount
    from tests.errors.conftest import generated_document

    for n, name in ((5, "a.json"), (60, "b.json")):
        load_document(tmp_path, generated_document(n, seed=4), name)
        with django_assert_max_num_queries(3):  # two counts + the last refresh
            response = client.get("/")
        assert response.status_code == 200
        total = sum(ErrorCount.objects.values_list("count", flat=True))
        assert f'<div class="big">{total:,}</div>failed jobs' in response.content.decode()


@pytest.mark.django_db
def test_trends_queries_do_not_grow_with_the_history(client, tmp_path, django_assert_max_num_queries):
    from errors.models import ErrorCount
    from tests.errors.conftest import generated_document

    now = timezone.now()
    for n, days in ((5, 2), (60, 10)):
        load_document(tmp_path, generated_document(n, seed=6), f"{n}.json")
        rows = [
            ErrorHistory(
                step_id=cell.step_id,
                exit_code=cell.exit_code,
                site=cell.site,
                count=cell.count,
                bucket=now - timedelta(days=day),
            )
            for day in range(days)
            for cell in ErrorCount.objects.all()
        ]
        ErrorHistory.objects.bulk_create(rows, ignore_conflicts=True)
        # last refresh + the snapshot shown (its ticket link) + day buckets + two sums
        with django_assert_max_num_queries(5):
            response = client.get("/trends?days=14")
        assert response.status_code == 200
        assert response.content.decode().count('<svg class="trend"') == 2
