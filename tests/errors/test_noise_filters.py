"""Issue 17 item 5: noise filters on the global view and the list page, kept in the URL; and
issue 16: the totals stored at ingestion give the same pages as summing the cells."""

import json
import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from actions.models import Action
from errors.history import history_bucket, update_history
from errors.models import ErrorImport, SnapshotCellTotal, SnapshotWorkflowTotal
from errors.selectors.global_view import PIEVARS, global_view
from tests.errors.conftest import generated_document, load_document
from workflows.models import Workflow

pytestmark = pytest.mark.pg_too

BIG = "pdmvserv_task_HIG-RunIISummer20UL18wmLHEGEN-00001__v1_T_240115_123456_1111"
MID = "pdmvserv_task_TOP-Run3Summer22EEGS-00002__v1_T_240116_123456_3333"
SMALL = "pdmvserv_task_EGM-Run3Summer22EEGS-00003__v1_T_240117_123456_4444"

# Unified's all_errors shape (SOURCES.md): zero cells, a NotReported count of 0 (stored as 1),
# a LogCollect step (left out). BIG: 30 + 5 + 1 = 36 failed jobs, MID: 7 + 2 = 9, SMALL: 3.
KNOWN = {
    f"/{BIG}/HIG_0": {
        "50660": {"T2_CH_CERN": 30, "T1_US_FNAL": 5, "T2_US_MIT": 0},
        "NotReported": {"T2_CH_CERN": 0},
    },
    f"/{BIG}/HIG_0/LogCollect": {"99999": {"T2_CH_CERN": 50}},
    f"/{MID}/TOP_0": {"8001": {"T2_US_MIT": 7, "T2_CH_CERN": 2}, "50660": {"T1_US_FNAL": 0}},
    f"/{SMALL}/EGM_0": {"84": {"T1_US_FNAL": 3}},
}


def page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.content[:500]
    return response.content.decode()


def shown(html: str) -> set[str]:
    """The workflows the page shows rows or list entries for."""
    return {name for name in (BIG, MID, SMALL) if f">{name}</a>" in html}


@pytest.fixture
def known(db, tmp_path):
    load_document(tmp_path, KNOWN)


@pytest.mark.django_db
@pytest.mark.parametrize("pievar", ["errorcode", "sitename"])
def test_a_minimum_of_errors_leaves_out_smaller_workflows(client, known, pievar):
    assert shown(page(client, f"/globalerror?pievar={pievar}")) == {BIG, MID, SMALL}
    html = page(client, f"/globalerror?pievar={pievar}&min_errors=5")
    assert shown(html) == {BIG, MID}
    assert "45 failed jobs" in html  # 36 + 9: the totals follow the filter
    assert shown(page(client, f"/globalerror?pievar={pievar}&min_errors=10")) == {BIG}


@pytest.mark.django_db
def test_the_minimum_counts_what_the_site_choices_leave(client, known):
    # MID has 9 failed jobs, 7 of them at T2_US_MIT: hidden, 2 are left, under the minimum.
    html = page(client, "/globalerror?min_errors=3&hide_site=T2_US_MIT")
    assert shown(html) == {BIG, SMALL}
    assert ">T2_US_MIT<" not in html  # its column is gone too


@pytest.mark.django_db
def test_only_workflows_without_a_pending_action(client, known):
    now = timezone.now()
    Action.objects.create(workflow=Workflow.objects.get(name=BIG), action="acdc", submitted_at=now)
    Action.objects.create(
        workflow=Workflow.objects.get(name=MID), action="acdc", submitted_at=now, reported_at=now
    )
    assert shown(page(client, "/globalerror?no_pending=1")) == {MID, SMALL}
    # A new pending action shows at once: the cached page names the pending set.
    Action.objects.create(workflow=Workflow.objects.get(name=SMALL), action="recovery", submitted_at=now)
    assert shown(page(client, "/globalerror?no_pending=1")) == {MID}


