"""The one validator behind the form, the API and the importer: every parameter, every rule."""

import pytest

from actions.models import Action, Reason
from actions.validation import ActionRejected, validate_action
from tests.actions.conftest import tasks_of

REASONS = [{"short": "mem", "long": "Out of memory."}]


def _acdc(workflows, parameters, **extra):
    return validate_action(
        workflows=[wf.name for wf in workflows],
        action="acdc",
        parameters=parameters,
        reasons=REASONS,
        **extra,
    )


def _rejected(**kwargs) -> dict:
    kwargs.setdefault("reasons", REASONS)
    with pytest.raises(ActionRejected) as caught:
        validate_action(**kwargs)
    return caught.value.errors


@pytest.mark.parametrize(
    ("block", "place", "words"),
    [
        ({"memory": "lots"}, "parameters.AllSteps.memory", "whole number"),
        ({"memory": 2.5}, "parameters.AllSteps.memory", "whole number"),
        ({"memory": True}, "parameters.AllSteps.memory", "whole number"),
        ({"memory": 0}, "parameters.AllSteps.memory", "between 1 and"),
        ({"memory": 10**9}, "parameters.AllSteps.memory", "between 1 and"),
        ({"cores": "four"}, "parameters.AllSteps.multicore", "whole number"),
        ({"multicore": 65}, "parameters.AllSteps.multicore", "between 1 and 64"),
        ({"cores": 2, "multicore": 2}, "parameters.AllSteps.multicore", "not both"),
        ({"splitting": "4x"}, "parameters.AllSteps.splitting", "must be one of"),
        ({"xrootd": "yes"}, "parameters.AllSteps.xrootd", "enabled, disabled"),
        ({"secondary": True}, "parameters.AllSteps.secondary", "enabled, disabled"),
        ({"sites": []}, "parameters.AllSteps.sites", "at least one site"),
        ({"sites": "T2_CH_CERN"}, "parameters.AllSteps.sites", "list of site names"),
        ({"sites": ["CERN"]}, "parameters.AllSteps.sites", "not site names"),
        ({"ban": ["<script>"]}, "parameters.AllSteps.ban", "not site names"),
        ({"group": "production"}, "parameters.AllSteps.group", "recovery only"),
        ({"cpus": 4}, "parameters.AllSteps.cpus", "unknown parameter"),
    ],
)
def test_each_acdc_parameter_is_checked(workflows, sources, block, place, words):
    errors = _rejected(workflows=[workflows[0].name], action="acdc", parameters={"AllSteps": block})
    assert place in errors and words in " ".join(errors[place])


@pytest.mark.parametrize("unchanged", ["", None, "Same", "same"])
def test_unchanged_values_are_omitted_never_blank(workflows, sources, unchanged):
    block = dict.fromkeys(("memory", "cores", "splitting", "xrootd", "secondary"), unchanged)
    served = _acdc(workflows[:1], {"AllSteps": block}).parameters[workflows[0].name]
    assert all(set(task) == {"sites"} for task in served.values())


def test_numbers_in_text_become_integers_and_cores_become_multicore(workflows, sources):
    served = _acdc(workflows[:1], {"AllSteps": {"memory": "3500", "cores": "8"}}).parameters[
        workflows[0].name
    ]
    first = served[tasks_of(workflows[0].name)[0]]
    assert first["memory"] == 3500 and first["multicore"] == 8 and "cores" not in first


def test_all_steps_expands_into_every_task_but_logcollect_and_cleanup(workflows, sources):
    served = _acdc(workflows[:1], {"AllSteps": {"xrootd": "disabled"}}).parameters[workflows[0].name]
    assert sorted(served) == sorted(tasks_of(workflows[0].name)[:2])


def test_a_task_can_be_named_alone_and_overrides_all_steps(workflows, sources):
    first, merge, logcollect = tasks_of(workflows[0].name)[:3]
    only = _acdc(workflows[:1], {merge: {"memory": 2000}}).parameters[workflows[0].name]
    assert only == {merge: {"sites": ["T2_CH_CERN", "T2_US_MIT"], "memory": 2000}}
    both = _acdc(
        workflows[:1],
        {"AllSteps": {"memory": 4000, "splitting": "2x"}, first: {"memory": 6000, "sites": ["T2_US_MIT"]}},
    ).parameters[workflows[0].name]
    assert both[first] == {"sites": ["T2_US_MIT"], "memory": 6000, "splitting": "2x"}
    assert both[merge] == {"sites": ["T2_CH_CERN", "T2_US_MIT"], "memory": 4000, "splitting": "2x"}


def test_ban_keeps_the_auto_sites_less_the_banned(workflows, sources):
    first = tasks_of(workflows[0].name)[0]
    served = _acdc(workflows[:1], {first: {"ban": ["T2_DE_DESY"]}}).parameters[workflows[0].name]
    assert served[first]["sites"] == ["T1_US_FNAL", "T2_CH_CERN"]


