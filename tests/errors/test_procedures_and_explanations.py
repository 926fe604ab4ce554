"""Procedures (seeded, admin-validated) and the explain-error page with log samples."""

import pytest

from errors.models import ErrorCount, LogSample, Procedure
from errors.templatetags.error_charts import highlight
from tests.errors.conftest import load_document
from tests.workflows.fake_sources import (
    ROOT_FILE,
    STEP,
    WORKFLOW,
    closed_port_url,
    configure,
    jobdetail_answer,
)
from workflows.models import Step

SEEDED = [
    73,
    84,
    85,
    92,
    134,
    137,
    8001,
    8002,
    8004,
    8020,  # added by 0004, as the original did in 2020
    8021,
    8028,
    11003,
    50513,
    50660,
    61202,
    71104,
    71304,
    71305,
    71306,
    99109,
    99303,
]
ROOT_FILE_REGEX = r"(root://[-/\w\.]+\.root)"


@pytest.mark.django_db
def test_the_migration_seeds_the_original_procedures(client):
    assert list(Procedure.objects.values_list("exit_code", flat=True)) == SEEDED
    # Word for word from the original tool (CMSCompOps/WorkflowWebTools, procedures.py).
    p137 = Procedure.objects.get(exit_code=137)
    assert p137.normal_procedure == "Point SSP. Open GGUS ticket and put site in drain."
    assert p137.cause == "Likely an unrelated batch system kill. Sometimes a site-related problem."
    assert (p137.additional_procedure, p137.match_expression) == ("", "")
    p84 = Procedure.objects.get(exit_code=84)
    assert (p84.normal_procedure, p84.cause, p84.match_expression) == (
        "ACDC",
        "The file could not be found",
        ROOT_FILE_REGEX,
    )
    assert p84.additional_procedure == (
        "If a second round of ACDC and fails for same files, contact the transfer team and/or site support team."
    )
    assert Procedure.objects.get(exit_code=71104).match_expression == r"The job can run only at .*(T[12].*)"
    assert Procedure.objects.get(exit_code=85).match_expression == r"(root://[-/\w\.]+\.root|R__unzip)"
    # The original's " |br| " is a line break.
    assert Procedure.objects.get(exit_code=85).cause == (
        "If FileReadError, the file could not be read.\n\n"
        "If R__unzip: error, most likely a bad node with corrupted intermediate files."
    )
    # Where the original gives no cause, none is invented.
    assert sorted(Procedure.objects.filter(cause="").values_list("exit_code", flat=True)) == [134, 8001, 8002]
    html = client.get("/procedures").content.decode()
    for code in SEEDED:
        assert f'id="code-{code}"' in html
    assert f"<code>{ROOT_FILE_REGEX}</code>" in html
    assert "Site Support Team.<br><br>If a temporary failure: ACDC.<br><br>If a problem with the site" in html


def test_the_seeded_regular_expressions_extract_what_operators_need():
    import re

    log = f"Fatal Exception: Failed to open the file '{ROOT_FILE}'. Also root://eoscms.cern.ch//eos/x.root."
    assert re.compile(ROOT_FILE_REGEX).findall(log) == [ROOT_FILE, "root://eoscms.cern.ch//eos/x.root"]
    found = re.compile(r"The job can run only at .*(T[12].*)").search(
        "Job is killed. The job can run only at T2_CH_CERN which is in drain"
    )
    assert found.group(1) == "T2_CH_CERN which is in drain"


@pytest.mark.django_db
def test_procedure_texts_with_markup_stay_escaped_across_line_breaks(client):
    Procedure.objects.filter(exit_code=137).update(cause='<script>alert("x")</script>\nsecond line')
    html = client.get("/procedures").content.decode()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;<br>second line" in html
    assert "<script>alert" not in html


@pytest.mark.django_db
def test_admin_rejects_a_bad_regular_expression_with_a_form_error(admin_client):
    procedure = Procedure.objects.get(exit_code=84)
    before = procedure.match_expression
    response = admin_client.post(
        f"/admin/errors/procedure/{procedure.pk}/change/",
        {
            "exit_code": 84,
            "cause": "c",
            "normal_procedure": "n",
            "additional_procedure": "",
            "match_expression": "(/store/",
        },
    )
    assert response.status_code == 200
    assert "Not a valid regular expression" in response.content.decode()
    procedure.refresh_from_db()
    assert procedure.match_expression == before


