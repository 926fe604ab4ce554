"""Issue 15's browser journey, in a real Chromium against a live server: sign up, confirm by the
e-mailed link, find a sick workflow from the global view, submit an ACDC with per-task sites and
two reasons, see Unified fetch and report it, and the actions page mark it reported. No page may
log a console error or fail a request; each step leaves a screenshot in var/test-artifacts/."""

import json
import re
import urllib.request

import pytest
from django.core.cache import cache

from actions.models import Action
from errors.ingestion import ingest_current_errors
from tests.workflows.fake_sources import FakeSources, configure, jobdetail_answer, reqmgr2_answer
from workflows.services import refresh_site_statuses

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KEY = "browser-test-passphrase"
PREP = "HIG-RunIISummer20UL18wmLHEGEN-00123"
WORKFLOW = f"pdmvserv_task_{PREP}__v1_T_240115_123456_1234"
FIRST = f"{PREP}_0"
MERGE = f"{PREP}_0/{PREP}_0MergeRAWSIMoutput"
# Unified's all_errors.json (SOURCES.md): step path -> exit code -> site -> failed jobs.
ALL_ERRORS = {
    f"/{WORKFLOW}/{FIRST}": {"50660": {"T2_CH_CERN": 30, "T1_US_FNAL": 5}, "84": {"T2_CH_CERN": 10}},
    f"/{WORKFLOW}/{MERGE}": {"84": {"T1_US_FNAL": 2}},
}
SITE_STATUS = {
    "T1_US_FNAL": "enabled",
    "T2_CH_CERN": "enabled",
    "T2_DE_DESY": "drain",
    "T2_US_MIT": "enabled",
}


def _acdc_answer() -> dict:
    """The ACDC server's view (SOURCES.md): a document per fileset with its files' locations."""
    return {
        "rows": [
            {
                "doc": {
                    "fileset_name": f"/{WORKFLOW}/{FIRST}",
                    "files": {"/store/a.root": {"locations": ["T2_CH_CERN", "T1_US_FNAL"]}},
                }
            },
            {
                "doc": {
                    "fileset_name": f"/{WORKFLOW}/{MERGE}",
                    "files": {"/store/b.root": {"locations": ["T1_US_FNAL"]}},
                }
            },
        ]
    }


@pytest.fixture
def outside_world(settings, tmp_path):
    """The error snapshot ingested, and cmsweb / Unified's site status answered by a local server."""
    settings.WWT_ACTIONS_KEY = KEY
    cache.clear()
    with FakeSources() as fake:
        fake.routes["/reqmgr2/data/request"] = (200, reqmgr2_answer(WORKFLOW))
        fake.routes[f"/wmstatsserver/data/jobdetail/{WORKFLOW}"] = (
            200,
            jobdetail_answer(WORKFLOW, f"/{WORKFLOW}/{FIRST}"),
        )
        fake.routes["/couchdb/acdcserver/_design/ACDC/_view/byCollectionName"] = (200, _acdc_answer())
        fake.routes["/site_status.json"] = (200, SITE_STATUS)
        configure(
            settings,
            reqmgr2=fake.url,
            wmstats=fake.url,
            acdc=fake.url,
            site_status=fake.url + "/site_status.json",
        )
        document = tmp_path / "all_errors.json"
        document.write_text(json.dumps(ALL_ERRORS))
        ingest_current_errors(str(document))
        refresh_site_statuses()  # the refresh job's part; the workflow page only reads it
        yield fake
    cache.clear()


