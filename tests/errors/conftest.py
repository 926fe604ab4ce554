import json

import pytest

from errors.ingestion import ingest_current_errors
from tests.workflows.fake_sources import empty_cache, fake_sources  # noqa: F401 -- fixtures

A = "pdmvserv_task_HIG-RunIISummer20UL18wmLHEGEN-00001__v1_T_240115_123456_1111"
A_ACDC = "cmsunified_ACDC0_task_HIG-RunIISummer20UL18wmLHEGEN-00001__v1_T_240120_123456_2222"
B = "pdmvserv_task_TOP-Run3Summer22EEGS-00002__v1_T_240116_123456_3333"

# Untrusted text as a workflow name: markup, quotes, an entity, unicode, 400 characters
# (no "/": it separates the parts of a step path).
EVIL_NAME = 'evil<script>alert("x")<script>\'&quot;ü€_'
EVIL_NAME += "x" * (400 - len(EVIL_NAME))

SMALL_DOCUMENT = {
    f"/{A}/HIG_0": {"50660": {"T2_CH_CERN": 30, "T1_US_FNAL": 5}, "84": {"T2_CH_CERN": 10}},
    f"/{A}/HIG_0/HIG_0MergeRAWSIMoutput": {"84": {"T1_US_FNAL": 2}},
    f"/{A_ACDC}/HIG_0": {"50660": {"T2_CH_CERN": 4}},
    f"/{B}/TOP_0": {"8001": {"T2_US_MIT": 7}},
}


def load_document(tmp_path, document: dict, name: str = "all_errors.json"):
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return ingest_current_errors(str(path))


@pytest.fixture
def small_errors(db, tmp_path):
    """Three workflows (an original, its ACDC and one of another campaign); 58 failed jobs."""
    load_document(tmp_path, SMALL_DOCUMENT)
    return {"A": A, "A_ACDC": A_ACDC, "B": B}


def generated_document(n_workflows: int, seed: int = 3) -> dict:
    from errors import demo

    return demo.generate_error_document(n_workflows, seed=seed)
