"""The list page: two of exit code, site and workflow given, the third listed by count."""

import re

import pytest

from tests.errors.conftest import A_ACDC, EVIL_NAME, A, load_document
from workflows.models import Step

# The sums use Coalesce/NullIf and window functions: PostgreSQL runs them too.
pytestmark = pytest.mark.pg_too


def rows(html: str) -> list[tuple[str, str]]:
    """(value, errors) per table row, tags stripped."""
    found = []
    for row in re.findall(
        r"<tr>\s*<td class=\"name\">(.*?)</td>\s*<td class=\"num\">(.*?)</td>", html, flags=re.S
    ):
        found.append((re.sub(r"<[^>]+>", "", row[0]).strip(), row[1]))
    return found


@pytest.mark.django_db
def test_exit_code_and_site_list_workflows_biggest_first(client, small_errors):
    response = client.get("/listpage?errorcode=50660&sitename=T2_CH_CERN")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Errors per workflow" in html
    assert rows(html) == [(A, "30"), (A_ACDC, "4")]
    assert "34 failed jobs" in html


@pytest.mark.django_db
def test_workflow_and_site_list_exit_codes(client, small_errors):
    html = client.get(f"/listpage?workflow={A}&sitename=T2_CH_CERN").content.decode()
    assert "Errors per exit code" in html
    assert rows(html) == [("50660", "30"), ("84", "10")]


@pytest.mark.django_db
def test_workflow_and_exit_code_list_sites(client, small_errors):
    html = client.get(f"/listpage?workflow={A}&errorcode=84").content.decode()
    assert rows(html) == [("T2_CH_CERN", "10"), ("T1_US_FNAL", "2")]


@pytest.mark.django_db
def test_a_combination_without_errors_says_so(client, small_errors):
    html = client.get(f"/listpage?workflow={A}&errorcode=8001").content.decode()
    assert "No errors for this combination" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "errorcode=50660&sitename=T2_CH_CERN&workflow=x",
            "Give exactly two of errorcode, sitename and workflow",
        ),
        ("errorcode=50660", "(got 1: errorcode)"),
        ("", "(got 0: none)"),
        ("errorcode=abc&sitename=T2_CH_CERN", "errorcode must be an integer"),
    ],
)
def test_bad_combinations_are_400_with_a_message(client, small_errors, query, message):
    response = client.get(f"/listpage?{query}")
    assert response.status_code == 400
    assert message in response.content.decode()


@pytest.mark.django_db
def test_a_step_and_a_site_list_the_exit_codes_of_that_step_only(client, small_errors):
    html = client.get(f"/listpage?workflowstep=/{A}/HIG_0&sitename=T2_CH_CERN").content.decode()
    assert "Errors per exit code" in html
    assert [(value.split(" ·")[0], count) for value, count in rows(html)] == [("50660", "30"), ("84", "10")]
    assert '<dt>Step</dt><dd class="name">HIG_0</dd>' in html
    assert f"/explainerror?errorcode=84&amp;workflowstep=/{A}/HIG_0" in html
    html = client.get(
        f"/listpage?workflowstep=/{A}/HIG_0/HIG_0MergeRAWSIMoutput&errorcode=84"
    ).content.decode()
    assert rows(html) == [("T1_US_FNAL", "2")]  # not the workflow's 10 at T2_CH_CERN


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        (
            f"workflow={A}&workflowstep=/{A}/HIG_0&sitename=T2_CH_CERN",
            400,
            "workflow or workflowstep, not both",
        ),
        (f"workflowstep=/{A}/HIG_0", 400, "(got 1: workflowstep)"),
        (f"workflowstep=/{A}/HIG_0&errorcode=84&sitename=T2_CH_CERN", 400, "Give exactly two"),
        ("workflowstep=/nope/step&sitename=T2_CH_CERN", 404, "No workflow step is named /nope/step"),
    ],
)
def test_bad_step_combinations(client, small_errors, query, status, message):
    response = client.get(f"/listpage?{query}")
    assert response.status_code == status
    assert message in response.content.decode()


@pytest.mark.django_db
def test_an_unknown_workflow_is_404(client, small_errors):
    response = client.get("/listpage?workflow=nope&sitename=T2_CH_CERN")
    assert response.status_code == 404
    assert "No workflow is named nope" in response.content.decode()


@pytest.mark.django_db
def test_the_list_page_runs_the_same_queries_for_any_data_size(
    client, tmp_path, django_assert_max_num_queries
):
    from tests.errors.conftest import generated_document

    load_document(tmp_path, generated_document(5), "a.json")
    # The list, the last refresh (twice: the snapshot's name, the layout), the snapshot shown
    # (its ticket link) and, once per snapshot, the four per-site sums of the site context.
    with django_assert_max_num_queries(8):
        response = client.get("/listpage?errorcode=50660&sitename=T2_CH_CERN")
    assert response.status_code == 200
    assert "Errors per workflow" in response.content.decode()
    load_document(tmp_path, generated_document(60, seed=5), "b.json")
    with django_assert_max_num_queries(8):
        response = client.get("/listpage?errorcode=50660&sitename=T2_CH_CERN")
    assert response.status_code == 200
    assert "Errors per workflow" in response.content.decode()
    step = max(Step.objects.all(), key=lambda s: s.errors.count())
    with django_assert_max_num_queries(5):  # the step, the list, the last refresh twice, the snapshot
        response = client.get("/listpage", {"workflowstep": step.name, "sitename": "T2_CH_CERN"})
    assert response.status_code == 200


@pytest.mark.django_db
def test_untrusted_names_are_escaped_on_the_list_page(client, tmp_path):
    load_document(tmp_path, {f"/{EVIL_NAME}/T": {"50660": {"T2_CH_CERN": 3}}})
    html = client.get("/listpage?errorcode=50660&sitename=T2_CH_CERN").content.decode()
    assert "<script>" not in html
    assert "evil&lt;script&gt;alert(&quot;x&quot;)&lt;script&gt;&#x27;&amp;quot;ü€_" in html