@pytest.mark.django_db
def test_admin_saves_a_good_regular_expression(admin_client):
    procedure = Procedure.objects.get(exit_code=84)
    response = admin_client.post(
        f"/admin/errors/procedure/{procedure.pk}/change/",
        {
            "exit_code": 84,
            "cause": "c",
            "normal_procedure": "n",
            "additional_procedure": "",
            "match_expression": r"open (\S+)",
        },
    )
    assert response.status_code == 302
    procedure.refresh_from_db()
    assert procedure.match_expression == r"open (\S+)"


def test_highlight_marks_matches_escapes_the_rest_and_collects_group_one():
    import re

    a, b = "root://xrootd-cms.infn.it//store/a.root", "root://cmsxrootd.fnal.gov//store/b.root"
    marked, found = highlight(f"<x> open {a} and {b}", re.compile(ROOT_FILE_REGEX))
    assert marked == f"&lt;x&gt; open <mark>{a}</mark> and <mark>{b}</mark>"
    assert found == [a, b]
    assert highlight("a<b", re.compile(r"x*")) == ("a&lt;b", [])  # empty matches are skipped


@pytest.fixture
def wmstats(settings, tmp_path, fake_sources, empty_cache, db):
    load_document(tmp_path, {STEP: {"84": {"T2_CH_CERN": 3}, "50660": {"T1_US_FNAL": 2}}})
    fake_sources.routes[f"/wmstatsserver/data/jobdetail/{WORKFLOW}"] = (200, jobdetail_answer())
    configure(settings, wmstats=fake_sources.url)
    return fake_sources


def explain(client, code, step=STEP, status=200):
    response = client.get("/explainerror", {"errorcode": code, "workflowstep": step})
    assert response.status_code == status
    return response.content.decode()


def fetch_now(client, on_commit, code=84, step=STEP):
    """The "Fetch the log samples now" button: a POST that queues once its transaction
    commits (the task runs eagerly in tests) and returns at once."""
    with on_commit(execute=True):
        response = client.post("/explainerror", {"errorcode": code, "workflowstep": step})
    assert response.status_code == 302
    return response


def test_explain_error_shows_samples_with_the_procedure_matches_marked(
    operator_client, wmstats, django_capture_on_commit_callbacks
):
    html = explain(operator_client, 84)
    # The page never asks WMStats itself: it says nothing is stored and offers the button.
    assert "No log samples fetched yet" in html and "Fetch the log samples now" in html
    assert "Log samples (0)" in html and wmstats.requests == []
    fetch_now(operator_client, django_capture_on_commit_callbacks)
    html = explain(operator_client, 84)
    assert "Log samples (1)" in html
    assert "Log samples fetched 0" in html and "Fetch the log samples now" not in html
    assert f"<mark>{ROOT_FILE}</mark>" in html
    assert f"<code>{ROOT_FILE}</code>" in html  # group(1) listed as a parameter
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html  # log text is untrusted
    assert "Recommended procedure" in html and "The file could not be found" in html
    html = explain(operator_client, 50660)
    # The original's 50660 has no match expression: the sample is shown, nothing is marked.
    assert "Job has RSS: 3125.4 MB" in html and "<mark>" not in html
    assert "More memory" in html and "Found in the logs" not in html
    # Stored once, then served from the database for the cache period.
    assert LogSample.objects.count() == 2
    assert len(wmstats.requests) == 1


def test_explain_error_when_wmstats_is_down_still_renders(
    operator_client, settings, wmstats, django_capture_on_commit_callbacks
):
    configure(settings, wmstats=closed_port_url())
    fetch_now(operator_client, django_capture_on_commit_callbacks)
    html = explain(operator_client, 84)
    assert "The last fetch failed" in html
    assert "unreachable" in html
    assert "No log samples are stored" in html