def test_banning_every_site_is_refused(workflows, sources):
    merge = tasks_of(workflows[0].name)[1]
    errors = _rejected(
        workflows=[workflows[0].name], action="acdc", parameters={merge: {"ban": ["T2_CH_CERN", "T2_US_MIT"]}}
    )
    assert "no sites can be determined" in " ".join(errors[f"parameters.{merge}.sites"])


def test_without_recovery_information_auto_is_refused_and_manual_works(workflows, sources):
    sources[workflows[0].name] = {}  # the ACDC server did not answer
    errors = _rejected(workflows=[workflows[0].name], action="acdc", parameters={"AllSteps": {}})
    message = " ".join(m for ms in errors.values() for m in ms)
    assert "no sites can be determined" in message and "Manual" in message
    served = _acdc(workflows[:1], {"AllSteps": {"sites": ["T2_CH_CERN"]}}).parameters[workflows[0].name]
    assert all(task["sites"] == ["T2_CH_CERN"] for task in served.values()) and len(served) == 2


def test_unknown_tasks_and_allsteps_as_a_task_are_refused(workflows, sources):
    errors = _rejected(workflows=[workflows[0].name], action="acdc", parameters={"NoSuchTask": {"memory": 1}})
    assert "not a task of" in " ".join(errors["parameters.NoSuchTask"])
    errors = _rejected(workflows=[workflows[0].name], action="acdc", parameters={})
    assert "parameters" in errors
    errors = _rejected(workflows=[workflows[0].name], action="acdc", parameters={"AllSteps": "everything"})
    assert "must be an object" in " ".join(errors["parameters.AllSteps"])


def test_recovery_is_refused_unless_enabled_and_then_takes_a_group(workflows, sources, actions_config):
    errors = _rejected(workflows=[workflows[0].name], action="recovery", parameters={"AllSteps": {}})
    assert "recovery is off" in errors["action"][0]
    actions_config(enabled=["acdc", "recovery", "clone", "special"])
    validated = validate_action(
        workflows=[workflows[0].name],
        action="recovery",
        parameters={"AllSteps": {"group": "g1"}},
        reasons=REASONS,
    )
    assert all(task["group"] == "g1" for task in validated.parameters[workflows[0].name].values())


@pytest.mark.parametrize(
    ("parameters", "place"),
    [
        ({"memory": "2GB"}, "parameters.memory"),
        ({"memory": 3.0}, "parameters.memory"),
        ({"splitting": "half"}, "parameters.splitting"),
        ({"comment": 5}, "parameters.comment"),
        ({"sites": ["T2_CH_CERN"]}, "parameters.sites"),
        ("clone it", "parameters"),
    ],
)
def test_clone_parameters_are_checked(workflows, parameters, place):
    errors = _rejected(workflows=[workflows[0].name], action="clone", parameters=parameters)
    assert place in errors


def test_clone_is_flat_with_integer_memory_and_omits_blanks(workflows):
    validated = validate_action(
        workflows=[workflows[0].name],
        action="clone",
        parameters={"memory": "2500", "splitting": "", "comment": ""},
        reasons=REASONS,
    )
    assert validated.parameters[workflows[0].name] == {"memory": 2500}


@pytest.mark.parametrize(
    ("parameters", "place"),
    [
        ({"action": "kill"}, "parameters.action"),
        ({}, "parameters.action"),
        ({"action": "on-hold", "other": ["x"]}, "parameters.other"),
        ({"action": "on-hold", "reason": "x"}, "parameters.reason"),
    ],
)
def test_special_parameters_are_checked(workflows, parameters, place):
    errors = _rejected(workflows=[workflows[0].name], action="special", parameters=parameters)
    assert place in errors


def test_force_complete_is_served_as_by_pass(workflows):
    validated = validate_action(
        workflows=[workflows[0].name],
        action="special",
        parameters={"action": "force-complete"},
        reasons=REASONS,
    )
    assert validated.parameters[workflows[0].name] == {"action": "by-pass", "other": ""}


@pytest.mark.parametrize(
    ("reasons", "words"),
    [
        ([], "at least one reason"),
        ("because", "at least one reason"),
        ([{"short": "x", "long": ""}], "long reason is empty"),
        ([{"short": "x" * 101, "long": "y"}], "longer than 100"),
        ([{"long": 5}], "must be text"),
        (["text"], "must be an object"),
    ],
)
def test_reasons_are_checked(workflows, reasons, words):
    errors = _rejected(workflows=[workflows[0].name], action="clone", parameters={}, reasons=reasons)
    assert words in " ".join(m for ms in errors.values() for m in ms)


def test_a_past_short_reason_fills_its_long_text_and_new_ones_are_offered_for_storing(workflows):
    Reason.objects.create(short="mem", long="Jobs run out of memory.")
    validated = validate_action(
        workflows=[workflows[0].name],
        action="clone",
        parameters={},
        reasons=[
            {"short": "mem", "long": ""},
            {"short": "site", "long": "Site broken."},
            {"short": "", "long": "x"},
        ],
    )
    assert [r["long"] for r in validated.reasons] == ["Jobs run out of memory.", "Site broken.", "x"]
    assert validated.new_reasons == [{"short": "site", "long": "Site broken."}]


