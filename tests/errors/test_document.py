"""The all_errors parser on its own: no database, no settings, limits passed in."""

import subprocess
import sys
from pathlib import Path

from errors.document import CHECKING, DocumentLimits, is_logcollect_or_cleanup, parse_error_document

ROOT = Path(__file__).resolve().parents[2]
WF = "pdmvserv_task_HIG-RunIISummer20UL18wmLHEGEN-00001__v1_T_240115_123456_1111"
SMALL = DocumentLimits(
    max_workflow_name=100, max_step_name=150, max_site_name=12, exit_code_range=(-1, 99999), max_count=1000
)


def parse(document, limits=SMALL, keep=False, progress=None):
    return parse_error_document(document, limits, keep_logcollect_cleanup=keep, progress=progress)


def test_the_parser_imports_neither_django_nor_the_project_s_settings():
    code = (
        "import sys, errors.document; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'wwt_project')))"
    )
    found = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"


def test_a_document_in_the_contract_s_shape_gives_its_non_zero_cells():
    document = {
        f"/{WF}/HIG_0": {"50660": {"T2_CH_CERN": 30, "T1_US_FNAL": 0}, "NotReported": {"T1_US_FNAL": 0}},
        f"/{WF}/HIG_0/HIG_0MergeRAWSIMoutput": {"84": {"T1_US_FNAL": 2}},
    }
    cells, bad, dropped = parse(document)
    assert cells == [
        (f"/{WF}/HIG_0", 50660, "T2_CH_CERN", 30),
        (f"/{WF}/HIG_0", -1, "T1_US_FNAL", 1),  # NotReported with 0 is stored as 1 (the original's rule)
        (f"/{WF}/HIG_0/HIG_0MergeRAWSIMoutput", 84, "T1_US_FNAL", 2),
    ]
    assert bad == [] and dropped == 0


def test_the_limits_passed_in_decide_what_is_bad():
    document = {
        "/wf_A/HIG_0": {
            "50660": {"T2_CH_CERN": 1001, "T2_CH_CERN_LONGER": 1, "T1_US_FNAL": True},
            "123456": {"T2_CH_CERN": 1},
            "x": {"T2_CH_CERN": 1},
            "84": ["T2_CH_CERN"],
        },
        "no-path": {"84": {"T2_CH_CERN": 1}},
        f"/{'w' * 101}/task": {"84": {"T2_CH_CERN": 1}},
    }
    cells, bad, _ = parse(document)
    assert cells == []
    assert bad == [
        "step '/wf_A/HIG_0' code 50660 site T2_CH_CERN: count 1001 is larger than 1000",
        "step '/wf_A/HIG_0' code 50660: bad site name 'T2_CH_CERN_LONGER'",
        "step '/wf_A/HIG_0' code 50660 site T1_US_FNAL: count True is not an integer",
        "step '/wf_A/HIG_0': exit code 123456 is out of range (-1..99999)",
        "step '/wf_A/HIG_0': exit code 'x' is not an integer or NotReported",
        "step '/wf_A/HIG_0' code 84: expected an object of sites, got list",
        "step 'no-path': not a path /<workflow>/<task>",
        "step '/" + "w" * 78 + "... (109 characters): workflow name longer than 100 characters",
    ]


def test_the_caller_s_own_workflow_check_is_asked_once_per_workflow():
    asked = []

    def no_acdc(name):
        asked.append(name)
        return "ACDCs are refused here" if "ACDC" in name else ""

    limits = DocumentLimits(**{**SMALL.__dict__, "workflow_problem": no_acdc})
    cells, bad, _ = parse(
        {f"/{WF}/a": {"1": {"T1": 1}}, f"/{WF}/b": {"1": {"T1": 2}}, "/ACDC_x/a": {}}, limits
    )
    assert len(cells) == 2 and bad == ["step '/ACDC_x/a': ACDCs are refused here"]
    assert asked == [WF, "ACDC_x"]


def test_logcollect_and_cleanup_steps_are_left_out_unless_kept():
    document = {
        f"/{WF}/HIG_0/LogCollect": {"84": {"T1": 1}},
        f"/{WF}/HIG_0CleanupUnmerged": {"84": {"T1": 1}},
    }
    assert parse(document) == ([], [], 2)
    assert len(parse(document, keep=True)[0]) == 2
    assert not is_logcollect_or_cleanup("/pdmvserv_CleanupTest_v1/Task_0")  # the workflow name is not read


def test_progress_hears_the_checking_phase_from_start_to_end():
    heard = []
    parse({f"/{WF}/a": {"1": {"T1": 1}}}, progress=lambda *args: heard.append(args))
    assert heard == [(CHECKING, 0, 1), (CHECKING, 1, 1)]
