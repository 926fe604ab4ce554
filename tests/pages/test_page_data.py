"""Every page as data (?format=json or Accept: application/json, the same numbers as the HTML)
and ticket links that pin the snapshot a page shows (errors/pinning.py)."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from errors.history import update_history
from errors.models import ErrorCount, ErrorImport, PinnedCell
from errors.pinning import PinRefused, pin_snapshot, prune_pinned_snapshots
from tests.errors.conftest import A_ACDC, SMALL_DOCUMENT, A, B, load_document

pytestmark = pytest.mark.django_db

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
# The same workflows an hour later: A's 50660 at CERN grew, B's 8001 is gone, a new site.
LATER_DOCUMENT = {
    f"/{A}/HIG_0": {"50660": {"T2_CH_CERN": 300, "T1_US_FNAL": 5}, "84": {"T2_CH_CERN": 10}},
    f"/{A}/HIG_0/HIG_0MergeRAWSIMoutput": {"84": {"T1_US_FNAL": 2}},
    f"/{A_ACDC}/HIG_0": {"50660": {"T2_DE_DESY": 40}},
}
PAGES = [
    "/globalerror",
    "/globalerror?pievar=sitename",
    "/globalerror?pievar=stepname",
    "/listpage?errorcode=50660&sitename=T2_CH_CERN",
    f"/listpage?workflow={A}&sitename=T2_CH_CERN",
    "/sites",
    f"/seeworkflow?workflow={A}",
]


def numbers(html: str, pattern: str) -> list[int]:
    return [int(found.replace(",", "")) for found in re.findall(pattern, html)]


def page_json(client, url: str, **headers) -> dict:
    response = client.get(url + ("&" if "?" in url else "?") + "format=json", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()


@pytest.fixture
def loaded(tmp_path):
    load_document(tmp_path, SMALL_DOCUMENT)
    return ErrorImport.objects.get(kind="current")


# --- JSON equals the HTML ---------------------------------------------------------------


def test_global_view_json_carries_the_numbers_of_its_html(client, loaded):
    data = page_json(client, "/globalerror")
    html = client.get("/globalerror").content.decode()
    view = data["view"]
    assert view["total"] == 58
    # The totals row: the grand total, then one per column in column order.
    totals_row = re.search(r'<tr class="tot">.*?</tr>', html, re.S).group(0)
    assert numbers(totals_row, r'<td class="num">([\d,]+)</td>') == [view["total"]]
    assert numbers(totals_row, r'<td class="ct"><span>([\d,]+)</span>') == [
        view["column_totals"][column] for column in view["columns"]
    ]
    rows = [row for section in view["sections"] for group in section["groups"] for row in group["rows"]]
    assert [(row["kind"], row["total"]) for row in rows][:2] == [("workflow", 47), ("step", 45)]
    for row in rows:  # every pie's total is in a tooltip of the page
        for pie in filter(None, row["cells"]):
            assert f"{pie['title']}: {pie['total']} errors" in html


def test_step_matrix_json_carries_the_numbers_of_its_html(client, loaded):
    data = page_json(client, "/globalerror?pievar=stepname")
    html = client.get("/globalerror?pievar=stepname").content.decode()
    assert data["view"]["layout"] == "matrix"
    assert {row["label"]: row["total"] for row in data["view"]["rows"]} == {"50660": 39, "84": 12, "8001": 7}
    for row in data["view"]["rows"]:
        for pie in filter(None, row["cells"]):
            assert f"{pie['title']}: {pie['total']} errors" in html


def test_list_page_json_carries_the_numbers_of_its_html(client, loaded):
    url = "/listpage?errorcode=50660&sitename=T2_CH_CERN"
    listing = page_json(client, url)["listing"]
    html = client.get(url).content.decode()
    assert [(row["value"], row["total"]) for row in listing["rows"]] == [(A, 30), (A_ACDC, 4)]
    table = re.search(r"<tbody>.*?</tbody>", html, re.S).group(0)
    shown = numbers(table, r'<td class="num">([\d,]+)</td>')
    assert shown == [number for row in listing["rows"] for number in (row["total"], row["steps"])]
    assert f"{listing['total']} failed jobs" in html


def test_sites_json_carries_the_numbers_of_its_html(client, loaded):
    sites = page_json(client, "/sites")["sites"]
    html = client.get("/sites").content.decode()
    assert [(row["site"], row["errors"]) for row in sites] == [
        ("T2_CH_CERN", 44),
        ("T1_US_FNAL", 7),
        ("T2_US_MIT", 7),
    ]
    table = re.search(r"<tbody>.*?</tbody>", html, re.S).group(0)
    assert numbers(table, r'<td class="num">([\d,]+)</td>') == [
        number for row in sites for number in (row["errors"], row["workflows"], row["steps"])
    ]


def test_workflow_page_json_carries_the_numbers_of_its_html(client, loaded):
    data = page_json(client, f"/seeworkflow?workflow={A}")
    html = client.get(f"/seeworkflow?workflow={A}").content.decode()
    assert data["workflow"]["name"] == A and data["total"] == 47
    feet = re.findall(r"<tfoot>.*?</tfoot>", html, re.S)
    assert [numbers(foot, r'<td class="num">(?:<strong>)?([\d,]+)') for foot in feet] == [
        [*table["site_totals"], table["total"]] for table in data["tables"]
    ]
    for table in data["tables"]:
        assert f"{table['total']} failed jobs" in html


def test_trends_json_carries_the_points_of_its_chart(client, loaded):
    update_history()
    data = page_json(client, "/trends?days=3")
    html = client.get("/trends?days=3").content.decode()
    assert data["days"] == 3 and len(data["trends"]["days"]) == 3
    series = dict(data["trends"]["by_code"]["series"])
    assert series["50660"][-1] == 39
    for label, values in data["trends"]["by_code"]["series"] + data["trends"]["by_site"]["series"]:
        for day, value in zip(data["trends"]["days"], values, strict=True):
            assert f"{label} on {day}: {value} errors" in html


def test_actions_page_answers_json_to_a_verified_operator(operator_client, verified_operator, loaded):
    from actions.services import submit_action

    reasons = [{"short": "memory", "long": "Jobs ran out of memory."}]
    submit_action(user=verified_operator, workflows=[B], action="clone", parameters={}, reasons=reasons)
    data = page_json(operator_client, "/actions/")
    html = operator_client.get("/actions/").content.decode()
    assert data["counts"] == {"pending": 1, "late": 0, "reported": 0}
    assert [(row["workflow"], row["action"], row["reasons"]) for row in data["actions"]] == [
        (B, "clone", reasons)
    ]
    assert B in html and "Jobs ran out of memory." in html
    assert page_json(operator_client, "/actions/?status=reported")["actions"] == []


# --- choosing JSON, and errors in JSON -------------------------------------------------------


@pytest.mark.parametrize("url", PAGES)
def test_an_accept_header_asking_json_gets_the_same_json_as_format_json(client, loaded, url):
    asked = client.get(url, headers={"Accept": "application/json"})
    assert asked["Content-Type"] == "application/json"
    assert "Accept" in asked["Vary"]
    assert asked.json() == page_json(client, url)


@pytest.mark.parametrize("url", PAGES)
def test_a_browser_and_curl_get_the_page(client, loaded, url):
    for accept in (BROWSER_ACCEPT, "*/*"):
        response = client.get(url, headers={"Accept": accept})
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("url", "status", "detail"),
    [
        ("/globalerror?pievar=nope", 400, "pievar must be errorcode, sitename or stepname"),
        ("/listpage?errorcode=50660", 400, "Give exactly two of errorcode, sitename and workflow"),
        ("/seeworkflow?workflow=no_such_workflow", 404, "No workflow is named no_such_workflow."),
        ("/sites?snapshot=abc", 400, "snapshot must be a snapshot id"),
        ("/sites?snapshot=999999", 404, "There is no snapshot 999999."),
        ("/trends?days=0", 400, "days"),
        ("/actions/", 401, "log in first"),
    ],
)
def test_errors_in_json_mode_are_json_with_a_clear_message(client, loaded, url, status, detail):
    for asked, headers in (
        (url + ("&" if "?" in url else "?") + "format=json", {}),
        (url, {"Accept": "application/json"}),
    ):
        response = client.get(asked, headers=headers)
        assert response.status_code == status
        assert response["Content-Type"] == "application/json"
        assert detail in response.json()["detail"]
        assert response.json()["status"] == status


def test_an_unknown_format_is_refused(client, loaded):
    response = client.get("/sites?format=xml")
    assert response.status_code == 400
    assert response.json()["detail"] == "format must be html or json; 'xml' is neither."


def test_an_unverified_user_gets_a_json_403_from_the_actions_page(unverified_client):
    response = unverified_client.get("/actions/?format=json")
    assert response.status_code == 403
    assert "verified operators" in response.json()["detail"]


def test_untrusted_workflow_names_stay_text_in_json(client, tmp_path):
    from tests.errors.conftest import EVIL_NAME

    load_document(tmp_path, {f"/{EVIL_NAME}/Task": {"8001": {"T2_CH_CERN": 3}}})
    listing = page_json(client, "/listpage?errorcode=8001&sitename=T2_CH_CERN")["listing"]
    assert listing["rows"][0]["value"] == EVIL_NAME


# --- the OpenAPI schema ---------------------------------------------------------------------


def test_the_schema_lists_the_data_pages_with_their_parameters(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    pages = {"/globalerror", "/listpage", "/seeworkflow", "/sites", "/trends", "/actions/"}
    assert pages <= set(schema["paths"])
    for path in pages:
        operation = schema["paths"][path]["get"]
        names = {parameter["name"] for parameter in operation["parameters"]}
        assert "format" in names
        assert ("snapshot" in names) == (path != "/actions/")
        assert "application/json" in operation["responses"]["200"]["content"]
    global_names = {p["name"]: p["schema"] for p in schema["paths"]["/globalerror"]["get"]["parameters"]}
    assert global_names["pievar"]["enum"] == ["errorcode", "sitename", "stepname"]
    assert global_names["page"] == {"type": "integer", "minimum": 1}
    workflow_parameters = schema["paths"]["/seeworkflow"]["get"]["parameters"]
    assert {"name": "workflow", "required": True} in [
        {"name": p["name"], "required": p["required"]} for p in workflow_parameters
    ]


# --- ticket links ---------------------------------------------------------------------------


def pin_through_the_page(client, url: str) -> str:
    """Press the page's "Link for a ticket" and return the link it leads to."""
    html = client.get(url).content.decode()
    snapshot = re.search(r'name="snapshot" value="(\d+)"', html).group(1)
    here = re.search(r'name="next" value="([^"]+)"', html).group(1).replace("&amp;", "&")
    response = client.post("/pin", {"snapshot": snapshot, "next": here})
    assert response.status_code == 302
    return response["Location"]