@pytest.mark.parametrize("names", [[], "one", [""], [3]])
def test_workflows_must_be_named(db, names):
    assert "workflows" in _rejected(workflows=names, action="clone", parameters={})


def test_unknown_workflows_and_actions_are_refused_and_nothing_is_stored(workflows):
    errors = _rejected(workflows=[workflows[0].name, "nope"], action="delete", parameters={})
    assert "nope" in errors["workflows"][0] and "action" in errors
    assert Action.objects.count() == 0


def test_acdcs_of_the_same_prep_id_requested_later_are_linked(workflows, sources):
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import WorkflowFactory

    original = workflows[0]
    original.requested_at = timezone.now() - timedelta(days=5)
    original.save()
    later = WorkflowFactory(
        name="pdmvserv_task_HIG-RunIISummer20UL18wmLHEGEN-00120__v1_T_ACDC0_240120_1",
        prep_id=original.prep_id,
        is_acdc=True,
        requested_at=timezone.now() - timedelta(days=1),
    )
    WorkflowFactory(
        name="pdmvserv_task_HIG-RunIISummer20UL18wmLHEGEN-00120__v1_T_ACDC0_230101_1",
        prep_id=original.prep_id,
        is_acdc=True,
        requested_at=timezone.now() - timedelta(days=50),
    )
    validated = _acdc([original], {"AllSteps": {}})
    assert validated.acdcs[original.name] == [later.name]


@pytest.mark.parametrize("odd", [["4000"], {"MB": 4000}, [], {}])
@pytest.mark.parametrize(
    ("name", "place"),
    [
        ("memory", "parameters.AllSteps.memory"),
        ("cores", "parameters.AllSteps.multicore"),
        ("multicore", "parameters.AllSteps.multicore"),
        ("splitting", "parameters.AllSteps.splitting"),
        ("xrootd", "parameters.AllSteps.xrootd"),
        ("secondary", "parameters.AllSteps.secondary"),
        ("group", "parameters.AllSteps.group"),
    ],
)
def test_a_list_or_object_as_a_value_is_a_field_error(workflows, sources, actions_config, odd, name, place):
    actions_config(enabled=["acdc", "recovery", "clone", "special"])
    errors = _rejected(workflows=[workflows[0].name], action="recovery", parameters={"AllSteps": {name: odd}})
    assert place in errors


@pytest.mark.parametrize(
    ("action", "parameters", "place"),
    [
        ("clone", {"memory": ["2000"]}, "parameters.memory"),
        ("clone", {"splitting": {"x": 2}}, "parameters.splitting"),
        ("clone", {"comment": ["x"]}, "parameters.comment"),
        ("special", {"action": ["by-pass"]}, "parameters.action"),
        ("special", {"action": {"by-pass": 1}}, "parameters.action"),
    ],
)
def test_a_list_or_object_in_flat_parameters_is_a_field_error(workflows, action, parameters, place):
    assert place in _rejected(workflows=[workflows[0].name], action=action, parameters=parameters)


@pytest.mark.parametrize(
    "number", ["²", "1²", "\u0661\u0662", "\uff14\uff10\uff10\uff10", "1_000", "+4", "-4"]
)
def test_only_ascii_digits_make_a_whole_number(workflows, sources, number):
    errors = _rejected(
        workflows=[workflows[0].name],
        action="acdc",
        parameters={"AllSteps": {"memory": number, "cores": number}},
    )
    assert "whole number" in " ".join(errors["parameters.AllSteps.memory"])
    assert "whole number" in " ".join(errors["parameters.AllSteps.multicore"])
    errors = _rejected(workflows=[workflows[0].name], action="clone", parameters={"memory": number})
    assert "whole number" in " ".join(errors["parameters.memory"])


@pytest.mark.parametrize("number", ["9" * 5000, "000000000000000000000004000" + "0" * 30])
def test_a_number_with_too_many_digits_is_out_of_range(workflows, number):
    errors = _rejected(workflows=[workflows[0].name], action="clone", parameters={"memory": number})
    assert "between 1 and" in " ".join(errors["parameters.memory"])


def test_leading_zeros_and_spaces_around_digits_are_fine(workflows):
    validated = validate_action(
        workflows=[workflows[0].name], action="clone", parameters={"memory": " 04000 "}, reasons=REASONS
    )
    assert validated.parameters[workflows[0].name] == {"memory": 4000}


@pytest.mark.parametrize(
    ("given", "place"),
    [
        ({"workflows": ["wf_\ud800"]}, "workflows"),
        ({"parameters": {"comment": "\udcff"}}, "parameters"),
        ({"parameters": {"comment": [[{"x\ud800": 1}]]}}, "parameters"),
        ({"reasons": [{"short": "s\ud800", "long": "long"}]}, "reasons"),
    ],
)
def test_text_that_is_not_valid_unicode_is_refused_before_any_query(
    workflows, django_assert_num_queries, given, place
):
    submission = {"workflows": [workflows[0].name], "action": "clone", "parameters": {}, "reasons": REASONS}
    with django_assert_num_queries(0):
        errors = _rejected(**{**submission, **given})
    assert list(errors) == [place] and "not valid Unicode" in errors[place][0]
