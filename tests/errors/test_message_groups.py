"""Errors by message: fetched log samples are grouped once when stored, and shown on the
workflow page, on the top-messages page across the snapshot and on a message's page listing
its workflows. WMStats answers in its real job-detail shape (SOURCES.md)."""

import importlib

import pytest
from django.apps import apps as django_apps
from django.core.cache import cache
from django.urls import reverse

from errors import log_samples
from errors.messages import message_key, message_of
from errors.models import LogSample, MessageGroup
from tests.errors.conftest import load_document
from tests.errors.test_messages import file_read_8021, stage_out_71104, wall_clock_50664
from tests.workflows.fake_sources import configure

pytestmark = pytest.mark.pg_too

ONE = "pdmvserv_task_HIG-RunIISummer20UL18wmLHEGEN-00123__v1_T_240115_123456_1234"
TWO = "pdmvserv_task_TOP-Run3Summer22EEGS-00002__v1_T_240116_123456_3333"
GONE = "pdmvserv_task_EXO-Run3Summer23GS-00077__v1_T_240117_123456_7777"
EVIL = "Failed <script>alert('x')</script> at /store/a/b.root"

READ_A = file_read_8021("cmsxrootd.fnal.gov/", "2A3B4C5D-6E7F-8091-A2B3-C4D5E6F70819", 18, 17003, 0, "a b")
READ_B = file_read_8021(
    "cms-xrd-global.cern.ch/", "9F8E7D6C-5B4A-3928-1706-F5E4D3C2B1A0", 911, 4521, 3, "c d"
)
READ_C = file_read_8021("xrootd-cms.infn.it/", "0A1B2C3D-4E5F-6071-8293-A4B5C6D7E8F9", 5, 99, 1, "e f")
WALL = wall_clock_50664(8, 172800, 173016)
STAGE_OUT = stage_out_71104(
    "srm-eoscms.cern.ch", 8443, "5E6F7A8B-1234-ABCD-9876-0123456789AB", 1, 2400, "T2_CH_CERN"
)
READ_KEY = message_key(8021, message_of(READ_A))


def entry(code, kind, details, step="cmsRun1"):
    return {"errors": {step: [{"type": kind, "exitCode": code, "details": details}]}}


def jobdetail(workflow: str, cells: dict) -> dict:
    """WMStats job detail: cells is {(step, state, code, site): [sample, ...]}."""
    steps: dict = {}
    for (step, state, code, site), samples in cells.items():
        cell = {"errorCount": len(samples) * 10, "samples": samples}
        steps.setdefault(f"/{workflow}/{step}", {}).setdefault(state, {}).setdefault(str(code), {})[site] = (
            cell
        )
    return {"result": [{workflow: steps}]}


@pytest.fixture
def fetched(settings, tmp_path, fake_sources, empty_cache, db):
    """ONE: 8021 read errors at two sites (3 samples, one message), a wall-clock kill and a
    99999 log-archive sample inside an 8001 cell; TWO: the same 8021 message once, a 71104
    submit failure and an untrusted text. GONE has samples but no current errors."""
    load_document(
        tmp_path,
        {
            f"/{ONE}/HIG_0": {"8021": {"T2_CH_CERN": 30, "T1_US_FNAL": 20}, "50664": {"T2_DE_DESY": 5}},
            f"/{ONE}/HIG_0/Merge": {"8001": {"T2_CH_CERN": 4}},
            f"/{TWO}/TOP_0": {"8021": {"T1_UK_RAL": 2}, "71104": {"T2_CH_CERN": 1}, "8001": {"T2_US_MIT": 1}},
            f"/{GONE}/EXO_0": {"8021": {"T2_US_MIT": 9}},
        },
    )
    answers = {
        ONE: jobdetail(
            ONE,
            {
                ("HIG_0", "jobfailed", 8021, "T2_CH_CERN"): [
                    entry(8021, "Fatal Exception", READ_A),
                    entry(8021, "Fatal Exception", READ_B),
                ],
                ("HIG_0", "jobfailed", 8021, "T1_US_FNAL"): [entry(8021, "Fatal Exception", READ_C)],
                ("HIG_0", "jobfailed", 50664, "T2_DE_DESY"): [entry(50664, "PerformanceKill", WALL)],
                ("HIG_0/Merge", "jobfailed", 8001, "T2_CH_CERN"): [
                    entry(
                        99999, "LogArchiveFailure", "Failure in the log archive step: timed out", "logArch1"
                    )
                ],
            },
        ),
        TWO: jobdetail(
            TWO,
            {
                ("TOP_0", "jobfailed", 8021, "T1_UK_RAL"): [entry(8021, "Fatal Exception", READ_B)],
                ("TOP_0", "submitfailed", 71104, "T2_CH_CERN"): [entry(71104, "SubmitFailed", STAGE_OUT)],
                ("TOP_0", "jobfailed", 8001, "T2_US_MIT"): [entry(8001, "CMSException", EVIL)],
            },
        ),
        GONE: jobdetail(
            GONE, {("EXO_0", "jobfailed", 8021, "T2_US_MIT"): [entry(8021, "Fatal Exception", READ_A)]}
        ),
    }
    for name, answer in answers.items():
        fake_sources.routes[f"/wmstatsserver/data/jobdetail/{name}"] = (200, answer)
    configure(settings, wmstats=fake_sources.url)
    for name in answers:
        assert log_samples.fetch_log_samples(name)["problem"] == ""
    # GONE leaves the snapshot: its samples stay stored but no page counts them.
    load_document(
        tmp_path,
        {
            f"/{ONE}/HIG_0": {"8021": {"T2_CH_CERN": 30, "T1_US_FNAL": 20}, "50664": {"T2_DE_DESY": 5}},
            f"/{ONE}/HIG_0/Merge": {"8001": {"T2_CH_CERN": 4}},
            f"/{TWO}/TOP_0": {"8021": {"T1_UK_RAL": 2}, "71104": {"T2_CH_CERN": 1}, "8001": {"T2_US_MIT": 1}},
        },
        "second.json",
    )
    return fake_sources


