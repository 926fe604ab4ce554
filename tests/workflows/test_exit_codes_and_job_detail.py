"""NotReported as a label, and WMStats job detail read from both jobfailed and
submitfailed (documents written from SOURCES.md's shape, not from our fixtures)."""

import pytest
from django.template import Context, Template

from tests.workflows.fake_sources import configure
from workflows import sources
from workflows.exit_codes import NOT_REPORTED, exit_code_label, parse_exit_code

WORKFLOW = "pdmvserv_task_EXO-RunIISummer20UL17NanoAODv9-00321__v1_T_240410_081500_4242"
GEN = f"/{WORKFLOW}/EXO-RunIISummer20UL17wmLHEGEN-00321_0"
MERGE = f"{GEN}/EXO-RunIISummer20UL17wmLHEGEN-00321_0MergeNANOEDMAODSIMoutput"
ROOT_FILE = "root://xrootd-cms.infn.it//store/mc/RunIISummer20UL17MiniAODv2/QCD/MINIAODSIM/0000/F00D.root"


def cell(count: int, *entries: dict) -> dict:
    """One {"errorCount": n, "samples": [...]} cell; each entry is one cmsRun step's error."""
    return {"errorCount": count, "samples": [{"errors": {"cmsRun1": list(entries)}}]}


def error(code: int, kind: str, details: str) -> dict:
    return {"type": kind, "exitCode": code, "details": details}


# WMStats job detail as SOURCES.md gives it: both states, submit failures (71104, 99303)
# only under submitfailed, and a log-archive failure 99999 filed inside an 8001 cell.
JOB_DETAIL = {
    "result": [
        {
            WORKFLOW: {
                GEN: {
                    "jobfailed": {
                        "8001": {
                            "T2_DE_DESY": cell(
                                4,
                                error(8001, "CMSException", "An exception of category 'ProductNotFound'"),
                                error(99999, "LogArchiveFailure", "Failed to archive logs to EOS"),
                            )
                        },
                        "8028": {
                            "T1_IT_CNAF": cell(
                                2, error(8028, "Fatal Exception", f"FallbackFileOpenError: {ROOT_FILE}")
                            )
                        },
                    },
                    "submitfailed": {
                        "71104": {
                            "T2_US_Nebraska": cell(
                                6,
                                error(
                                    71104,
                                    "SubmitFailed",
                                    "The job can run only at T2_US_Nebraska",
                                ),
                            )
                        },
                        "99303": {
                            "T2_US_Nebraska": {
                                "errorCount": 1,
                                "samples": [
                                    {"errors": {"cmsRun1": [{"type": "NoJobReport", "details": "no pkl"}]}}
                                ],
                            }
                        },
                    },
                },
                MERGE: {"submitfailed": {"8001": {"T2_DE_DESY": {"errorCount": 0, "samples": []}}}},
            }
        }
    ]
}


@pytest.fixture
def job_detail(settings, fake_sources):
    fake_sources.routes[f"/wmstatsserver/data/jobdetail/{WORKFLOW}"] = (200, JOB_DETAIL)
    configure(settings, wmstats=fake_sources.url)
    return sources.fetch_job_detail(WORKFLOW)


def test_job_detail_reads_jobfailed_and_submitfailed(job_detail):
    seen = sorted((s.state, s.exit_code, s.site) for s in job_detail)
    assert seen == [
        ("jobfailed", 8001, "T2_DE_DESY"),
        ("jobfailed", 8001, "T2_DE_DESY"),
        ("jobfailed", 8028, "T1_IT_CNAF"),
        ("submitfailed", 71104, "T2_US_Nebraska"),
        ("submitfailed", 99303, "T2_US_Nebraska"),
    ]


def test_each_sample_keeps_its_own_exit_code_and_type(job_detail):
    in_8001 = {(s.sample_exit_code, s.error_type) for s in job_detail if s.exit_code == 8001}
    assert in_8001 == {(8001, "CMSException"), (99999, "LogArchiveFailure")}
    no_code = next(s for s in job_detail if s.exit_code == 99303)
    assert (no_code.sample_exit_code, no_code.error_type) == (None, "NoJobReport")


def test_exit_code_labels_and_parsing():
    assert exit_code_label(NOT_REPORTED) == "NotReported" and exit_code_label(8001) == "8001"
    assert exit_code_label("T2_CH_CERN") == "T2_CH_CERN"  # a site column passes through
    assert parse_exit_code("NotReported") == parse_exit_code("notreported") == parse_exit_code("-1") == -1
    assert parse_exit_code(" 8001 ") == 8001
    for bad in ("", "8001x", "+5", "1_000", "٣", "Not Reported"):
        with pytest.raises(ValueError):
            parse_exit_code(bad)


def test_the_template_filter_names_not_reported():
    template = Template("{% load exit_codes %}{{ a|exit_code }} {{ b|exit_code }}")
    assert template.render(Context({"a": -1, "b": 50660})) == "NotReported 50660"