def test_explain_error_without_wmstats_configured_says_so(client, settings, wmstats):
    configure(settings, wmstats=None)
    html = explain(client, 84)
    assert "sources.wmstats is not configured" in html
    assert "Fetch the log samples now" not in html


def test_fetching_log_samples_now_is_for_verified_operators(client, unverified_client, wmstats):
    # The anonymous go to login, the unverified are told to verify first.
    anonymous = client.post("/explainerror", {"errorcode": 84, "workflowstep": STEP})
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    assert unverified_client.post("/explainerror", {"errorcode": 84, "workflowstep": STEP}).status_code == 403
    assert wmstats.requests == [] and not LogSample.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"errorcode": "x", "workflowstep": STEP}, 400, "errorcode must be an integer"),
        ({"errorcode": "84"}, 400, "workflowstep: This field is required."),
        ({"errorcode": "84", "workflowstep": "/nope/step"}, 404, "No workflow step is named /nope/step"),
    ],
)
def test_explain_error_bad_input(client, params, status, message):
    response = client.get("/explainerror", params)
    assert response.status_code == status
    assert message in response.content.decode()


@pytest.mark.django_db
def test_procedure_admin_pages_render(admin_client):
    assert admin_client.get("/admin/errors/procedure/").status_code == 200
    assert admin_client.get("/admin/errors/procedure/add/").status_code == 200
    response = admin_client.post(
        "/admin/errors/procedure/add/",
        {
            "exit_code": 12345,
            "cause": "c",
            "normal_procedure": "n",
            "additional_procedure": "",
            "match_expression": "[a-",
        },
    )
    assert "Not a valid regular expression" in response.content.decode()
    assert not Procedure.objects.filter(exit_code=12345).exists()


# Untrusted step names: markup, quotes, an entity, unicode, 400 characters.
EVIL_STEP = f"/{WORKFLOW}/" + "<script>alert(1)</script>\"'&quot;ü€_"
EVIL_STEP += "x" * (400 - len(EVIL_STEP))


def test_untrusted_step_names_are_escaped_on_the_explain_page(client, settings, tmp_path, db, empty_cache):
    configure(settings, wmstats=None)
    load_document(tmp_path, {EVIL_STEP: {"84": {"T2_CH_CERN": 3}}})
    LogSample.objects.create(
        step=Step.objects.get(name=EVIL_STEP),
        exit_code=84,
        site="T2_CH_CERN",
        error_type="<i>Fatal</i>",
        details=f"Failed to open '{ROOT_FILE}' in {EVIL_STEP}",
    )
    html = explain(client, 84, step=EVIL_STEP)
    assert "<script>" not in html and "<i>" not in html
    shown = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#x27;&amp;quot;ü€_xxx"
    assert f"/{WORKFLOW}/{shown}" in html  # the step, and the log text naming it
    assert html.count(shown) == 2
    assert f"<mark>{ROOT_FILE}</mark>" in html
    # An unknown hostile step is a 404 page that escapes it too.
    html = explain(client, 84, step=EVIL_STEP[:-1] + "y", status=404)
    assert "<script>" not in html and shown[:-3] in html


def test_explain_error_queries_do_not_grow_with_the_samples(
    client, settings, tmp_path, db, empty_cache, django_assert_max_num_queries
):
    from errors import demo

    configure(settings, wmstats=closed_port_url())  # the stored samples are fresh: never asked
    for n, samples in ((5, 1), (60, 40)):
        load_document(tmp_path, demo.generate_error_document(n, seed=8), f"{n}.json")
        cell = ErrorCount.objects.select_related("step").order_by("-count", "id").first()
        LogSample.objects.bulk_create(
            LogSample(
                step=cell.step, exit_code=cell.exit_code, site=cell.site, details=f"sample {i} {ROOT_FILE}"
            )
            for i in range(samples)
        )
        # Last refresh, step + workflow, newest stored sample, procedure, samples.
        with django_assert_max_num_queries(5):
            html = explain(client, cell.exit_code, step=cell.step.name)
        stored = LogSample.objects.filter(step=cell.step, exit_code=cell.exit_code).count()
        assert f"Log samples ({stored})" in html
