"""Procedures (seeded, admin-validated) and the explain-error page with log samples."""

import pytest

from errors.models import Explanation, Procedure
from errors.selectors import highlight
from tests.errors.conftest import load_document
from tests.workflows.fake_sources import STEP, WORKFLOW, closed_port_url, configure, jobdetail_answer

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
LFN = "/store/mc/RunIISummer20UL18/HIG/GEN/00000/ABCDEF.root"


@pytest.mark.django_db
def test_the_migration_seeds_the_original_procedures(client):
    assert list(Procedure.objects.values_list("exit_code", flat=True)) == SEEDED
    assert not Procedure.objects.filter(cause="").exists()
    html = client.get("/procedures").content.decode()
    for code in SEEDED:
        assert f'id="code-{code}"' in html
    assert r"(/store/\S+\.root)" in html


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

    marked, found = highlight("<x> open /store/a.root and /store/b.root", re.compile(r"(/store/\S+\.root)"))
    assert marked == "&lt;x&gt; open <mark>/store/a.root</mark> and <mark>/store/b.root</mark>"
    assert found == ["/store/a.root", "/store/b.root"]
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


def test_explain_error_shows_samples_with_the_procedure_matches_marked(client, wmstats):
    html = explain(client, 84)
    assert "Log samples (1)" in html
    assert f"<mark>{LFN}</mark>" in html
    assert f"<code>{LFN}</code>" in html  # group(1) listed as a parameter
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html  # log text is untrusted
    assert "Recommended procedure" in html
    html = explain(client, 50660)
    assert "<mark>RSS: 3125.4 MB</mark>" in html
    assert "<code>3125.4</code>" in html
    # Stored once, then served from the database for the cache period.
    assert Explanation.objects.count() == 2
    assert len(wmstats.requests) == 1


def test_explain_error_when_wmstats_is_down_still_renders(client, settings, wmstats):
    configure(settings, wmstats=closed_port_url())
    html = explain(client, 84)
    assert "Log samples could not be refreshed" in html
    assert "unreachable" in html
    assert "No log samples are stored" in html


def test_explain_error_without_wmstats_configured_says_so(client, settings, wmstats):
    configure(settings, wmstats=None)
    html = explain(client, 84)
    assert "sources.wmstats is not configured" in html


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