@pytest.mark.pg_too
@pytest.mark.parametrize("url", PAGES)
def test_a_ticket_link_shows_the_old_numbers_after_a_new_ingestion(operator_client, loaded, tmp_path, url):
    before = page_json(operator_client, url)
    link = pin_through_the_page(operator_client, url)
    assert f"snapshot={loaded.pk}" in link
    load_document(tmp_path, LATER_DOCUMENT, "later.json")

    pinned = page_json(operator_client, link)
    assert pinned["snapshot"] == {
        "id": loaded.pk,
        "finished_at": pinned["snapshot"]["finished_at"],
        "pinned": True,
    }
    before.pop("snapshot"), pinned.pop("snapshot")
    assert pinned == before
    assert page_json(operator_client, url) != before  # the page without the link moved on
    html = operator_client.get(link).content.decode()
    assert f"Pinned snapshot {loaded.pk}" in html


def test_a_pinned_page_shows_its_old_numbers_in_html(operator_client, loaded, tmp_path):
    link = pin_through_the_page(operator_client, "/listpage?errorcode=50660&sitename=T2_CH_CERN")
    load_document(tmp_path, LATER_DOCUMENT, "later.json")
    assert (
        "30 failed jobs"
        not in operator_client.get("/listpage?errorcode=50660&sitename=T2_CH_CERN").content.decode()
    )
    html = operator_client.get(link).content.decode()
    assert "34 failed jobs" in html  # A's 30 and its ACDC's 4 at CERN, as when pinned


