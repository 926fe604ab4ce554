"""Issue 17 items 2 and 3: colours that mean a value (the same exit code or site has the
same colour in every pie, legend and table of the snapshot; the rest grey) and each site's
context (status, failure share, trend) beside every site column and on the sites page."""

import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from errors.models import ErrorHistory
from errors.selectors.site_context import site_contexts, snapshot_sites
from errors.selectors.snapshot import snapshot_key
from tests.errors.conftest import generated_document, load_document
from tests.workflows.fake_sources import configure
from workflows.models import Step
from workflows.services import refresh_site_statuses

pytestmark = pytest.mark.pg_too


def wf(name: str, serial: int) -> str:
    return f"pdmvserv_task_HIG-RunIII2024Summer24{name}-{serial:05d}__v1_T_250612_101500_{serial:04d}"


SITEY = wf("Bad", 1)  # most of its errors at T2_BAD, which fails most workflows
EVERY = wf("Every", 20)  # errors at four sites, none of them failing many workflows
PLAIN = wf("Plain", 21)  # one healthy site, many small exit codes
HALF = wf("Half", 22)  # exactly half at T2_BAD: no badge
FILLERS = [wf("Fill", 30), wf("Fill", 31)]

# Unified's all_errors shape (SOURCES.md): step → exit code (string, or NotReported) → site →
# failed jobs, with zero cells. 12 failing workflows; T2_BAD fails 8 of them (67%), T1_OK 3
# (25%), T2_A 2, T2_D 2, T2_B 1, T2_C 1.
KNOWN = {f"/{wf('Bad', n)}/Bad_0": {"8001": {"T2_BAD": 20}} for n in range(1, 8)}
KNOWN[f"/{SITEY}/Bad_0"]["84"] = {"T1_OK": 2}
KNOWN[f"/{wf('Bad', 2)}/Bad_0"].update({"NotReported": {"T2_BAD": 0}, "50660": {"T2_BAD": 0}})
KNOWN.update(
    {
        f"/{HALF}/Half_0": {"8001": {"T2_BAD": 5}, "50660": {"T2_A": 5}},
        f"/{EVERY}/Every_0": {"50660": {"T2_A": 5, "T2_B": 5, "T2_C": 4}, "84": {"T1_OK": 1}},
        f"/{EVERY}/Every_0/Every_0MergeAODSIMoutput": {"84": {"T2_B": 0}},
        f"/{PLAIN}/Plain_0": {
            "84": {"T1_OK": 3},
            "71104": {"T1_OK": 3},
            "8028": {"T1_OK": 2},
            "8021": {"T1_OK": 1},
            "134": {"T1_OK": 1},
        },
        **{f"/{name}/Fill_0": {"99999": {"T2_D": 2}} for name in FILLERS},
    }
)
# Exit codes by errors: 8001 145, 50660 19, 84 6, 99999 4, 71104 3, 8028 2, then 1 each for
# 134, 8021 and NotReported (ties by name): the first seven have colours, 8021 and NotReported grey.
CODE_COLOURS = {
    "8001": "s0",
    "50660": "s1",
    "84": "s2",
    "99999": "s3",
    "71104": "s4",
    "8028": "s5",
    "134": "s6",
}
# Sites by errors: T2_BAD 146, T1_OK 13, T2_A 10, T2_B 5, then T2_C and T2_D with 4.
SITE_COLOURS = {"T2_BAD": "s0", "T1_OK": "s1", "T2_A": "s2", "T2_B": "s3", "T2_C": "s4", "T2_D": "s5"}
STATUSES = {"T2_BAD": "drain", "T1_OK": "enabled", "T2_A": "enabled", "T2_B": "disabled"}


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def history_a_day_ago(counts: dict[str, int]) -> None:
    """One history bucket 25 hours old holding `counts` {site: errors} (on one step each)."""
    step = Step.objects.order_by("id").first()
    bucket = (timezone.now() - timedelta(hours=25)).replace(minute=0, second=0, microsecond=0)
    ErrorHistory.objects.bulk_create(
        [
            ErrorHistory(step=step, exit_code=8001, site=site, count=n, bucket=bucket)
            for site, n in counts.items()
        ]
    )