def _unified(url: str, body: dict, method: str):
    """Unified's client: JSON body (also on its GET), no cookie, follows no redirect."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method=method)
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.headers["Content-Type"], json.loads(response.read())


def test_an_operator_signs_up_submits_an_acdc_and_unified_acts_on_it(
    browser_page, live_server, mailoutbox, outside_world
):
    page, base = browser_page, live_server.url

    # Sign up.
    page.goto(f"{base}/accounts/signup/")
    page.fill("input[name=username]", "dana")
    page.fill("input[name=email]", "dana@cern.ch")
    page.fill("input[name=password1]", "a-long-enough-passphrase")
    page.fill("input[name=password2]", "a-long-enough-passphrase")
    page.shot("signup")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/accounts/confirm-email/$"))
    page.shot("verification-sent")

    # The e-mail's link, confirmed in the same browser: verified and logged in.
    (message,) = mailoutbox
    assert message.to == ["dana@cern.ch"]
    (link,) = re.findall(r"https?://\S+/accounts/confirm-email/\S+", message.body)
    page.goto(link)
    page.shot("confirm")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()
    assert page.locator("header .account .who").inner_text() == "dana"
    page.shot("confirmed-and-logged-in")

    # The global view: click a pie, land on the list page.
    page.goto(f"{base}/globalerror")
    page.shot("global-view")
    pies = page.locator("td.pc a")
    assert pies.count() > 0
    pies.first.click()
    page.wait_for_url(re.compile(r"/listpage\?"))
    assert WORKFLOW in page.content()
    page.shot("list-page")

    # From the list to the workflow page.
    page.locator(f'a[href^="/seeworkflow?workflow={WORKFLOW}"]').first.click()
    page.wait_for_url(re.compile(r"/seeworkflow\?"))
    # Nothing asked yet: ReqMgr2, the ACDC server and WMStats are asked in one background task.
    assert "ReqMgr2 was not asked about this workflow yet" in page.content()
    page.get_by_role("button", name="Refresh this workflow now").click()
    page.wait_for_url(re.compile(r"/seeworkflow\?"))
    assert "ReqMgr2 as of" in page.content()
    page.shot("workflow-page")

    # An ACDC: memory for all steps, the first task's sites chosen by hand, two reasons.
    form = page.locator("#action-form")
    form.locator("input[name=action][value=acdc]").check()
    form.locator("input[name=all-memory]").fill("4000")
    first = form.locator("details.task-block", has=page.locator(f'input[value="{FIRST}"]'))
    first.locator("summary").click() if first.get_attribute("open") is None else None
    first.locator("input[name$=-sites_method][value=Manual]").check()
    # Only the chosen method's site list shows (the script hides the others).
    assert first.locator(".site-list[data-method=Manual]").is_visible()
    assert not first.locator(".site-list[data-method=Ban]").is_visible()
    assert not form.locator("[data-action=clone]").is_visible()
    for site, wanted in (("T1_US_FNAL", False), ("T2_CH_CERN", True), ("T2_US_MIT", True)):
        first.locator(f"input[name$=-sites][value={site}]").set_checked(wanted)
    form.locator("input[name=reason_short]").first.fill("memory")
    form.locator("textarea[name=reason_long]").first.fill("Jobs exceed the memory limit (exit code 50660).")
    form.locator("#add-reason").click()
    form.locator("input[name=reason_short]").nth(1).fill("file")
    form.locator("textarea[name=reason_long]").nth(1).fill("A file could not be opened (exit code 84).")
    page.shot("action-form")
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/seeworkflow\?"))
    assert "submitted for" in page.content()
    page.shot("action-submitted")

    # Unified fetches exactly this action.
    status, content_type, served = _unified(f"{base}/getaction?days=15", {"key": KEY}, "GET")
    assert (status, content_type) == (200, "application/json")
    assert served == {
        WORKFLOW: {
            "Action": "acdc",
            "Parameters": {
                FIRST: {"sites": ["T2_CH_CERN", "T2_US_MIT"], "memory": 4000},
                MERGE: {"sites": ["T1_US_FNAL"], "memory": 4000},
            },
            "Reasons": [
                "Jobs exceed the memory limit (exit code 50660).",
                "A file could not be opened (exit code 84).",
            ],
            "Reason": "Jobs exceed the memory limit (exit code 50660). "
            "A file could not be opened (exit code 84).",
            "user": "dana",
            "ACDCs": [],
        }
    }

    # ... reports it done ...
    status, _, reply = _unified(f"{base}/reportaction", {"key": KEY, "workflows": [WORKFLOW]}, "POST")
    assert status == 200
    assert reply == {
        "valid_key": True,
        "valid_format": True,
        "success": [WORKFLOW],
        "already_reported": [],
        "does_not_exist": [],
    }
    reported_at = Action.objects.get(workflow__name=WORKFLOW).reported_at
    assert reported_at is not None

    # ... and the actions page shows it reported.
    page.goto(f"{base}/actions/")
    cards = [card.inner_text().split("\n")[0] for card in page.locator(".cards .card").all()]
    assert cards == ["0", "0", "1"]  # pending, pending for more than a day, reported
    page.select_option("select[name=status]", "all")
    page.locator("form.action-filters button[type=submit]").click()
    page.wait_for_url(re.compile(r"status=all"))
    row = page.locator("table.actions tbody tr", has=page.locator(f"text={WORKFLOW}"))
    assert row.count() == 1
    assert row.locator("td").nth(6).inner_text().strip() == reported_at.strftime("%Y-%m-%d %H:%M")
    assert "pending" not in row.inner_text()
    page.shot("actions-page")

    assert page.problems.seen == []


def test_the_watch_catches_what_a_person_would_see_broken(browser_page, live_server):
    """The journey's last assertion can fail: an HTTP error, a script error and a console error
    are all caught."""
    page = browser_page
    page.goto(f"{live_server.url}/no/such/page")
    page.evaluate("console.error('logged by a script')")
    page.evaluate("setTimeout(() => { throw new Error('thrown by a script'); }, 0)")
    page.wait_for_timeout(200)
    seen = "\n".join(page.problems.seen)
    assert "HTTP 404" in seen and "logged by a script" in seen and "thrown by a script" in seen