def test_pinning_copies_the_snapshot_once(loaded):
    pin_snapshot(loaded.pk)
    pin_snapshot(loaded.pk)
    assert PinnedCell.objects.filter(snapshot=loaded).count() == ErrorCount.objects.count() == 6


def test_a_replaced_snapshot_cannot_be_pinned_any_more(operator_client, loaded, tmp_path):
    load_document(tmp_path, LATER_DOCUMENT, "later.json")
    response = operator_client.post("/pin", {"snapshot": loaded.pk, "next": "/sites"}, follow=True)
    assert "refreshed since this page was shown" in response.content.decode()
    assert not PinnedCell.objects.exists()
    assert ErrorImport.objects.get(pk=loaded.pk).pinned_at is None
    with pytest.raises(PinRefused):
        pin_snapshot(loaded.pk)


def test_pinning_needs_a_verified_operator_and_a_local_page(
    client, operator_client, unverified_client, loaded
):
    assert client.post("/pin", {"snapshot": loaded.pk, "next": "/sites"})["Location"].startswith(
        "/accounts/login/"
    )
    assert unverified_client.post("/pin", {"snapshot": loaded.pk, "next": "/sites"}).status_code == 403
    for bad in (
        {"snapshot": "x", "next": "/sites"},
        {"snapshot": loaded.pk, "next": "https://evil.example/"},
    ):
        assert operator_client.post("/pin", bad).status_code == 400
    assert not PinnedCell.objects.exists()
    assert operator_client.get("/pin").status_code == 405