def load_known(tmp_path, settings) -> None:
    """The site statuses (stored as the refresh job does), KNOWN as the current snapshot and a
    history bucket a day old: T2_BAD rises (50 → 146), T1_OK is steady (12 → 13), T2_D falls
    (10 → 4), T2_A, T2_B and T2_C are new."""
    status = tmp_path / "status.json"
    status.write_text(json.dumps(STATUSES))
    configure(settings, site_status=str(status))
    refresh_site_statuses()
    load_document(tmp_path, KNOWN)
    history_a_day_ago({"T2_BAD": 50, "T1_OK": 12, "T2_D": 10})


@pytest.fixture
def known(db, tmp_path, settings, empty_cache):
    load_known(tmp_path, settings)


def pie_cells(html: str) -> list[str]:
    return re.findall(r'<td class="pc">.*?</td>', html, flags=re.S)


def slice_colours(cell: str) -> dict[str, str]:
    """{slice label: CSS class} of one drawn pie (the tooltip lists the slices in drawing order)."""
    title = re.search(r"<title>(.*?)</title>", cell, flags=re.S).group(1)
    labels = [line.rsplit(": ", 1)[0] for line in title.split("\n")[1:]]
    classes = re.findall(r'<(?:path|circle)[^>]* class="(\w+)"', cell)
    assert len(labels) == len(classes), cell
    return dict(zip(labels, classes, strict=True))


def legend(html: str) -> dict[str, str]:
    """{label: CSS class} of the page's pie legend."""
    block = re.search(r'<ul class="legend">(.*?)</ul>', html, flags=re.S).group(1)
    return {label: css for css, label in re.findall(r'class="(\w+)"/></svg>([^<]+)</li>', block)}


@pytest.mark.django_db
def test_the_same_exit_code_has_the_same_colour_in_every_pie_and_in_the_legend(client, known):
    html = page(client, "/globalerror")
    pies = [slice_colours(cell) for cell in pie_cells(html)]
    with_8001 = [pie for pie in pies if "8001" in pie]
    assert len(with_8001) >= 2  # several workflows' and steps' pies
    assert {pie["8001"] for pie in with_8001} == {"s0"}
    with_84 = [pie for pie in pies if "84" in pie]
    assert len(with_84) >= 2 and {pie["84"] for pie in with_84} == {"s2"}
    # In a pie where 84 is the biggest slice (PLAIN) and in one where it is the smallest
    # (SITEY, beside 8001's 20), 84 keeps its colour: colours follow the value, not the rank.
    names = legend(html)
    assert names["8001"] == "s0" and names["84"] == "s2" and names["all others"] == "so"
    assert "the 7 exit codes with most errors in the snapshot" in html


@pytest.mark.django_db
def test_values_outside_the_palette_share_one_grey_slice(client, known):
    html = page(client, f"/globalerror?prep_id={PLAIN}")
    plain = next(slice_colours(cell) for cell in pie_cells(html) if "T1_OK: 10 errors" in cell)
    # 8021 (1 error) is not among the seven biggest codes: it is the grey "1 other".
    assert plain == {"84": "s2", "71104": "s4", "8028": "s5", "134": "s6", "1 other": "so"}
    every_code = {
        label: css
        for number in (1, 2)
        for pie in map(slice_colours, pie_cells(page(client, f"/globalerror?page={number}")))
        for label, css in pie.items()
    }
    assert "8021" not in every_code and "NotReported" not in every_code
    for label, css in every_code.items():
        assert css == CODE_COLOURS.get(label, "so"), label


