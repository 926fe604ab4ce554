"""The selectors give data; markup and links come from the template tags (reverse())."""

import dataclasses

from django.template import Context, Template

from errors.selectors.global_view import global_view
from errors.selectors.pies import Pie
from errors.selectors.sites import errors_per_site
from errors.selectors.trends import error_trends
from errors.selectors.workflow import workflow_error_tables
from tests.errors.conftest import A, B
from workflows.models import Workflow


def markup_in(value) -> list[str]:
    """Every string inside `value` (dicts, lists, dataclasses) that holds markup."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return markup_in(dataclasses.asdict(value))
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in markup_in(key) + markup_in(item)]
    if isinstance(value, list | tuple | set):
        return [found for item in value for found in markup_in(item)]
    return [value] if isinstance(value, str) and ("<" in value or "href" in value) else []


def test_every_page_s_selector_returns_data_without_markup(small_errors):
    for pievar in ("errorcode", "sitename", "stepname"):
        assert markup_in(global_view(pievar)) == []
    assert markup_in(errors_per_site({"T2_CH_CERN": "drain"})) == []
    assert markup_in(error_trends(days=14)) == []


def test_a_pie_names_the_page_it_opens_and_the_tag_draws_and_links_it(small_errors):
    row = global_view("errorcode")["sections"][1]["groups"][0].rows[0]
    pie = next(cell for cell in row.cells if cell)
    # Worst first, the second campaign (Run3Summer22EEGS, 7 errors) holds B: one pie, at T2_US_MIT.
    assert pie == Pie(
        "T2_US_MIT",
        (("8001", 7),),
        7,
        url_name="errors:list",
        link=(("workflow", B), ("sitename", "T2_US_MIT")),
        colours=("s2",),  # 8001 is the snapshot's third exit code (after 50660 and 84)
    )
    html = Template("{% load error_charts %}{% pie_cells cells %}").render(Context({"cells": [pie, None]}))
    assert html.startswith(f'<td class="pc"><a href="/listpage?workflow={B}&amp;sitename=T2_US_MIT"><svg')
    assert html.endswith("</svg></a></td><td></td>")


def test_the_workflow_s_error_tables_give_steps_codes_and_sites_with_their_statuses(
    small_errors, django_assert_num_queries
):
    workflow = Workflow.objects.get(name=A)
    workflow_error_tables(workflow)  # the snapshot's per-site sums, cached once per snapshot
    with django_assert_num_queries(2):  # the snapshot's name and the cells
        tables = workflow_error_tables(workflow, {"T2_CH_CERN": "drain"})
    assert [table["short_name"] for table in tables] == ["HIG_0", "HIG_0/HIG_0MergeRAWSIMoutput"]
    first = tables[0]
    assert [(site["name"], site["status"], site["context"].status) for site in first["sites"]] == [
        ("T1_US_FNAL", "", "unknown"),
        ("T2_CH_CERN", "drain", "drain"),
    ]
    assert first["rows"] == [
        {"exit_code": 50660, "colour": "s0", "counts": [5, 30], "total": 35},
        {"exit_code": 84, "colour": "s1", "counts": [None, 10], "total": 10},
    ]
    assert first["site_totals"] == [5, 40] and first["total"] == 45
    assert workflow_error_tables(Workflow.objects.get(name=B))[0]["total"] == 7