def test_pinning_is_refused_without_the_csrf_token(verified_operator, loaded):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(verified_operator)
    assert browser.post("/pin", {"snapshot": loaded.pk, "next": "/sites"}).status_code == 403
    assert not PinnedCell.objects.exists()


def test_pinning_answers_json_with_the_link(operator_client, loaded):
    response = operator_client.post(
        "/pin", {"snapshot": loaded.pk, "next": "/sites?x=1"}, headers={"Accept": "application/json"}
    )
    assert response.json() == {
        "snapshot": loaded.pk,
        "link": f"http://testserver/sites?x=1&snapshot={loaded.pk}",
    }


def test_a_pruned_snapshot_says_so(client, loaded):
    pin_snapshot(loaded.pk)
    assert prune_pinned_snapshots(now=timezone.now() + timedelta(days=29)) == 0
    assert client.get(f"/sites?snapshot={loaded.pk}").status_code == 200
    assert prune_pinned_snapshots(now=timezone.now() + timedelta(days=31)) == 1
    assert not PinnedCell.objects.exists()
    ErrorImport.objects.filter(pk=loaded.pk).update(finished_at=timezone.now() - timedelta(days=31))
    response = client.get(f"/sites?snapshot={loaded.pk}")
    assert response.status_code == 410
    assert "is no longer kept: ticket links keep their errors for 30 days" in response.content.decode()
    assert client.get(f"/sites?snapshot={loaded.pk}&format=json").json()["status"] == 410


def test_a_snapshot_never_pinned_says_so(client, loaded, tmp_path):
    load_document(tmp_path, LATER_DOCUMENT, "later.json")
    response = client.get(f"/globalerror?snapshot={loaded.pk}")
    assert response.status_code == 410
    assert "was not pinned by a ticket link" in response.content.decode()


def test_the_refresh_job_prunes_old_pinned_snapshots(loaded, monkeypatch):
    from errors import caches, ingestion, log_samples

    pin_snapshot(loaded.pk)
    ErrorImport.objects.filter(pk=loaded.pk).update(finished_at=timezone.now() - timedelta(days=31))
    # The refresh's other steps ask outside sources: here only the ingestion and the pruning run.
    monkeypatch.setattr(caches, "refresh_source_caches", lambda: None)
    monkeypatch.setattr(caches, "refresh_snapshot_requests", lambda: {})
    monkeypatch.setattr(caches, "warm_page_caches", lambda: None)
    monkeypatch.setattr(log_samples, "fetch_top_cells_samples", lambda: {})
    monkeypatch.setattr(ingestion, "ingest_current_errors", lambda source, progress=None: _Report())
    assert ingestion.refresh_current_errors("unused")["pruned_snapshots"] == 1
    assert not PinnedCell.objects.exists()


class _Report:
    def summary(self):
        return {}

    def summary_line(self):
        return ""


def test_a_pinned_page_costs_no_more_queries(operator_client, loaded, django_assert_max_num_queries):
    link = pin_through_the_page(operator_client, "/globalerror")
    operator_client.get(link)  # cached after the first build, as the current page
    with django_assert_max_num_queries(6):
        response = operator_client.get(link)
    assert response.status_code == 200


def test_a_trends_link_keeps_its_points_after_more_history(client, loaded, tmp_path):
    update_history(at=timezone.now() - timedelta(hours=2))
    html = client.get("/trends?days=3").content.decode()
    link = (
        re.search(r'<a href="([^"]+snapshot=\d+)">Link for a ticket</a>', html).group(1).replace("&amp;", "&")
    )
    before = page_json(client, link)["trends"]
    load_document(tmp_path, LATER_DOCUMENT, "later.json")
    update_history()
    assert page_json(client, link)["trends"] == before
    assert page_json(client, "/trends?days=3")["trends"] != before


def test_only_verified_operators_get_the_pin_button(client, unverified_client, operator_client, loaded):
    for anyone in (client, unverified_client):
        html = anyone.get("/sites").content.decode()
        assert "A verified operator can make a link for a ticket" in html
        assert 'action="/pin"' not in html
    assert 'action="/pin"' in operator_client.get("/sites").content.decode()