@pytest.mark.django_db
def test_sites_have_their_colour_in_site_pies_and_codes_theirs_on_the_sites_page(client, known):
    by_site = [
        slice_colours(cell)
        for number in (1, 2)  # ten prep IDs a page
        for cell in pie_cells(page(client, f"/globalerror?pievar=sitename&page={number}"))
    ]
    seen = {label: css for pie in by_site for label, css in pie.items()}
    assert seen == {site: SITE_COLOURS[site] for site in seen}
    assert len(seen) == 6
    sites = page(client, "/sites")
    for pie in map(slice_colours, pie_cells(sites)):
        for label, css in pie.items():
            assert css == CODE_COLOURS.get(label, "so"), label
    assert legend(sites)["8001"] == "s0"


@pytest.mark.django_db
def test_a_step_has_one_colour_in_every_pie_of_the_step_view(client, known):
    html = page(client, "/globalerror?pievar=stepname")
    colours: dict[str, set] = {}
    for pie in map(slice_colours, pie_cells(html)):
        for label, css in pie.items():
            colours.setdefault(label, set()).add(css)
    every_step = next(label for label in colours if label.endswith("/Every_0"))
    # EVERY's step fails 50660 at T2_A, T2_B and T2_C and 84 at T1_OK: four pies, one colour.
    assert html.count(f"{every_step}: ") == 4
    assert all(len(found) == 1 for found in colours.values()), colours
    assert "the 7 steps with most errors on this page" in html


@pytest.mark.django_db
def test_the_list_and_workflow_pages_show_the_pies_colours(client, known):
    listed = page(client, f"/listpage?workflow={PLAIN}&sitename=T1_OK")
    rows = re.findall(r'class="(\w+)"/></svg>\s*<a href="/procedures#code-(\w+)"', listed)
    assert rows == [("s2", "84"), ("s4", "71104"), ("s5", "8028"), ("s6", "134"), ("so", "8021")]
    sites = page(client, f"/listpage?workflow={EVERY}&errorcode=50660")
    assert re.findall(
        r'class="(\w+)"/></svg>\s*<a href="/globalerror\?pievar=errorcode&amp;sitename=(\w+)"', sites
    ) == [
        ("s2", "T2_A"),
        ("s3", "T2_B"),
        ("s4", "T2_C"),
    ]
    workflow = page(client, f"/seeworkflow?workflow={SITEY}")
    codes = re.findall(r'class="(\w+)"/></svg> <a href="/procedures#code-(\w+)"', workflow)
    assert codes == [("s0", "8001"), ("s2", "84")]


@pytest.mark.django_db
def test_a_site_status_legend_is_on_every_page_that_colours_sites(client, known):
    status_legend = '<ul class="legend status-legend">'
    for url in (
        "/globalerror",
        "/globalerror?pievar=stepname",
        "/sites",
        "/listpage?errorcode=8001&sitename=T2_BAD",
        f"/listpage?workflow={EVERY}&errorcode=50660",
        f"/seeworkflow?workflow={EVERY}",
    ):
        html = page(client, url)
        assert html.count(status_legend) == 1, url
        for status in ("enabled", "drain", "disabled", "unknown"):
            assert f'<li class="site-{status}">{status}</li>' in html, url
    # Exit-code columns colour no site: no status legend.
    assert status_legend not in page(client, "/globalerror?pievar=sitename")


@pytest.mark.django_db
def test_failure_shares_count_failing_workflows_at_the_site_over_all_failing_workflows(known):
    contexts = site_contexts(STATUSES)
    shares = {site: (c.workflows, c.all_workflows, c.share_percent) for site, c in contexts.items()}
    assert shares == {
        "T2_BAD": (8, 12, 67),
        "T1_OK": (3, 12, 25),
        "T2_A": (2, 12, 17),
        "T2_D": (2, 12, 17),
        "T2_B": (1, 12, 8),
        "T2_C": (1, 12, 8),
    }
    assert [site for site, c in contexts.items() if c.fails_many] == ["T2_BAD"]
    assert contexts["T2_BAD"].status == "drain" and contexts["T2_C"].status == "unknown"


