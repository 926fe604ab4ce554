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
    # The biggest slice comes first and always has the first colour.
    classes = re.findall(r'<path class="(\w+)"', cell)
    assert classes == ["s0", "s1"]


@pytest.mark.django_db
def test_pie_radius_grows_as_n_over_n_plus_10(client, small_errors):
    html = page(client, "/globalerror")
    cell = next(c for c in pie_cells(html) if "T2_US_MIT: 7 errors" in c)
    assert f'<circle r="{7 / 17:.2f}" class="s0"/>' in cell


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
    assert big <= 6  # last refresh + columns + groups + cells (+ session/user at most)


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