def groups_of(name):
    return {
        (group.exit_code, group.samples, group.sites)
        for group in MessageGroup.objects.filter(workflow__name=name)
    }


def test_samples_are_grouped_once_when_stored_by_their_own_exit_code(fetched):
    assert groups_of(ONE) == {(8021, 3, 2), (50664, 1, 1), (99999, 1, 1)}
    read = MessageGroup.objects.get(workflow__name=ONE, exit_code=8021)
    assert read.message_key == READ_KEY and read.message == message_of(READ_A)
    shown = LogSample.objects.filter(pk__in=read.shown_samples)
    assert shown.count() == 3 and {s.site for s in shown} == {"T2_CH_CERN", "T1_US_FNAL"}


def test_a_new_fetch_replaces_the_groups_and_a_failed_one_keeps_them(fetched, settings):
    fetched.routes[f"/wmstatsserver/data/jobdetail/{ONE}"] = (
        200,
        jobdetail(
            ONE, {("HIG_0", "jobfailed", 50664, "T2_DE_DESY"): [entry(50664, "PerformanceKill", WALL)]}
        ),
    )
    log_samples.fetch_log_samples(ONE)
    assert groups_of(ONE) == {(50664, 1, 1)}
    fetched.routes[f"/wmstatsserver/data/jobdetail/{ONE}"] = (500, {"error": "down"})
    assert log_samples.fetch_log_samples(ONE)["problem"]
    assert groups_of(ONE) == {(50664, 1, 1)}


def test_the_workflow_page_lists_its_messages_with_counts_and_samples(client, fetched):
    response = client.get("/seeworkflow", {"workflow": ONE})
    assert response.status_code == 200
    groups = response.context["message_groups"]
    # The log-archive 99999 sample of the 8001 cell is a 99999 message.
    assert [(g.exit_code, g.samples, g.sites, len(g.shown)) for g in groups] == [
        (8021, 3, 2, 3),
        (50664, 1, 1, 1),
        (99999, 1, 1, 1),
    ]
    html = response.content.decode()
    assert "Errors by message" in html
    assert reverse("errors:message", args=[READ_KEY]) in html
    assert "Failed to read the file &#x27;&lt;path&gt;&#x27;." in html
    assert "cmsxrootd.fnal.gov" in html  # the raw sample under its message


def test_the_top_messages_page_sums_over_the_snapshot_s_workflows(client, fetched):
    response = client.get("/messages")
    assert response.status_code == 200
    view = response.context["view"]
    rows = [(m.exit_code, m.samples, m.workflows) for m in view.messages]
    # 8021: 3 samples in ONE + 1 in TWO (GONE's is not in the snapshot any more).
    assert rows[0] == (8021, 4, 2)
    assert sorted(rows[1:]) == [(8001, 1, 1), (50664, 1, 1), (71104, 1, 1), (99999, 1, 1)]
    assert view.total_messages == 5 and view.total_samples == 8
    read = view.messages[0]
    assert len(read.shown) == 3 and {s.workflow for s in read.shown} == {ONE, TWO}
    html = response.content.decode()
    assert 'href="/messages"' in html  # in the navigation
    assert f'href="{reverse("errors:message", args=[READ_KEY])}"' in html


def test_the_top_messages_page_sorts_by_workflows_and_pages(client, fetched, tmp_path, settings):
    # A third workflow with only the wall-clock message: 50664 is then in 2 workflows, 2 samples.
    fetched.routes[f"/wmstatsserver/data/jobdetail/{TWO}"] = (
        200,
        jobdetail(TWO, {("TOP_0", "jobfailed", 50664, "T1_UK_RAL"): [entry(50664, "PerformanceKill", WALL)]}),
    )
    log_samples.fetch_log_samples(TWO)
    by_samples = client.get("/messages").context["view"]
    assert [(m.exit_code, m.samples, m.workflows) for m in by_samples.messages][:2] == [
        (8021, 3, 1),
        (50664, 2, 2),
    ]
    by_workflows = client.get("/messages", {"sort": "workflows"}).context["view"]
    assert [(m.exit_code, m.workflows) for m in by_workflows.messages][0] == (50664, 2)
    from errors.selectors.messages import top_messages

    second = top_messages(page=2, per_page=2)
    assert second.page.number == 2 and second.page.num_pages == 2
    assert [m.exit_code for m in second.messages] == [99999]