@pytest.mark.django_db
def test_trends_compare_the_snapshot_with_the_history_a_day_ago(known):
    contexts = site_contexts(STATUSES)
    trends = {site: (c.errors_then, c.errors, c.trend) for site, c in contexts.items()}
    assert trends == {
        "T2_BAD": (50, 146, "rising"),
        "T1_OK": (12, 13, "steady"),
        "T2_D": (10, 4, "falling"),
        "T2_A": (0, 10, "new"),
        "T2_B": (0, 5, "new"),
        "T2_C": (0, 4, "new"),
    }


@pytest.mark.django_db
def test_without_history_a_day_ago_there_is_no_trend(tmp_path, empty_cache):
    load_document(tmp_path, KNOWN)
    history_a_day_ago({})  # nothing
    assert {c.trend for c in site_contexts({}).values()} == {""}


@pytest.mark.django_db
def test_the_sites_page_names_each_site_s_status_share_and_trend(client, known):
    html = page(client, "/sites")
    rows = re.findall(
        r'<td><a [^>]*>(T\d_\w+)</a></td>\s*<td class="site-(\w+)">\w+</td>\s*<td class="num">(\d+)</td>\s*'
        r'<td class="num">(\d+)</td>\s*<td class="num">(\d+)%</td>\s*<td><span class="trend-(\w+)"',
        html,
    )
    assert rows[:3] == [
        ("T2_BAD", "drain", "146", "8", "67", "rising"),
        ("T1_OK", "enabled", "13", "3", "25", "steady"),
        ("T2_A", "enabled", "10", "2", "17", "new"),
    ]
    assert "the share of the snapshot's 12 failing workflows" in html


@pytest.mark.django_db
def test_site_columns_of_the_global_view_carry_status_share_and_trend(client, known):
    for url in ("/globalerror", "/globalerror?pievar=stepname"):
        html = page(client, url)
        header = re.search(r'<table class="pies[^"]*">\s*<thead>(.*?)</thead>', html, flags=re.S).group(1)
        columns = re.findall(r'<th class="col"><span>(.*?)</span>', header)
        shares = re.findall(r'<td class="cx"><span>(\d+)%</span></td>', html)
        statuses = re.findall(r'<td class="cx" title="[^"]*"><span class="site-(\w+)">', html)
        assert len(shares) == len(statuses) == len(columns), url
        expected = {"T2_BAD": ("67", "drain"), "T1_OK": ("25", "enabled"), "T2_C": ("8", "unknown")}
        for site, (share, status) in expected.items():
            at = columns.index(site)
            assert (shares[at], statuses[at]) == (share, status), (url, site)


@pytest.mark.django_db
def test_the_list_page_gives_the_site_asked_about_its_context(client, known):
    html = page(client, "/listpage?errorcode=8001&sitename=T2_BAD")
    assert 'sitename=T2_BAD">T2_BAD</a> ' in html
    assert '<span class="site-drain">drain</span> · fails 67% of the failing workflows (8 of 12)' in html
    assert 'class="trend-rising"' in html


@pytest.mark.django_db
def test_the_site_sums_are_four_queries_once_per_snapshot_whatever_the_number_of_sites(
    tmp_path, empty_cache, django_assert_num_queries
):
    for n, name in ((6, "small.json"), (60, "big.json")):
        load_document(tmp_path, generated_document(n, seed=n), name)
        snapshot = snapshot_key()
        with django_assert_num_queries(4):
            found = snapshot_sites(snapshot)
        with django_assert_num_queries(0):
            assert snapshot_sites(snapshot) == found
    assert len(found.sites) > 6  # more sites than in the small snapshot, the same four queries


@pytest.mark.django_db
def test_the_pages_with_site_context_run_the_same_queries_for_any_data_size(client, tmp_path, empty_cache):
    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as context:
            page(client, url)
        return len(context.captured_queries)

    urls = ("/globalerror", "/sites", "/listpage?errorcode=8001&sitename=T2_CH_CERN")
    load_document(tmp_path, generated_document(8, seed=2), "small.json")
    small = [queries(url) for url in urls]
    load_document(tmp_path, generated_document(80, seed=9), "big.json")
    assert [queries(url) for url in urls] == small
