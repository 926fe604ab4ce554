"""The actions page as operators read it: parameters per task, campaign and site filters, and
the CSV / JSON downloads of every action the filters select."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from actions.display import parameters_in_one_line, readable_parameters
from actions.models import Action
from actions.services import submit_action
from tests.factories import WorkflowFactory

from .conftest import tasks_of


def _acdc(user, workflow, *, sites_by_task):
    """An ACDC as the form sends it: per task sites, memory on the first task."""
    tasks = tasks_of(workflow.name)
    parameters = {
        tasks[index]: {"sites": sites, **({"memory": "4000"} if index == 0 else {})}
        for index, sites in sites_by_task.items()
    }
    submit_action(
        user=user,
        workflows=[workflow.name],
        action="acdc",
        parameters=parameters,
        reasons=[{"short": "", "long": "ACDC the failed jobs at the good sites"}],
    )


@pytest.fixture
def two_campaigns(db, verified_operator, workflows, sources):
    """Two ACDCs in campaign RunIISummer20UL18 (different sites) and a clone in another campaign."""
    first, second, _ = workflows
    for workflow in (first, second):
        workflow.campaign = "RunIISummer20UL18wmLHEGEN"
        workflow.save(update_fields=["campaign"])
    _acdc(verified_operator, first, sites_by_task={0: ["T2_CH_CERN", "T1_US_FNAL"], 1: ["T2_US_MIT"]})
    _acdc(verified_operator, second, sites_by_task={0: ["T2_CH_CERN_HLT"]})
    other = WorkflowFactory(
        name="cmsunified_task_EGM-Run3Summer22DRPremix-00042__v1_T_240301_101010_1", campaign="Run3Summer22"
    )
    submit_action(
        user=verified_operator,
        workflows=[other.name],
        action="clone",
        parameters={"memory": "8000", "splitting": "2x", "comment": "=HYPERLINK(evil)"},
        reasons=[{"short": "", "long": "=cmd|' /C calc'!A0 kill and clone with more memory"}],
    )
    return {"first": first.name, "second": second.name, "clone": other.name}


def test_parameters_are_shown_per_task_not_as_a_key_count(operator_client, two_campaigns):
    page = operator_client.get("/actions/").content.decode()
    task = tasks_of(two_campaigns["first"])[0]
    assert f'<span class="task name">{task}</span>' in page
    assert (
        "<dt>sites</dt><dd>T1_US_FNAL, T2_CH_CERN</dd>" in page
        or "<dt>sites</dt><dd>T2_CH_CERN, T1_US_FNAL</dd>" in page
    )
    assert "<dt>memory</dt><dd>4000 MB</dd>" in page
    assert "<dt>splitting</dt><dd>2x</dd>" in page  # the clone, flat
    assert " keys</summary>" not in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("campaign=RunIISummer20UL18wmLHEGEN", {"first", "second"}),
        ("campaign=Run3Summer22", {"clone"}),
        ("site=T2_CH_CERN", {"first"}),  # not T2_CH_CERN_HLT: a site matches whole
        ("site=T2_CH_CERN_HLT", {"second"}),
        ("site=T2_US_MIT&campaign=RunIISummer20UL18wmLHEGEN", {"first"}),
        ("site=T2_US_MIT&campaign=Run3Summer22", set()),
    ],
)
def test_campaign_and_site_filters(operator_client, two_campaigns, query, expected):
    response = operator_client.get(f"/actions/?{query}")
    page = response.content.decode()
    assert response.status_code == 200
    assert {label for label, name in two_campaigns.items() if name in page} == expected


def test_a_site_named_only_in_a_reason_does_not_match(operator_client, verified_operator, workflows, sources):
    workflow = workflows[2]
    submit_action(
        user=verified_operator,
        workflows=[workflow.name],
        action="clone",
        parameters={"memory": "3000"},
        reasons=[{"short": "", "long": 'jobs fail at "T2_DE_DESY" only'}],
    )
    page = operator_client.get("/actions/?site=T2_DE_DESY").content.decode()
    assert workflow.name not in page and "No action matches these filters." in page


def test_a_bad_site_is_explained_and_filters_nothing(operator_client, two_campaigns):
    response = operator_client.get("/actions/?site=%27%20OR%201%3D1")
    assert response.status_code == 400
    assert "site must be a CMS site name" in response.content.decode()


def test_csv_export_holds_every_filtered_action_readably_and_safely(operator_client, two_campaigns):
    response = operator_client.get("/actions/?campaign=Run3Summer22&export=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["workflow"] for row in rows] == [two_campaigns["clone"]]
    row = rows[0]
    assert row["parameters (readable)"] == "memory 8000 MB; splitting 2x; comment =HYPERLINK(evil)"
    assert json.loads(row["parameters"]) == {"memory": 8000, "splitting": "2x", "comment": "=HYPERLINK(evil)"}
    # A cell that starts like a formula is kept as text in a spreadsheet.
    assert row["reasons"].startswith("'=cmd")
    assert row["campaign"] == "Run3Summer22" and row["pending_too_long"] == ""


def test_json_export_matches_the_page_filters(operator_client, two_campaigns):
    response = operator_client.get("/actions/?campaign=RunIISummer20UL18wmLHEGEN&export=json")
    data = json.loads(b"".join(response.streaming_content))
    assert data["filters"]["campaign"] == "RunIISummer20UL18wmLHEGEN"
    assert {row["workflow"] for row in data["actions"]} == {two_campaigns["first"], two_campaigns["second"]}
    first = next(row for row in data["actions"] if row["workflow"] == two_campaigns["first"])
    assert first["action"] == "acdc"
    assert first["parameters"] == Action.objects.get(workflow__name=two_campaigns["first"]).parameters
    assert first["reported_at"] is None and first["user"] == "alice"


def test_export_flags_actions_pending_too_long(operator_client, two_campaigns):
    Action.objects.filter(workflow__name=two_campaigns["clone"]).update(
        submitted_at=timezone.now() - timedelta(days=2)
    )
    data = json.loads(b"".join(operator_client.get("/actions/?export=json").streaming_content))
    late = {row["workflow"] for row in data["actions"] if row["pending_too_long"]}
    assert late == {two_campaigns["clone"]}


def test_an_unknown_export_format_is_explained(operator_client, two_campaigns):
    response = operator_client.get("/actions/?export=xlsx")
    assert response.status_code == 400 and "export must be csv or json" in response.content.decode()


def test_export_reads_in_a_fixed_number_of_queries(
    operator_client, two_campaigns, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        response = operator_client.get("/actions/?export=csv")
        lines = b"".join(response.streaming_content).decode().splitlines()
    assert len(lines) == 1 + 3


def test_export_needs_a_verified_operator(unverified_client, two_campaigns):
    response = unverified_client.get("/actions/?export=csv")
    assert response.status_code in (302, 403)


def test_readable_parameters_of_each_kind():
    assert readable_parameters("special", {"action": "by-pass", "other": "ticket 123"})[0].values == [
        ("action", "force-complete (by-pass)"),
        ("other", "ticket 123"),
    ]
    groups = readable_parameters(
        "acdc", {"B/T": {"multicore": 4, "xrootd": "enabled"}, "A": {"sites": ["T2_X_Y"]}}
    )
    assert [group.task for group in groups] == ["A", "B/T"]
    assert groups[1].values == [("cores", "4"), ("xrootd", "enabled")]
    assert readable_parameters("clone", {}) == []
    assert parameters_in_one_line("clone", {}) == "all unchanged"
    # A key this tool does not know (an imported document) is shown, not dropped.
    assert parameters_in_one_line("clone", {"memory": 2000, "priority": 5}) == "memory 2000 MB; priority 5"
