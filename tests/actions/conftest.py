"""The actions cast: three workflows of one campaign with their tasks, the outside sources
(ACDC recovery sites, site status) replaced by realistic data, and Unified's client."""

import json
from dataclasses import dataclass

import pytest
from django.test import Client

from tests.factories import StepFactory, WorkflowFactory
from tests.workflows.fake_sources import empty_cache, fake_sources  # noqa: F401 -- fixtures

KEY = "unified-passphrase-0f3c"
SITE_STATUS = {
    "T1_US_FNAL": "enabled",
    "T2_CH_CERN": "enabled",
    "T2_DE_DESY": "drain",
    "T2_IT_Pisa": "disabled",
    "T2_US_MIT": "enabled",
    "T3_US_Colorado": "enabled",
}


def tasks_of(workflow_name: str) -> list[str]:
    """Task paths (without /<workflow>/) the factories give a workflow, as in a real StepChain."""
    prep = workflow_name.split("task_")[1].split("__")[0]
    return [
        f"{prep}_0",
        f"{prep}_0/{prep}_0MergeRAWSIMoutput",
        f"{prep}_0/{prep}_0MergeRAWSIMoutput/{prep}_0RAWSIMoutputMergeLogCollect",
        f"{prep}_0/LogCollect",
    ]


@pytest.fixture
def actions_config(settings):
    """Change settings.WWT["actions"] for one test without touching the shared dict."""

    def change(**values):
        settings.WWT = {**settings.WWT, "actions": {**settings.WWT["actions"], **values}}

    return change


@pytest.fixture
def unified_key(settings):
    settings.WWT_ACTIONS_KEY = KEY
    return KEY


@pytest.fixture
def workflows(db):
    """Three workflows with their steps (two real tasks, two LogCollect)."""
    made = []
    for number in range(3):
        workflow = WorkflowFactory(
            name=f"pdmvserv_task_HIG-RunIISummer20UL18wmLHEGEN-0012{number}__v1_T_240115_123456_{number}"
        )
        for task in tasks_of(workflow.name):
            StepFactory(workflow=workflow, name=f"/{workflow.name}/{task}")
        made.append(workflow)
    return made


@pytest.fixture
def sources(monkeypatch):
    """ACDC recovery sites and site status as the outside services would answer them."""
    recovery: dict[str, dict[str, list[str]]] = {}

    def recovery_sites(workflow):
        if workflow.name in recovery:
            return recovery[workflow.name]
        tasks = tasks_of(workflow.name)
        return {tasks[0]: ["T1_US_FNAL", "T2_CH_CERN", "T2_DE_DESY"], tasks[1]: ["T2_CH_CERN", "T2_US_MIT"]}

    monkeypatch.setattr("workflows.selectors.recovery_sites", recovery_sites)
    monkeypatch.setattr("workflows.selectors.site_statuses", lambda: dict(SITE_STATUS))
    return recovery  # tests may set recovery[workflow name] = {...} ({} = unknown)


@dataclass
class UnifiedClient:
    """Unified's client: no session, no cookie, no CSRF token, follows no redirect."""

    client: Client

    def getaction(self, query: str = "days=15", key: str = KEY, path: str = "/getaction", **extra):
        # Unified sends a GET with a JSON body.
        return self.client.generic(
            "GET", f"{path}?{query}", json.dumps({"key": key}), content_type="application/json", **extra
        )

    def report(self, workflows, key: str = KEY, path: str = "/reportaction"):
        return self.client.post(
            path, json.dumps({"key": key, "workflows": workflows}), content_type="application/json"
        )

    def report_raw(self, body: str | bytes, path: str = "/reportaction"):
        return self.client.post(path, body, content_type="application/json")


@pytest.fixture
def unified(db, settings):
    """Unified's client, with the passphrase configured as in production (getaction needs it)."""
    settings.WWT_ACTIONS_KEY = KEY
    return UnifiedClient(Client(enforce_csrf_checks=True))