@pytest.mark.django_db
def test_only_workflows_whose_errors_grew_since_the_previous_snapshot(client, known, tmp_path):
    snapshot_at = ErrorImport.objects.get(kind="current").finished_at
    earlier = tmp_path / "earlier.json"
    # The previous snapshot: BIG had more errors then (50), MID fewer (5), SMALL none at all.
    earlier.write_text(
        json.dumps(
            {f"/{BIG}/HIG_0": {"50660": {"T2_CH_CERN": 50}}, f"/{MID}/TOP_0": {"8001": {"T2_US_MIT": 5}}}
        )
    )
    update_history([str(earlier)], at=snapshot_at - timedelta(hours=3))
    # The current snapshot's own bucket is not "previous", even with smaller counts in it.
    same = tmp_path / "same.json"
    same.write_text(json.dumps({f"/{SMALL}/EGM_0": {"84": {"T1_US_FNAL": 30}}}))
    update_history([str(same)], at=snapshot_at)
    html = page(client, "/globalerror?grew=1")
    assert shown(html) == {MID, SMALL}
    previous = history_bucket(snapshot_at - timedelta(hours=3))
    assert f"the history bucket of {previous:%Y-%m-%d %H:%M} UTC" in html


@pytest.mark.django_db
def test_without_earlier_history_every_workflow_has_grown(client, known):
    html = page(client, "/globalerror?grew=1")
    assert shown(html) == {BIG, MID, SMALL}
    assert "every workflow counts as new" in html


@pytest.mark.django_db
def test_hidden_campaigns_and_sites_repeat_in_the_url(client, known):
    html = page(client, "/globalerror?hide_campaign=RunIISummer20UL18wmLHEGEN&hide_campaign=Nothing")
    assert shown(html) == {MID, SMALL}
    html = page(client, "/globalerror?pievar=stepname&hide_site=T2_CH_CERN&hide_site=T1_US_FNAL")
    assert ">T2_CH_CERN<" not in html and ">T1_US_FNAL<" not in html and ">T2_US_MIT<" in html
    # Both hidden sites stay ticked in the form, so the next filter keeps them.
    assert html.count('name="hide_site" value="T2_CH_CERN" checked') == 1
    assert html.count('name="hide_site" value="T1_US_FNAL" checked') == 1


@pytest.mark.django_db
def test_the_step_view_leaves_out_what_the_filters_leave_out(client, known):
    html = page(client, "/globalerror?pievar=stepname")
    assert 'href="/procedures#code-84"' in html  # only SMALL failed with 84
    html = page(client, "/globalerror?pievar=stepname&min_errors=5")
    assert 'href="/procedures#code-84"' not in html and 'href="/procedures#code-8001"' in html


@pytest.mark.django_db
def test_filters_with_nothing_left_say_so_and_offer_to_clear(client, known):
    html = page(client, "/globalerror?pievar=sitename&min_errors=1000&sort=name")
    assert "No errors match the filters" in html
    assert 'href="?pievar=sitename&amp;sort=name">clear filters</a>' in html


def one_prep_id_per_workflow(n: int) -> dict:
    """n workflows of campaign Alpha, the i-th failing i times, in Unified's shape."""
    return {
        f"/pdmvserv_task_HIG-Alpha-{i:05d}__v1_T_240115_123456_{i:04d}/HIG_0": {
            "8001": {"T2_US_MIT": i, "T1_US_FNAL": 0}
        }
        for i in range(1, n + 1)
    }


@pytest.mark.django_db
def test_sort_filter_and_page_combine_in_pager_and_sort_links(client, tmp_path):
    load_document(tmp_path, one_prep_id_per_workflow(25))
    # min 5 leaves 21 prep IDs: 3 pages of 10; by name, page 2 starts at Alpha-00015.
    html = page(client, "/globalerror?min_errors=5&hide_site=T1_US_FNAL&sort=name&page=2")
    assert "page 2 of 3" in html
    names = re.findall(r"HIG-Alpha-(\d{5})__", html)
    assert names[0] == "00015" and "00004" not in names
    links = re.findall(r'href="\?([^"]*page=3)"', html)
    assert links and all(
        "sort=name" in link and "min_errors=5" in link and "hide_site=T1_US_FNAL" in link for link in links
    )
    # Worst first with the same filters: page 1 holds the biggest.
    html = page(client, "/globalerror?min_errors=5&hide_site=T1_US_FNAL")
    assert re.findall(r"HIG-Alpha-(\d{5})__", html)[0] == "00025"