def test_the_page_shows_a_new_fetch_at_once_though_it_is_cached(client, fetched):
    assert client.get("/messages").context["view"].messages[0].samples == 4
    assert client.get("/messages").context["view"].messages[0].samples == 4  # from the cache
    fetched.routes[f"/wmstatsserver/data/jobdetail/{TWO}"] = (200, jobdetail(TWO, {}))
    log_samples.fetch_log_samples(TWO)
    assert client.get("/messages").context["view"].messages[0].samples == 3


def test_a_message_lists_the_workflows_that_have_it_with_links(client, fetched):
    response = client.get(reverse("errors:message", args=[READ_KEY]))
    assert response.status_code == 200
    view = response.context["view"]
    assert [(w.name, w.samples, w.sites) for w in view.workflows] == [(ONE, 3, 2), (TWO, 1, 1)]
    assert view.message.samples == 4 and view.total_workflows == 2
    html = response.content.decode()
    assert f'href="/seeworkflow?workflow={ONE}"' in html and f'href="/seeworkflow?workflow={TWO}"' in html
    assert GONE not in html


def test_untrusted_message_text_is_escaped_everywhere(client, fetched):
    key = MessageGroup.objects.get(workflow__name=TWO, exit_code=8001).message_key
    pages = [
        client.get("/messages").content.decode(),
        client.get(reverse("errors:message", args=[key])).content.decode(),
        client.get("/seeworkflow", {"workflow": TWO}).content.decode(),
    ]
    for html in pages:
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html


def test_bad_input_is_a_clear_error(client, fetched):
    bad_sort = client.get("/messages", {"sort": "bogus"})
    assert bad_sort.status_code == 400 and "sort must be samples or workflows" in bad_sort.content.decode()
    assert client.get("/messages", {"page": "0"}).status_code == 400
    not_hex = client.get("/messages/<script>")
    assert not_hex.status_code == 404 and "<script>" not in not_hex.content.decode()
    unknown = client.get(reverse("errors:message", args=["0" * 16]))
    assert unknown.status_code == 404 and "No workflow of the current snapshot" in unknown.content.decode()
    assert client.get(reverse("errors:message", args=[READ_KEY]), {"page": "x"}).status_code == 400
    # A page past the end shows the last one.
    assert client.get("/messages", {"page": "99"}).context["view"].page.number == 1


def test_queries_are_bounded_whatever_the_number_of_messages(client, fetched, django_assert_max_num_queries):
    for name in (ONE, TWO):
        fetched.routes[f"/wmstatsserver/data/jobdetail/{name}"] = (
            200,
            jobdetail(
                name,
                {
                    ("HIG_0" if name == ONE else "TOP_0", "jobfailed", 8021, f"T2_XX_Site{i}"): [
                        entry(8021, "Fatal Exception", f"Failure number {i}: {'x' * i} at /store/{i}.root")
                    ]
                    for i in range(40)
                },
            ),
        )
        log_samples.fetch_log_samples(name)
    cache.clear()
    # Session/auth + snapshot key + totals, page, shown samples (window) and their rows.
    with django_assert_max_num_queries(8):
        assert len(client.get("/messages").context["view"].messages) == 25
    with django_assert_max_num_queries(8):
        client.get("/messages")  # cached: fewer still
    key = MessageGroup.objects.filter(workflow__name=ONE).first().message_key
    with django_assert_max_num_queries(8):
        assert client.get(reverse("errors:message", args=[key])).status_code == 200


def test_the_migration_groups_samples_stored_before_it(fetched):
    MessageGroup.objects.all().delete()
    migration = importlib.import_module("errors.migrations.0008_message_groups")
    migration.group_stored_samples(django_apps, None)
    assert groups_of(ONE) == {(8021, 3, 2), (50664, 1, 1), (99999, 1, 1)}
    assert MessageGroup.objects.filter(workflow__name=GONE).count() == 1


@pytest.mark.django_db
def test_before_any_data_or_fetch_the_pages_say_so(client, tmp_path, empty_cache):
    assert "No log samples are stored" in client.get("/messages").content.decode()
    load_document(tmp_path, {f"/{ONE}/HIG_0": {"8021": {"T2_CH_CERN": 3}}})
    assert "No log samples are stored for the workflows" in client.get("/messages").content.decode()
    html = client.get("/seeworkflow", {"workflow": ONE}).content.decode()
    assert "No log samples are stored for this workflow" in html
