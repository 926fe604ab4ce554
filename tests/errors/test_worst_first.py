"""Issue 17 items 1 and 7: worst first (sort by errors, by name on request, kept in links),
compact mode, and the small defects of /sites, /trends, the list page and the pie tables."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from errors.models import ErrorHistory
from tests.errors.conftest import load_document
from workflows.models import Step

pytestmark = pytest.mark.pg_too


def wf(campaign: str, serial: int, suffix: str = "") -> str:
    """A workflow name as ReqMgr2 gives them: PWG-Campaign-NNNNN is its prep ID."""
    return f"pdmvserv{suffix}_task_HIG-{campaign}-{serial:05d}__v1_T_240115_123456_{serial:04d}"


# A known data set in the error document's shape (step → exit code → site → failed jobs):
# "Alpha" sorts first by name but has 11 prep IDs of 1-2 errors (two pages by name);
# "Zulu" sorts last by name but holds the most errors (100 + 90).
BIG, SECOND = wf("Zulu", 1), wf("Zulu", 2)
KNOWN = {f"/{wf('Alpha', n)}/HIG_0": {"8001": {"T2_US_MIT": 1 + (n == 3)}} for n in range(1, 12)}
KNOWN.update(
    {
        # Zulu-00001: two workflows; the ACDC fails more than the original.
        f"/{BIG}/HIG_0": {"50660": {"T2_CH_CERN": 10}},
        f"/{BIG}/HIG_0/HIG_0MergeRAWSIMoutput": {"84": {"T1_US_FNAL": 30}},
        f"/{wf('Zulu', 1, 'ACDC')}/HIG_0": {"50660": {"T2_CH_CERN": 60}},
        # Zulu-00002: one workflow, 90 errors: a smaller prep ID than Zulu-00001 (100).
        f"/{SECOND}/HIG_0": {"8001": {"T2_CH_CERN": 90}},
    }
)
ACDC = wf("Zulu", 1, "ACDC")


def page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.content[:500]
    return response.content.decode()


@pytest.fixture
def known(db, tmp_path):
    load_document(tmp_path, KNOWN)


@pytest.mark.django_db
def test_the_biggest_campaign_comes_first_on_page_one_by_default(client, known):
    html = page(client, "/globalerror")
    assert "Campaign Zulu" in html and "page 1 of 2" in html
    assert html.index("Campaign Zulu") < html.index("Campaign Alpha")
    # Within Zulu: the 100-error prep ID before the 90-error one.
    assert html.index("HIG-Zulu-00001</span>") < html.index("HIG-Zulu-00002</span>")
    # Within a prep ID: the ACDC (60) before its original (40).
    assert html.index(f">{ACDC}</a>") < html.index(f">{BIG}</a>")
    # Within Alpha: the prep ID with 2 errors first, then by name.
    assert (
        html.index("HIG-Alpha-00003</span>")
        < html.index("HIG-Alpha-00001</span>")
        < html.index("HIG-Alpha-00002</span>")
    )


@pytest.mark.django_db
def test_steps_sort_by_their_errors_and_by_name_on_request(client, known):
    merge_step = ">HIG_0/HIG_0MergeRAWSIMoutput</th>"
    html = page(client, "/globalerror")
    block = html[html.index(f">{BIG}</a>") :]
    assert block.index(merge_step) < block.index(">HIG_0</th>")  # 30 errors before 10
    by_name = page(client, "/globalerror?sort=name&page=2")  # Zulu is on page 2 by name
    block = by_name[by_name.index(f">{BIG}</a>") :]
    assert block.index(">HIG_0</th>") < block.index(merge_step)


@pytest.mark.django_db
def test_sort_by_name_still_works_and_pages_hold_the_first_names(client, known):
    html = page(client, "/globalerror?sort=name")
    assert "Campaign Zulu" not in html  # page 1: ten of Alpha's eleven prep IDs
    assert (
        html.index("HIG-Alpha-00001</span>")
        < html.index("HIG-Alpha-00002</span>")
        < html.index("HIG-Alpha-00003</span>")
    )
    assert '<option value="name" selected>' in html
    last = page(client, "/globalerror?sort=name&page=2")
    assert last.index("Campaign Alpha") < last.index("Campaign Zulu")
    # The original before its ACDC, as before sorting by errors existed.
    assert last.index(f">{BIG}</a>") < last.index(f">{ACDC}</a>")


@pytest.mark.django_db
def test_the_cache_keeps_each_sort_apart(client, known):
    by_errors = page(client, "/globalerror")
    by_name = page(client, "/globalerror?sort=name")
    assert "Campaign Zulu" in by_errors and "Campaign Zulu" not in by_name
    assert "Campaign Zulu" in page(client, "/globalerror")  # still the errors order from cache


@pytest.mark.django_db
def test_the_sort_and_compact_are_kept_in_pager_pie_and_campaign_links(client, known):
    html = page(client, "/globalerror?sort=name&compact=1&sitename=T2_US_MIT")
    pager = re.search(r'<nav class="pagination".*?</nav>', html, flags=re.S).group(0)
    assert "sort=name&amp;compact=1&amp;page=2" in pager
    # A pie opens the list page, which keeps the name order.
    assert f'href="/listpage?workflow={wf("Alpha", 1)}&amp;errorcode=8001&amp;sort=name"' in page(
        client, "/globalerror?pievar=sitename&sort=name"
    )
    # Default sort stays out of the links.
    default = page(client, "/globalerror")
    assert "sort=" not in re.search(r'<nav class="pagination".*?</nav>', default, flags=re.S).group(0)
    assert "&amp;sort=" not in default
    campaign_link = page(client, "/globalerror?sort=name&page=2")
    assert "campaign=Zulu&amp;sort=name" in campaign_link


@pytest.mark.django_db
def test_stepname_rows_are_the_worst_exit_codes_first(client, known):
    html = page(client, "/globalerror?pievar=stepname")
    rows = re.findall(r'<th class="rowhead"><a href="/procedures#code-(\w+)"', html)
    assert rows == ["8001", "50660", "84"]  # 102, 70, 30 failed jobs
    by_name = page(client, "/globalerror?pievar=stepname&sort=name")
    assert re.findall(r'<th class="rowhead"><a href="/procedures#code-(\w+)"', by_name) == [
        "84",
        "8001",
        "50660",
    ]


@pytest.mark.django_db
def test_compact_mode_shows_one_site_header_per_page(client, known):
    normal = page(client, "/globalerror")
    compact = page(client, "/globalerror?compact=1")
    # Normal: the totals table plus one table per prep ID, each with the sites header.
    assert normal.count("<span>T2_CH_CERN</span>") == 1 + 10
    # Compact: the totals table and one table for the page.
    assert compact.count("<span>T2_CH_CERN</span>") == 2
    assert compact.count("<thead>") == 2
    # The same rows, in the same order.
    for name in (ACDC, BIG, SECOND, wf("Alpha", 3)):
        assert f">{name}</a>" in compact
    assert compact.index(f">{ACDC}</a>") < compact.index(f">{BIG}</a>") < compact.index(f">{SECOND}</a>")
    assert compact.count('class="prep-head"') == 10
    assert 'name="compact" value="1" checked' in compact


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query", ["sort=name", "compact=1", "pievar=sitename&sort=errors", "pievar=stepname&sort=name"]
)
def test_sorting_and_compact_keep_the_query_count(client, tmp_path, query):
    from tests.errors.conftest import generated_document

    load_document(tmp_path, generated_document(8), "small.json")
    small = count_queries(client, f"/globalerror?{query}")
    load_document(tmp_path, generated_document(80, seed=9), "big.json")
    big = count_queries(client, f"/globalerror?{query}")
    assert small == big <= 10  # with the snapshot's per-site sums (four queries, once per snapshot)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/globalerror?sort=size", "/listpage?errorcode=8001&sitename=T2_US_MIT&sort=x"]
)
def test_a_bad_sort_is_a_400_that_names_the_choices(client, known, url):
    assert "sort must be errors or name" in page(client, url, status=400)


@pytest.mark.django_db
def test_the_list_page_sorts_by_errors_or_by_name_and_links_the_other_order(client, known):
    url = "/listpage?errorcode=8001&sitename=T2_CH_CERN"
    listed = [wf("Alpha", 3), wf("Alpha", 1)]
    html = page(client, "/listpage?errorcode=8001&sitename=T2_US_MIT")
    assert html.index(listed[0]) < html.index(listed[1])
    assert 'href="?errorcode=8001&amp;sitename=T2_US_MIT&amp;sort=name"' in html
    by_name = page(client, "/listpage?errorcode=8001&sitename=T2_US_MIT&sort=name")
    assert by_name.index(listed[1]) < by_name.index(listed[0])
    assert 'href="?errorcode=8001&amp;sitename=T2_US_MIT&amp;sort=errors"' in by_name
    assert SECOND in page(client, url)


# Item 7: small defects.


@pytest.mark.django_db
def test_sites_list_their_three_biggest_exit_codes_without_a_dangling_comma(
    client, settings, tmp_path, empty_cache
):
    document = {
        f"/{wf('Alpha', 1)}/HIG_0": {
            "50660": {"T2_CH_CERN": 40},
            "84": {"T2_CH_CERN": 30},
            "8001": {"T2_CH_CERN": 20},
            "8021": {"T2_CH_CERN": 10},
            "-1": {"T2_CH_CERN": 5},
        }
    }
    load_document(tmp_path, document)
    html = page(client, "/sites")
    row = re.search(r"<tr>\s*<td><a [^>]*>T2_CH_CERN</a>.*?</tr>", html, flags=re.S).group(0)
    cells = re.findall(r"<td>(.*?)</td>", row, flags=re.S)
    codes_cell = next(cell for cell in cells if "/listpage?errorcode=" in cell)
    text = re.sub(r"<[^>]+>", "", codes_cell).replace("\xa0", " ").replace("&nbsp;", " ")
    assert text == "50660 (40), 84 (30), 8001 (20)"


@pytest.mark.django_db
@pytest.mark.parametrize("days", [14, 3])
def test_trends_plot_every_day_they_name(client, known, days):
    step = Step.objects.get(name=f"/{BIG}/HIG_0")
    today = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    # History on two days only: the chart still has one point per day named.
    ErrorHistory.objects.bulk_create(
        [
            ErrorHistory(
                step=step, exit_code=50660, site="T2_CH_CERN", count=5, bucket=today - timedelta(days=1)
            ),
            ErrorHistory(step=step, exit_code=50660, site="T2_CH_CERN", count=7, bucket=today),
        ]
    )
    html = page(client, f"/trends?days={days}")
    assert f"last {days} days" in html
    chart = html[html.index("Per exit code") : html.index("Per site")]
    plotted = set(re.findall(r"50660 on (\d{4}-\d\d-\d\d):", chart))
    assert len(plotted) == days
    first = (timezone.localdate() - timedelta(days=days - 1)).isoformat()
    assert first in plotted and timezone.localdate().isoformat() in plotted
    assert f"50660 on {timezone.localdate().isoformat()}: 7 errors" in chart


@pytest.mark.django_db
def test_the_default_trends_page_says_and_plots_fourteen_days(client, known):
    step = Step.objects.get(name=f"/{BIG}/HIG_0")
    ErrorHistory.objects.create(step=step, exit_code=84, site="T1_US_FNAL", count=3, bucket=timezone.now())
    html = page(client, "/trends")
    assert "last 14 days" in html
    assert len(set(re.findall(r"\b84 on (\d{4}-\d\d-\d\d):", html))) == 14


@pytest.mark.django_db
def test_site_names_on_list_pages_link_to_the_global_view_of_that_site(client, known):
    html = page(client, "/listpage?errorcode=50660&sitename=T2_CH_CERN")
    assert '<dd><a href="/globalerror?pievar=errorcode&amp;sitename=T2_CH_CERN">T2_CH_CERN</a> ' in html
    listed_sites = page(client, f"/listpage?workflow={BIG}&errorcode=84")
    assert '<a href="/globalerror?pievar=errorcode&amp;sitename=T1_US_FNAL">T1_US_FNAL</a>' in listed_sites


def test_pie_tables_are_as_wide_as_their_columns_so_the_last_one_is_not_clipped():
    # A fixed-layout table squeezed into its scrolling wrapper clipped the stepname
    # view's last column: the table takes its columns' width and the wrapper scrolls.
    css = Path(settings.BASE_DIR, "static/css/errors.css").read_text()
    rule = re.search(r"table\.pies \{([^}]*)\}", css).group(1)
    assert "width: max-content" in rule and "table-layout: fixed" in rule