@pytest.mark.django_db
def test_the_list_page_filters_and_keeps_the_filters_in_its_sort_links(client, known):
    url = "/listpage?errorcode=50660&sitename=T1_US_FNAL"
    assert shown(page(client, url)) == {BIG}
    html = page(client, url + "&hide_campaign=RunIISummer20UL18wmLHEGEN")
    assert shown(html) == set() and "with these filters" in html
    html = page(client, "/listpage?errorcode=8001&sitename=T2_US_MIT&min_errors=8")
    assert shown(html) == set()  # MID has 7 on this list, under 8
    html = page(client, "/listpage?errorcode=8001&sitename=T2_US_MIT&min_errors=7&hide_site=X&hide_site=Y")
    assert shown(html) == {MID}
    sort_link = "?errorcode=8001&amp;sitename=T2_US_MIT&amp;min_errors=7&amp;hide_site=X&amp;hide_site=Y&amp;sort=name"
    assert f'href="{sort_link}"' in html
    html = page(client, f"/listpage?workflow={MID}&errorcode=8001&hide_site=T2_US_MIT")
    assert ">T2_US_MIT</a>" not in html  # the site list less the hidden site


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("min_errors=many", "min_errors must be a whole number of failed jobs"),
        ("min_errors=0", "min_errors must be at least 1"),
        ("min_errors=99999999999", "min_errors must be at most 2147483647"),
        ("hide_site=" + "T" * 101, "hide_site must be at most 100 characters"),
        ("hide_campaign=" + "C" * 201, "hide_campaign must be at most 200 characters"),
    ],
)
@pytest.mark.parametrize("path", ["/globalerror?", "/listpage?errorcode=84&sitename=T1_US_FNAL&"])
def test_bad_filter_values_are_a_400_with_a_clear_message(client, known, path, query, message):
    html = page(client, path + query, status=400)
    assert message in html


@pytest.mark.django_db
def test_filtered_pages_run_the_same_queries_for_any_data_size(client, tmp_path):
    url = "/globalerror?min_errors=3&no_pending=1&hide_site=T2_CH_CERN&hide_campaign=Nothing"

    def queries(pievar: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            page(client, url + f"&pievar={pievar}")
        return len(captured)

    for pievar in PIEVARS:
        load_document(tmp_path, generated_document(8), "small.json")
        small = queries(pievar)
        load_document(tmp_path, generated_document(60, seed=9), "big.json")
        assert queries(pievar) == small <= 12


@pytest.mark.django_db
@pytest.mark.parametrize("sort", ["errors", "name"])
def test_stored_totals_give_the_same_pages_as_summing_the_cells(tmp_path, sort, empty_cache):
    load_document(tmp_path, generated_document(40, seed=5))
    assert SnapshotCellTotal.objects.exists() and SnapshotWorkflowTotal.objects.count() == 40
    with CaptureQueriesContext(connection) as captured:
        stored = {(pievar, n): global_view(pievar, page=n, sort=sort) for pievar in PIEVARS for n in (1, 2)}
    assert "snapshotworkflowtotal" in " ".join(query["sql"] for query in captured).lower()
    ErrorImport.objects.update(totals_built=False)  # as if another writer changed the cells
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        for (pievar, n), view in stored.items():
            assert global_view(pievar, page=n, sort=sort) == view
    assert "snapshot" not in " ".join(query["sql"] for query in captured).lower()


@pytest.mark.django_db
def test_the_step_view_pages_whole_exit_code_rows_under_a_pie_budget(client, known, monkeypatch):
    # Issue 16, page weight: 900 step pies weighed 528 kB. Rows worst first: 50660 (2 pies),
    # 8001 (2), 84 (1), NotReported (1); at 3 pies a page: [50660], [8001, 84], [NotReported].
    monkeypatch.setattr("errors.selectors.global_view.PIES_PER_PAGE", 3)
    html = page(client, "/globalerror?pievar=stepname&page=2&hide_site=T0_NOWHERE")
    assert "page 2 of 3" in html
    assert re.findall(r'href="/procedures#code-([^"]+)"', html) == ["8001", "84"]
    assert (
        'href="?pievar=stepname&amp;campaign=&amp;prep_id=&amp;sitename=&amp;hide_site=T0_NOWHERE&amp;page=3"'
        in html
    )
    # The totals row still counts every page: 36 + 9 + 3 failed jobs.
    assert re.search(r'<tr class="tot">.*?48', html, flags=re.S)
