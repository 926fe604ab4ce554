"""Workflows and steps written and looked up by name in bulk (workflows/services.py): the
names go through a staging table (COPY on PostgreSQL, executemany on SQLite), new ones are
created by one INSERT ... SELECT, ids come back by one join, and new ACDCs are linked to
their original by one UPDATE. Both databases run these."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from workflows.models import Step, Workflow
from workflows.services import ensure_steps, ensure_workflows, link_acdcs_to_originals

pytestmark = [pytest.mark.django_db, pytest.mark.pg_too]

ORIGINAL = "pdmvserv_task_HIG-RunIISummer20UL18wmLHEGEN-00001__v1_T_240115_123456_1111"
ACDC = "cmsunified_ACDC0_task_HIG-RunIISummer20UL18wmLHEGEN-00001__v1_T_240120_123456_2222"
LATER_ORIGINAL = "pdmvserv_task_HIG-RunIISummer20UL18wmLHEGEN-00001__v2_T_240118_123456_3333"
OTHER = "pdmvserv_task_TOP-Run3Summer22EEGS-00002__v1_T_240116_123456_4444"
# Text that COPY's text format and SQL quoting must carry unchanged: quotes, a tab, a
# backslash, COPY's own null marker, markup and non-ASCII letters.
AWKWARD = 'it\'s "quoted"\ttabbed\\back\\N <b>ü€<b>'  # no "/": it separates a step path


def test_a_first_load_on_empty_tables_creates_steps_and_workflows_in_name_order():
    names = {f"/{OTHER}/TOP_0", f"/{ORIGINAL}/HIG_0", f"/{ORIGINAL}/HIG_0/HIG_0Merge"}
    ids = ensure_steps(names)
    assert set(ids) == names
    assert [ids[name] for name in sorted(names)] == sorted(ids.values())
    stored = Workflow.objects.get(name=ORIGINAL)
    assert (stored.prep_id, stored.campaign, stored.is_acdc) == (
        "HIG-RunIISummer20UL18wmLHEGEN-00001",
        "RunIISummer20UL18wmLHEGEN",
        False,
    )
    assert stored.first_seen is not None and stored.request_type == ""
    assert Step.objects.get(name=f"/{OTHER}/TOP_0").workflow.name == OTHER


def test_a_load_on_filled_tables_keeps_stored_ids_and_adds_only_the_new_names():
    first = ensure_steps({f"/{ORIGINAL}/HIG_0", f"/{OTHER}/TOP_0"})
    workflow_ids = dict(Workflow.objects.values_list("name", "id"))
    again = ensure_steps({f"/{ORIGINAL}/HIG_0", f"/{OTHER}/TOP_0", f"/{OTHER}/TOP_1"})
    assert {name: again[name] for name in first} == first
    assert again[f"/{OTHER}/TOP_1"] == max(first.values()) + 1  # no id spent on the known names
    assert dict(Workflow.objects.values_list("name", "id")) == workflow_ids
    assert Step.objects.count() == 3


def test_ensure_workflows_returns_stored_and_new_ids():
    stored = ensure_workflows({ORIGINAL})
    both = ensure_workflows({ORIGINAL, OTHER})
    assert both[ORIGINAL] == stored[ORIGINAL]
    assert both[OTHER] == Workflow.objects.get(name=OTHER).id
    assert ensure_workflows(set()) == {} and ensure_steps(set()) == {}


def test_awkward_names_go_through_staging_unchanged():
    workflow = f"wf_{AWKWARD}"
    step = f"/{workflow}/task {AWKWARD}"
    ids = ensure_steps({step})
    assert Step.objects.get(name=step).id == ids[step]
    assert Workflow.objects.filter(name=workflow).count() == 1
    assert ensure_steps({step}) == ids
    assert ensure_workflows({workflow}) == {workflow: Workflow.objects.get(name=workflow).id}


def test_a_new_acdc_is_linked_to_the_oldest_original_of_its_prep_id():
    ensure_workflows({ORIGINAL, LATER_ORIGINAL, OTHER})
    ensure_workflows({ACDC})
    acdc = Workflow.objects.get(name=ACDC)
    assert acdc.is_acdc
    assert acdc.original.name == min([ORIGINAL, LATER_ORIGINAL])  # created first, in name order


def test_an_acdc_and_its_original_created_together_are_linked():
    ensure_steps({f"/{ACDC}/HIG_0", f"/{ORIGINAL}/HIG_0"})
    assert Workflow.objects.get(name=ACDC).original.name == ORIGINAL


def test_the_original_reqmgr2_names_wins_over_the_prep_id_guess():
    ensure_workflows({ORIGINAL, LATER_ORIGINAL})
    Workflow.objects.create(
        name=ACDC,
        is_acdc=True,
        prep_id="HIG-RunIISummer20UL18wmLHEGEN-00001",
        request_parameters={"original": LATER_ORIGINAL},
    )
    assert link_acdcs_to_originals() == 1
    assert Workflow.objects.get(name=ACDC).original.name == LATER_ORIGINAL
    assert link_acdcs_to_originals() == 0  # linked ones are left alone


def test_acdcs_without_a_known_original_stay_unlinked():
    ensure_workflows({OTHER})
    Workflow.objects.create(name="ACDC_without_prep_id", is_acdc=True, prep_id="")
    Workflow.objects.create(
        name="ACDC_naming_itself",
        is_acdc=True,
        prep_id="",
        request_parameters={"original": "ACDC_naming_itself"},
    )
    Workflow.objects.create(
        name="ACDC_naming_the_unknown", is_acdc=True, request_parameters={"original": "gone"}
    )
    assert link_acdcs_to_originals() == 0
    assert not Workflow.objects.filter(original__isnull=False).exists()



def test_names_are_written_in_the_same_few_statements_however_many_there_are():
    def statements(names: set[str]) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert len(ensure_steps(names)) == len(names)
        return len(queries.captured_queries)

    few = statements({f"/{ORIGINAL}/HIG_0", f"/{ACDC}/HIG_0"})
    many = statements({f"/{OTHER}_{number}/TOP_{number}" for number in range(300)})
    assert few == many <= 15
