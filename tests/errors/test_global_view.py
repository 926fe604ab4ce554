"""The global error view: pies per cell, grouped rows, bad input, bounded queries."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.errors.conftest import A_ACDC, EVIL_NAME, A, B, generated_document, load_document

# The sums use Coalesce/NullIf and window functions: PostgreSQL runs them too.
pytestmark = pytest.mark.pg_too


def page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.content[:500]
    return response.content.decode()


def pie_cells(html: str) -> list[str]:
    return re.findall(r'<td class="pc">.*?</td>', html, flags=re.S)


@pytest.mark.django_db
def test_errorcode_pies_group_prep_ids_with_totals(client, small_errors):
    html = page(client, "/globalerror")
    assert "pies split by exit code" in html
    assert "58 failed jobs in 2 prep IDs of 2 campaigns" in html
    assert "Campaign RunIISummer20UL18wmLHEGEN" in html and "Campaign Run3Summer22EEGS" in html
    assert "51 errors in 2 workflows" in html  # original + ACDC share the prep ID
    assert "7 errors in 1 workflow" in html
    # The original comes before its ACDC, which is tagged.
    assert html.index(f">{A}</a>") < html.index(f">{A_ACDC}</a>")
    assert "ACDC</span>" in html
    # Columns are the sites.
    for site in ("T1_US_FNAL", "T2_CH_CERN", "T2_US_MIT"):
        assert f"<span>{site}</span>" in html


@pytest.mark.django_db
def test_a_pie_links_to_the_list_page_of_its_cell_and_tells_total_and_split(client, small_errors):
    html = page(client, "/globalerror?pievar=errorcode")
    href = f'href="/listpage?workflow={A}&amp;sitename=T2_CH_CERN"'
    cell = next(c for c in pie_cells(html) if href in c and "40 errors" in c)
    assert "T2_CH_CERN: 40 errors\n50660: 30 (75%)\n84: 10 (25%)" in cell
    # The biggest slice comes first; colours follow the snapshot's exit codes (50660 the
    # biggest, 84 the second), not the slice's rank.
    classes = re.findall(r'<path class="(\w+)"', cell)
    assert classes == ["s0", "s1"]


@pytest.mark.django_db
def test_pie_radius_grows_as_n_over_n_plus_10(client, small_errors):
    html = page(client, "/globalerror")
    cell = next(c for c in pie_cells(html) if "T2_US_MIT: 7 errors" in c)
    assert f'<circle r="{7 / 17:.2f}" class="s2"/>' in cell  # 8001: the third exit code


@pytest.mark.django_db
def test_sitename_pies_have_exit_code_columns_and_split_by_site(client, small_errors):
    html = page(client, "/globalerror?pievar=sitename")
    assert "<span>50660</span>" in html and "<span>84</span>" in html
    cell = next(c for c in pie_cells(html) if f"/listpage?workflow={A}&amp;errorcode=50660" in c)
    assert "50660: 35 errors\nT2_CH_CERN: 30 (86%)\nT1_US_FNAL: 5 (14%)" in cell


@pytest.mark.django_db
def test_stepname_pies_are_exit_code_by_site_split_by_step(client, small_errors):
    html = page(client, "/globalerror?pievar=stepname")
    cell = next(c for c in pie_cells(html) if "/listpage?errorcode=50660&amp;sitename=T2_CH_CERN" in c)
    assert "exit code 50660 at T2_CH_CERN: 34 errors" in cell
    assert f"{A[:39]}…/HIG_0: 30 (88%)" in cell  # tooltips shorten long workflow names
    assert len(pie_cells(html)) == 5  # (50660, CERN), (50660, FNAL), (84, CERN), (84, FNAL), (8001, MIT)


@pytest.mark.django_db
def test_a_campaign_or_prep_id_narrows_the_view(client, small_errors):
    html = page(client, "/globalerror?campaign=Run3Summer22EEGS")
    assert B in html and A not in html
    html = page(client, "/globalerror?prep_id=HIG-RunIISummer20UL18wmLHEGEN-00001")
    assert A in html and A_ACDC in html and B not in html
    html = page(client, "/globalerror?campaign=NoSuchCampaign")
    assert "No errors match" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("pievar=bogus", "pievar must be errorcode, sitename or stepname"),
        ("pievar=%3Cscript%3E", "&lt;script&gt; is none of them"),
        ("page=abc", "page: Enter a whole number."),
        ("page=0", "page: Ensure this value is greater than or equal to 1."),
    ],
)
def test_bad_input_is_a_400_page_with_a_clear_message(client, small_errors, query, message):
    html = page(client, f"/globalerror?{query}", status=400)
    assert message in html
    assert "<script>" not in html.split("<body>")[1]


@pytest.mark.django_db
def test_prep_ids_are_paginated(client, tmp_path):
    load_document(tmp_path, generated_document(40))
    html = page(client, "/globalerror")
    pages = re.search(r"page 1 of (\d+)", html)
    assert pages and int(pages.group(1)) >= 3
    assert html.count('<details class="prep"') == 10
    last = page(client, f"/globalerror?page={pages.group(1)}")
    assert f"page {pages.group(1)} of {pages.group(1)}" in last


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


@pytest.mark.django_db
@pytest.mark.parametrize("pievar", ["errorcode", "sitename", "stepname"])
def test_query_count_does_not_grow_with_the_data(client, tmp_path, pievar):
    load_document(tmp_path, generated_document(8), "small.json")
    small = count_queries(client, f"/globalerror?pievar={pievar}")
    load_document(tmp_path, generated_document(80, seed=9), "big.json")
    big = count_queries(client, f"/globalerror?pievar={pievar}")
    assert small == big
    # last refresh + columns + groups + cells (+ session/user at most), and four for the
    # snapshot's per-site sums (site context and colours), built once per snapshot.
    assert big <= 10


@pytest.mark.django_db
def test_untrusted_workflow_names_are_escaped(client, tmp_path):
    evil = EVIL_NAME
    load_document(tmp_path, {f"/{evil}/Task<b>": {"50660": {"T2_CH_CERN": 3}}})
    for pievar in ("errorcode", "sitename", "stepname"):
        html = page(client, f"/globalerror?pievar={pievar}")
        assert "<script>" not in html
        assert "<b>" not in html
        assert "evil&lt;script&gt;alert(&quot;x&quot;)" in html
    html = page(client, "/globalerror")
    assert "&#x27;&amp;quot;ü€_xxx" in html


@pytest.mark.django_db
def test_a_page_is_built_once_per_snapshot_and_a_new_import_shows_new_numbers(client, tmp_path, empty_cache):
    load_document(tmp_path, {f"/{A}/T": {"50660": {"T2_CH_CERN": 30}}}, "one.json")
    first = count_queries(client, "/globalerror")
    assert "30 failed jobs" in page(client, "/globalerror")
    assert count_queries(client, "/globalerror") < first  # served from the cache
    load_document(tmp_path, {f"/{A}/T": {"50660": {"T2_CH_CERN": 12}}}, "two.json")
    html = page(client, "/globalerror")
    assert "12 failed jobs" in html and "30 failed jobs" not in html


def totals_row(html: str) -> list[str]:
    """The numbers of the column-totals row, total first, tags stripped."""
    row = re.search(r'<tr class="tot">(.*?)</tr>', html, flags=re.S).group(1)
    return [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("pievar", "columns", "totals"),
    [
        # Sites T1_US_FNAL 5 + 2, T2_CH_CERN 30 + 10 + 4, T2_US_MIT 7.
        ("errorcode", ["T1_US_FNAL", "T2_CH_CERN", "T2_US_MIT"], ["58", "7", "44", "7"]),
        # Exit codes 84: 10 + 2, 8001: 7, 50660: 30 + 5 + 4.
        ("sitename", ["84", "8001", "50660"], ["58", "12", "7", "39"]),
        ("stepname", ["T1_US_FNAL", "T2_CH_CERN", "T2_US_MIT"], ["58", "7", "44", "7"]),
    ],
)
def test_a_totals_row_gives_each_column_total(client, small_errors, pievar, columns, totals):
    html = page(client, f"/globalerror?pievar={pievar}")
    assert html.count('<tr class="tot">') == 1
    assert totals_row(html) == totals
    header = html[: html.index('<tr class="tot">')].rsplit("<thead>", 1)[1]
    assert re.findall(r'<th class="col"><span>(.*?)</span>', header) == columns


@pytest.mark.django_db
def test_the_totals_row_counts_every_page_not_only_the_shown_one(client, tmp_path):
    from errors.models import ErrorCount

    load_document(tmp_path, generated_document(40))
    first, last = page(client, "/globalerror"), page(client, "/globalerror?page=4")
    assert totals_row(first) == totals_row(last)
    everything = sum(ErrorCount.objects.values_list("count", flat=True))
    assert totals_row(first)[0] == f"{everything:,}"


@pytest.mark.django_db
def test_campaigns_and_prep_ids_fold_like_workflows_without_javascript(client, small_errors):
    html = page(client, "/globalerror")
    assert html.count('<details class="campaign" open>') == 2
    assert html.count('<details class="prep" open>') == 2
    assert '<section class="campaign">' not in html
    campaign = html.index('<details class="campaign" open>')
    heading, prep = (
        html.index("<summary><h2>Campaign ", campaign),
        html.index('<details class="prep"', campaign),
    )
    assert heading < prep
    # Each campaign folds its prep IDs: the prep ID's <details> closes before the campaign's.
    first_campaign = html[campaign : html.index('<details class="campaign" open>', campaign + 1)]
    assert first_campaign.count("<details") == first_campaign.count("</details>") == 2


@pytest.mark.django_db
def test_step_pies_open_the_list_page_of_their_step_and_workflow_pies_of_their_workflow(client, small_errors):
    html = page(client, "/globalerror?pievar=errorcode")
    step = f"/{A}/HIG_0/HIG_0MergeRAWSIMoutput"
    href = f'href="/listpage?workflowstep={step}&amp;sitename=T1_US_FNAL"'
    cell = next(c for c in pie_cells(html) if href in c)
    assert "T1_US_FNAL: 2 errors\n84: 2 (100%)" in cell
    # The list page it opens shows the pie's numbers, not the whole workflow's.
    listed = page(client, href[len('href="') : -1].replace("&amp;", "&"))
    assert re.findall(r'<td class="num">(\d+)</td>', listed)[0] == "2"
    assert "2 failed jobs" in listed
    # The workflow row's pie for the same site covers all its steps (5 + 2).
    workflow_href = f'href="/listpage?workflow={A}&amp;sitename=T1_US_FNAL"'
    assert "T1_US_FNAL: 7 errors" in next(c for c in pie_cells(html) if workflow_href in c)
    html = page(client, "/globalerror?pievar=sitename")
    assert f'href="/listpage?workflowstep=/{A}/HIG_0&amp;errorcode=50660"' in html


@pytest.mark.django_db
def test_a_site_narrows_the_view_to_its_column(client, small_errors):
    html = page(client, "/globalerror?pievar=errorcode&sitename=T2_US_MIT")
    assert "7 failed jobs at T2_US_MIT" in html
    assert B in html and A not in html
    assert re.findall(r'<th class="col"><span>(.*?)</span>', html) == ["T2_US_MIT", "T2_US_MIT"]
    # The pager and the form keep the site.
    assert 'name="sitename" value="T2_US_MIT"' in html
    html = page(client, "/globalerror?pievar=stepname&sitename=T2_CH_CERN")
    assert totals_row(html) == ["44", "44"]
    assert "No errors match" in page(client, "/globalerror?sitename=T9_NO_WHERE")


@pytest.mark.django_db
def test_column_totals_add_one_number_per_column_not_per_pie(client, tmp_path):
    load_document(tmp_path, generated_document(40))
    html = page(client, "/globalerror")
    header = html.split('<table class="pies totals">')[1].split("</thead>")[0]
    columns = header.count('<th class="col">')
    assert html.count('<td class="ct">') == columns
